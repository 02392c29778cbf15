"""`tap-intacct --config c.json --test`: the setup check (like Stitch's "Check and Save").

Lists the company folder, reads the first bytes of the newest file of each object, and reports
one line per object on stderr: files found, the newest LastModified (how fresh the exports are),
the dialect found and any problem (README "Checking the setup"). With a catalog, stdout carries
a SCHEMA and at most one RECORD per selected stream, as Singer SDK taps do for `--test`.
"""

from __future__ import annotations

import datetime
import io
import json
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from tap_intacct.dds.candidates import data_files
from tap_intacct.dds.files import StoredFile, no_data_files
from tap_intacct.engines.records import StreamRecords
from tap_intacct.errors import DataError, FileGone, StorageError
from tap_intacct.reading.csvfile import CsvRows, CutShort
from tap_intacct.reading.decryption import encryption_note
from tap_intacct.reading.dialect import DELIMITER_NAMES

if TYPE_CHECKING:
    from tap_intacct.dds.catalog import SelectedStream
    from tap_intacct.output.messages import SingerWriter
    from tap_intacct.settings.config import Config
    from tap_intacct.storage.store import Store

FIRST_BYTES = 64 * 1024


def check(connect: Callable[[], Store], config: Config,
          selected: Sequence[SelectedStream] | None, writer: SingerWriter,
          report: Callable[[str], None] | None = None) -> bool:
    """Runs every check, reporting each on `report` (stderr); True if all passed. `connect()`
    builds the store (assuming the role, if any)."""
    report = report or (lambda line: print(f"test: {line}", file=sys.stderr, flush=True))
    skipped: list[tuple[StoredFile, str]] = []
    try:
        bucket = connect()
        where = bucket.location(config.company_prefix)
        report(f"config is valid; reading {where}")
        tables = newest_files(data_files(
            bucket.list(config.company_prefix),
            lambda stored, reason: skipped.append((stored, reason))))
    except StorageError as exc:
        report(f"FAILED: {exc.problems[0]}")
        for line in access_advice(config):
            report(line)
        return False
    for stored, reason in skipped:
        report(f"skipped {stored.key}: {reason}")
    if not tables:
        report(f"FAILED: {no_data_files(where, config.storage)}")
        return False
    wanted = {stream.name: stream for stream in selected or []}
    now = datetime.datetime.now(datetime.timezone.utc)
    failed = 0
    for table, (count, newest) in tables.items():
        line = (f"{table}: {count} file(s), newest {newest.last_modified.isoformat()} "
                f"({_age(now - newest.last_modified)} ago)")
        try:
            rows = _first_rows(bucket, newest, config)
        except (DataError, FileGone, StorageError) as exc:
            failed += 1
            report(f"{line}: PROBLEM: {exc}")
            continue
        line += encryption_note(bucket, newest)  # README "Encrypted exports"
        dialect = rows.dialect
        # a file's dialect (CsvRows.dialect) always has its delimiter
        report(f"{line}, delimiter {DELIMITER_NAMES[dialect.delimiter]}, "  # type: ignore[index]
               f"quote {dialect.quotechar}, {len(rows.header)} column(s): ok")
        if table in wanted:
            _one_record(bucket, newest, rows, wanted.pop(table), writer)
    for name in wanted:
        report(f"{name}: selected in the catalog, but no file of it is in {where}")
    if failed:
        report(f"FAILED: {failed} of {len(tables)} object(s) have a problem (see above)")
        return False
    report(f"all checks passed ({len(tables)} object(s))")
    return True


def newest_files(listed: Iterable[tuple[str, StoredFile]]) -> dict[str, tuple[int, StoredFile]]:
    """{table: (how many files, the newest)}, tables sorted by name; nothing else is kept."""
    found: dict[str, tuple[int, StoredFile]] = {}
    for table, stored in listed:
        count, newest = found.get(table, (0, None))
        found[table] = (count + 1, stored if newest is None or stored.sort_key > newest.sort_key
                        else newest)
    return dict(sorted(found.items()))


def _first_rows(bucket: Store, newest: StoredFile, config: Config) -> CsvRows:
    data = bucket.read_range(newest, FIRST_BYTES)
    cut = len(data) >= FIRST_BYTES
    binary = io.BufferedReader(CutShort(data) if cut else io.BytesIO(data))
    rows = CsvRows(binary, newest.key, sample=True, dialect=config.dialect)
    if not rows.header:
        raise DataError(f"{newest.key}: no header row in its first {FIRST_BYTES // 1024} KiB")
    return rows


def _one_record(bucket: Store, stored: StoredFile, rows: CsvRows, stream: SelectedStream,
                writer: SingerWriter) -> None:
    """SCHEMA, then the first record of `rows` (if the bytes read hold a whole one)."""
    writer.schema(stream.name, stream.schema, stream.key_properties)
    build, _unknown = StreamRecords(stream).for_file(bucket.name, stored, rows.header)
    for line_number, fields in rows:
        try:
            record = build.build(line_number, fields)
        except ValueError:
            return  # a value that does not fit its column: the sync reports it with its line
        writer.record_writer(stream.name)(record)
        return


def _age(delta: datetime.timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}(s)"
    return f"{seconds} second(s)"


def access_advice(config: Config) -> list[str]:
    """The lines telling what access the tap needs, with this config's names filled in."""
    if config.storage == "azure":
        return [f"grant the tap's identity the 'Storage Blob Data Reader' role on container "
                f"{config.container} (or give a SAS token with Read and List on it); see the "
                "README's 'Azure Blob Storage'"]
    prefix = config.company_prefix
    policy = {"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": "s3:ListBucket",
         "Resource": f"arn:aws:s3:::{config.bucket}",
         "Condition": {"StringLike": {"s3:prefix": [f"{prefix}*"]}}},
        {"Effect": "Allow", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{config.bucket}/{prefix}*"}]}
    lines = ["the role (or the tap's own credentials) needs this policy:",
             json.dumps(policy, separators=(",", ":"))]
    if config.role_arn:
        trust = {"Version": "2012-10-17", "Statement": [
            {"Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::<account running the tap>:root"},
             "Action": "sts:AssumeRole",
             "Condition": {"StringEquals": {"sts:ExternalId": "<external_id>"}}}]}
        lines += [f"and {config.role_arn} this trust policy (with your external_id):",
                  json.dumps(trust, separators=(",", ":"))]
    return lines
