"""PGP-encrypted exports (README "Encrypted exports"), on both stores, both engines, RECORD and
BATCH mode: files encrypted to the configured key read exactly as the same files unencrypted
(armored and binary, compressed inside or not, a gzip or zip export inside, by two OpenPGP
implementations); files to another key, cut or altered stop only their stream naming the file;
key settings that cannot be used are config errors that never show the key; `--test` says how
each object's newest file is encrypted. Keys and messages are made by the tests (tests/pgp.py)."""

import copy
import gzip
import json
import os
import re
import urllib.parse
from dataclasses import dataclass

import pytest

from devtools import ddsdata
from devtools.faultproxy import FaultProxy
from devtools.s3server import zipped
from tap_intacct.settings import knobs
from tests import pgp
from tests.e2e.conftest import T0, Company, Run, assert_clean_failure, company_in

pytestmark = pytest.mark.stores("s3", "azure")
ENGINES = ["rows", "fast"] if knobs.fast_engine_installed() else ["rows"]


def glentry(rows, first, seed=0):
    return ddsdata.glentry_csv(rows, first, seed=seed).encode()


def plaintexts():
    """{file name: the export's bytes as DDS writes them before encrypting}."""
    return {
        "GLENTRY.change.1.csv": glentry(40, 1, seed=1),
        "GLENTRY.change.2.csv": glentry(40, 41, seed=2),
        "GLENTRY.change.3.csv.gz": gzip.compress(glentry(40, 81, seed=3)),
        "GLENTRY.change.4.zip": zipped(glentry(40, 121, seed=4)),
        "GLENTRY.change.5.csv": glentry(3000, 161, seed=5),
        "GLENTRY.change.6.csv.gz": gzip.compress(glentry(40, 3161, seed=6)),
        "VENDOR.all.1.csv": b"RECORDNO,NAME,ddsReadTime\n1,Acme,2024-01-02 03:04:05\n",
    }


def encrypted(name, data, key):
    """How each file of plaintexts() is encrypted (a mix, so one run covers every kind)."""
    return {
        "GLENTRY.change.1.csv": lambda: data,  # an unencrypted file among encrypted ones
        "GLENTRY.change.2.csv": lambda: pgp.sequoia_message(data, key, armor=True),
        "GLENTRY.change.3.csv.gz": lambda: pgp.sequoia_message(data, key, armor=False),
        "GLENTRY.change.4.zip": lambda: pgp.rpgp_message(data, key, compression="zip"),
        "GLENTRY.change.5.csv": lambda: pgp.rpgp_message(data, key, armor=True,
                                                          compression="zlib", chunk=512),
        "GLENTRY.change.6.csv.gz": lambda: pgp.rpgp_message(data, key),
        "VENDOR.all.1.csv": lambda: pgp.rpgp_message(data, key, armor=True),
    }[name]()


def key_config(key):
    return {"pgp_private_key": key.armored, "pgp_passphrase": key.passphrase}


def run_engine(company, engine, *args, config=None, env=None):
    env = env or company.server.tap_environment()
    env["TAP_INTACCT_ENGINE"] = engine
    return company.tap(*args, config=config, env=env)


def comparable(records):
    return [{k: v for k, v in r.items() if k != "_sdc_source_bucket"} for r in records]


def batch_records(run):
    records = []
    for message in run.of_type("BATCH"):
        path = urllib.parse.urlsplit(message["manifest"][0]).path
        with gzip.open(path, "rt") as lines:
            records += [json.loads(line) for line in lines]
    return records


@pytest.fixture(params=["sequoia", "rsa"])
def key(request):
    return pgp.sequoia_key() if request.param == "sequoia" else pgp.rsa_key()


def batch_config(folder):
    return {"encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": folder.as_uri()}}


_plain_runs = {}


