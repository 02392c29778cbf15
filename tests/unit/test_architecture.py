"""The package's layering as docs/ARCHITECTURE.md states it, checked on its import graphs (every
import statement, those inside functions included; the type-level graph also those under `if
TYPE_CHECKING:`; devtools/import_graph.py prints both)."""

import pytest

from devtools.import_graph import graph, package_edges

GRAPH = graph()
TYPES = graph(types=True)  # run-time imports and those for the type checker only
# The parts that drive the others; nothing under the parts they drive imports them.
DRIVERS = {"tap_intacct.sync", "tap_intacct.cli", "tap_intacct.setup_check"}
DRIVEN = ("engines", "dds", "reading", "values")

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


@pytest.mark.parametrize("types", [False, True], ids=["run-time", "types"])
@pytest.mark.parametrize("part", DRIVEN)
def test_driven_parts_do_not_import_their_drivers(part, types):
    importers = {module: sorted(targets & DRIVERS) for module, targets in
                 (TYPES if types else GRAPH).items()
                 if module.startswith(f"tap_intacct.{part}.") and targets & DRIVERS}
    assert not importers, importers


def test_imports_for_the_type_checker_only_are_not_run_time_edges(tmp_path):
    from devtools.import_graph import imports
    module = tmp_path / "example.py"
    module.write_text("from typing import TYPE_CHECKING\nimport json\n"
                      "if TYPE_CHECKING:\n    import boto3\nelse:\n    import csv\n"
                      "def f():\n    import zlib\n")
    assert imports(module) == {"typing", "json", "csv", "zlib"}
    assert imports(module, types=True) == {"typing", "json", "boto3", "csv", "zlib"}
