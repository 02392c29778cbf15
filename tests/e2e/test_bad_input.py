"""Odd inputs from issue #12's table, each through the installed command: never a traceback, never
a silent guess."""

import pytest

from tests.e2e.conftest import assert_clean_failure


def test_a_property_schema_true_emits_the_text(company):
    company.put("GLENTRY.1.csv", "RECORDNO,ACCOUNTNO\n1,0100\n2,\n")
    catalog = company.discover(shared=True)
    catalog["streams"][0]["schema"]["properties"]["ACCOUNTNO"] = True
    run = company.sync(company.selected_catalog(catalog))
    assert run.returncode == 0, run.stderr
    assert [r["ACCOUNTNO"] for r in run.records()] == ["0100", ""]


@pytest.mark.parametrize("schema, message", [
    (False, "property 'ACCOUNTNO' has the schema false"),
    ("string", "property 'ACCOUNTNO' must be a JSON schema"),
])
def test_a_property_schema_that_holds_nothing_is_a_catalog_error(company, schema, message):
    company.put("GLENTRY.1.csv", "RECORDNO,ACCOUNTNO\n1,0100\n")
    catalog = company.discover(shared=True)
    catalog["streams"][0]["schema"]["properties"]["ACCOUNTNO"] = schema
    run = company.sync(company.selected_catalog(catalog))
    assert_clean_failure(run, message, code=2)
    assert run.stdout == ""


@pytest.mark.parametrize("bookmarks", [[], "GLENTRY", 5])
def test_malformed_bookmarks_are_a_state_error(company, bookmarks):
    company.put("GLENTRY.1.csv", "RECORDNO\n1\n")
    run = company.sync(company.selected_catalog(shared=True), state={"bookmarks": bookmarks})
    assert_clean_failure(run, "'bookmarks' must be an object", code=2)
    assert run.stdout == ""


def test_malformed_bookmarks_are_a_state_error_when_no_stream_is_selected(company):
    company.put("GLENTRY.1.csv", "RECORDNO\n1\n")
    catalog = company.selected_catalog(streams=(), shared=True)
    run = company.sync(catalog, state={"bookmarks": [1]})
    assert_clean_failure(run, "'bookmarks' must be an object", code=2)
    assert "Traceback" not in run.stderr and run.stdout == ""


def test_numeric_settings_may_be_canonical_strings(company):
    company.put("GLENTRY.1.csv", "RECORDNO\n1\n")
    catalog = company.selected_catalog(shared=True)
    run = company.sync(catalog, config=company.config(lookback_seconds="10",
                                                      string_fallback="false"))
    assert run.returncode == 0, run.stderr


@pytest.mark.parametrize("value", ["10.5", "-1", "ten", 1e9, True, 2_678_401])
def test_bad_lookback_is_a_config_error(company, value):
    run = company.tap("--discover", config=company.config(lookback_seconds=value))
    assert_clean_failure(run, "'lookback_seconds' must be a whole number", code=2)


def test_a_bookmark_later_than_every_file_is_warned_about(company):
    company.put("GLENTRY.1.csv", "RECORDNO\n1\n")
    state = {"bookmarks": {"GLENTRY": {"modified_since": "2999-01-01T00:00:00+00:00"}}}
    run = company.sync(company.selected_catalog(shared=True), state=state)
    assert run.returncode == 0, run.stderr
    assert run.records() == []
    assert "GLENTRY: the bookmark 2999-01-01T00:00:00+00:00 is later than every file" in run.stderr
