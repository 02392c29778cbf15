"""Real downstream tools: PostgreSQL (Debian's package), MeltanoLabs' target-postgres and Meltano,
each installed in its own virtualenv by `make integration-tools` (bash .ci/run does it all)."""

import os
import pathlib

import pytest

from devtools import pgserver

ROOT = pathlib.Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"


def tool(name, executable):
    path = pathlib.Path(os.environ.get(name.upper().replace("-", "_") + "_BIN", "")) \
        if os.environ.get(name.upper().replace("-", "_") + "_BIN") else \
        TOOLS / name / "bin" / executable
    if not path.exists():
        pytest.fail(f"{path} is missing: run `make integration-tools` (make test does)")
    return str(path)


@pytest.fixture(scope="session")
def postgres_url():
    """A PostgreSQL server on 127.0.0.1: the one .ci/run started, or a throwaway one."""
    try:
        with pgserver.postgres_url() as url:
            yield url
    except RuntimeError as exc:
        pytest.fail(str(exc))

