"""`make demo` (`make demo STORAGE=azure`): the tap end to end with no AWS or Azure account.

Starts an S3 API (or Azurite, Azure's blob emulator) on 127.0.0.1, loads sample DDS exports, runs
`tap-intacct --discover`, selects every stream, runs a sync, loads the output into SQLite through
a Singer target, and prints what arrived per stream, the trial balance, a customer's dotted
contact field, the deleted vendor and (FULL_EXPORTS=replace) the tables after ACTIVATE_VERSION.
"""

import contextlib
import datetime
import decimal
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

from devtools import intacct_exports
from devtools.s3server import EmbeddedS3

BUCKET = "intacct-dds-demo"
PATH = "dds-exports"
COMPANY = "DEMOCO"


def select_all(catalog):
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = True
    return catalog


def run_tap(args, env):
    tap = shutil.which("tap-intacct") or os.path.join(os.path.dirname(sys.executable),
                                                      "tap-intacct")
    result = subprocess.run([tap, *args], env=env, capture_output=True, text=True, timeout=300,
                            check=False)
    if result.returncode != 0:
        sys.stderr.write(result.stderr)
        raise SystemExit(f"tap-intacct {' '.join(args)} failed with exit code {result.returncode}")
    return result.stdout


def summarize(messages):
    rows = {}
    final_state = {}
    for message in messages:
        if message["type"] == "RECORD":
            entry = rows.setdefault(message["stream"], {"records": 0, "files": set()})
            entry["records"] += 1
            entry["files"].add(message["record"]["_sdc_source_file"])
        elif message["type"] == "STATE":
            final_state = message["value"]
    return rows, final_state


@contextlib.contextmanager
def s3_store(exports):
    """(store settings, tap environment) of an embedded S3 holding the exports."""
    with EmbeddedS3() as s3:
        s3.create_bucket(BUCKET)
        for name, text, modified in exports:
            s3.put(BUCKET, f"{PATH}/{COMPANY}/{name}", text, last_modified=modified)
        print(f"Embedded S3 at {s3.url}: {len(exports)} DDS files in "
              f"s3://{BUCKET}/{PATH}/{COMPANY}/")
        yield ({"bucket": BUCKET, "endpoint_url": s3.url, "sts_endpoint_url": s3.url},
               s3.tap_environment())


@contextlib.contextmanager
def azure_store(exports):
    """(store settings, tap environment) of Azurite holding the exports in a container."""
    from devtools.azuriteserver import EmbeddedAzurite
    with EmbeddedAzurite() as azurite:
        azurite.create_container(BUCKET)
        for name, text, modified in exports:
            azurite.put(BUCKET, f"{PATH}/{COMPANY}/{name}", text, last_modified=modified)
        print(f"Azurite at {azurite.url}: {len(exports)} DDS files in container {BUCKET}, "
              f"folder {PATH}/{COMPANY}/")
        yield ({"storage": "azure", "container": BUCKET,
                "azure_connection_string": azurite.connection_string},
               azurite.tap_environment())


def main():
    storage = os.environ.get("STORAGE") or "s3"
    if storage not in ("s3", "azure"):
        raise SystemExit(f"STORAGE must be s3 or azure, got {storage!r}")
    full_exports = os.environ.get("FULL_EXPORTS") or "append"
    if full_exports not in ("append", "replace"):
        raise SystemExit(f"FULL_EXPORTS must be append or replace, got {full_exports!r}")
    workdir = tempfile.mkdtemp(prefix="tap-intacct-demo-")
    base_time = datetime.datetime(2024, 1, 2, 1, 5, tzinfo=datetime.timezone.utc)
    exports = intacct_exports.demo_exports(base_time)
    keys = {}
    if os.environ.get("ENCRYPTED"):
        exports, keys = encrypted(exports)
    store = azure_store if storage == "azure" else s3_store
    with store(exports) as (settings, env):
        config_path = os.path.join(workdir, "config.json")
        with open(config_path, "w", encoding="utf-8") as handle:
            json.dump({"start_date": "2024-01-01T00:00:00Z", "path": PATH,
                       "company_id": COMPANY, "full_exports": full_exports, **keys,
                       **settings},
                      handle, indent=2)

        catalog = json.loads(run_tap(["--config", config_path, "--discover"], env))
        print(f"Discovered {len(catalog['streams'])} streams: "
              + ", ".join(s["tap_stream_id"] for s in catalog["streams"]))
        catalog_path = os.path.join(workdir, "catalog.json")
        with open(catalog_path, "w", encoding="utf-8") as handle:
            json.dump(select_all(catalog), handle, indent=2)

        output = run_tap(["--config", config_path, "--catalog", catalog_path], env)
        output_path = os.path.join(workdir, "output.jsonl")
        with open(output_path, "w", encoding="utf-8") as handle:
            handle.write(output)
        messages = [json.loads(line) for line in output.splitlines()]
        rows, state = summarize(messages)
        database = os.path.join(workdir, "intacct.db")
        subprocess.run([sys.executable, "-m", "devtools.target_sqlite", database],
                       input=output, text=True, capture_output=True, check=True)

    print()
    print(f"{'stream':<10} {'files':>5} {'records':>8}  bookmark (modified_since)")
    for stream in sorted(rows):
        bookmark = state.get("bookmarks", {}).get(stream, {}).get("modified_since", "-")
        files, records = len(rows[stream]["files"]), rows[stream]["records"]
        print(f"{stream:<10} {files:>5} {records:>8}  {bookmark}")
    print()
    print(f"Loaded into SQLite through a Singer target: {database} (full_exports: "
          f"{full_exports})")
    with sqlite3.connect(database) as db:
        report(db, full_exports, messages)
    print()
    print(f"Singer messages: {output_path}  (config and catalog beside it)")


