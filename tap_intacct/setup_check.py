"""`tap-intacct --config c.json --test`: the setup check (like Stitch's "Check and Save").

Lists the company folder, reads the first bytes of the newest file of each object (more for a
long header) with the reader sync uses and its checks (compression, encoding, dialect, header,
every whole record in those bytes), and reports one line per object on stderr: files found, the
newest LastModified (how fresh the exports are), the dialect found and any problem (README
"Checking the setup"). With a catalog, stdout carries a SCHEMA and at most one RECORD per
selected stream, as Singer SDK taps do for `--test`.
"""

from __future__ import annotations

import datetime
import json
import sys
import urllib.parse
from collections.abc import Callable, Iterable, Sequence
from typing import TYPE_CHECKING

from tap_intacct.dds.candidates import data_files
from tap_intacct.dds.columns import unique_header
from tap_intacct.dds.files import StoredFile, no_data_files
from tap_intacct.engines.records import StreamRecords
from tap_intacct.errors import DataError, FileGone, StorageError
from tap_intacct.reading.csvfile import CsvRows, first_bytes_rows
from tap_intacct.reading.dialect import DELIMITER_NAMES
from tap_intacct.settings.secrets import connection_string_sas
from tap_intacct.storage.store import encryption_note

if TYPE_CHECKING:
    from tap_intacct.dds.catalog import SelectedStream
    from tap_intacct.output.messages import SingerWriter
    from tap_intacct.settings.config import Config
    from tap_intacct.storage.store import EventQueue, Store

FIRST_BYTES = 64 * 1024  # a longer header is read again (csvfile.first_bytes_rows)


def check(connect: Callable[[], Store], config: Config,
          selected: Sequence[SelectedStream] | None, writer: SingerWriter,
          report: Callable[[str], None] | None = None, *,
          connect_queue: Callable[[Store], EventQueue] | None = None) -> bool:
    """Runs every check, reporting each on `report` (stderr); True if all passed. `connect()`
    builds the store (assuming the role, if any); `connect_queue(store)` the event mode's
    queue (listing events), which must answer."""
    report = report or (lambda line: print(f"test: {line}", file=sys.stderr, flush=True))
    skipped: list[tuple[StoredFile, str]] = []
    try:
        store = connect()
        where = store.location(config.company_prefix)
        report(f"config is valid; reading {where}")
        tables = newest_files(data_files(
            store.list(config.company_prefix),
            lambda stored, reason: skipped.append((stored, reason))))
    except StorageError as exc:
        report(f"FAILED: {exc.problems[0]}")
        if exc.refused:  # else the line above says what to check (no container, unreachable...)
            for line in access_advice(config):
                report(line)
        return False
    for stored, reason in skipped:
        report(f"skipped {stored.key}: {reason}")
    if connect_queue is not None and not _queue_answers(connect_queue, store, config, report):
        return False
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
            rows, records = _first_rows(store, newest, config)
            first = (_first_record(store, newest, rows.header, records, wanted[table])
                     if table in wanted else None)
        except (DataError, FileGone, StorageError) as exc:
            failed += 1
            report(f"{line}: PROBLEM: {exc}")
            continue
        line += encryption_note(store, newest)  # README "Encrypted exports"
        dialect = rows.dialect
        # a file's dialect (CsvRows.dialect) always has its delimiter
        report(f"{line}, delimiter {DELIMITER_NAMES[dialect.delimiter]}, "  # type: ignore[index]
               f"quote {dialect.quotechar}, {len(rows.header)} column(s): ok")
        if table in wanted:
            stream = wanted.pop(table)
            writer.schema(stream.name, stream.schema, stream.key_properties)
            if first is not None:
                writer.record_writer(stream.name)(first)
    for name in wanted:
        report(f"{name}: selected in the catalog, but no file of it is in {where}")
    if failed:
        report(f"FAILED: {failed} of {len(tables)} object(s) have a problem (see above)")
        return False
    report(f"all checks passed ({len(tables)} object(s))")
    return True


def _queue_answers(connect_queue: Callable[[Store], EventQueue], store: Store, config: Config,
                   report: Callable[[str], None]) -> bool:
    """The event mode's queue answers (README "Event mode"); if not, how to set it up."""
    try:
        queue = connect_queue(store)
        waiting = queue.waiting()
    except StorageError as exc:
        report(f"FAILED: {exc.problems[0]}")
        for line in events_setup(config):
            report(line)
        return False
    report(f"events queue {queue.location()} is reachable, about {waiting} message(s) waiting; "
           f"sync lists each stream in full on its first run, then every "
           f"{config.events_full_listing_hours} hour(s)")
    return True


