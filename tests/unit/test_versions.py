"""Full exports as table versions: which files are parts of a job, when a job may be read, and
the versions its records carry."""

import datetime

from tap_intacct.dds.bookmarks import Bookmark
from tap_intacct.dds.files import StoredFile
from tap_intacct.dds.jobs import plan
from tap_intacct.dds.versions import TableVersions, job_of, version_of

UTC = datetime.timezone.utc
T0 = datetime.datetime(2024, 3, 4, 8, 0, tzinfo=UTC)
QUIET = datetime.timedelta(hours=1)


def part(name, minutes):
    return StoredFile(f"dds/ACME/{name}", 10, T0 + datetime.timedelta(minutes=minutes))


def test_only_all_files_with_a_job_number_or_timestamp_are_parts():
    assert job_of(part("VENDOR.all.123.2024-03-04T08:00:00.csv", 0)) == "123"
    assert job_of(part("VENDOR.ALL.7.x.csv.gz", 0)) == "7"
    assert job_of(part("VENDOR.change.123.2024.csv", 0)) is None
    assert job_of(part("VENDOR.csv", 0)) is None
    assert job_of(part("VENDOR.all.csv", 0)) is None
    assert job_of(part("VENDOR.all.2024-03-04T08:00:00Z.1.csv", 0)) == "2024-03-04T08:00:00Z"
    assert job_of(part("VENDOR.all.csv.gz", 0)) is None


def test_a_job_still_arriving_holds_back_itself_and_everything_after_it():
    files = [part("V.change.1.a.csv", 0), part("V.all.2.a.csv", 10), part("V.all.2.b.csv", 20),
             part("V.change.3.a.csv", 30), part("V.all.2.c.csv", 40)]
    early = plan(files, quiet=QUIET, now=T0 + datetime.timedelta(minutes=90), activated=None)
    assert early.files == files[:1]
    waiting = early.waiting
    assert (waiting.job, waiting.parts, waiting.files_after) == ("2", 3, 1)
    assert waiting.until == T0 + datetime.timedelta(minutes=100)
    later = plan(files, quiet=QUIET, now=T0 + datetime.timedelta(minutes=101), activated=None)
    # job order; change job 1 comes before full job 2, which supersedes it
    assert later.files == [files[1], files[2], files[4], files[3]] and later.waiting is None
    assert later.skipped == files[:1] and later.newest_full == "2"


def test_versions_grow_with_jobs_and_survive_a_resume():
    first = [part("V.all.1.a.csv", 0), part("V.all.1.b.csv", 5)]
    bookmark = Bookmark(T0 - datetime.timedelta(days=1))
    versions = TableVersions(bookmark, first)
    version = version_of(first)
    assert versions.version_for(first[0]) == version
    assert versions.completes(first[0]) is None
    assert bookmark.full_export_job == {"job": "1", "version": version}
    # a run stopped here resumes the job with the same version, from the state
    bookmark.advance(first[0])
    resumed = Bookmark.from_state({"bookmarks": {"V": bookmark.to_state()}}, "V",
                                  T0 - datetime.timedelta(days=1))
    versions = TableVersions(resumed, first[1:])
    assert versions.version_for(first[1]) == version
    assert versions.completes(first[1]) == version
    assert resumed.table_version == version and resumed.full_export_job is None
    # change files carry the table's version; the next job gets a larger one
    change = part("V.change.2.a.csv", 30)
    later = [change, part("V.all.3.a.csv", 60)]
    versions = TableVersions(resumed, later)
    assert versions.version_for(change) == version
    assert versions.version_for(later[1]) == version_of(later[1:]) > version


def test_a_version_never_goes_back():
    bookmark = Bookmark(T0)
    bookmark.table_version = 10 ** 15
    versions = TableVersions(bookmark, [part("V.all.4.a.csv", 0)])
    assert versions.version_for(part("V.all.4.a.csv", 0)) == 10 ** 15 + 1


def test_a_late_part_of_an_activated_job_starts_no_new_version():
    """With lookback_seconds a part can arrive after its job was activated: its rows join the
    table's version; a new version from it alone would drop every other row."""
    bookmark = Bookmark(T0 - datetime.timedelta(days=1))
    first = [part("V.all.5.a.csv", 0)]
    versions = TableVersions(bookmark, first)
    version = versions.version_for(first[0])
    assert versions.completes(first[0]) == version
    bookmark.advance(first[0])
    state = {"bookmarks": {"V": bookmark.to_state()}}
    resumed = Bookmark.from_state(state, "V", T0 - datetime.timedelta(days=1))
    assert resumed.activated_job == "5"
    late = part("V.all.5.b.csv", -5)
    versions = TableVersions(resumed, [late])
    assert versions.version_for(late) == version
    assert versions.completes(late) is None
    assert resumed.table_version == version and resumed.full_export_job is None
