"""`python -m devtools.import_graph`: which parts of tap_intacct import which, module by module
or, with --packages, by subpackage. Two graphs: the run-time one (every import, those inside
functions included; those under `if TYPE_CHECKING:` are for the type checker only and left out)
and, with --types, the type-level one (those too). tests/unit/test_architecture.py checks the
rules docs/ARCHITECTURE.md states on both."""

import ast
import pathlib
import sys

PACKAGE = pathlib.Path(__file__).resolve().parent.parent / "tap_intacct"


def module_name(path: pathlib.Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports(path: pathlib.Path, types: bool = False) -> set[str]:
    """Every module `path` imports, absolute names ('from a import b' counts as a.b when a.b is
    a module of the package, else as a); with `types`, those under `if TYPE_CHECKING:` too."""
    found = set()
    tree = ast.parse(path.read_text(), str(path))
    for node in ast.walk(tree) if types else _runtime_nodes(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
            for alias in node.names:
                candidate = f"{node.module}.{alias.name}"
                found.add(candidate if candidate in MODULES else node.module)
    return found


def _type_checking_only(node: ast.AST) -> bool:
    test = node.test if isinstance(node, ast.If) else None
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _runtime_nodes(tree: ast.AST) -> list[ast.AST]:
    """Every node of tree but those inside `if TYPE_CHECKING:` blocks."""
    nodes, pending = [], [tree]
    while pending:
        node = pending.pop()
        nodes.append(node)
        if _type_checking_only(node):
            pending.extend(node.orelse)  # type: ignore[attr-defined]
            continue
        pending.extend(ast.iter_child_nodes(node))
    return nodes


MODULES = {module_name(path) for path in PACKAGE.rglob("*.py")}


def graph(types: bool = False) -> dict[str, set[str]]:
    """module -> every module it imports (the package's own and third-party ones); `types`: the
    type-level graph (imports for the type checker only included)."""
    return {module_name(path): imports(path, types)
            for path in sorted(PACKAGE.rglob("*.py"))}


def part(module: str) -> str:
    """tap_intacct.storage.s3 -> storage; tap_intacct.cli -> cli."""
    pieces = module.split(".")
    return pieces[1] if len(pieces) > 1 else pieces[0]


def package_edges(types: bool = False) -> dict[str, set[str]]:
    edges: dict[str, set[str]] = {}
    for module, targets in graph(types).items():
        for target in targets:
            if target.startswith("tap_intacct.") and part(target) != part(module):
                edges.setdefault(part(module), set()).add(part(target))
    return edges


if __name__ == "__main__":
    types = "--types" in sys.argv
    if "--packages" in sys.argv:
        for source, targets in sorted(package_edges(types).items()):
            print(f"{source} -> {', '.join(sorted(targets))}")
    else:
        for module, targets in graph(types).items():
            own = sorted(t.removeprefix("tap_intacct.") for t in targets
                         if t.startswith("tap_intacct.") and t != "tap_intacct")
            print(f"{module.removeprefix('tap_intacct.')} -> {', '.join(own) or '-'}")
