import logging

import pytest

from tap_intacct.dds.state_file import state_of
from tap_intacct.errors import ConfigError

STATE = {"bookmarks": {"GLENTRY": {"modified_since": "2024-03-01T12:00:00+00:00"}}, "x": 1}


@pytest.mark.parametrize("given, warning", [
    (STATE, None),
    ({"currently_syncing": None, **STATE}, None),
    ({}, None),
    ({"bookmarks": None}, None),
    ({"type": "STATE", "value": STATE}, "is a whole STATE message"),
    ({"singer_state": STATE}, "`meltano state get` output"),
    ({"type": "STATE", "value": {"singer_state": STATE}}, "`meltano state get` output"),
    ({"type": "not a message type", **STATE}, None),
])
def test_the_state_and_the_wrappers_of_it_users_hand_over(given, warning, caplog):
    with caplog.at_level(logging.INFO, logger="tap_intacct"):
        state = state_of(given, "state s.json")
    if warning:
        assert warning in caplog.text and "state s.json" in caplog.text
        assert state == STATE
    else:
        assert caplog.text == ""
        assert state == given  # other top-level keys are kept


def test_currently_syncing_is_cleared_and_named(caplog):
    with caplog.at_level(logging.INFO, logger="tap_intacct"):
        state = state_of({"currently_syncing": "GLENTRY", **STATE}, "state s.json")
    assert state == {"currently_syncing": None, **STATE}
    assert "currently_syncing ('GLENTRY') is cleared" in caplog.text


@pytest.mark.parametrize("given, message", [
    ([], "state s.json: must be a JSON object"),
    ({"bookmarks": []}, "'bookmarks' must be an object"),
    ({"type": "RECORD", "record": {}}, "a Singer RECORD message, not a state"),
    ({"type": "STATE"}, "a STATE message without its 'value'"),
    ({"type": "STATE", "value": None}, "'value' must be a JSON object"),
    ({"type": "STATE", "value": STATE, "bookmarks": {}}, "both 'bookmarks' and 'value'"),
    ({"singer_state": STATE, "bookmarks": {}}, "both 'bookmarks' and 'singer_state'"),
    ({"singer_state": [STATE]}, "'singer_state' must be a JSON object"),
    ({"GLENTRY": {"modified_since": "x"}, "VENDOR": {"modified_since": "y"}},
     'GLENTRY, VENDOR look like stream bookmarks but are not under "bookmarks"'),
])
def test_shapes_that_would_read_everything_again_are_refused(given, message):
    with pytest.raises(ConfigError, match="state s.json: ") as raised:
        state_of(given, "state s.json")
    assert message in str(raised.value)
