"""`make oracle-compare REF=<git ref>`: the tap's output on fixed scenarios, this tree against
another commit, byte for byte (a refactor must change no output; docs/ARCHITECTURE.md).

Each scenario is a set of DDS files in an embedded S3 API on 127.0.0.1 and one or two runs of
the tap (discovery, then sync, then a resumed sync where the scenario adds files), with both
engines. Compared per run: stdout, the exit code, the contents of the batch files the BATCH
messages name (their names hold a random part), and stderr's WARNING/ERROR/CRITICAL lines with
durations and rates masked. The other commit is checked out into a temporary git worktree and
run from source with this virtualenv's interpreter, as `make bench-compare` does.
Exit 0 if every run is identical, 1 with the first difference of each run that differs.
"""

from __future__ import annotations

import datetime
import gzip
import hashlib
import io
import json
import os
import pathlib
import re
import subprocess
import sys
import tempfile
import zipfile

from devtools import ddsdata, intacct_exports
from devtools.s3server import EmbeddedS3

HERE = pathlib.Path(__file__).resolve().parent.parent
UTC = datetime.timezone.utc
BASE = datetime.datetime(2024, 1, 2, 1, 5, tzinfo=UTC)
ENGINES = ("rows", "fast")
_TIMINGS = re.compile(r"\d+(\.\d+)? ?(s|ms|MB|records/s)\b")


