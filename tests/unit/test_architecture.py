"""The package's layering as docs/ARCHITECTURE.md states it, checked on its import graphs (every
import statement, those inside functions included; the type-level graph also those under `if
TYPE_CHECKING:`; devtools/import_graph.py prints both)."""

import pytest

from devtools.import_graph import graph, package_edges

GRAPH = graph()
TYPES = graph(types=True)  # run-time imports and those for the type checker only

# Each third-party family, and the only modules that may import it (the plain S3 install has no
# Azure SDK and no pyarrow; an Azure run never loads boto3).
OWNERS = {
    # storage/sqs.py: the event mode's SQS queue, with the bucket's boto3 session
    "boto3": {"tap_intacct.storage.s3"},
    "botocore": {"tap_intacct.storage.s3", "tap_intacct.storage.sqs"},
    "urllib3": {"tap_intacct.storage.s3"},
    "azure": {"tap_intacct.storage.azure", "tap_intacct.storage.azure_queue"},
    "azure.storage.queue": {"tap_intacct.storage.azure_queue"},
    "pyarrow": {"tap_intacct.engines.columnar", "tap_intacct.engines.fragments"},
    "numpy": {"tap_intacct.engines.columnar", "tap_intacct.engines.fragments",
              "tap_intacct.engines.chunks"},
    "isal": {"tap_intacct.output.batches"},
}
# Pure logic: what it may import of the package.
PURE = {
    "tap_intacct.values.conversion": set(),
    "tap_intacct.values.encoding": {"tap_intacct.values.conversion"},
    "tap_intacct.values.datetimes": set(),
    "tap_intacct.settings.batch_config": {"tap_intacct.values.datetimes"},
    "tap_intacct.reading.dialect": set(),
    "tap_intacct.dds.bookmarks": {"tap_intacct.errors", "tap_intacct.values.datetimes",
                                  "tap_intacct.dds.jobs"},
    "tap_intacct.dds.jobs": {"tap_intacct.dds.files"},
    "tap_intacct.dds.versions": {"tap_intacct.dds.jobs"},
    "tap_intacct.dds.candidates": {"tap_intacct.dds.bookmarks", "tap_intacct.dds.files"},
    "tap_intacct.storage.pages": set(),
    "tap_intacct.storage.events": set(),
    "tap_intacct.dds.horizons": {"tap_intacct.dds.bookmarks", "tap_intacct.dds.files",
                                 "tap_intacct.values.datetimes"},
}


def cycle(edges):
    """One cycle of the graph as a list of nodes, or None."""
    state = {}

    def visit(node, path):
        state[node] = "open"
        for target in sorted(edges.get(node, ())):
            if state.get(target) == "open":
                return path[path.index(target):] + [target]
            if target not in state:
                found = visit(target, path + [target])
                if found:
                    return found
        state[node] = "done"
        return None

    for node in sorted(edges):
        if node not in state:
            found = visit(node, [node])
            if found:
                return found
    return None


def test_the_cycle_finder_finds_cycles():
    assert cycle({"a": {"b"}, "b": {"c"}, "c": {"a"}}) == ["a", "b", "c", "a"]
    assert cycle({"a": {"b"}, "b": {"c"}}) is None


def own_edges(graph_):
    return {module: {t for t in targets if t in graph_ and t != "tap_intacct"}
            for module, targets in graph_.items()}


def test_no_module_imports_itself_back():
    assert cycle(own_edges(GRAPH)) is None


def test_no_module_imports_itself_back_even_for_types():
    found = cycle(own_edges(TYPES))
    assert found is None, " -> ".join(found)


@pytest.mark.parametrize("family", sorted(OWNERS))
def test_each_third_party_library_has_its_owners(family):
    importers = {module for module, targets in GRAPH.items()
                 if any(t == family or t.startswith(family + ".") for t in targets)}
    assert importers <= OWNERS[family], f"{family} imported by {importers - OWNERS[family]}"
    assert importers, f"no module imports {family}: update OWNERS"


@pytest.mark.parametrize("module", sorted(PURE))
def test_pure_modules_import_only_what_they_may(module):
    own = {t for t in GRAPH[module] if t.startswith("tap_intacct.")} - {"tap_intacct.errors"}
    assert own <= PURE[module], f"{module} imports {own - PURE[module]}"


