"""The header rule against what is known of real DDS exports (tests/fixtures/dds-facts, copied
from the project's shared facts): every real header row is read as column names, every
headerless first line is refused, and random Intacct-shaped field names pass. A refusal of a
real header stops a company's stream, so it weighs as much as a data row taken as names."""

import io
import pathlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tap_intacct.errors import DataError
from tap_intacct.reading.csvfile import CsvRows
from tap_intacct.reading.dialect import DEFAULT_DIALECT, Dialect
from tests.support import examples

FACTS = pathlib.Path(__file__).parent.parent / "fixtures" / "dds-facts"
HEADERS = [line for line in (FACTS / "headers.txt").read_text().splitlines() if line]
HEADERLESS = [line for line in (FACTS / "headerless.txt").read_text().splitlines() if line]


def header_of(first_line, dialect=DEFAULT_DIALECT):
    data = (first_line + "\n").encode()
    return CsvRows(io.BufferedReader(io.BytesIO(data)), "X.csv", dialect=dialect).header


def quoted(names, delimiter=",", quote='"'):
    return delimiter.join(quote + name + quote for name in names)


def test_the_corpora_are_there():
    assert len(HEADERS) >= 7 and len(HEADERLESS) >= 6
    assert any("DISPLAYCONTACT.EMAIL1" in line for line in HEADERS)


@pytest.mark.parametrize("line", HEADERS)
@pytest.mark.parametrize("quotechar", ['"', "'"])
def test_every_real_header_is_read_as_its_names(line, quotechar):
    delimiter = ";" if ";" in line and "," not in line else ","
    names = [name.strip('"') for name in line.split(delimiter)]
    assert header_of(line) == names
    dialect = Dialect(None, quotechar)
    assert header_of(quoted(names, delimiter, quotechar), dialect) == names
    assert header_of(line, Dialect(delimiter)) == names


@pytest.mark.parametrize("line", HEADERLESS)
def test_every_headerless_first_line_is_refused(line):
    with pytest.raises(DataError, match=r"X.csv: its first line is not a header row"):
        header_of(line)


@pytest.mark.parametrize("line, message", [
    ("RECORDNO.NAME.ddsReadTime", "looks '.'-delimited"),
    ("DISPLAYCONTACT.EMAIL1", "looks '.'-delimited"),
    ("1.Acme.12.50", "looks '.'-delimited"),
    ("RECORDNO,2024-01-02", "cell 2 is '2024-01-02'"),
    ("RECORDNO,ap@acme.example", "cell 2 is 'ap@acme.example'"),
    ("RECORDNO,7.25", "cell 2 is '7.25'"),
    ("RECORDNO,.5", "cell 2 is '.5'"),
    ("NAME,Acme Inc.", "cell 2 is 'Acme Inc.'"),
])
def test_values_and_dot_delimited_lines_are_refused(line, message):
    with pytest.raises(DataError, match=message):
        header_of(line)


first = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz_")
rest = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.$#",
               max_size=40)
intacct_names = st.builds(lambda a, b: a + b, first, rest)


@settings(max_examples=examples(80))
@given(st.lists(intacct_names, min_size=2, max_size=30),
       st.sampled_from([",", ";", "\t", "|"]), st.booleans())
def test_random_intacct_shaped_names_are_accepted(names, delimiter, enclose):
    line = quoted(names, delimiter) if enclose else delimiter.join(names)
    assert header_of(line) == names
    assert header_of(line, Dialect(delimiter)) == names
