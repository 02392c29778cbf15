"""The servers the end-to-end and integration tests share, one of each per test process (pytest
worker): moto's S3/STS server and Azurite, both on 127.0.0.1, started on first use and stopped
at the end of the session.

A test taking `store` runs against S3 unless its module or itself is marked
`pytest.mark.stores("s3", "azure")` (or lists `store` in its own parametrize).
"""

import os

import pytest
from hypothesis import settings

# Property tests: `make test` runs a fixed, seeded sample ("ci": derandomized, the same examples
# every run); `make fuzz` ("fuzz") draws fresh ones, scaled up by TAP_INTACCT_FUZZ_SCALE
# (tests/support.py `examples`). README "Tests" says which to run when.
settings.register_profile("ci", derandomize=True, database=None, print_blob=True)
settings.register_profile("fuzz", derandomize=False, print_blob=True)
settings.load_profile(os.environ.get("TAP_INTACCT_HYPOTHESIS_PROFILE", "ci"))


@pytest.fixture(scope="session")
def s3():
    from devtools.s3server import EmbeddedS3  # moto: imported only by tests that use it
    with EmbeddedS3() as server:
        yield server


@pytest.fixture(scope="session")
def azurite():
    from devtools.azuriteserver import EmbeddedAzurite
    with EmbeddedAzurite() as server:
        yield server


def _parametrizes_store(metafunc):
    """True if the test lists its own stores (cases that exist for one store only)."""
    for marker in metafunc.definition.iter_markers("parametrize"):
        names = marker.args[0]
        if "store" in ([n.strip() for n in names.split(",")] if isinstance(names, str) else names):
            return True
    return False


def pytest_generate_tests(metafunc):
    if "store" in metafunc.fixturenames and not _parametrizes_store(metafunc):
        marker = metafunc.definition.get_closest_marker("stores")
        metafunc.parametrize("store", marker.args if marker else ("s3",), indirect=True)


@pytest.fixture
def store(request):
    """The server of the store under test: moto (s3) or Azurite (azure)."""
    return request.getfixturevalue("s3" if request.param == "s3" else "azurite")


@pytest.fixture
def company(store, tmp_path):
    """One bucket or container with one company's DDS folder (tests/e2e/conftest.py)."""
    from tests.e2e.conftest import company_in
    return company_in(store, tmp_path)
