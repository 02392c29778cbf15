"""One file synced in-process from local bytes, by either engine: for the differential tests and
`make bench`'s local-file figures.

    python -m devtools.localsync FILE rows|fast [OUT]   (OUT: /dev/null by default; `sha256`
                                                         prints the output's digest instead)
"""

import datetime
import hashlib
import io
import sys

from tap_intacct.dds import columns
from tap_intacct.dds.catalog import selected_streams, stream_entry
from tap_intacct.dds.files import StoredFile
from tap_intacct.engines.engine import engine_for, sync_file
from tap_intacct.engines.records import StreamRecords
from tap_intacct.errors import TapError
from tap_intacct.output.messages import RecordSinks, SingerWriter
from tap_intacct.reading.csvfile import CsvRows
from tap_intacct.reading.dialect import DEFAULT_DIALECT
from tap_intacct.values.conversion import ColumnTypes

MODIFIED = datetime.datetime(2024, 5, 1, tzinfo=datetime.timezone.utc)


class LocalStore:
    name = "local-bucket"


def catalog_for(data, key="GLENTRY.all.1.csv", string_fallback=True, every=5, limit=1000, *,
                dialect=DEFAULT_DIALECT):
    """A catalog as discovery would infer it from the file's first rows."""
    rows = CsvRows(io.BufferedReader(io.BytesIO(data)), key, sample=True, dialect=dialect)
    types = ColumnTypes()
    names = columns.unique_header(rows.header, key)
    for name in names:
        types.add_column(name)
    for number, (_line, fields) in enumerate(rows):
        if number >= limit * every:
            break
        if number % every == 0:
            for name, value in zip(names, fields, strict=False):
                types.add_sample(name, value)
    entry = stream_entry(key.split(".")[0], {name: types.schema_for(name, string_fallback)
                                             for name in names})
    entry["metadata"][0]["metadata"]["selected"] = True
    return {"streams": [entry]}


def sync_bytes(data, catalog, engine, *, key="GLENTRY.all.1.csv", out=None, binary=None,
               dialect=DEFAULT_DIALECT):
    """(output text, error line or None) of syncing `data` as one file with `engine`."""
    out = out if out is not None else io.StringIO()
    stream = selected_streams(catalog)[0]
    stored = StoredFile(key, len(data), MODIFIED)
    binary = binary or io.BufferedReader(io.BytesIO(data))
    try:
        sync_file(LocalStore(), stored, binary, StreamRecords(stream),
                  RecordSinks(SingerWriter(out)), progress_seconds=3600,
                  engine=engine_for(engine), dialect=dialect)
    except TapError as exc:
        return out, str(exc)
    return out, None


class _Hashing(io.StringIO):
    def __init__(self, digest):
        super().__init__()
        self._digest = digest

    def write(self, text):
        self._digest.update(text.encode("utf-8"))
        return len(text)


def main():
    path, engine = sys.argv[1], sys.argv[2]
    target = sys.argv[3] if len(sys.argv) > 3 else "/dev/null"
    with open(path, "rb") as source:
        head = source.read(4 << 20)
    catalog = catalog_for(head[:head.rfind(b"\n") + 1])
    digest = hashlib.sha256() if target == "sha256" else None
    with open(path, "rb") as source, (
            _Hashing(digest) if digest else open(target, "w", encoding="utf-8")) as out:
        _out, error = sync_bytes(b"", catalog, engine, out=out, binary=source)
    if digest:
        print("sha256", digest.hexdigest(), file=sys.stderr)
    if error:
        print(error, file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