def plain_runs(store, tmp_path_factory):
    """(catalog, {(engine, batch): run}) of plaintexts() unencrypted in this store: what each
    key's encrypted copies must read as. Made once per test process and store (the plain files
    and their runs do not depend on the key; the keys' cases are one xdist group)."""
    if store not in _plain_runs:
        workdir = tmp_path_factory.mktemp("plain")
        plain = company_in(store, workdir)
        for position, (name, data) in enumerate(plaintexts().items()):
            plain.put(name, data, modified=position)
        catalog = plain.discover()
        path = plain.selected_catalog(copy.deepcopy(catalog))  # (it selects in place)
        runs = {}
        for engine in ENGINES:
            for batch in (False, True):
                extra = {"batch_config": batch_config(workdir / f"{engine}{batch}")} if batch \
                    else {}
                runs[engine, batch] = run_engine(plain, engine, "--catalog", path,
                                                 config=plain.config(**extra))
        _plain_runs[store] = catalog, runs
    return _plain_runs[store]


@pytest.mark.xdist_group("encrypted like plain")
def test_encrypted_exports_read_exactly_like_the_same_files_unencrypted(store, tmp_path,
                                                                         tmp_path_factory, key):
    catalog, plain = plain_runs(store, tmp_path_factory)
    for folder in ("pgp", "tmp"):
        (tmp_path / folder).mkdir()
    secret = company_in(store, tmp_path / "pgp")
    env = secret.server.tap_environment()
    env["TMPDIR"] = str(tmp_path / "tmp")  # where the tap's temporary files go
    for position, (name, data) in enumerate(plaintexts().items()):
        secret.put(name, encrypted(name, data, key), modified=position)
    config = secret.config(**key_config(key))
    discovered = secret.tap("--discover", config=config)
    assert discovered.returncode == 0, discovered.stderr
    assert json.loads(discovered.stdout) == catalog  # headers and samples were decrypted
    secret_catalog = secret.selected_catalog(copy.deepcopy(catalog))
    expected = None
    for engine in ENGINES:
        for batch in (False, True):
            extra = {"batch_config": batch_config(tmp_path / f"{engine}{batch}")} if batch else {}
            runs = [plain[engine, batch],
                    run_engine(secret, engine, "--catalog", secret_catalog, env=dict(env),
                               config=secret.config(**extra, **key_config(key)))]
            for run in runs:
                assert run.returncode == 0, run.stderr
            records = [batch_records(run) if batch else run.records() for run in runs]
            assert comparable(records[1]) == comparable(records[0])
            assert runs[1].last_state == runs[0].last_state
            expected = expected or comparable(records[0])
            assert comparable(records[1]) == expected  # both engines, both modes
    assert len(expected) == 3201
    assert os.listdir(tmp_path / "tmp") == []  # the temporary files are gone


def good_and_bad(company, bad):
    """GLENTRY: a good encrypted file, then `bad`; VENDOR: a good encrypted file after both."""
    key = pgp.sequoia_key()
    company.put("GLENTRY.change.1.csv", pgp.sequoia_message(glentry(5, 1), key),
                modified=0)
    company.put("GLENTRY.change.2.csv", bad, modified=60)
    company.put("VENDOR.all.1.csv", pgp.rpgp_message(
        b"RECORDNO,NAME,ddsReadTime\n1,Acme,2024-01-02 03:04:05\n", key), modified=120)
    return key


