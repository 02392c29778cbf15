"""full_exports: replace: each complete DDS full export becomes a table version (records carry it,
ACTIVATE_VERSION follows its last part), change files in between carry the current version, a
job still arriving waits, a stopped job resumes with its version; off, the output is unchanged.
Both stores."""

import copy
import datetime

import pytest

from tests.e2e.conftest import T0, assert_clean_failure

pytestmark = pytest.mark.stores("s3", "azure")
HEADER = "RECORDNO,NAME,ddsReadTime\n"
CHANGE_HEADER = "RECORDNO,NAME,ddsChangeType,ddsReadTime\n"


def vendors(*numbers, name="v"):
    return HEADER + "".join(f"{n},{name}{n},2024-03-01 10:00:00\n" for n in numbers)


_catalogs = {}


def vendor_catalog(company, shape):
    """The path of the catalog (VENDOR selected) of the company's VENDOR files, discovered once
    per test process, store and shape of those files: "full" (HEADER's only), "change newest"
    (CHANGE_HEADER's too, the newest file a change file) or "full newest" (both, the newest a
    full export's part). The same headers, the newest file's first, discover the same catalog;
    these tests vary the jobs, their times and the state, not the columns."""
    key = (company.kind, shape)
    if key not in _catalogs:
        _catalogs[key] = company.discover()
    return company.selected_catalog(copy.deepcopy(_catalogs[key]))


def held_by_a_versioned_target(run_messages, table=None):
    """What a target honouring ACTIVATE_VERSION holds after these messages (hard delete of
    rows of older versions, and of rows carrying _sdc_deleted_at): {RECORDNO: NAME}."""
    table = dict(table or {})  # RECORDNO -> (version, name)
    for message in run_messages:
        if message["type"] == "RECORD":
            record = message["record"]
            if record.get("_sdc_deleted_at"):
                table.pop(record["RECORDNO"], None)
            else:
                table[record["RECORDNO"]] = (message.get("version"), record["NAME"])
        elif message["type"] == "ACTIVATE_VERSION":
            table = {key: row for key, row in table.items()
                     if row[0] is not None and row[0] >= message["version"]}
    return table


def test_two_full_exports_with_changes_between(company):
    company.put("VENDOR.all.11.2024-03-01T12:00:00.csv", vendors(1, 2, 3, 4), modified=0)
    company.put("VENDOR.all.11.2024-03-01T12:01:00.csv", vendors(5, 6), modified=60)
    catalog = vendor_catalog(company, "full")
    config = company.config(full_exports="replace")
    first = company.sync(catalog, config=config)
    assert first.returncode == 0, first.stderr
    v1 = int((T0 + datetime.timedelta(minutes=1)).timestamp() * 1000)
    kinds = [(m["type"], m.get("version")) for m in first.messages if m["type"] != "SCHEMA"]
    assert kinds == [("RECORD", v1)] * 4 + [("STATE", None)] + [("RECORD", v1)] * 2 + [
        ("ACTIVATE_VERSION", v1), ("STATE", None)]
    assert first.last_state["bookmarks"]["VENDOR"]["table_version"] == v1
    assert "full_export_job" not in first.last_state["bookmarks"]["VENDOR"]
    table = held_by_a_versioned_target(first.messages)
    assert sorted(table) == [1, 2, 3, 4, 5, 6]

    # daily changes: an update of 2 and a delete of 3
    company.put("VENDOR.change.12.2024-03-02.csv", CHANGE_HEADER
                + "2,renamed,update,2024-03-02 10:00:00\n3,v3,delete,2024-03-02 10:00:00\n",
                modified=3600)
    # discovery adds _sdc_deleted_at (ddsChangeType)
    catalog = vendor_catalog(company, "change newest")
    config = company.config(full_exports="replace")  # (discovery rewrote the config file)
    second = company.sync(catalog, state=first.last_state, config=config)
    assert second.returncode == 0, second.stderr
    assert {m.get("version") for m in second.of_type("RECORD")} == {v1}
    assert second.of_type("ACTIVATE_VERSION") == []
    table = held_by_a_versioned_target(second.messages, table)
    assert {k: name for k, (_v, name) in table.items()} == {
        1: "v1", 2: "renamed", 4: "v4", 5: "v5", 6: "v6"}

    # next full export: 4 and 6 are gone from Intacct
    company.put("VENDOR.all.13.2024-03-08T12:00:00.csv", vendors(1, 2, 5, name="w"), modified=7200)
    third = company.sync(catalog, state=second.last_state, config=config)
    assert third.returncode == 0, third.stderr
    v2 = int((T0 + datetime.timedelta(hours=2)).timestamp() * 1000)
    assert [m["version"] for m in third.of_type("ACTIVATE_VERSION")] == [v2]
    table = held_by_a_versioned_target(third.messages, table)
    assert {k: name for k, (_v, name) in table.items()} == {1: "w1", 2: "w2", 5: "w5"}