def events_setup(config: Config) -> list[str]:
    """How the queue is set up for the event mode, with this config's names filled in."""
    queue = config.events_queue or ""
    prefix = config.company_prefix
    if config.storage == "azure":
        name = urllib.parse.urlsplit(queue).path.rstrip("/").rsplit("/", 1)[-1]
        return [
            "the queue gets the container's BlobCreated events from an Event Grid subscription "
            "on the storage account (README 'Event mode'), e.g.:",
            "az eventgrid event-subscription create --name tap-intacct --source-resource-id "
            "<storage account resource id> --endpoint-type storagequeue --endpoint <storage "
            f"account resource id>/queueservices/default/queues/{name} --included-event-types "
            "Microsoft.Storage.BlobCreated --subject-begins-with /blobServices/default/"
            f"containers/{config.container}/blobs/{prefix}",
            "and the tap's identity needs the 'Storage Queue Data Message Processor' role on "
            "the queue (an account key works as it is; a SAS token needs the queue service with "
            "Read and Process permissions)"]
    parts = urllib.parse.urlsplit(queue).path.strip("/").split("/")
    region = (urllib.parse.urlsplit(queue).hostname or "").split(".")[1:2] or ["<region>"]
    arn = (f"arn:aws:sqs:{region[0]}:{parts[0]}:{parts[-1]}" if len(parts) == 2
           else "<queue ARN>")
    notification = {"QueueConfigurations": [{
        "QueueArn": arn, "Events": ["s3:ObjectCreated:*"],
        "Filter": {"Key": {"FilterRules": [{"Name": "prefix", "Value": prefix}]}}}]}
    queue_policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Principal": {"Service": "s3.amazonaws.com"},
        "Action": "sqs:SendMessage", "Resource": arn,
        "Condition": {"ArnLike": {"aws:SourceArn": f"arn:aws:s3:::{config.bucket}"}}}]}
    tap_policy = {"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow", "Action": ["sqs:ReceiveMessage", "sqs:DeleteMessage",
                                      "sqs:ChangeMessageVisibility", "sqs:GetQueueAttributes"],
        "Resource": arn}]}
    return [f"the bucket's event notifications go to the queue (aws s3api "
            f"put-bucket-notification-configuration --bucket {config.bucket} "
            "--notification-configuration ...):",
            json.dumps(notification, separators=(",", ":")),
            "the queue's access policy lets S3 send to it:",
            json.dumps(queue_policy, separators=(",", ":")),
            "and the role (or the tap's own credentials) needs:",
            json.dumps(tap_policy, separators=(",", ":"))]


def newest_files(listed: Iterable[tuple[str, StoredFile]]) -> dict[str, tuple[int, StoredFile]]:
    """{table: (how many files, the newest)}, tables sorted by name; nothing else is kept."""
    found: dict[str, tuple[int, StoredFile]] = {}
    for table, stored in listed:
        count, newest = found.get(table, (0, None))
        found[table] = (count + 1, stored if newest is None or stored.sort_key > newest.sort_key
                        else newest)
    return dict(sorted(found.items()))


def _first_rows(store: Store, newest: StoredFile, config: Config
                ) -> tuple[CsvRows, list[tuple[int, list[str]]]]:
    """(CsvRows past the header, the whole records that follow in the bytes read) of the file's
    first bytes, read as strictly as sync reads the file: only the record the end of the range
    cuts is left out. DataError for any problem sync would stop at in those bytes."""
    rows, cut, length = first_bytes_rows(lambda size: store.read_range(newest, size),
                                         newest.key, FIRST_BYTES, dialect=config.dialect)
    if not rows.header and cut:
        raise DataError(f"{newest.key}: its first {length // (1024 * 1024)} MiB hold no whole "
                        "header line")
    if not rows.header:
        raise DataError(f"{newest.key}: no header row (the file holds no text)")
    unique_header(rows.header, newest.key)  # a name the tap adds: refused as sync refuses it
    return rows, list(rows)


def _first_record(store: Store, stored: StoredFile, header: list[str],
                  records: list[tuple[int, list[str]]], stream: SelectedStream) -> str | None:
    """The JSON text of the first record, None if the bytes read hold none; DataError if a
    value of those records does not fit its column in the catalog (sync would stop there)."""
    build, _unknown = StreamRecords(stream).for_file(store.name, stored, header)
    built = []
    for line_number, fields in records:
        try:
            built.append(build.build(line_number, fields))
        except ValueError as exc:
            raise DataError(f"{stored.key}: line {line_number}, column "
                            f"{build.column_that_fails(fields)}: {exc}; sync stops at this "
                            "value (see the README's 'Conversion contract')") from None
    return built[0] if built else None


def _age(delta: datetime.timedelta) -> str:
    seconds = max(int(delta.total_seconds()), 0)
    for unit, size in (("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit}(s)"
    return f"{seconds} second(s)"


def access_advice(config: Config) -> list[str]:
    """The lines telling what access the tap needs, with this config's names filled in."""
    if config.storage == "azure":
        return [_azure_access(config) + "; see the README's 'Azure Blob Storage'"]
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


def _azure_access(config: Config) -> str:
    """What the configured way of authenticating to Azure needs to read the container."""
    if config.azure_sas_token or connection_string_sas(config.azure_connection_string):
        return (f"give a SAS token for container {config.container} (or the whole account) with "
                "Read and List permissions, signed with a current key of the account")
    if config.azure_connection_string:
        return ("copy a current connection string from the storage account's Access keys "
                "(a rotated key is refused) and check the account's network rules")
    return (f"grant the tap's identity the 'Storage Blob Data Reader' role on container "
            f"{config.container} (a new role assignment takes a few minutes to apply)")
