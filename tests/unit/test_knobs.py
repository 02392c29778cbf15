import logging

import pytest

from tap_intacct.errors import ConfigError
from tap_intacct.settings.knobs import Knobs, from_environment


def test_defaults_when_unset_or_empty():
    assert from_environment({}) == Knobs()
    assert from_environment({"TAP_INTACCT_MAX_TRIES": " "}) == Knobs()
    assert from_environment({"TAP_INTACCT_BUCKET": "other settings are not knobs"}) == Knobs()


def test_values_are_parsed():
    knobs = from_environment({
        "TAP_INTACCT_LOG_LEVEL": "debug", "TAP_INTACCT_PROGRESS_SECONDS": "0.5",
        "TAP_INTACCT_MAX_TRIES": "1", "TAP_INTACCT_RETRY_BASE_SECONDS": "0",
        "TAP_INTACCT_ROLE_SESSION_SECONDS": "43200"})
    assert knobs == Knobs(log_level=logging.DEBUG, progress_seconds=0.5, max_tries=1,
                          retry_base_seconds=0.0, role_session_seconds=43200)


@pytest.mark.parametrize("variable, value", [
    ("TAP_INTACCT_LOG_LEVEL", "LOUD"), ("TAP_INTACCT_LOG_LEVEL", "10"),
    ("TAP_INTACCT_PROGRESS_SECONDS", "0"), ("TAP_INTACCT_PROGRESS_SECONDS", "-1"),
    ("TAP_INTACCT_PROGRESS_SECONDS", "nan"), ("TAP_INTACCT_PROGRESS_SECONDS", "ten"),
    ("TAP_INTACCT_MAX_TRIES", "0"), ("TAP_INTACCT_MAX_TRIES", "2.5"),
    ("TAP_INTACCT_MAX_TRIES", "1000"), ("TAP_INTACCT_RETRY_BASE_SECONDS", "-0.1"),
    ("TAP_INTACCT_RETRY_BASE_SECONDS", "inf"), ("TAP_INTACCT_ROLE_SESSION_SECONDS", "899"),
    ("TAP_INTACCT_ROLE_SESSION_SECONDS", "43201"), ("TAP_INTACCT_ROLE_SESSION_SECONDS", "1h"),
])
def test_bad_value_names_the_variable(variable, value):
    with pytest.raises(ConfigError) as caught:
        from_environment({variable: value})
    [problem] = caught.value.problems
    assert problem.startswith(f"environment variable {variable} must be ")
    assert problem.endswith(f"got {value!r}")
    assert caught.value.exit_code == 2


def test_every_bad_variable_is_reported_at_once():
    with pytest.raises(ConfigError) as caught:
        from_environment({"TAP_INTACCT_MAX_TRIES": "x", "TAP_INTACCT_LOG_LEVEL": "y"})
    assert len(caught.value.problems) == 2


def test_the_readme_lists_every_knob():
    import pathlib

    from tap_intacct.settings.knobs import VARIABLES, Knobs, markdown_table
    readme = (pathlib.Path(__file__).resolve().parents[2] / "README.md").read_text()
    assert all(f"| `{variable.name}` |" in readme for variable in VARIABLES)
    assert markdown_table() in readme  # `make settings-docs` writes it from VARIABLES
    # each documented default is the Knobs default, read back through the variable's parser
    for variable in VARIABLES:
        assert variable.parse(variable.default) == getattr(Knobs(), variable.field), variable


def test_engine_choices(monkeypatch):
    from tap_intacct.settings import knobs as knobs_module
    assert from_environment({}).engine == "auto"
    assert from_environment({"TAP_INTACCT_ENGINE": "ROWS"}).engine == "rows"
    monkeypatch.setattr(knobs_module, "fast_engine_installed", lambda: True)
    assert from_environment({"TAP_INTACCT_ENGINE": "fast"}).engine == "fast"
    with pytest.raises(ConfigError, match="TAP_INTACCT_ENGINE must be one of auto, rows, fast"):
        from_environment({"TAP_INTACCT_ENGINE": "arrow"})


def test_the_fast_engine_without_its_extra_is_one_clear_error(monkeypatch):
    from tap_intacct.engines.engine import RowEngine, engine_for
    from tap_intacct.settings import knobs as knobs_module
    monkeypatch.setattr(knobs_module, "fast_engine_installed", lambda: False)
    with pytest.raises(ConfigError) as caught:
        from_environment({"TAP_INTACCT_ENGINE": "fast"})
    assert caught.value.problems == [
        "environment variable TAP_INTACCT_ENGINE must be auto or rows: the fast engine is not "
        "installed (pip install 'tap-intacct[fast]'), got 'fast'"]
    assert isinstance(engine_for("rows"), RowEngine)


def test_auto_reads_a_small_run_with_the_row_path_and_a_large_one_with_the_fast_engine(
        monkeypatch):
    from tap_intacct.engines import engine as engine_module
    from tap_intacct.engines.engine import AUTO_FAST_BYTES, RowEngine, engine_for
    monkeypatch.setattr(engine_module, "fast_engine_installed", lambda: True)
    assert isinstance(engine_for("auto", 0), RowEngine)
    assert isinstance(engine_for("auto", AUTO_FAST_BYTES - 1), RowEngine)
    assert not isinstance(engine_for("auto", AUTO_FAST_BYTES), RowEngine)
    assert not isinstance(engine_for("auto"), RowEngine)  # size unknown
    assert not isinstance(engine_for("fast", 0), RowEngine)  # chosen: whatever the size
    assert isinstance(engine_for("rows", 10 * AUTO_FAST_BYTES), RowEngine)
    monkeypatch.setattr(engine_module, "fast_engine_installed", lambda: False)
    assert isinstance(engine_for("auto", 10 * AUTO_FAST_BYTES), RowEngine)