def test_a_job_still_arriving_waits_with_everything_after_it(company):
    now = datetime.datetime.now(datetime.timezone.utc)
    company.put("VENDOR.change.1.a.csv", CHANGE_HEADER + "9,early,update,2024-03-01 10:00:00\n",
                modified=now - datetime.timedelta(hours=3))
    parts = [f"VENDOR.all.20.2024-03-04T08:0{n}:00.csv" for n in range(3)]
    company.put(parts[0], vendors(1, 2), modified=now - datetime.timedelta(seconds=20))
    company.put(parts[1], vendors(3), modified=now - datetime.timedelta(seconds=10))
    company.put("VENDOR.change.21.a.csv", CHANGE_HEADER + "1,late,update,2024-03-05 10:00:00\n",
                modified=now - datetime.timedelta(seconds=5))
    catalog = vendor_catalog(company, "change newest")
    config = company.config(full_exports="replace", full_export_quiet_seconds=600)
    first = company.sync(catalog, config=config)
    assert first.returncode == 0, first.stderr
    assert [r["NAME"] for r in first.records()] == ["early"]  # nothing of the job, nor after it
    assert "full export job 20 (2 part(s) so far" in first.stderr
    assert "it and the 1 file(s) after it in job order wait until" in first.stderr

    # the third part arrives; the job is quiet an hour later (the parts' times moved back)
    company.put(parts[2], vendors(4), modified=now - datetime.timedelta(seconds=1))
    second = company.sync(catalog, state=first.last_state, config=config)
    assert second.returncode == 0, second.stderr
    assert second.records() == [] and second.of_type("ACTIVATE_VERSION") == []
    earlier = (now - datetime.timedelta(hours=2)).replace(microsecond=0)  # stores keep seconds
    for offset, name in enumerate(parts):
        company.put(name, [vendors(1, 2), vendors(3), vendors(4)][offset],
                    modified=earlier + datetime.timedelta(seconds=offset))
    company.put("VENDOR.change.21.a.csv", CHANGE_HEADER + "1,late,update,2024-03-05 10:00:00\n",
                modified=earlier + datetime.timedelta(seconds=10))
    third = company.sync(catalog, state=first.last_state, config=config)
    assert third.returncode == 0, third.stderr
    version = int((earlier + datetime.timedelta(seconds=2)).timestamp() * 1000)
    assert [(m["record"]["RECORDNO"], m.get("version")) for m in third.of_type("RECORD")] == [
        (1, version), (2, version), (3, version), (4, version), (1, version)]
    assert [m["version"] for m in third.of_type("ACTIVATE_VERSION")] == [version]


def test_a_stop_in_the_middle_of_a_job_resumes_it_with_its_version(company):
    for n in range(3):
        company.put(f"VENDOR.all.30.part{n}.csv", vendors(2 * n + 1, 2 * n + 2), modified=n)
    catalog = vendor_catalog(company, "full")
    config = company.config(full_exports="replace")
    whole = company.sync(catalog, config=config)
    assert whole.returncode == 0, whole.stderr
    version = int((T0 + datetime.timedelta(seconds=2)).timestamp() * 1000)
    after_first_part = whole.of_type("STATE")[0]["value"]  # a kill right after this STATE
    assert after_first_part["bookmarks"]["VENDOR"]["full_export_job"] == {"job": "30",
                                                                          "version": version}
    resumed = company.sync(catalog, state=after_first_part, config=config)
    assert resumed.returncode == 0, resumed.stderr
    assert [(r["RECORDNO"], m["version"]) for m in resumed.of_type("RECORD")
            for r in [m["record"]]] == [(3, version), (4, version), (5, version), (6, version)]
    assert [m["version"] for m in resumed.of_type("ACTIVATE_VERSION")] == [version]
    assert resumed.last_state == whole.last_state


