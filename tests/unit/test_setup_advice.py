"""`--test`'s access advice for Azure follows the configured way of authenticating (the
end-to-end tests cover the SAS and account-key ways against Azurite; a token credential needs
Microsoft Entra ID, so its line is checked here)."""

import pytest

from tap_intacct.settings.config import validate
from tap_intacct.setup_check import access_advice

AZURE = {"start_date": "2024-01-01", "company_id": "ACME", "storage": "azure",
         "container": "dds", "azure_account_url": "https://acct.blob.core.windows.net"}


@pytest.mark.parametrize("settings, advice", [
    ({}, "grant the tap's identity the 'Storage Blob Data Reader' role on container dds"),
    ({"azure_tenant_id": "t", "azure_client_id": "c", "azure_client_secret": "s"},
     "grant the tap's identity the 'Storage Blob Data Reader' role on container dds"),
    ({"azure_sas_token": "sv=1&sig=x"}, "give a SAS token for container dds"),
    ({"azure_connection_string": "BlobEndpoint=https://a.blob.core.windows.net;"
                                 "SharedAccessSignature=sv=1&sig=x"},
     "give a SAS token for container dds"),
    ({"azure_connection_string": "AccountName=a;AccountKey=k2V5"},
     "copy a current connection string from the storage account's Access keys"),
])
def test_azure_access_advice_follows_the_way_in(settings, advice):
    [line] = access_advice(validate({**AZURE, **settings}))
    assert line.startswith(advice), line
    assert ("Storage Blob Data Reader" in line) == ("role" in advice)