def encrypted(exports):
    """The exports PGP-encrypted to a key made here (ENCRYPTED=1, the `pgp` extra; README
    "Encrypted exports"), and the setting that gives the tap the private key."""
    import pysequoia
    secret = pysequoia.Tsk.generate("DDS demo <dds-demo@example.com>")
    certificate = secret.extract_certificate()
    print(f"Exports PGP-encrypted to key {certificate.fingerprint} (made for this demo); the "
          "tap reads them with pgp_private_key")
    return ([(name, pysequoia.encrypt(text.encode(), recipients=[certificate]), modified)
             for name, text, modified in exports], {"pgp_private_key": str(secret)})


def report(db, full_exports, messages):
    """What a finance team checks first: the trial balance, a customer's contact as loaded, the
    deleted vendor, and with replace the tables after ACTIVATE_VERSION."""
    print("Trial balance (GLENTRY lines not deleted; TR_TYPE 1 = debit, -1 = credit):")
    print(f"  {'account':<8} {'title':<24} {'lines':>5} {'debits':>14} {'credits':>14} "
          f"{'balance':>14}")
    totals = [decimal.Decimal(0), decimal.Decimal(0)]
    for account, title, lines in trial_balance(db):
        debits = sum((amount for kind, amount in lines if kind == "1"), decimal.Decimal(0))
        credits = sum((amount for kind, amount in lines if kind == "-1"), decimal.Decimal(0))
        totals = [totals[0] + debits, totals[1] + credits]
        print(f"  {account:<8} {title:<24} {len(lines):>5} {debits:>14.2f} {credits:>14.2f} "
              f"{debits - credits:>14.2f}")
    print(f"  {'total':<8} {'':<24} {'':>5} {totals[0]:>14.2f} {totals[1]:>14.2f} "
          f"{totals[0] - totals[1]:>14.2f}")
    print(f"Trial balance total: {totals[0] - totals[1]:.2f} (debits = credits)")
    customer = db.execute(CUSTOMER_CONTACT).fetchone()
    print(f"Customer {customer[0]} ({customer[1]!r}): DISPLAYCONTACT.EMAIL1 = {customer[2]} "
          f"(updated by the change export), DISPLAYCONTACT.MAILADDRESS.CITY = {customer[3]}")
    deleted = db.execute(DELETED_VENDORS).fetchall()
    for recordno, name, when in deleted:
        print(f"Deleted vendor: RECORDNO {recordno} ({name!r}), _sdc_deleted_at {when}")
    vendors = db.execute("SELECT COUNT(*) FROM VENDOR").fetchone()[0]
    if full_exports == "replace":
        activations = [m for m in messages if m["type"] == "ACTIVATE_VERSION"]
        print(f"ACTIVATE_VERSION messages: {len(activations)} ("
              + ", ".join(sorted({m["stream"] for m in activations})) + ")")
        print(f"VENDOR after activating its newest full export: {vendors} rows; the deleted "
              f"vendor is {'still there' if deleted else 'gone'} (its row had an older version)")
    else:
        print(f"VENDOR: {vendors} rows; the deleted vendor stays, marked by _sdc_deleted_at "
              "(make demo FULL_EXPORTS=replace drops it at the next full export)")


def trial_balance(db):
    """[(account, title, [(TR_TYPE, exact amount)])] of the GLENTRY lines not deleted."""
    accounts = {}
    for account, title, kind, amount in db.execute(GL_LINES):
        accounts.setdefault((account, title), []).append((str(kind), decimal.Decimal(amount)))
    return [(account, title, lines) for (account, title), lines in sorted(accounts.items())]


GL_LINES = """
    SELECT ACCOUNTNO, ACCOUNTTITLE, TR_TYPE, AMOUNT FROM GLENTRY
    WHERE _sdc_deleted_at IS NULL"""
CUSTOMER_CONTACT = """
    SELECT CUSTOMERID, NAME, "DISPLAYCONTACT.EMAIL1", "DISPLAYCONTACT.MAILADDRESS.CITY"
    FROM CUSTOMER WHERE RECORDNO = 3"""
DELETED_VENDORS = """
    SELECT RECORDNO, NAME, _sdc_deleted_at FROM VENDOR WHERE _sdc_deleted_at IS NOT NULL"""


if __name__ == "__main__":
    main()
