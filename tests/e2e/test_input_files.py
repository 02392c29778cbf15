"""The config, catalog and state files as a user (or a tool) may get them wrong: one line naming
the file and what is wrong, exit 2, never a traceback or the opposite of what was written
(issue 25, row 8)."""

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
    catalog = company.selected_catalog()
    files = {"config": company.config(), "catalog": catalog, "state": None}
    files[which] = company.write(f"deep-{which}.json", text)
    args = ["--catalog", files["catalog"]] + (["--state", files["state"]] if files["state"]
                                              else [])
    run = company.tap(*args, config=files["config"])
    assert_clean_failure(run, f"{which} {files[which]}: JSON nested more than 100 levels deep",
                         code=2)
    assert run.stdout == ""
