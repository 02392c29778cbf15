"""DDS jobs: which job a file's name names, job order, and what a run reads of a stream's files
(full_exports replace, README "Full exports"); and the bookmark's frontier when files are read
in job order."""

import datetime

from tap_intacct.dds.bookmarks import Bookmark
from tap_intacct.dds.files import StoredFile
from tap_intacct.dds.jobs import at_or_before, in_job_order, job_name, plan, rank_of

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
QUIET = datetime.timedelta(hours=1)
LATER = T0 + datetime.timedelta(days=1)  # every job quiet


def at(name, minutes):
    return StoredFile(f"dds/ACME/{name}", 10, T0 + datetime.timedelta(minutes=minutes))


def labels(jobs):
    return [job.label for job in jobs]


def test_a_name_names_its_job_by_number_or_timestamp():
    assert job_name(at("VENDOR.all.13.2024-03-04T08:00:00.csv", 0)).ident == "13"
    assert job_name(at("VENDOR.CHANGE.14.x.csv.gz", 0)).full is False
    stamped = job_name(at("VENDOR.all.2024-03-04T08:00:00+02:00.part1.csv", 0))
    assert stamped.full and stamped.rank == rank_of("2024-03-04T06:00:00Z")
    assert rank_of("20240304T060000Z") == rank_of("2024-03-04 06:00:00")
    for neither in ("VENDOR.csv", "VENDOR.all.csv", "VENDOR.all.csv.gz", "VENDOR.all.x1.csv",
                    "VENDOR.all.2024-13-01.csv", "VENDOR.delta.13.a.csv"):
        assert job_name(at(neither, 0)) is None, neither


def test_only_jobs_named_alike_compare():
    assert at_or_before("12", "13") and at_or_before("13", "13") and not at_or_before("14", "13")
    assert not at_or_before("12", "2024-03-04T08:00:00Z") and not at_or_before("12", None)
    assert at_or_before("2024-03-04T07:00:00Z", "2024-03-04T08:00:00Z")


def test_jobs_take_the_slots_of_their_kind_in_job_order():
    files = [at("V.all.13.a.csv", 0), at("V.change.14.a.csv", 1), at("V.all.13.b.csv", 2),
             at("V.csv", 3), at("V.change.12.a.csv", 4)]
    jobs = in_job_order(files)
    # slots by oldest file: 13, 14, V.csv, 12; numbered jobs fill theirs in number order
    assert labels(jobs) == ["12", "13", "V.csv", "14"]
    assert jobs[1].parts == [files[0], files[2]]
    stamped = [at("V.change.2024-03-04T09:00:00Z.csv", 0), at("V.all.2024-03-04T08:00:00Z.csv", 1)]
    assert labels(in_job_order(stamped)) == ["2024-03-04T08:00:00Z", "2024-03-04T09:00:00Z"]


def test_a_change_job_landing_inside_a_full_export_comes_after_it():
    """Issue 26, first case: vendor 7 is created by change job 14 between the two parts of
    full job 13; applied in landing order, 13's activation would delete it."""
    files = [at("VENDOR.all.13.p1.csv", 0), at("VENDOR.change.14.a.csv", 1),
             at("VENDOR.all.13.p2.csv", 2)]
    chosen = plan(files, quiet=QUIET, now=LATER, activated=None)
    assert chosen.files == [files[0], files[2], files[1]] and chosen.skipped == []


def test_interleaved_full_exports_read_only_the_newest():
    """Issue 26, second case: full jobs 11 and 13 interleaved; 11 is superseded by 13."""
    files = [at("V.all.11.p1.csv", 0), at("V.all.13.p1.csv", 1), at("V.all.11.p2.csv", 2),
             at("V.all.13.p2.csv", 40)]
    chosen = plan(files, quiet=QUIET, now=LATER, activated=None)
    assert chosen.files == [files[1], files[3]]
    assert labels(chosen.superseded) == ["11"] and chosen.newest_full == "13"
    assert chosen.skipped == [files[0], files[2]]
    # 13 still arriving: 11 is read (and activated), 13 waits
    early = plan(files, quiet=QUIET, now=T0 + datetime.timedelta(minutes=63), activated=None)
    assert early.files == [files[0], files[2]] and early.waiting.job == "13"


