"""The command line: parse arguments, load config/catalog/state, and dispatch --about, --test,
--discover or a sync (docs/ARCHITECTURE.md)."""

from __future__ import annotations

import argparse
import datetime
import io
import json
import logging
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn, cast

from tap_intacct import NAME, __version__
from tap_intacct.dds import state_file
from tap_intacct.errors import ConfigError, TapError
from tap_intacct.output import logs, stopping
from tap_intacct.settings import config as config_module
from tap_intacct.settings import knobs as knobs_module

if TYPE_CHECKING:
    from tap_intacct.dds.bookmarks import State
    from tap_intacct.dds.catalog import SelectedStream
    from tap_intacct.dds.files import StoredFile
    from tap_intacct.output.messages import Sinks
    from tap_intacct.settings.config import Config
    from tap_intacct.settings.knobs import Knobs

CAPABILITIES = ["catalog", "discover", "state", "properties", "about", "batch"]
LOGGER = logging.getLogger("tap_intacct")


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=NAME, description="Singer tap for Sage Intacct DDS exports in S3 or Azure.")
    parser.add_argument("-c", "--config", help="config file (JSON)")
    parser.add_argument("-d", "--discover", action="store_true", help="print the catalog")
    parser.add_argument("--catalog", help="catalog file (JSON) selecting what to sync")
    parser.add_argument("-p", "--properties", help="older name of --catalog")
    parser.add_argument("-s", "--state", help="state file (JSON) to resume from")
    parser.add_argument("--about", action="store_true", help="describe the tap and its settings")
    parser.add_argument("--test", nargs="?", const="record", choices=("record", "all", "schema"),
                        help="check the setup: access, the company folder, the newest file of "
                             "each object (with --catalog: one record per selected stream)")
    parser.add_argument("--format", choices=("text", "json", "markdown"), default="text",
                        help="output format of --about")
    parser.add_argument("--version", action="version", version=f"{NAME} {__version__}")
    return parser


def about(output_format: str) -> str:
    settings = [{"name": s.name, "required": s.required, "sensitive": s.sensitive,
                 "kind": s.kind, "description": s.description} for s in config_module.SETTINGS]
    if output_format == "json":
        return json.dumps({"name": NAME, "version": __version__, "capabilities": CAPABILITIES,
                           "settings": settings}, indent=2)
    if output_format == "markdown":
        lines = ["| key | required | description |", "|---|---|---|"]
        lines += [f"| `{s['name']}` | {'yes' if s['required'] else 'no'} | {s['description']}"
                  f"{' (secret)' if s['sensitive'] else ''} |" for s in settings]
        return "\n".join(lines)
    lines = [f"{NAME} {__version__}", f"capabilities: {', '.join(CAPABILITIES)}", "settings:"]
    for s in settings:
        flags = ", ".join(f for f in ("required" if s["required"] else "",
                                       "secret" if s["sensitive"] else "") if f)
        lines.append(f"  {s['name']}{f' ({flags})' if flags else ''}: {s['description']}")
    return "\n".join(lines)


# Deeper than any config, catalog or state the tap writes or reads (a catalog is about 10 levels
# deep); deeper JSON would exhaust the interpreter's stack wherever it is walked or written.
MAX_JSON_DEPTH = 100


def load_json(path: str, what: str) -> Any:
    try:
        with open(path, encoding="utf-8-sig") as handle:  # tolerate a BOM from Windows editors
            value = json.load(handle)
    except OSError as exc:
        raise ConfigError(f"{what} {path}: cannot read: {exc.strerror}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{what} {path}: invalid JSON at line {exc.lineno}, column "
                          f"{exc.colno}: {exc.msg}") from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} {path}: not UTF-8 text") from None
    except RecursionError:
        value = None  # nested past the parser's own limit
    else:
        if _depth(value, MAX_JSON_DEPTH) <= MAX_JSON_DEPTH:
            return value
    raise ConfigError(f"{what} {path}: JSON nested more than {MAX_JSON_DEPTH} levels deep; "
                      f"this is not a {what} file the tap can use")


def _depth(value: Any, limit: int) -> int:
    """How deep arrays and objects nest in `value` (a scalar: 0), counted up to limit + 1."""
    depth = 0
    level = [value] if isinstance(value, (dict, list)) else []
    while level and depth <= limit:
        depth += 1
        level = [child for node in level
                 for child in (node.values() if isinstance(node, dict) else node)
                 if isinstance(child, (dict, list))]
    return depth


def _inputs(args: argparse.Namespace) -> tuple[Config, str | None, Any, State]:
    """(config, catalog path, catalog or None, state) from the command line's files."""
    if not args.config:
        raise ConfigError("--config is required (a JSON file; see sample_config.json)")
    if args.catalog and args.properties:
        raise ConfigError("give either --catalog or --properties, not both")
    catalog_path = args.catalog or args.properties
    if not (args.discover or args.test) and not catalog_path:
        raise ConfigError("nothing to do: give --discover, --test, or --catalog CATALOG to sync")

    config = config_module.validate(load_json(args.config, "config"),
                                    source=f"config {args.config}")
    syncing = not args.discover
    catalog = load_json(catalog_path, "catalog") if syncing and catalog_path else None
    state: State = {}
    if args.state and not args.discover:
        state = state_file.state_of(load_json(args.state, "state"), f"state {args.state}")
    return config, catalog_path, catalog, state


