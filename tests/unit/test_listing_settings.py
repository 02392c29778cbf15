"""The listing settings (README "Running at scale", "Event mode"): `listing`, `events_queue`,
`events_full_listing_hours`, each problem one line naming the setting, all at once."""

import pytest

from tap_intacct.errors import ConfigError
from tap_intacct.settings.config import validate

BASE = {"start_date": "2024-01-01", "bucket": "dds", "company_id": "ACME"}
SQS = "https://sqs.eu-west-1.amazonaws.com/123456789012/dds-events"


def test_the_defaults_list_each_stream_and_a_full_listing_every_day():
    config = validate(BASE)
    assert (config.listing, config.events_queue, config.events_full_listing_hours) == (
        "streams", None, 24)


@pytest.mark.parametrize("mode", ["streams", "folder", " Events "])
def test_each_mode_is_accepted(mode):
    assert validate({**BASE, "listing": mode, "events_queue": SQS}).listing == \
        mode.strip().lower()


def test_the_event_mode_needs_a_queue_url():
    with pytest.raises(ConfigError) as failure:
        validate({**BASE, "listing": "events"})
    assert failure.value.problems == [
        "config: 'events_queue' is required for listing events (the URL of the queue the "
        "bucket's or container's events are delivered to; README 'Event mode')"]


@pytest.mark.parametrize(("settings", "fragment"), [
    ({"listing": "bucket"}, "'listing' must be streams, folder or events, got 'bucket'"),
    ({"events_queue": "dds-events"}, "'events_queue' must be an http:// or https:// URL"),
    ({"events_queue": "https://sqs.eu-west-1.amazonaws.com/"}, "'events_queue' must name the "
     "queue"),
    ({"events_queue": "https://acct.queue.core.windows.net/q?sv=2024&sig=SECRET"},
     "without a query string"),
    ({"events_full_listing_hours": 0}, "'events_full_listing_hours' must be a whole number "
     "from 1 to 720, got 0"),
])
def test_bad_values_are_one_line_each_and_never_repeat_a_signature(settings, fragment):
    with pytest.raises(ConfigError) as failure:
        validate({**BASE, **settings})
    [problem] = failure.value.problems
    assert fragment in problem
    assert "SECRET" not in problem


def test_a_queue_url_loses_its_trailing_slash():
    assert validate({**BASE, "events_queue": SQS + "/"}).events_queue == SQS
