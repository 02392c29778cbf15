"""The config, catalog and state files as a user (or a tool) may get them wrong: one line naming
the file and what is wrong, exit 2, never a traceback or the opposite of what was written
(issue 25, rows 8 and 9)."""

import json

import pytest

from tests.e2e.conftest import assert_clean_failure


def nested(depth):
    """JSON text of objects nested `depth` levels deep."""
    return '{"a":' * depth + "1" + "}" * depth


@pytest.mark.parametrize("which", ["config", "catalog", "state"])
@pytest.mark.parametrize("text", ["[" * 100_000 + "]" * 100_000,  # past the JSON parser's limit
                                  '{"bookmarks": {"OTHER": ' + nested(900) + "}}"],
                         ids=["parser-limit", "parsed-but-too-deep"])
def test_deeply_nested_json_is_refused_naming_the_file(company, which, text):
    company.put("GLENTRY.csv", "RECORDNO\n1\n")
    catalog = company.selected_catalog(shared=True)
    files = {"config": company.config(), "catalog": catalog, "state": None}
    files[which] = company.write(f"deep-{which}.json", text)
    args = ["--catalog", files["catalog"]] + (["--state", files["state"]] if files["state"]
                                              else [])
    run = company.tap(*args, config=files["config"])
    assert_clean_failure(run, f"{which} {files[which]}: JSON nested more than 100 levels deep",
                         code=2)
    assert run.stdout == ""


def catalog_with(company, change):
    catalog = company.discover(shared=True)
    stream = catalog["streams"][0]
    change(stream, {tuple(m["breadcrumb"]): m["metadata"] for m in stream["metadata"]})
    return company.write("edited.json", catalog)


@pytest.mark.parametrize("value", ["false", "true", 1, 0, None])
def test_selected_must_be_true_or_false(company, value):
    company.put("GLENTRY.csv", "RECORDNO,NAME\n1,a\n")

    def stream_selected(_stream, metadata):
        metadata[()]["selected"] = value

    def column_selected(_stream, metadata):
        metadata[()]["selected"] = True
        metadata[("properties", "NAME")]["selected"] = value

    for change, where in ((stream_selected, "stream 'GLENTRY'"),
                          (column_selected, "stream 'GLENTRY' property 'NAME'")):
        run = company.sync(catalog_with(company, change))
        if value is None:  # null: not chosen, as if absent
            assert run.returncode == 0, run.stderr
            continue
        assert_clean_failure(run, f"{where}: metadata 'selected' must be true or false, got "
                                  f"{json.dumps(value)}", code=2)
        assert run.stdout == ""


def test_a_legacy_schema_selected_is_honoured(company):
    """singer-python's CatalogEntry.is_selected honours `"selected": true` in the stream's
    schema (older Singer catalogs); with no `selected` metadata the tap does the same."""
    company.put("GLENTRY.csv", "RECORDNO,NAME,AMOUNT\n1,a,5\n")

    def legacy(stream, metadata):
        metadata[()].pop("selected", None)
        stream["schema"]["selected"] = True
        stream["schema"]["properties"]["AMOUNT"]["selected"] = False

    run = company.sync(catalog_with(company, legacy))
    assert run.returncode == 0, run.stderr
    assert [{k: v for k, v in r.items() if not k.startswith("_sdc")} for r in run.records()] == [
        {"RECORDNO": 1, "NAME": "a"}]

    def unselected(stream, metadata):
        metadata[()].pop("selected", None)
        stream["schema"]["selected"] = False

    run = company.sync(catalog_with(company, unselected))
    assert run.returncode == 0 and run.records() == []


def test_metadata_and_legacy_selected_that_disagree_are_refused(company):
    company.put("GLENTRY.csv", "RECORDNO,NAME\n1,a\n")

    def both(stream, metadata):
        metadata[()]["selected"] = False
        stream["schema"]["selected"] = True

    run = company.sync(catalog_with(company, both))
    assert_clean_failure(run, "stream 'GLENTRY': metadata 'selected' is false but the legacy "
                              "schema 'selected' is true", code=2)
    assert run.stdout == ""


def test_a_key_property_that_is_not_a_column_is_refused(company):
    company.put("GLENTRY.csv", "RECORDNO,NAME\n1,a\n")

    def key(_stream, metadata):
        metadata[()]["selected"] = True
        metadata[()]["table-key-properties"] = ["RECORDID"]

    run = company.sync(catalog_with(company, key))
    assert_clean_failure(run, "stream 'GLENTRY' table-key-properties names 'RECORDID', which is "
                              "not a column of its schema", code=2)
    assert run.stdout == ""