def damaged(kind):
    key, data = pgp.sequoia_key(), glentry(200, 6, seed=9)
    if kind == "another key":
        return pgp.sequoia_message(data, pgp.sequoia_key("Other"), armor=False)
    if kind == "passphrase":
        return pgp.pysequoia.encrypt(data, passwords=["sesame"], armor=False)
    if kind == "cut":
        return pgp.rpgp_message(data, key, chunk=512)[:-700]
    if kind == "cut armor":
        return pgp.sequoia_message(data, key, armor=True)[:-200]
    message = bytearray(pgp.rpgp_message(data, key) if kind == "altered" else
                        pgp.sequoia_message(data, key, armor=False) if kind == "altered v2" else
                        pgp.rpgp_message(data, key, compression="zip"))
    message[len(message) // 2] ^= 0x01
    return bytes(message)


REFUSALS = {
    "another key": ["the file is PGP-encrypted to key ID {other}, which none of the keys in "
                    "pgp_private_key is (they hold {ours} (key "],
    "cut": ["the PGP-encrypted file is cut short (it ends inside its encrypted data"],
    "cut armor": ["the PGP-encrypted file is cut short (its ASCII armor has no -----END PGP "
                  "MESSAGE----- line"],
    "altered": ["the PGP-encrypted file fails its integrity check (", "altered or damaged"],
    "altered v2": ["the PGP-encrypted file fails its integrity check ("],
    "altered compressed": ["the PGP-encrypted file ", "export it again"],
    "passphrase": ["the file is PGP-encrypted with a passphrase, not to a key"],
}


def refusal_stream(kind):
    """The stream holding the `kind` of damaged file: ANOTHER_KEY, CUT_ARMOR, ..."""
    return kind.upper().replace(" ", "_")


@dataclass
class Refusals:
    """One company holding every kind of damaged file, each in its own stream (refusal_stream)
    as good_and_bad lays GLENTRY out: a good encrypted file, then the damaged one; VENDOR's good
    encrypted file after them all. Its discovery, and one run per engine, serve every case."""

    company: Company
    key: pgp.Key
    discovered: Run
    catalog: str | None
    runs: dict


_refusals = {}


def refusals(store, tmp_path_factory, engine):
    """The Refusals of this store, made once per test process (the cases are one xdist group),
    with the run of `engine` (made at its first case)."""
    if store not in _refusals:
        company = company_in(store, tmp_path_factory.mktemp("refusals"))
        key = pgp.sequoia_key()
        for kind in REFUSALS:
            stream = refusal_stream(kind)
            company.put(f"{stream}.change.1.csv", pgp.sequoia_message(glentry(5, 1), key),
                        modified=0)
            company.put(f"{stream}.change.2.csv", damaged(kind), modified=60)
        company.put("VENDOR.all.1.csv", pgp.rpgp_message(
            b"RECORDNO,NAME,ddsReadTime\n1,Acme,2024-01-02 03:04:05\n", key), modified=120)
        discovered = company.tap("--discover", config=company.config(**key_config(key)))
        catalog = company.selected_catalog(json.loads(discovered.stdout)) \
            if discovered.returncode == 0 else None
        _refusals[store] = Refusals(company, key, discovered, catalog, {})
    made = _refusals[store]
    if engine not in made.runs and made.catalog is not None:
        made.runs[engine] = run_engine(made.company, engine, "--catalog", made.catalog,
                                       config=made.company.config(**key_config(made.key)))
    return made


@pytest.mark.xdist_group("encrypted refusals")
@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("kind", list(REFUSALS))
def test_a_file_that_cannot_be_decrypted_stops_only_its_stream(store, tmp_path_factory, engine,
                                                                kind):
    made = refusals(store, tmp_path_factory, engine)
    company, key, discovered = made.company, made.key, made.discovered
    stream = refusal_stream(kind)
    bad = f"{company.prefix}{stream}.change.2.csv"
    assert discovered.returncode == 0, discovered.stderr
    assert f"Discovery skipped {bad}: " in discovered.stderr
    run = made.runs[engine]
    fragments = [f.format(other=pgp.sequoia_key("Other").key_ids[0], ours=key.key_ids[0])
                 for f in REFUSALS[kind]]
    assert_clean_failure(run, code=1)
    # its own error line (every damaged stream has one: the run goes on and fails at its end)
    [error] = [line for line in run.stderr.splitlines()
               if line.startswith("tap-intacct: error:") and f"{bad}: " in line]
    assert all(fragment in error for fragment in fragments), error
    assert [r["RECORDNO"] for r in run.records(stream)] == [1, 2, 3, 4, 5]
    assert [r["NAME"] for r in run.records("VENDOR")] == ["Acme"]  # the other stream goes on
    assert run.last_state["bookmarks"][stream]["modified_since"] == T0.isoformat()
    if kind == "altered":
        assert not any(r["RECORDNO"] >= 6 for r in run.records(stream))  # nothing of the file


def big_export(size):
    """An export of at least `size` bytes, made quickly: GLENTRY rows repeated (the file is
    refused from its first bytes, so what its rows hold does not matter)."""
    header, rows = glentry(1000, 6).split(b"\n", 1)
    return header + b"\n" + rows * (size // len(rows) + 1)


def test_a_file_to_another_key_is_refused_before_it_is_downloaded(company):
    big = pgp.rpgp_message(big_export(12_100_000), pgp.sequoia_key("Other"))
    assert len(big) > 12_000_000
    key = good_and_bad(company, big)
    with FaultProxy(company.server.port) as proxy:
        # reading past its first 8 MB would fail: the refusal comes from its first bytes
        proxy.add(r"^GET /[^ ]*GLENTRY.change.2.csv", "cut", cut_after=8_000_000,
                  times=float("inf"))
        config = company.config(endpoint_url=proxy.url, **key_config(key))
        discovered = company.tap("--discover", config=config)
        assert discovered.returncode == 0, discovered.stderr
        catalog = company.selected_catalog(json.loads(discovered.stdout))
        run = company.sync(catalog, config=config)
    assert_clean_failure(run, "GLENTRY.change.2.csv: the file is PGP-encrypted to key ID", code=1)
    assert "stopped at byte" not in discovered.stderr + run.stderr
    assert len(run.records("VENDOR")) == 1


def test_a_cut_download_of_an_encrypted_file_resumes(company):
    key = pgp.sequoia_key()
    data = glentry(3000, 1, seed=3)
    company.put("GLENTRY.change.1.csv", pgp.rpgp_message(data, key, armor=True), modified=0)
    catalog = company.selected_catalog(company.discover(**key_config(key)))
    clean = company.sync(catalog, config=company.config(**key_config(key)))
    assert clean.returncode == 0, clean.stderr
    with FaultProxy(company.server.port) as proxy:
        proxy.add(r"^GET /[^ ]*GLENTRY.change.1.csv", "cut", cut_after=70_000, times=2)
        run = company.sync(catalog, config=company.config(endpoint_url=proxy.url,
                                                          **key_config(key)))
    assert run.returncode == 0, run.stderr
    assert "stopped at byte" in run.stderr
    assert run.stdout == clean.stdout
    assert len(run.records()) == 3000


def test_without_a_key_an_encrypted_file_names_its_key_and_the_setting(company):
    key = pgp.sequoia_key()
    company.put("GLENTRY.change.1.csv", glentry(5, 1), modified=0)
    company.put("GLENTRY.change.2.csv", pgp.rpgp_message(glentry(5, 6), key,
                                                          armor=True), modified=60)
    catalog = company.selected_catalog()
    run = company.sync(catalog)
    assert_clean_failure(run, f"GLENTRY.change.2.csv: the file is PGP-encrypted to key ID "
                              f"{key.key_ids[0]}: to read encrypted exports set pgp_private_key",
                         "pip install 'tap-intacct[pgp]'", "Do not encrypt", code=1)
    assert len(run.records()) == 5


@pytest.mark.stores("s3")
def test_without_the_library_a_key_setting_says_what_to_install(company, tmp_path):
    hidden = tmp_path / "hidden"
    hidden.mkdir()
    (hidden / "pysequoia.py").write_text("raise ImportError('hidden by the test')\n")
    env = company.server.tap_environment()
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(hidden), env.get("PYTHONPATH")]))
    company.put("GLENTRY.change.1.csv", glentry(5, 1))
    run = company.tap("--discover", config=company.config(**key_config(pgp.sequoia_key())),
                      env=env)
    assert_clean_failure(run, "'pgp_private_key' is set, but reading encrypted exports needs the "
                              "pgp extra (pysequoia is not installed): pip install "
                              "'tap-intacct[pgp]'", code=2)


