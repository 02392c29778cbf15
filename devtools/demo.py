"""`make demo` (`make demo STORAGE=azure`): the tap end to end with no AWS or Azure account.

Starts an S3 API (or Azurite, Azure's blob emulator) on 127.0.0.1, loads sample DDS exports, runs
`tap-intacct --discover`, selects every stream, runs a sync, loads the output into SQLite through
a Singer target, and prints what arrived per stream and a general-ledger query.
"""

import contextlib
import datetime
import json
import os
import shutil
import sqlite3
import subprocess
import sys
import tempfile

from devtools import ddsdata
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
    workdir = tempfile.mkdtemp(prefix="tap-intacct-demo-")
    base_time = datetime.datetime(2024, 1, 2, 1, 5, tzinfo=datetime.timezone.utc)
    exports = ddsdata.demo_exports(base_time)
    store = azure_store if storage == "azure" else s3_store
    with store(exports) as (settings, env):
        config_path = os.path.join(workdir, "config.json")
        with open(config_path, "w", encoding="utf-8") as handle:
            json.dump({"start_date": "2024-01-01T00:00:00Z", "path": PATH,
                       "company_id": COMPANY, **settings}, handle, indent=2)

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
        rows, state = summarize(json.loads(line) for line in output.splitlines())
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
    print(f"Loaded into SQLite through a Singer target: {database}")
    print("General ledger by account (SUM of AMOUNT x TR_TYPE), straight from the table GLENTRY:")
    print(f"  {'account':<8} {'title':<24} {'entries':>7} {'balance':>16}")
    with sqlite3.connect(database) as db:
        for account, title, entries, balance in db.execute(GL_BY_ACCOUNT):
            print(f"  {account:<8} {title:<24} {entries:>7} {balance:>16}")
        deleted = db.execute(DELETED_VENDORS).fetchone()[0]
    print(f"Vendors marked deleted by the change export (_sdc_deleted_at set): {deleted}")
    print()
    print(f"Singer messages: {output_path}  (config and catalog beside it)")


GL_BY_ACCOUNT = """
    SELECT ACCOUNTNO, ACCOUNTTITLE, COUNT(*),
           printf('%.2f', SUM(CAST(AMOUNT AS NUMERIC) * TR_TYPE))
    FROM GLENTRY GROUP BY ACCOUNTNO, ACCOUNTTITLE ORDER BY ACCOUNTNO"""
DELETED_VENDORS = "SELECT COUNT(*) FROM VENDOR WHERE _sdc_deleted_at IS NOT NULL"


if __name__ == "__main__":
    main()
