"""Deterministic sample DDS exports with realistic Intacct columns and values."""

import csv
import datetime
import io
import random

GLENTRY_COLUMNS = [
    "RECORDNO", "BATCHNO", "BATCH_DATE", "BATCH_TITLE", "JOURNAL", "LINE_NO", "ENTRY_DATE",
    "ACCOUNTNO", "ACCOUNTTITLE", "DEPARTMENTID", "LOCATIONID", "TR_TYPE", "AMOUNT",
    "TRX_AMOUNT", "CURRENCY", "BASECURR", "EXCHANGE_RATE", "DESCRIPTION", "DOCUMENT",
    "STATE", "CLEARED", "RECONCILIATION_DATE", "CUSTOMERID", "VENDORID", "EMPLOYEEID",
    "PROJECTID", "ITEMID", "CLASSID", "CONTRACTID", "WAREHOUSEID", "BILLABLE", "BILLED",
    "ALLOCATION", "TIMEPERIOD", "STATISTICAL", "WHENCREATED", "WHENMODIFIED", "CREATEDBY",
    "MODIFIEDBY", "MEGAENTITYID", "ddsReadTime",
]
ACCOUNTS = [("0100", "Petty Cash"), ("1000", "Cash - Operating"), ("1200", "Accounts Receivable"),
            ("2000", "Accounts Payable"), ("4000", "Revenue - Services"),
            ("6100", "Rent Expense"), ("6400", "Travel & Entertainment")]
TEXTS = ["Monthly rent", 'Invoice "INV-1001" payment', "Travel, meals and lodging",
         "Accrual reversal\nper auditor note", "Café supplies – Zürich", "Payroll run 2024/01",
         "Adjustment; see memo", ""]


def _csv_text(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def _us_date(day):
    return day.strftime("%m/%d/%Y")


def glentry_rows(count, first_recordno=1, seed=1, day=datetime.date(2024, 1, 2)):
    rng = random.Random(seed)
    for offset in range(count):
        recordno = first_recordno + offset
        account, title = ACCOUNTS[rng.randrange(len(ACCOUNTS))]
        cents = rng.randrange(1, 10_000_000)
        amount = f"{cents // 100}.{cents % 100:02d}"
        tr_type = rng.choice(("1", "-1"))
        entry_day = day + datetime.timedelta(days=offset % 28)
        stamp = datetime.datetime.combine(entry_day, datetime.time(9, 30)) + datetime.timedelta(
            seconds=offset)
        yield [
            str(recordno), str(1000 + recordno // 10), _us_date(entry_day),
            f"Batch {recordno // 10}",
            rng.choice(("GJ", "APJ", "ARJ")), str(offset % 10 + 1), _us_date(entry_day),
            account, title, rng.choice(("D100", "D200", "")), rng.choice(("L1", "L2")),
            tr_type, amount, amount, "USD", "USD", "1.000000", rng.choice(TEXTS),
            f"DOC-{recordno:06d}", "Posted", rng.choice(("T", "F")),
            rng.choice(("", _us_date(entry_day))), rng.choice(("", "C-0042", "C-0007")),
            rng.choice(("", "V-0100")), "", rng.choice(("", "P-17")), "", "", "", "",
            rng.choice(("T", "F")), "F", "", "", "F",
            stamp.strftime("%Y-%m-%dT%H:%M:%SZ"), stamp.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "1", "1", "", stamp.strftime("%Y-%m-%d %H:%M:%S"),
        ]


def glentry_csv(count, first_recordno=1, seed=1, day=datetime.date(2024, 1, 2)):
    return _csv_text(GLENTRY_COLUMNS, glentry_rows(count, first_recordno, seed, day))


CUSTOMER_COLUMNS = ["RECORDNO", "CUSTOMERID", "NAME", "STATUS", "CREDITLIMIT", "TOTALDUE",
                    "TERMNAME", "PHONE", "EMAIL", "POSTALCODE", "WHENMODIFIED", "ddsReadTime"]


def customer_csv(count, first_recordno=1, seed=2):
    rng = random.Random(seed)
    names = ["Acme Corp", "Globex, Inc.", "Initech", 'Umbrella "Health"', "Müller GmbH"]
    rows = []
    for offset in range(count):
        recordno = first_recordno + offset
        rows.append([
            str(recordno), f"C-{recordno:04d}", f"{rng.choice(names)} #{recordno}",
            rng.choice(("active", "inactive")), f"{rng.randrange(0, 50) * 1000}.00",
            f"{rng.randrange(0, 10**7) / 100:.2f}", rng.choice(("Net 30", "Net 60")),
            f"+1 555 01{rng.randrange(10, 99)}", f"ap{recordno}@example.com",
            rng.choice(("02134", "94105", "01001")), "2024-01-05T08:00:00Z",
            "2024-01-05 08:15:00",
        ])
    return _csv_text(CUSTOMER_COLUMNS, rows)


VENDOR_CHANGE_COLUMNS = ["RECORDNO", "VENDORID", "NAME", "TOTALDUE", "WHENMODIFIED",
                         "ddsChangeType", "ddsReadTime"]


def vendor_change_csv(recordnos, change_type="update", seed=3):
    rng = random.Random(seed)
    rows = [[str(n), f"V-{n:04d}", f"Vendor {n}", f"{rng.randrange(0, 10**6) / 100:.2f}",
             "2024-01-06T10:00:00Z", change_type, "2024-01-06 10:05:00"] for n in recordnos]
    return _csv_text(VENDOR_CHANGE_COLUMNS, rows)


def demo_exports(base_time):
    """[(file name, CSV text, LastModified)] for a small company: several objects and files."""
    hour = datetime.timedelta(hours=1)
    return [
        ("GLENTRY.all.2024-01-02T01:00:00.csv", glentry_csv(400, 1, seed=11), base_time),
        ("GLENTRY.change.2024-01-03T01:00:00.csv", glentry_csv(150, 401, seed=12),
         base_time + hour),
        ("GLENTRY.change.2024-01-04T01:00:00.csv", glentry_csv(150, 551, seed=13),
         base_time + 2 * hour),
        ("CUSTOMER.all.2024-01-02T01:00:00.csv", customer_csv(40, 1), base_time),
        ("CUSTOMER.change.2024-01-03T01:00:00.csv", customer_csv(5, 41, seed=5), base_time + hour),
        ("VENDOR.change.2024-01-03T01:00:00.csv", vendor_change_csv(range(1, 21)),
         base_time + hour),
        ("VENDOR.change.2024-01-03T01:00:00.delete.csv",
         vendor_change_csv([3, 7], change_type="delete"), base_time + hour),
    ]
