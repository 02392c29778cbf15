"""`make profile-fast`: where the fast engine's time goes, one thread, chunk by chunk.

    python -m devtools.profile_fast [FILE]   (default: the benchmark's 1M-row GLENTRY file)

Reads FILE (local) in the engine's chunks and times each step of Plan.records (the byte checks
and record lines, Arrow's parse, each kind of column's fragments, the line numbers, the final
join and its text), summed over the file. Workers are not used: the figures are CPU seconds of
one thread, so they show what a chunk costs, not the run's wall time.
"""

import collections
import io
import sys
import time

import pyarrow as pa
import pyarrow.compute as pc

from devtools.bench import ROWS, glentry_file
from devtools.localsync import MODIFIED, LocalStore, catalog_for
from tap_intacct.dds.catalog import selected_streams
from tap_intacct.dds.files import StoredFile
from tap_intacct.engines import columnar
from tap_intacct.engines.chunks import Chunks, record_lines
from tap_intacct.engines.records import COLUMN, LINENO, StreamRecords
from tap_intacct.output.messages import SingerWriter
from tap_intacct.reading.csvfile import CsvRows
from tap_intacct.reading.dialect import Dialect
from tap_intacct.values.encoding import encode_string


def main():
    path = sys.argv[1] if len(sys.argv) > 1 else str(glentry_file(ROWS))
    with open(path, "rb") as source:
        head = source.read(4 << 20)
    catalog = catalog_for(head[:head.rfind(b"\n") + 1])
    stream = selected_streams(catalog)[0]
    records = StreamRecords(stream)
    seconds = collections.Counter()
    rows = 0
    started = time.perf_counter()
    with open(path, "rb") as raw:
        binary = io.BufferedReader(raw, 1 << 20)
        source = CsvRows.decompress(binary, path)
        start, _error = columnar._first_bytes(source)
        end = columnar._header_end(start, None)
        header = CsvRows.resume(columnar.Chained([start[:end]]), path).header
        stored = StoredFile("GLENTRY.all.1.csv", 0, MODIFIED)
        build, _ = records.for_file(LocalStore.name, stored, header)
        writer = SingerWriter(io.StringIO())
        plan = columnar.Plan(records, build, writer.record_writer("GLENTRY").line_format,
                             Dialect(","))  # a resolved dialect, as sync hands it
        kinds = {}
        for part in plan._parts:
            if not isinstance(part, str) and part[0] == COLUMN:
                schema = stream.properties[build.layout.header[part[1]]]
                kinds[id(part)] = "fragments: " + _kind(schema, records, build, part[1])
        chunks = Chunks(source, start[end:], lines_before=1)
        cut = time.perf_counter()
        for chunk in chunks:
            seconds["cutting chunks at record ends (reading included)"] += time.perf_counter() - cut
            rows += _profile_chunk(plan, chunk, kinds, seconds)
            cut = time.perf_counter()
    total = time.perf_counter() - started
    print(f"{path}: {rows:,} records, {total:.2f}s in one thread "
          f"({rows / total:,.0f} records/s)")
    print("| step | seconds | share |")
    print("|---|---|---|")
    for step, spent in seconds.most_common():
        print(f"| {step} | {spent:.2f} | {spent / total:.0%} |")


def _kind(schema, records, build, position):
    name = build.layout.header[position]
    if records.encoders[name] is encode_string:
        return "string columns"
    types = schema.get("type") if isinstance(schema, dict) else None
    if isinstance(types, list) and "integer" in types:
        return "integer columns"
    if isinstance(types, list) and "number" in types:
        return "number columns"
    return "date-time columns"


def _profile_chunk(plan, chunk, kinds, seconds):
    def timed(step, function, *args):
        begun = time.perf_counter()
        result = function(*args)
        seconds[step] += time.perf_counter() - begun
        return result

    lines = timed("byte checks and record lines", record_lines, chunk, b",", b'"')
    table = timed("Arrow's CSV parse", plan._parse, chunk.data)
    arguments = []
    for part in plan._parts:
        if isinstance(part, str):
            arguments.append(part)
        elif part[0] == COLUMN:
            arguments.append(timed(kinds[id(part)], plan._part, part, table, lines))
        elif part[0] == LINENO:
            arguments.append(timed("line numbers", plan._part, part, table, lines))
        else:
            arguments.append(timed("_sdc_deleted_at", plan._part, part, table, lines))
    joined = timed("final join", pc.binary_join_element_wise, *arguments, "")
    timed("text of the joined lines", lambda: str(joined.buffers()[2], "ascii"))
    return len(joined) if isinstance(joined, pa.Array) else 0


if __name__ == "__main__":
    main()