def config_error_cases():
    sequoia, rsa = pgp.sequoia_key(), pgp.rsa_key()
    block = sequoia.armored
    return {
        "not armored": ({"pgp_private_key": "just some text"},
                        "'pgp_private_key' must be one or more ASCII-armored secret keys"),
        "public key": ({"pgp_private_key": pgp.public_key(sequoia)},
                       "'pgp_private_key' is a PGP public key block, not a private key"),
        "damaged": ({"pgp_private_key": block[:200] + "\n" + block[-60:]},
                    "'pgp_private_key' cannot be read as an OpenPGP secret key ("),
        "no passphrase": ({"pgp_private_key": rsa.armored},
                          f"'pgp_private_key': key {rsa.fingerprint} is protected by a passphrase: "
                          "set 'pgp_passphrase'"),
        "wrong passphrase": ({"pgp_private_key": rsa.armored, "pgp_passphrase": "wrong horse"},
                             f"'pgp_passphrase' does not unlock key {rsa.fingerprint} of "
                             "'pgp_private_key'"),
        "second of two": ({"pgp_private_key": block + "\n" + rsa.armored},
                          "'pgp_private_key' (block 2 of 2): key "),
        "passphrase alone": ({"pgp_passphrase": "x"},
                             "'pgp_passphrase' is set but 'pgp_private_key' is not"),
    }