def _setup_check(config: Config, knobs: Knobs, selected: list[SelectedStream] | None) -> None:
    from tap_intacct import setup_check
    from tap_intacct.output.messages import SingerWriter
    from tap_intacct.storage.store import connect, connect_queue
    writer = SingerWriter(sys.stdout)
    queue = ((lambda store: connect_queue(config, knobs, store))
             if config.listing == "events" else None)
    passed = setup_check.check(lambda: connect(config, knobs), config, selected, writer,
                               connect_queue=queue)
    writer.flush()
    if not passed:
        raise TapError("the setup check failed (see the lines above)")


def run(args: argparse.Namespace, knobs: Knobs) -> None:
    config, catalog_path, catalog, state = _inputs(args)

    # Imported here so that --help, --about and config errors stay instant.
    from tap_intacct import listing, sync
    from tap_intacct.dds import candidates, discover
    from tap_intacct.dds import catalog as catalog_module
    from tap_intacct.dds.files import no_data_files
    from tap_intacct.output.batches import BatchSinks
    from tap_intacct.output.messages import RecordSinks, SingerWriter
    from tap_intacct.storage.store import batch_uploader, connect

    selected: list[SelectedStream] | None = None
    if catalog_path and not args.discover:
        selected = catalog_module.selected_streams(catalog, source=f"catalog {catalog_path}")
        if not selected:
            LOGGER.warning("No stream is selected in %s: nothing to sync", catalog_path)
    if args.test:
        _setup_check(config, knobs, selected)
        return

    now = datetime.datetime.now(datetime.timezone.utc)  # the run's start, before any listing
    store = connect(config, knobs)
    prefix = config.company_prefix

    def log_skip(stored: StoredFile, reason: str) -> None:
        LOGGER.warning("Skipping %s: %s", stored.key, reason)

    try:
        if args.discover:
            LOGGER.info("Listing %s", store.location(prefix))
            # Streamed: only the files discovery reads are kept (tap_intacct/dds/candidates.py).
            tables = candidates.for_discovery(candidates.data_files(store.list(prefix), log_skip),
                                              config.start_date)
            if not tables:
                raise TapError(no_data_files(store.location(prefix), config.storage))
            result = discover.discover(store, tables, config)
            sys.stdout.write(json.dumps(result, indent=2) + "\n")
        else:
            # not None: without --discover or --test, _inputs required a catalog
            streams = cast("list[SelectedStream]", selected)
            # Streamed, by config.listing: only the files this run reads are kept
            sources = listing.for_sync(store, config, knobs, state=state,
                                       streams=[stream.name for stream in streams], now=now,
                                       log_skip=log_skip)
            writer = SingerWriter(sys.stdout)
            sinks: Sinks = RecordSinks(writer)
            if config.batch_config:
                sinks = BatchSinks(config.batch_config, writer, upload=batch_uploader(knobs))
            try:
                sync.sync(store, sources, streams, sync.Run(state, config, writer, sinks,
                                                             knobs=knobs, now=now))
            finally:
                sinks.close()
            writer.flush()
    finally:
        LOGGER.info("%s requests: %s", store.kind, store.requests.summary())


STDOUT_CLOSED = f"{NAME}: error: stdout was closed (did the target exit?)"


def main(argv: Sequence[str] | None = None) -> int:
    logs.configure()
    try:
        knobs = knobs_module.from_environment(os.environ)
    except ConfigError as exc:
        _print_problems(exc)
        return exc.exit_code
    logging.getLogger().setLevel(knobs.log_level)
    # Their DEBUG output holds request headers (session tokens): never below WARNING.
    for library in ("botocore", "boto3", "urllib3", "s3transfer", "azure", "msal"):
        logging.getLogger(library).setLevel(logging.WARNING)
    args = _parser().parse_args(argv)
    if args.about:
        try:
            print(about(args.format), flush=True)
        except BrokenPipeError:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    # Records are written in bulk (8 KiB at a time), STATE messages flush; a stop signal
    # waits until the bytes being written are out (output/stopping.py: whole lines only).
    sys.stdout.flush()
    sys.stdout = io.TextIOWrapper(stopping.StdoutLines(sys.stdout.fileno()), encoding="utf-8",
                                  newline="\n", write_through=False, line_buffering=False)
    try:
        try:
            stopping.catch_signals()
            run(args, knobs)
        finally:
            stopping.ignore_signals()  # from here on (or since Stopped), signals change nothing
    except TapError as exc:
        _print_problems(exc)
        return exc.exit_code
    except BrokenPipeError:
        # Point stdout at /dev/null so that the final flush (cli) stays quiet.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        print(STDOUT_CLOSED, file=sys.stderr)
        return 1
    except (stopping.Stopped, KeyboardInterrupt) as stop:
        # SIGINT or SIGTERM (Meltano, Airflow and Kubernetes cancel with it): the STATE of the
        # files read whole is out, and stdout ends with a whole line (cli flushes the rest)
        reason, code = ((stop.reason, stop.exit_code) if isinstance(stop, stopping.Stopped)
                        else ("interrupted", 130))
        print(f"{NAME}: {reason}", file=sys.stderr)
        return code
    return 0


def _print_problems(exc: TapError) -> None:
    for problem in exc.problems:
        print(f"{NAME}: error: {problem}", file=sys.stderr)


def cli() -> NoReturn:
    code = main()
    # main has written, flushed and closed every output. The interpreter's own teardown (freeing
    # every module, Arrow's and numpy's static state) would take about 40 ms of CPU, a sixth of
    # a small incremental run, and do nothing the run needs: end the process here instead.
    try:
        sys.stdout.flush()
    except BrokenPipeError:
        print(STDOUT_CLOSED, file=sys.stderr)
        code = code or 1
    sys.stderr.flush()
    logging.shutdown()
    os._exit(code)