def _zip(name: str, text: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(name, text)
    return buffer.getvalue()


def _file_shapes() -> list[tuple[str, bytes, datetime.datetime]]:
    """GLENTRY plain, gzip, zip and CRLF; a quoted multi-line cell; a header-only file."""
    minute = datetime.timedelta(minutes=1)
    plain = ddsdata.glentry_csv(300)
    crlf = ddsdata.glentry_csv(50, first_recordno=301).replace("\n", "\r\n")
    multiline = ddsdata.glentry_csv(20, first_recordno=351).replace(
        '"Invoice ""INV-1001"" payment"', '"Invoice\nline two, ""quoted"""')
    header_only = ddsdata.glentry_csv(0)
    return [
        ("GLENTRY.all.1.2024-01-02T00:00:00.csv", plain.encode(), BASE),
        ("GLENTRY.change.2.2024-01-02T01:00:00.csv.gz", gzip.compress(crlf.encode(), mtime=0),
         BASE + minute),
        ("GLENTRY.change.3.2024-01-02T02:00:00.csv.zip",
         _zip("GLENTRY.change.3.csv", multiline), BASE + 2 * minute),
        ("GLENTRY.change.4.2024-01-02T03:00:00.csv", header_only.encode(), BASE + 3 * minute),
        ("CUSTOMER.all.5.2024-01-02T00:00:00.csv", ddsdata.customer_csv(40).encode(),
         BASE + minute),
    ]


def _demo() -> list[tuple[str, bytes, datetime.datetime]]:
    return [(name, text.encode(), modified)
            for name, text, modified in intacct_exports.demo_exports(BASE)]


def _bad_files() -> list[tuple[str, bytes, datetime.datetime]]:
    """A stream that stops at a file it cannot read (UTF-16), beside one that syncs."""
    good = ddsdata.glentry_csv(10)
    return [("GLENTRY.all.1.2024-01-02T00:00:00.csv", good.encode(), BASE),
            ("CUSTOMER.all.2.2024-01-02T00:00:00.csv",
             ddsdata.customer_csv(5).encode("utf-16"), BASE)]


# name: (files of the first run, files added before the resumed run or None, config overrides)
SCENARIOS: dict[str, tuple] = {
    "demo": (_demo, None, {}),
    "demo-replace": (_demo, None, {"full_exports": "replace"}),
    "demo-resumed": (lambda: _demo()[:5], lambda: _demo()[5:], {}),
    "demo-replace-resumed": (lambda: _demo()[:3], lambda: _demo()[3:],
                             {"full_exports": "replace"}),
    "file-shapes": (_file_shapes, None, {}),
    "file-shapes-batch": (_file_shapes, None, {"batch_config": True}),
    "lookback": (_file_shapes, None, {"lookback_seconds": 3600}),
    "bad-file": (_bad_files, None, {}),
}


class Bucket:
    """A scenario's files in a bucket of their own, for one tree and one engine."""

    def __init__(self, s3: EmbeddedS3, workdir: pathlib.Path, number: int,
                 overrides: dict) -> None:
        self.s3 = s3
        self.name = f"oracle-{number:04}"
        self.workdir = workdir / self.name
        self.workdir.mkdir()
        s3.create_bucket(self.name)
        self.config = self._config(overrides)

    def put(self, files: list[tuple[str, bytes, datetime.datetime]]) -> None:
        for file_name, body, modified in files:
            self.s3.put(self.name, f"dds/ACME/{file_name}", body, last_modified=modified)

    def _config(self, overrides: dict) -> str:
        settings = {"bucket": self.name, "path": "dds", "company_id": "ACME",
                    "start_date": "2024-01-01T00:00:00Z", "endpoint_url": self.s3.url,
                    "sts_endpoint_url": self.s3.url, **overrides}
        if settings.get("batch_config"):
            root = self.workdir / "batches"
            root.mkdir()
            settings["batch_config"] = {"encoding": {"format": "jsonl", "compression": "gzip"},
                                        "storage": {"root": root.as_uri(), "prefix": "o-"}}
        path = self.workdir / "config.json"
        path.write_text(json.dumps(settings))
        return str(path)

    def write(self, name: str, value: object) -> str:
        path = self.workdir / name
        path.write_text(json.dumps(value))
        return str(path)


def run(bucket: Bucket, tree: pathlib.Path, engine: str, env: dict[str, str],
        args: list[str]) -> dict:
    """One tap run: what is compared of it (each tree reads its own bucket: its name, in
    `_sdc_source_bucket` and in messages, is masked)."""
    result = subprocess.run([sys.executable, "-m", "tap_intacct", *args],
                            env=dict(env, PYTHONPATH=str(tree), TAP_INTACCT_ENGINE=engine),
                            capture_output=True, text=True, timeout=600, check=False)
    stdout = _with_batch_contents(result.stdout, bucket.name)
    return {"exit code": result.returncode,
            "stdout": [line.replace(bucket.name, "<bucket>") for line in stdout],
            "stderr warnings and errors": [
                _TIMINGS.sub("<n>", line.replace(bucket.name, "<bucket>"))
                for line in result.stderr.splitlines()
                if line.split(" ", 1)[0] in ("WARNING", "ERROR", "CRITICAL")]}


def _with_batch_contents(stdout: str, bucket: str) -> list[str]:
    """stdout's lines, a BATCH message's file URIs replaced by a digest of their contents."""
    lines = stdout.splitlines()
    for number, line in enumerate(lines):
        if '"BATCH"' not in line:  # (discovery's catalog spans many lines)
            continue
        message = json.loads(line)
        if message.get("type") == "BATCH":
            message["manifest"] = [_digest(uri, bucket) for uri in message["manifest"]]
            lines[number] = json.dumps(message, sort_keys=True)
    return lines


def _digest(uri: str, bucket: str) -> str:
    with gzip.open(uri.removeprefix("file://"), "rb") as batch:
        text = batch.read().replace(bucket.encode(), b"<bucket>")
    return "sha256:" + hashlib.sha256(text).hexdigest()


def _last_state(stdout: list[str]) -> dict:
    states = [json.loads(line)["value"] for line in stdout if json.loads(line)["type"] == "STATE"]
    return states[-1] if states else {}


def scenario_runs(bucket: Bucket, name: str, tree: pathlib.Path, engine: str,
                  env: dict[str, str]) -> dict[str, dict]:
    """Discovery, sync, and (if the scenario adds files) a sync resumed from the first's state."""
    first, later, _ = SCENARIOS[name]
    bucket.put(first())
    runs = {"discovery": run(bucket, tree, engine, env, ["--config", bucket.config, "--discover"])}
    catalog = json.loads("\n".join(runs["discovery"]["stdout"]) or '{"streams": []}')
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"]["selected"] = True
    sync = ["--config", bucket.config, "--catalog", bucket.write("catalog.json", catalog)]
    runs["sync"] = run(bucket, tree, engine, env, sync)
    if later is not None:
        bucket.put(later())
        state = bucket.write("state.json", _last_state(runs["sync"]["stdout"]))
        runs["resumed"] = run(bucket, tree, engine, env, [*sync, "--state", state])
    return runs


def compare(ref: str, other: pathlib.Path, workdir: pathlib.Path,
            names: list[str]) -> list[str]:
    """The differences, one line each ([] if every run is byte-identical)."""
    differences = []
    numbers = iter(range(1, 10_000))
    with EmbeddedS3() as s3:
        env = dict(s3.tap_environment(), PYTHONDONTWRITEBYTECODE="1")
        for name in names:
            overrides = SCENARIOS[name][2]
            for engine in ENGINES:
                ours = scenario_runs(Bucket(s3, workdir, next(numbers), overrides), name, HERE,
                                     engine, env)
                theirs = scenario_runs(Bucket(s3, workdir, next(numbers), overrides), name,
                                       other, engine, env)
                for label, mine in ours.items():
                    difference = _first_difference(mine, theirs[label])
                    verdict = "identical" if difference is None else f"DIFFERS: {difference}"
                    print(f"{name:<22} {engine:<5} {label:<10} {verdict}", flush=True)
                    if difference is not None:
                        differences.append(f"{name} {engine} {label}: {difference}")
    return differences


def _first_difference(ours: dict, theirs: dict) -> str | None:
    for part in ("exit code", "stdout", "stderr warnings and errors"):
        if ours[part] != theirs[part]:
            if isinstance(ours[part], list):
                pairs = zip(ours[part], theirs[part], strict=False)
                for number, (a, b) in enumerate(pairs, start=1):
                    if a != b:
                        return f"{part}, line {number}: {a[:160]!r} != {b[:160]!r}"
                return f"{part}: {len(ours[part])} lines != {len(theirs[part])} lines"
            return f"{part}: {ours[part]!r} != {theirs[part]!r}"
    return None


def main() -> None:
    ref = sys.argv[1] if len(sys.argv) > 1 else "HEAD~1"
    names = [n for n in os.environ.get("ORACLE_SCENARIOS", ",".join(SCENARIOS)).split(",") if n]
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown:
        raise SystemExit(f"ORACLE_SCENARIOS: unknown scenario(s) {', '.join(unknown)}; known: "
                         + ", ".join(SCENARIOS))
    with tempfile.TemporaryDirectory() as workdir:
        other = pathlib.Path(workdir) / "other"
        subprocess.run(["git", "-C", str(HERE), "worktree", "add", "--detach", "-q", str(other),
                        ref], check=True)
        try:
            differences = compare(ref, other, pathlib.Path(workdir), names)
        finally:
            subprocess.run(["git", "-C", str(HERE), "worktree", "remove", "--force",
                            str(other)], check=False)
    if differences:
        print(f"{len(differences)} run(s) differ from {ref}:")
        for line in differences:
            print(f"  {line}")
        raise SystemExit(1)
    print(f"every run is byte-identical to {ref}'s")


if __name__ == "__main__":
    main()
