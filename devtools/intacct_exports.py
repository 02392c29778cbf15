"""Exports shaped like real Intacct DDS files: the header rows of tests/fixtures/dds-facts (real
field names, dotted ones included) and values written the way Intacct writes them (IDs with
leading zeros, amounts with two decimals, US dates, ISO date-times, emails, free text with
commas, quotes and line breaks). Deterministic: the same arguments give the same bytes."""

import csv
import datetime
import io
import pathlib
import random
from collections.abc import Callable, Iterable, Sequence

FACTS = pathlib.Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "dds-facts"

# Which object each real header row belongs to, told by a field only that object has.
_OBJECT_MARKERS = [("BATCHNO", "GLENTRY"), ("CUSTTYPE", "CUSTOMER"), ("VENDTYPE", "VENDOR"),
                   ("VENDORNAME", "APBILL"), ("CUSTOMERNAME", "ARINVOICE"),
                   ("NORMALBALANCE", "GLACCOUNT")]


def real_headers() -> dict[str, list[str]]:
    """{object: field names} of the real header rows (one per object, the first seen)."""
    headers: dict[str, list[str]] = {}
    for line in (FACTS / "headers.txt").read_text(encoding="utf-8").splitlines():
        delimiter = ";" if ";" in line and "," not in line else ","
        names = [name.strip('"') for name in line.split(delimiter)]
        for marker, name in _OBJECT_MARKERS:
            if marker in names:
                headers.setdefault(name, names)
    return headers


CITIES = [("Paris", "75001", "FR"), ("Boston", "02134", "US"), ("Zürich", "8001", "CH"),
          ("San José", "95113", "US"), ("Springfield", "01101", "US")]
COMPANIES = ["Acme, Inc.", "Globex", 'Umbrella "Health"', "Müller GmbH", "O'Brien & Sons",
             "Initech\nWest"]
PEOPLE = ["Ana Lima", "Bob O'Neil", "Chen Wei", "Dana Smith", "Émile Durand"]


def moment(n: int) -> datetime.datetime:
    return datetime.datetime(2024, 1, 2, 9, 30) + datetime.timedelta(minutes=17 * n)


AMOUNTS = {"TOTALDUE", "TOTALPAID", "TOTALENTERED", "TRX_TOTALENTERED", "CREDITLIMIT",
           "AMOUNT", "TRX_AMOUNT"}


def _amount(n: int, rng: random.Random) -> str:
    return f"{rng.randrange(0, 10**5)}.{rng.randrange(100):02d}"


def _us_date(n: int) -> str:
    return (datetime.date(2024, 1, 2) + datetime.timedelta(days=n % 28)).strftime("%m/%d/%Y")


# (does the rule fit (column, its last dotted part), the text of record n): the first fit wins
_RULES: list[tuple[Callable[[str, str], bool], Callable[[int, random.Random], str]]] = [
    (lambda c, f: c == "RECORDNO", lambda n, rng: str(n)),
    (lambda c, f: c == "ddsReadTime", lambda n, rng: moment(n).strftime("%Y-%m-%d %H:%M:%S")),
    (lambda c, f: f.startswith("EMAIL"),
     lambda n, rng: f"ap{n}@{['acme', 'globex', 'initech'][n % 3]}.example"),
    (lambda c, f: f == "CITY", lambda n, rng: CITIES[n % len(CITIES)][0]),
    (lambda c, f: f == "ZIP", lambda n, rng: CITIES[n % len(CITIES)][1]),
    (lambda c, f: f == "COUNTRY", lambda n, rng: CITIES[n % len(CITIES)][2]),
    (lambda c, f: f == "STATE" and "." in c, lambda n, rng: "MA"),
    (lambda c, f: f.startswith("PHONE"), lambda n, rng: f"+1 555 01{n % 100:02d}"),
    (lambda c, f: f.startswith("ADDRESS"), lambda n, rng: f"{n} Main St, Suite {n % 9}"),
    (lambda c, f: f == "CONTACTNAME", lambda n, rng: PEOPLE[n % len(PEOPLE)]),
    (lambda c, f: f in ("NAME", "TITLE", "CUSTOMERNAME", "VENDORNAME"),
     lambda n, rng: f"{COMPANIES[n % len(COMPANIES)]} #{n}"),
    (lambda c, f: f in ("WHENCREATED", "WHENMODIFIED"),
     lambda n, rng: moment(n).strftime("%Y-%m-%dT%H:%M:%SZ")),
    (lambda c, f: f.startswith("WHEN") or f.endswith("_DATE") or f == "RECONDATE",
     lambda n, rng: _us_date(n)),
    (lambda c, f: f in AMOUNTS, _amount),
    (lambda c, f: f == "EXCHANGE_RATE", lambda n, rng: "1.000000"),
    (lambda c, f: f.endswith("ID") or f in ("ACCOUNTNO", "DOCNUMBER", "TAXID"),
     lambda n, rng: f"0{n % 1000:03d}"),
    (lambda c, f: f.endswith("KEY") or f in ("BATCHNO", "LINE_NO", "FORM1099BOX"),
     lambda n, rng: str(n % 97 + 1)),
    (lambda c, f: f == "STATUS", lambda n, rng: rng.choice(("active", "inactive"))),
    (lambda c, f: f in ("ONHOLD", "CLEARED"), lambda n, rng: rng.choice(("true", "false"))),
    (lambda c, f: f in ("CURRENCY", "BASECURR"), lambda n, rng: "USD"),
]


def cell(column: str, n: int, rng: random.Random, change_type: str = "update") -> str:
    """The text of field `column` in the `n`th record, as Intacct writes such a field."""
    if column == "ddsChangeType":
        return change_type
    field = column.rsplit(".", 1)[-1]
    for fits, text in _RULES:
        if fits(column, field):
            return text(n, rng)
    return rng.choice(("", f"note {n}", "Net 30", "see memo; ref. 7"))


def export_csv(columns: Sequence[str], rows: Iterable[Sequence[str]],
               delimiter: str = ",") -> str:
    """The CSV text DDS writes: a header row, values enclosed in double quotes where needed."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(rows)
    return buffer.getvalue()


def records(columns: Sequence[str], recordnos: Iterable[int], seed: int = 1,
            change_type: str = "update") -> list[list[str]]:
    rng = random.Random(seed)
    return [[cell(column, n, rng, change_type) for column in columns] for n in recordnos]


def object_export(name: str, recordnos: Iterable[int], seed: int = 1,
                  change_type: str = "update") -> str:
    """A CSV export of object `name` with its real header row."""
    columns = real_headers()[name]
    return export_csv(columns, records(columns, recordnos, seed, change_type))
