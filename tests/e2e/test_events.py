"""The event mode (`listing: events`, README "Event mode"): the files named by the queue's events,
read in the order and with the bookmarks a listing would, so that no file is lost or read twice
whatever the queue does (duplicates, events out of order or lost, other folders' events) and
whichever mode each run uses; a message is deleted only once the state a run starts with covers
its file. S3: moto's SQS, the bucket's notifications delivered by moto itself; Azure: Azurite's
queue service, the Event Grid messages sent in Event Grid's exact shape
(devtools/eventshapes.py)."""

import copy
import datetime
import json
import signal
import subprocess

import pytest

from devtools import ddsdata
from devtools.eventshapes import blob_created, queue_text, s3_notification
from tests.e2e.conftest import TAP, assert_clean_failure

pytestmark = pytest.mark.stores("s3", "azure")

LIST = ("list-type=2", "comp=list")


class Events:
    """The company's event queue, filled as the cloud fills it: S3 (moto) sends an event for
    every put under the company folder; for Azure, put() sends the Event Grid event."""

    def __init__(self, company, name="dds-events"):
        self.company = company
        if company.kind == "s3":
            self.url = company.s3.queue_url(f"{company.bucket}-{name}", bucket=company.bucket,
                                            prefix=company.prefix)
        else:
            self.url = company.azurite.queue_url(f"{company.bucket}-{name}")

    def put(self, name, body, modified, event=True):
        key = self.company.put(name, body, modified=modified)
        if self.company.kind == "azure" and event:
            self.send(key)
        elif self.company.kind == "s3" and not event:
            self.drop(key)
        return key

    def send(self, key, container=None):
        """One more event about `key` (a duplicate, a late one, another folder's)."""
        container = container or self.company.bucket
        if self.company.kind == "s3":
            self.company.s3.sqs.send_message(QueueUrl=self.url,
                                             MessageBody=s3_notification(container, key))
        else:
            self.company.azurite.queue(self.url).send_message(
                queue_text(blob_created(container, key)))

    def drop(self, key):
        """Lose the event(s) about `key` (S3 delivered them): as a queue that lost them."""
        sqs = self.company.s3.sqs
        while True:
            messages = sqs.receive_message(QueueUrl=self.url, MaxNumberOfMessages=10,
                                           VisibilityTimeout=0).get("Messages", [])
            mine = [m for m in messages if key in m["Body"]]
            for message in mine:
                sqs.delete_message(QueueUrl=self.url, ReceiptHandle=message["ReceiptHandle"])
            if not mine:
                return

    def waiting(self):
        """Messages in the queue, visible or not."""
        if self.company.kind == "s3":
            attributes = self.company.s3.sqs.get_queue_attributes(
                QueueUrl=self.url, AttributeNames=["ApproximateNumberOfMessages",
                                                   "ApproximateNumberOfMessagesNotVisible"])
            return sum(int(v) for v in attributes["Attributes"].values())
        return self.company.azurite.queue(self.url).get_queue_properties(
        ).approximate_message_count

    def config(self, **settings):
        return self.company.config(**{"listing": "events", "events_queue": self.url, **settings})


def body(n, rows=2):
    return "RECORDNO,AMOUNT\n" + "".join(f"{n * 100 + r},{r}.50\n" for r in range(rows))


def files_of(run):
    """The names of the files a run read, in order (one entry per file read, so a file read
    twice in a run shows twice)."""
    files = []
    for record in run.records():
        if record["_sdc_source_lineno"] == 2:  # a file's first record
            files.append(record["_sdc_source_file"].rsplit("/", 1)[-1])
    return files


_catalogs = {}


def selected_catalog(company, streams=("GLENTRY",)):
    """The path of the catalog (all selected) of a company whose streams are `streams`, each
    with RECORDNO,AMOUNT files (body()): discovered once per test process and store, then
    reused (discovery does not use the listing mode; these tests vary the queue and the
    files' times, not what discovery sees)."""
    key = (company.kind, streams)
    if key not in _catalogs:
        _catalogs[key] = company.discover()
    assert [s["tap_stream_id"] for s in _catalogs[key]["streams"]] == list(streams)
    return company.selected_catalog(copy.deepcopy(_catalogs[key]))


def listed(company):
    return [line for line in company.request_lines() if any(k in line for k in LIST)]


def run(company, catalog, config, state):
    company.clear_requests()
    result = company.sync(catalog, state=state, config=config)
    assert result.returncode == 0, result.stderr
    return result


def aged(state, hours):
    """The state as it would be `hours` later: its full listings that much older."""
    state = json.loads(json.dumps(state))
    for stream, moment in state.get("listed_at", {}).items():
        then = datetime.datetime.fromisoformat(moment) - datetime.timedelta(hours=hours)
        state["listed_at"][stream] = then.isoformat()
    return state