# The settings stand on the ground: they read the config with the pure readers of values/ and the
# reading/ modules that import nothing of the package, never what uses a Config.
GROUND = {"tap_intacct.errors", "tap_intacct.reading.dialect", "tap_intacct.reading.pgpkeys"}


SETTINGS_MODULES = sorted(m for m in GRAPH if m.startswith("tap_intacct.settings."))


@pytest.mark.parametrize("module", SETTINGS_MODULES)
def test_settings_import_only_the_ground(module):
    own = {t for t in GRAPH[module] if t.startswith("tap_intacct.")}
    allowed = {t for t in own if t.startswith(("tap_intacct.settings.", "tap_intacct.values."))}
    assert own - allowed <= GROUND, f"{module} imports {own - allowed - GROUND}"


def test_the_ground_readers_import_nothing_of_the_package():
    for module in GROUND - {"tap_intacct.errors"}:
        assert not {t for t in GRAPH[module] if t.startswith("tap_intacct.")}, module


def test_subpackages_depend_on_each_other_one_way():
    assert cycle(package_edges()) is None, package_edges()


def test_subpackages_depend_on_each_other_one_way_even_for_types():
    found = cycle(package_edges(types=True))
    assert found is None, " -> ".join(found)


def test_reading_is_the_ground_floor():
    """reading/ (bytes to CSV rows) imports nothing of the package but errors.py."""
    outside = {module: sorted(t for t in targets if t.startswith("tap_intacct.")
                              and not t.startswith("tap_intacct.reading")
                              and t != "tap_intacct.errors")
               for module, targets in TYPES.items() if module.startswith("tap_intacct.reading.")}
    assert not any(outside.values()), outside


def test_imports_for_the_type_checker_only_are_not_run_time_edges(tmp_path):
    from devtools.import_graph import imports
    module = tmp_path / "example.py"
    module.write_text("from typing import TYPE_CHECKING\nimport json\n"
                      "if TYPE_CHECKING:\n    import boto3\nelse:\n    import csv\n"
                      "def f():\n    import zlib\n")
    assert imports(module) == {"typing", "json", "csv", "zlib"}
    assert imports(module, types=True) == {"typing", "json", "boto3", "csv", "zlib"}


DRIVERS = {"tap_intacct.sync", "tap_intacct.cli", "tap_intacct.setup_check",
           "tap_intacct.listing"}


def every_import(path):
    """Every module `path` names in an import, those for the type checker only included."""
    import ast
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


@pytest.mark.parametrize("part", ["engines", "dds", "reading", "values"])
def test_the_parts_the_drivers_use_never_import_them_not_even_for_types(part):
    from devtools.import_graph import PACKAGE
    for path in sorted((PACKAGE / part).rglob("*.py")):
        assert not every_import(path) & DRIVERS, f"{path.name} imports a driver"


def test_a_type_only_import_of_a_driver_is_found(tmp_path):
    module = tmp_path / "example.py"
    module.write_text("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                      "    from tap_intacct.sync import FileReading\n"
                      "    from tap_intacct import cli\n")
    assert {"tap_intacct.sync", "tap_intacct.cli"} <= every_import(module)


def test_the_sync_loop_stays_small():
    """Every function of sync.py fits on a screen (60 lines) and takes at most five arguments
    (docs/ARCHITECTURE.md: the loop hands files to engines and asks the cursors)."""
    import ast
    import pathlib

    import tap_intacct.sync
    tree = ast.parse(pathlib.Path(tap_intacct.sync.__file__).read_text())
    functions = [node for node in ast.walk(tree)
                 if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)]
    assert functions
    for function in functions:
        arguments = function.args
        count = len(arguments.posonlyargs + arguments.args + arguments.kwonlyargs) + \
            (arguments.vararg is not None) + (arguments.kwarg is not None)
        if arguments.args and arguments.args[0].arg in ("self", "cls"):
            count -= 1
        assert count <= 5, f"{function.name} takes {count} arguments"
        lines = function.end_lineno - function.lineno + 1
        assert lines <= 60, f"{function.name} is {lines} lines long"


def test_no_type_ignore_in_dds():
    import pathlib

    import tap_intacct.dds
    folder = pathlib.Path(tap_intacct.dds.__file__).parent
    ignored = [f"{path.name}:{number}" for path in sorted(folder.glob("*.py"))
               for number, line in enumerate(path.read_text().splitlines(), start=1)
               if "type: ignore" in line]
    assert ignored == []
