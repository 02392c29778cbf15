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


# ---- the demo company: a general ledger that balances, customers, vendors ----------------------

CHART = [("1000", "Cash - Operating"), ("1200", "Accounts Receivable"),
         ("2000", "Accounts Payable"), ("4000", "Revenue - Services"), ("6100", "Rent Expense"),
         ("6400", "Travel & Entertainment"), ("0100", "Petty Cash")]
DEBIT, CREDIT = "1", "-1"  # GLENTRY.TR_TYPE


def gl_batch(batch: int, first_recordno: int, rng: random.Random,
             change_type: str = "") -> list[dict[str, str]]:
    """The lines of journal batch `batch`, debits = credits, amounts as Intacct writes them (two
    decimals, no sign: TR_TYPE carries it). Odd batches are sales (revenue lines credited,
    receivables debited with their sum), even ones payments (expense or payable lines debited,
    cash credited)."""
    day = datetime.date(2024, 1, 2) + datetime.timedelta(days=batch % 28)
    accounts = dict(CHART)
    if batch % 2:
        spread, spread_type, total_account, total_type = ["4000"], CREDIT, "1200", DEBIT
    else:
        spread, spread_type, total_account, total_type = (
            ["6100", "6400", "0100", "2000"], DEBIT, "1000", CREDIT)
    cents = [rng.randrange(100, 5_000_000) for _ in range(rng.randint(1, 3))]
    lines = [(rng.choice(spread), spread_type, amount) for amount in cents]
    lines.append((total_account, total_type, sum(cents)))
    columns = real_headers()["GLENTRY"]
    rows = []
    for line_no, (account, tr_type, amount) in enumerate(lines, start=1):
        recordno = first_recordno + line_no - 1
        row = {c: cell(c, recordno, rng, change_type) for c in columns}
        text = f"{amount // 100}.{amount % 100:02d}"
        row.update({
            "BATCHNO": str(batch), "BATCH_NUMBER": str(batch), "LINE_NO": str(line_no),
            "TR_TYPE": tr_type, "ENTRY_DATE": day.strftime("%m/%d/%Y"),
            "BATCH_DATE": day.strftime("%m/%d/%Y"),
            "BATCH_TITLE": f"{'Sales' if batch % 2 else 'Payments'} batch {batch}",
            "ACCOUNTNO": account, "ACCOUNTTITLE": accounts[account], "AMOUNT": text,
            "TRX_AMOUNT": text, "STATE": "Posted",
            "DESCRIPTION": rng.choice(("Monthly rent", "Travel, meals and lodging",
                                       'Invoice "INV-1001"', "Accrual\nper auditor note",
                                       "Café supplies – Zürich")),
        })
        rows.append(row)
    return rows


def rows_csv(name: str, rows: Sequence[dict[str, str]]) -> str:
    columns = real_headers()[name]
    return export_csv(columns, ([row[c] for c in columns] for row in rows))


def object_rows(name: str, recordnos: Iterable[int], seed: int,
                change_type: str = "") -> list[dict[str, str]]:
    columns = real_headers()[name]
    return [dict(zip(columns, row, strict=True))
            for row in records(columns, recordnos, seed, change_type)]


def demo_exports(base_time: datetime.datetime
                 ) -> list[tuple[str, str, datetime.datetime]]:
    """[(file name, CSV text, LastModified)] of the demo company, oldest first: a general
    ledger full export in two parts, then a change export (new batches, an updated line, a
    deleted batch); customers and vendors exported in full, then changed (a customer's contact
    e-mail updated, a vendor deleted); bills, invoices and the chart of accounts (';'-delimited).
    Every object has its real header row (tests/fixtures/dds-facts)."""
    rng = random.Random(2024)
    minute = datetime.timedelta(minutes=1)
    batches, recordno = [], 1
    for batch in range(1, 41):
        batches.append(gl_batch(batch, recordno, rng))
        recordno += len(batches[-1])
    part1 = [line for lines in batches[:20] for line in lines]
    part2 = [line for lines in batches[20:] for line in lines]
    created = []
    for batch in range(41, 46):
        lines = gl_batch(batch, recordno, rng, "create")
        created += lines
        recordno += len(lines)
    read = {"ddsReadTime": "2024-01-03 01:00:00"}  # a change job's rows: read when it ran
    created = [dict(line, **read) for line in created]
    updated = [dict(line, DESCRIPTION="Rent, corrected memo", ddsChangeType="update", **read)
               for line in batches[1][:1]]
    deleted = [dict(line, ddsChangeType="delete", **read) for line in batches[4]]

    customers = object_rows("CUSTOMER", range(1, 13), seed=3)
    customer_update = [dict(customers[2], **{"DISPLAYCONTACT.EMAIL1": "billing@acme.example"},
                            **read)]
    vendors = object_rows("VENDOR", range(1, 9), seed=4)
    vendor_delete = [dict(vendors[6], ddsChangeType="delete", **read)]
    chart = [{"RECORDNO": str(n), "ACCOUNTNO": account, "TITLE": title,
              "ACCOUNTTYPE": "balancesheet" if account < "4000" else "incomestatement",
              "NORMALBALANCE": "credit" if account in ("2000", "4000") else "debit",
              "CLOSINGTYPE": "non-closing account", "CATEGORY": title.split(" ")[0],
              "STATUS": "active", "WHENMODIFIED": "2024-01-02T09:30:00Z",
              "ddsReadTime": "2024-01-02 09:30:00"} for n, (account, title) in
             enumerate(CHART, start=1)]
    chart_csv = export_csv(real_headers()["GLACCOUNT"],
                           ([row[c] for c in real_headers()["GLACCOUNT"]] for row in chart),
                           delimiter=";")
    stamp = "2024-01-02T01:00:00"
    return [
        ("GLACCOUNT.all.100.2024-01-02T00:30:00.csv", chart_csv, base_time - 30 * minute),
        (f"GLENTRY.all.101.{stamp}.1.csv", rows_csv("GLENTRY", part1), base_time),
        (f"GLENTRY.all.101.{stamp}.2.csv", rows_csv("GLENTRY", part2), base_time + 2 * minute),
        (f"CUSTOMER.all.102.{stamp}.csv", rows_csv("CUSTOMER", customers), base_time + minute),
        (f"VENDOR.all.103.{stamp}.csv", rows_csv("VENDOR", vendors), base_time + minute),
        (f"APBILL.all.104.{stamp}.csv", object_export("APBILL", range(1, 16), seed=5),
         base_time + minute),
        (f"ARINVOICE.all.105.{stamp}.csv", object_export("ARINVOICE", range(1, 21), seed=6),
         base_time + minute),
        ("GLENTRY.change.106.2024-01-03T01:00:00.csv",
         rows_csv("GLENTRY", created + updated + deleted), base_time + 24 * 60 * minute),
        ("CUSTOMER.change.107.2024-01-03T01:00:00.csv", rows_csv("CUSTOMER", customer_update),
         base_time + 24 * 60 * minute),
        ("VENDOR.change.108.2024-01-03T01:00:00.csv", rows_csv("VENDOR", vendor_delete),
         base_time + 24 * 60 * minute),
        ("VENDOR.all.109.2024-01-04T01:00:00.csv",
         rows_csv("VENDOR", [v for v in vendors if v is not vendors[6]]),
         base_time + 48 * 60 * minute),
    ]