def test_a_part_that_cannot_be_read_stops_the_job_before_activation(company):
    company.put("VENDOR.all.40.a.csv", vendors(1, 2), modified=0)
    company.put("VENDOR.all.40.b.csv", b"RECORDNO,NAME\n1,\xff\n", modified=1)
    catalog = company.selected_catalog()
    run = company.sync(catalog, config=company.config(full_exports="replace"))
    assert_clean_failure(run, "VENDOR.all.40.b.csv: line 2 is not valid UTF-8", code=1)
    assert run.of_type("ACTIVATE_VERSION") == []
    assert run.last_state["bookmarks"]["VENDOR"]["full_export_job"]["job"] == "40"


def sync_with(engine, company, catalog, config, state=None):
    env = company.server.tap_environment()
    env["TAP_INTACCT_ENGINE"] = engine
    args = ["--state", company.write("state.json", state)] if state else []
    run = company.tap("--catalog", catalog, *args, config=config, env=env)
    assert run.returncode == 0, run.stderr
    return run


@pytest.mark.parametrize("engine", ["rows", "fast"])
def test_a_change_job_landing_between_two_parts_comes_after_the_full_export(company, engine):
    """Issue 26, first case: applied in landing order, job 13's activation deleted vendor 7,
    which change job 14 created between 13's two parts."""
    pytest.importorskip("pyarrow")
    company.put("VENDOR.all.13.p1.csv", vendors(1, 2, 3), modified=0)
    company.put("VENDOR.change.14.a.csv", CHANGE_HEADER + "7,new,create,2024-03-02 10:00:00\n",
                modified=60)
    company.put("VENDOR.all.13.p2.csv", vendors(4, 5, 6), modified=120)
    catalog = vendor_catalog(company, "full newest")
    run = sync_with(engine, company, catalog, company.config(full_exports="replace"))
    version = int((T0 + datetime.timedelta(minutes=2)).timestamp() * 1000)
    assert [(m["type"], m.get("version"), m.get("record", {}).get("_sdc_source_file", "")[-14:])
            for m in run.messages if m["type"] in ("RECORD", "ACTIVATE_VERSION")] == [
        ("RECORD", version, "VENDOR.all.13.p1.csv"[-14:])] * 3 + [
        ("RECORD", version, "VENDOR.all.13.p2.csv"[-14:])] * 3 + [
        ("ACTIVATE_VERSION", version, ""), ("RECORD", version, "DOR.change.14.a.csv"[-14:])]
    table = held_by_a_versioned_target(run.messages)
    assert {k: name for k, (_v, name) in table.items()} == {
        1: "v1", 2: "v2", 3: "v3", 4: "v4", 5: "v5", 6: "v6", 7: "new"}
    bookmark = run.last_state["bookmarks"]["VENDOR"]
    assert bookmark["modified_since"] == (T0 + datetime.timedelta(minutes=2)).isoformat()
    again = sync_with(engine, company, catalog, company.config(full_exports="replace"),
                      state=run.last_state)
    assert again.records() == [] and again.of_type("ACTIVATE_VERSION") == []