@pytest.mark.stores("s3")
@pytest.mark.parametrize("case", ["not armored", "public key", "damaged", "no passphrase",
                                  "wrong passphrase", "second of two", "passphrase alone"])
def test_an_unusable_key_setting_is_a_config_error_that_never_shows_it(company, case):
    settings, message = config_error_cases()[case]
    run = company.tap("--discover", config=company.config(**settings))
    assert_clean_failure(run, message, code=2)
    assert len(run.stderr.splitlines()) == 1
    key_text = settings.get("pgp_private_key", "")
    base64_lines = [line for line in key_text.splitlines() if len(line) > 40]
    assert not any(line in run.stderr for line in base64_lines)
    assert "wrong horse" not in run.stderr and "correct horse" not in run.stderr


def test_rotated_keys_and_escaped_line_ends_are_read(company):
    old, new = pgp.rsa_key(), pgp.sequoia_key()
    company.put("GLENTRY.change.1.csv", pgp.rpgp_message(glentry(3, 1), old),
                modified=0)
    company.put("GLENTRY.change.2.csv", pgp.sequoia_message(glentry(3, 4), new),
                modified=60)
    both = (new.armored + "\n" + old.armored).replace("\n", "\\n")  # as one line of an env var
    config = {"pgp_private_key": both, "pgp_passphrase": old.passphrase}
    catalog = company.selected_catalog(company.discover(**config))
    run = company.sync(catalog, config=company.config(**config))
    assert run.returncode == 0, run.stderr
    assert [r["RECORDNO"] for r in run.records()] == [1, 2, 3, 4, 5, 6]


def test_setup_check_says_how_each_newest_file_is_encrypted(company):
    key, other = pgp.sequoia_key(), pgp.sequoia_key("Other")
    company.put("GLENTRY.change.1.csv", pgp.rpgp_message(glentry(3, 1), key),
                modified=0)
    company.put("VENDOR.all.1.csv", pgp.sequoia_message(
        b"RECORDNO,NAME,ddsReadTime\n1,Acme,2024-01-02 03:04:05\n", other), modified=0)
    company.put("CUSTOMER.all.1.csv", b"RECORDNO,NAME\n1,Acme\n", modified=0)
    run = company.tap("--test", config=company.config(**key_config(key)))
    assert_clean_failure(run, "the setup check failed", code=1)
    lines = {line.split(":")[1].strip(): line for line in run.stderr.splitlines()
             if line.startswith("test: ") and "file(s)" in line}
    assert re.search(f"PGP-encrypted to key ID {key.key_ids[0]}: key {key.fingerprint} of "
                     "pgp_private_key opens it, delimiter ',', .*: ok$", lines["GLENTRY"])
    assert (f"PROBLEM: {company.prefix}VENDOR.all.1.csv: the file is PGP-encrypted to key ID "
            f"{other.key_ids[0]}, which none of the keys in pgp_private_key is") in lines["VENDOR"]
    assert lines["CUSTOMER"].endswith("2 column(s): ok") and "PGP" not in lines["CUSTOMER"]
    without_key = company.tap("--test")
    assert (f"GLENTRY.change.1.csv: the file is PGP-encrypted to key ID {key.key_ids[0]}: to "
            "read encrypted exports set pgp_private_key") in without_key.stderr


def test_about_lists_the_key_settings_as_secret(company):
    about = json.loads(company.tap("--about", "--format", "json").stdout)
    settings = {s["name"]: s for s in about["settings"]}
    assert settings["pgp_private_key"]["sensitive"] and settings["pgp_passphrase"]["sensitive"]
