import datetime

import pytest

from tap_intacct.dds import candidates
from tap_intacct.dds.columns import TAP_COLUMNS, unique_header
from tap_intacct.dds.files import StoredFile, looks_like_data_file, table_name
from tap_intacct.errors import DataError

T = datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)


def test_table_name_is_the_name_up_to_the_first_dot():
    assert table_name("GLENTRY.csv") == "GLENTRY"
    assert table_name("GLENTRY.all.123.2024-01-02T03:04:05.csv") == "GLENTRY"
    assert table_name("GLENTRY.csv.gz") == "GLENTRY"


def test_data_files():
    for name in ("A.csv", "A.CSV", "A.x.csv.gz", "A.gz", "A.zip"):
        assert looks_like_data_file(name), name
    for name in ("manifest.json", "A.csv.tmp", ".csv", "README"):
        assert not looks_like_data_file(name), name


def test_listed_files_are_grouped_by_table_skipped_and_sorted():
    skipped = []
    files = [
        StoredFile("p/B.2.csv", 5, T + datetime.timedelta(seconds=2)),
        StoredFile("p/B.1.csv", 5, T + datetime.timedelta(seconds=2)),
        StoredFile("p/B.0.csv", 5, T),
        StoredFile("p/A.csv", 0, T),
        StoredFile("p/C.csv", 5, T, storage_class="GLACIER"),
        StoredFile("p/notes.txt", 5, T),
    ]
    listing = candidates.data_files(iter(files), lambda f, why: skipped.append((f.key, why)))
    tables = candidates.for_discovery(listing, T - datetime.timedelta(seconds=1))
    assert list(tables) == ["B"]
    assert [f.key for f in tables["B"]] == ["p/B.0.csv", "p/B.1.csv", "p/B.2.csv"]
    assert [key for key, _ in skipped] == ["p/A.csv", "p/C.csv"]


def test_unique_header():
    assert unique_header(["A", "B", "A", "", "A"], "f") == ["A", "B", "A__2", "column_4", "A__3"]
    # a real column keeps its name: the empty cell and the repeat take names no cell has
    assert unique_header(["RECORDNO", "", "column_2"], "f") == ["RECORDNO", "column_2__2",
                                                                "column_2"]
    assert unique_header(["A", "A", "A__2"], "f") == ["A", "A__3", "A__2"]


@pytest.mark.parametrize("name", sorted(TAP_COLUMNS) + ["_SDC_EXTRA", " _sdc_source_file "])
def test_a_header_naming_a_tap_column_is_refused(name):
    with pytest.raises(DataError, match=r"f\.csv: header cell 2 is .*the name of a column the "
                                        "tap adds"):
        unique_header(["RECORDNO", name], "f.csv")