@pytest.mark.parametrize("engine", ["rows", "fast"])
def test_interleaved_full_exports_end_with_the_newest(company, engine):
    """Issue 26, second case: row 3 of job 11 came after job 13's copy and was then deleted by
    13's activation. Job 13 supersedes 11, which is not read."""
    pytest.importorskip("pyarrow")
    company.put("VENDOR.all.11.p1.csv", vendors(1, 2, name="old"), modified=0)
    company.put("VENDOR.all.13.p1.csv", vendors(1, 2, 3), modified=60)
    company.put("VENDOR.all.11.p2.csv", vendors(3, name="old"), modified=120)
    company.put("VENDOR.all.13.p2.csv", vendors(4), modified=180)
    catalog = vendor_catalog(company, "full")
    run = sync_with(engine, company, catalog, company.config(full_exports="replace"))
    table = held_by_a_versioned_target(run.messages)
    assert {k: name for k, (_v, name) in table.items()} == {1: "v1", 2: "v2", 3: "v3", 4: "v4"}
    assert {r["_sdc_source_file"].rsplit("/", 1)[-1] for r in run.records()} == {
        "VENDOR.all.13.p1.csv", "VENDOR.all.13.p2.csv"}
    assert ("VENDOR: not read: 1 full export job(s) (11): 2 file(s), superseded by full export "
            "job 13") in run.stderr
    assert run.last_state["bookmarks"]["VENDOR"] == {
        "modified_since": (T0 + datetime.timedelta(minutes=3)).isoformat(),
        "synced_keys": {company.prefix + "VENDOR.all.13.p2.csv":
                        (T0 + datetime.timedelta(minutes=3)).isoformat()},
        "synced_keys_since": (T0 + datetime.timedelta(minutes=3)).isoformat(),
        "table_version": int((T0 + datetime.timedelta(minutes=3)).timestamp() * 1000),
        "table_version_job": "13"}


def test_a_first_sync_reads_the_newest_full_export_and_what_follows(company):
    for day in range(5):
        company.put(f"VENDOR.all.{10 * day + 10}.p.csv", vendors(1, 2, name=f"d{day}"),
                    modified=86400 * day)
        company.put(f"VENDOR.change.{10 * day + 11}.c.csv",
                    CHANGE_HEADER + f"{day + 3},c{day},create,2024-03-02 10:00:00\n",
                    modified=86400 * day + 3600)
    catalog = vendor_catalog(company, "change newest")
    run = company.sync(catalog, config=company.config(full_exports="replace"))
    assert run.returncode == 0, run.stderr
    assert [r["NAME"] for r in run.records()] == ["d41", "d42", "c4"]
    assert ("not read: 4 full export job(s) (10, 20, 30, 40), 4 change job(s) (11, 21, 31, 41): "
            "8 file(s), superseded by full export job 50") in run.stderr
    # the bookmark is removed (a reset): the stream re-baselines from the newest export
    state = run.last_state
    state["bookmarks"].pop("VENDOR")
    reset = company.sync(catalog, state=state, config=company.config(full_exports="replace"))
    assert [r["NAME"] for r in reset.records()] == ["d41", "d42", "c4"]
    assert len(reset.of_type("ACTIVATE_VERSION")) == 1


def test_off_the_output_is_unchanged(company):
    company.put("VENDOR.all.11.a.csv", vendors(1, 2), modified=0)
    company.put("VENDOR.change.12.a.csv", CHANGE_HEADER + "2,x,delete,2024-03-02 10:00:00\n",
                modified=60)
    catalog = vendor_catalog(company, "change newest")
    default = company.sync(catalog)
    assert default.returncode == 0, default.stderr
    assert company.sync(catalog, config=company.config(full_exports="append")).stdout == (
        default.stdout)
    assert '"version"' not in default.stdout and "ACTIVATE_VERSION" not in default.stdout


@pytest.mark.parametrize("setting, message", [
    ({"full_exports": "overwrite"}, "'full_exports' must be append or replace"),
    ({"full_export_quiet_seconds": 5}, "'full_export_quiet_seconds' must be a whole number"),
    ({"full_exports": "replace", "batch_config": {"encoding": {"format": "jsonl"},
                                                  "storage": {"root": "file:///tmp/b"}}},
     "'full_exports' replace cannot be combined with 'batch_config'"),
])
def test_bad_full_export_settings_are_config_errors(company, setting, message):
    run = company.tap("--discover", config=company.config(**setting))
    assert_clean_failure(run, message, code=2)
