import pytest

from tap_intacct.dds.catalog import selected_streams, stream_entry
from tap_intacct.errors import ConfigError


def entry(selected=True):
    stream = stream_entry("GLENTRY", {"RECORDNO": {"type": ["null", "integer", "string"]},
                                      "AMOUNT": {"type": ["null", "number", "string"]},
                                      "MEMO": {"type": ["null", "string"]}})
    stream["metadata"][0]["metadata"]["selected"] = selected
    return stream


def set_field(stream, name, **values):
    for item in stream["metadata"]:
        if item["breadcrumb"] == ["properties", name]:
            item["metadata"].update(values)


def test_entry_metadata():
    stream = entry()
    root = stream["metadata"][0]["metadata"]
    assert root["table-key-properties"] == ["RECORDNO"]
    assert root["forced-replication-method"] == "INCREMENTAL"
    fields = {tuple(m["breadcrumb"]): m["metadata"] for m in stream["metadata"][1:]}
    assert fields[("properties", "RECORDNO")] == {"inclusion": "automatic"}
    assert fields[("properties", "_sdc_source_file")] == {"inclusion": "automatic"}
    assert fields[("properties", "AMOUNT")] == {"inclusion": "available",
                                                "selected-by-default": True}


def test_column_selection():
    stream = entry()
    set_field(stream, "MEMO", selected=False)
    set_field(stream, "RECORDNO", selected=False)  # automatic wins
    [chosen] = selected_streams({"streams": [stream, entry(selected=False)]})
    assert "MEMO" not in chosen.properties and "RECORDNO" in chosen.properties
    assert "MEMO" in chosen.catalog_columns
    assert chosen.key_properties == ["RECORDNO"]


def test_original_catalog_with_string_key_property():
    stream = entry()
    stream["metadata"][0]["metadata"]["table-key-properties"] = "RECORDNO"
    assert selected_streams({"streams": [stream]})[0].key_properties == ["RECORDNO"]


@pytest.mark.parametrize("catalog, message", [
    ([], "'streams' list"), ({"streams": [{"schema": {}}]}, "no 'tap_stream_id'"),
    ({"streams": [{"tap_stream_id": "A", "schema": {}}]}, "'schema' with 'properties'"),
])
def test_malformed_catalog(catalog, message):
    with pytest.raises(ConfigError, match=message):
        selected_streams(catalog)
