"""The one Azure SDK internal the tap relies on (docs/ARCHITECTURE.md, "Third-party internals"):
these fail on an azure-storage-blob release the Azure end-to-end suite has not passed on."""

import inspect
import pathlib
import re

import azure.storage.blob
import pytest
from azure.storage.blob import BlobClient

from tap_intacct.errors import StorageError
from tap_intacct.storage.azure import VERIFIED_SDK_RELEASES, get_blob_stream

SETUP = pathlib.Path(__file__).parents[2] / "setup.py"


def release(version):
    return tuple(int(part) for part in version.split(".")[:2])


def test_the_installed_release_is_one_the_azure_suite_passed_on():
    installed = azure.storage.blob.__version__
    first, last = VERIFIED_SDK_RELEASES
    assert first <= release(installed) <= last, (
        f"azure-storage-blob {installed} is not verified: run the end-to-end suite (Azurite) "
        "with it, then widen VERIFIED_SDK_RELEASES and setup.py's pin")


def test_setup_pins_exactly_the_verified_releases():
    pin = re.search(r'"azure-storage-blob>=(\d+)\.(\d+),<(\d+)\.(\d+)"', SETUP.read_text())
    assert pin, "setup.py has no azure-storage-blob pin of the form >=A.B,<C.D"
    first, last = VERIFIED_SDK_RELEASES
    assert (int(pin[1]), int(pin[2])) == first
    assert (int(pin[3]), int(pin[4])) == (last[0], last[1] + 1)


def test_the_private_download_operation_takes_the_arguments_used():
    blob = BlobClient("https://account.blob.core.windows.net", "container", "blob")
    parameters = inspect.signature(blob._client.blob.download).parameters
    assert {"range", "modified_access_conditions"} <= set(parameters)


def test_a_client_without_the_operation_is_one_clear_error():
    class ClientOfAnotherRelease:
        pass

    with pytest.raises(StorageError, match=r"azure-storage-blob \S+ is not supported: install "
                                           r"tap-intacct\[azure\] \(azure-storage-blob 12\.23"):
        get_blob_stream(ClientOfAnotherRelease(), None, "")  # type: ignore[arg-type]