@pytest.fixture
def events(company):
    return Events(company)


def test_the_first_run_lists_then_runs_read_only_what_events_name(company, events):
    events.put("GLENTRY.change.1.csv", body(1), modified=10)
    events.put("VENDOR.change.1.csv", body(2), modified=20)
    catalog = selected_catalog(company, ("GLENTRY", "VENDOR"))
    config = events.config()
    first = run(company, catalog, config, None)
    assert files_of(first) == ["GLENTRY.change.1.csv", "VENDOR.change.1.csv"]
    assert listed(company)  # the first run lists: no full listing is in the state yet
    state = first.last_state
    assert sorted(state["listed_at"]) == ["GLENTRY", "VENDOR"]

    quiet = run(company, catalog, config, state)  # the next run: the queue, no listing
    assert quiet.records() == [] and listed(company) == []
    assert "Full listing" not in quiet.stderr
    assert events.waiting() == 0  # their files are in the state: deleted

    events.put("GLENTRY.change.2.csv", body(3), modified=30)
    events.put("GLENTRY.change.3.csv", body(4), modified=40)
    newer = run(company, catalog, config, quiet.last_state or state)
    assert files_of(newer) == ["GLENTRY.change.2.csv", "GLENTRY.change.3.csv"]
    assert listed(company) == []


def test_duplicates_and_events_out_of_order_read_each_file_once_oldest_first(company, events):
    events.put("GLENTRY.change.0.csv", body(0), modified=0)
    catalog = selected_catalog(company)
    config = events.config()
    state = run(company, catalog, config, None).last_state
    events.put("GLENTRY.change.3.csv", body(3), modified=30)
    events.put("GLENTRY.change.1.csv", body(1), modified=10)
    events.put("GLENTRY.change.2.csv", body(2), modified=20)
    for key in ("GLENTRY.change.3.csv", "GLENTRY.change.1.csv", "GLENTRY.change.3.csv"):
        events.send(company.prefix + key)  # duplicates, late and out of order
    result = run(company, catalog, config, state)
    assert files_of(result) == ["GLENTRY.change.1.csv", "GLENTRY.change.2.csv",
                                "GLENTRY.change.3.csv"]
    again = run(company, catalog, config, result.last_state)
    assert again.records() == []
    assert events.waiting() == 0


def test_a_message_is_deleted_only_once_the_state_a_run_starts_with_covers_its_file(company,
                                                                                     events):
    events.put("GLENTRY.change.0.csv", body(0), modified=0)
    catalog = selected_catalog(company)
    config = events.config()
    state = run(company, catalog, config, None).last_state
    events.put("GLENTRY.change.1.csv", body(1), modified=10)
    read = run(company, catalog, config, state)
    assert files_of(read) == ["GLENTRY.change.1.csv"]
    assert events.waiting() == 1  # kept: the target may not commit this run's state
    # the target did not commit: the next run starts from the same state and reads it again
    retried = run(company, catalog, config, state)
    assert files_of(retried) == ["GLENTRY.change.1.csv"]
    assert events.waiting() == 1
    committed = run(company, catalog, config, retried.last_state)
    assert committed.records() == []
    assert events.waiting() == 0


def test_events_of_other_folders_and_buckets_are_left_in_the_queue(company, events):
    events.put("GLENTRY.change.0.csv", body(0), modified=0)
    catalog = selected_catalog(company)
    config = events.config()
    state = run(company, catalog, config, None).last_state
    other_company = company.prefix.replace("ACME", "OTHERCO") + "GLENTRY.change.1.csv"
    company.put_key(other_company, body(7))
    events.send(other_company)  # (S3's notification filter keeps it out of this queue)
    events.send(company.prefix + "GLENTRY.change.9.csv", container="another-bucket")
    events.put("GLENTRY.change.1.csv", body(1), modified=10)
    result = run(company, catalog, config, state)
    assert files_of(result) == ["GLENTRY.change.1.csv"]
    again = run(company, catalog, config, result.last_state)
    assert again.records() == []
    assert events.waiting() == 2  # the other company's and the other bucket's
    assert "2 left for other folders" in again.stderr