def test_history_before_the_newest_full_export_is_not_read():
    files = [at(f"V.all.{10 * day}.p.csv", 1440 * day) for day in range(1, 31)]
    files += [at(f"V.change.{10 * day + hour}.c.csv", 1440 * day + 60 * hour)
              for day in range(1, 31) for hour in range(1, 10)]
    chosen = plan(sorted(files, key=lambda f: f.sort_key), quiet=QUIET,
                  now=T0 + datetime.timedelta(days=40), activated=None)
    assert [f.name for f in chosen.files] == ["V.all.300.p.csv"] + [
        f"V.change.{300 + hour}.c.csv" for hour in range(1, 10)]
    assert len(chosen.skipped) == 29 * 10


def test_late_files_of_jobs_before_the_activated_one_are_not_read():
    files = [at("V.change.12.late.csv", 0), at("V.all.13.late.csv", 1),
             at("V.all.11.late.csv", 2), at("V.change.15.a.csv", 3)]
    chosen = plan(files, quiet=QUIET, now=LATER, activated="13")
    # a late part of the activated job joins its version (versions.TableVersions)
    assert chosen.files == [files[1], files[3]]
    assert labels(chosen.late) == ["11", "12"] and chosen.superseded == []


def test_a_change_job_still_arriving_is_read_and_holds_back_what_follows():
    files = [at("V.change.14.a.csv", 0), at("V.change.15.a.csv", 1), at("V.change.14.b.csv", 2)]
    chosen = plan(files, quiet=QUIET, now=T0 + datetime.timedelta(minutes=30), activated=None)
    assert chosen.files == [files[0], files[2]]
    assert (chosen.waiting.job, chosen.waiting.full, chosen.waiting.files_after) == (
        "14", False, 1)


def test_the_frontier_passes_only_files_done_and_keeps_the_keys_past_it():
    wanted = [at("V.all.13.p1.csv", 0), at("V.change.14.a.csv", 1), at("V.all.15.p1.csv", 2),
              at("V.change.16.a.csv", 3)]
    bookmark = Bookmark(T0 - datetime.timedelta(days=1), now=LATER)
    bookmark.read_in_job_order(wanted)
    bookmark.advance(wanted[1])  # out of order: the frontier stays before the first file
    assert bookmark.modified_since == bookmark.start_date
    bookmark.advance(wanted[3])
    state = {"bookmarks": {"V": bookmark.to_state()}}
    resumed = Bookmark.from_state(state, "V", bookmark.start_date, now=LATER)
    assert [f for f in wanted if resumed.wants(f)] == [wanted[0], wanted[2]]
    bookmark.advance(wanted[0])  # the frontier moves over 13 and 14, not to 16
    assert bookmark.modified_since == wanted[1].last_modified
    assert set(bookmark.synced_keys) == {wanted[1].key, wanted[3].key}
    bookmark.advance(wanted[2])
    assert bookmark.modified_since == wanted[3].last_modified
    assert bookmark.synced_keys == {wanted[3].key: wanted[3].last_modified}


def test_the_frontier_stops_at_the_run_start():
    wanted = [at("V.all.13.p1.csv", 0), at("V.all.13.p2.csv", 90)]
    bookmark = Bookmark(T0 - datetime.timedelta(days=1), now=T0 + datetime.timedelta(minutes=1))
    bookmark.read_in_job_order(wanted)
    for stored in wanted:
        bookmark.advance(stored)
    assert bookmark.modified_since == wanted[0].last_modified
    assert wanted[1].key in bookmark.synced_keys  # read in the future: kept, read once