def test_a_lost_event_is_caught_by_the_periodic_full_listing_and_nothing_read_twice(company,
                                                                                    events):
    events.put("GLENTRY.change.0.csv", body(0), modified=0)
    catalog = selected_catalog(company)
    config = events.config(events_full_listing_hours=6)
    state = run(company, catalog, config, None).last_state
    # files modified after the last full listing: the bookmark holds at that listing
    after = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=5)
    events.put("GLENTRY.change.1.csv", body(1), modified=after)
    events.put("GLENTRY.change.2.csv", body(2), modified=after + datetime.timedelta(seconds=1),
               event=False)  # its event is lost
    events.put("GLENTRY.change.3.csv", body(3), modified=after + datetime.timedelta(seconds=2))
    result = run(company, catalog, config, state)
    assert files_of(result) == ["GLENTRY.change.1.csv", "GLENTRY.change.3.csv"]
    state = result.last_state
    assert state["bookmarks"]["GLENTRY"]["modified_since"] < after.isoformat()
    # 5 hours later: still no listing; 6 hours later: the full listing reads the lost file
    assert run(company, catalog, config, aged(state, 5)).records() == []
    assert listed(company) == []
    caught = run(company, catalog, config, aged(state, 6))
    assert listed(company)
    assert files_of(caught) == ["GLENTRY.change.2.csv"]
    assert run(company, catalog, config, caught.last_state).records() == []


@pytest.mark.parametrize("modes", [("streams", "events", "folder", "events", "streams"),
                                   ("events", "streams", "events")])
def test_switching_modes_run_by_run_loses_and_repeats_no_file(company, events, modes):
    catalog = None
    state = None
    seen = []
    expected = []
    for step, mode in enumerate(modes):
        for part in range(2):
            name = f"GLENTRY.change.{step}{part}.csv"
            events.put(name, body(step * 10 + part), modified=step * 10 + part)
            expected.append(name)
        catalog = catalog or selected_catalog(company)
        config = events.config(listing=mode)
        result = run(company, catalog, config, state)
        seen += files_of(result)
        state = result.last_state or state
    assert seen == expected


def test_a_killed_event_run_resumes_without_losing_or_repeating_files(company, events):
    rows = 1000  # about 900 KB of RECORD lines a file: the kill lands before the third ends
    events.put("GLENTRY.change.0.csv", body(0), modified=0)
    catalog = selected_catalog(company)
    config = events.config()
    state = run(company, catalog, config, None).last_state
    for n in range(1, 5):
        events.put(f"GLENTRY.change.{n}.csv", ddsdata.glentry_csv(rows, 1 + rows * n, seed=n),
                   modified=n)
    process = subprocess.Popen([TAP, "--config", config, "--catalog", catalog, "--state",
                                company.write("state.json", state)],
                               stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                               env=company.server.tap_environment())
    messages, done = [], set()
    try:
        for line in process.stdout:  # killed at the STATE after the second file
            messages.append(json.loads(line))
            if messages[-1]["type"] == "RECORD":
                done.add(messages[-1]["record"]["_sdc_source_file"].rsplit("/", 1)[-1])
            elif messages[-1]["type"] == "STATE" and len(done) == 2:
                process.send_signal(signal.SIGKILL)
                break
    finally:
        process.kill()
        process.wait(timeout=30)
    resumed = run(company, catalog, config, messages[-1]["value"])
    again = files_of(resumed)
    assert not done & set(again)
    assert sorted(done | set(again)) == [f"GLENTRY.change.{n}.csv" for n in range(1, 5)]
    assert run(company, catalog, config, resumed.last_state).records() == []
    assert events.waiting() == 0


def test_a_message_that_is_not_an_event_is_left_and_named(company, events):
    events.put("GLENTRY.change.0.csv", body(0), modified=0)
    if company.kind == "s3":
        company.s3.sqs.send_message(QueueUrl=events.url, MessageBody="hello")
    else:
        company.azurite.queue(events.url).send_message("hello")
    catalog = selected_catalog(company)
    result = run(company, catalog, events.config(), None)
    assert "is left in the queue: not JSON, nor base64-encoded JSON" in result.stderr
    assert events.waiting() == 2  # it, and the first file's (not covered by the empty state)


def test_the_setup_check_reaches_the_queue_and_says_how_to_set_it_up(company, events):
    events.put("GLENTRY.change.0.csv", body(0), modified=0)
    ok = company.tap("--test", config=events.config())
    assert ok.returncode == 0, ok.stderr
    assert f"events queue {events.url} is reachable" in ok.stderr
    missing = events.url.rsplit("/", 1)[0] + "/no-such-queue"
    failed = company.tap("--test", config=events.config(events_queue=missing))
    assert failed.returncode == 1
    assert "FAILED" in failed.stderr and "no-such-queue" in failed.stderr
    assert ("QueueConfigurations" if company.kind == "s3" else "Microsoft.Storage.BlobCreated") \
        in failed.stderr


def test_the_event_mode_needs_its_queue(company):
    run_ = company.tap("--discover", config=company.config(listing="events"))
    assert_clean_failure(run_, "'events_queue' is required for listing events", code=2)
