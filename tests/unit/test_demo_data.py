"""The demo's exports look like Intacct's (tests/fixtures/dds-facts) and its ledger balances:
checked here from the CSV text, independently of the tap, so that the trial balance of 0.00 the
demo prints is a fact about its data, not about the code under test."""

import csv
import datetime
import decimal
import io
import pathlib

from devtools import intacct_exports

FACTS = pathlib.Path(__file__).parent.parent / "fixtures" / "dds-facts"
BASE = datetime.datetime(2024, 1, 2, 1, 5, tzinfo=datetime.timezone.utc)


def exports():
    return intacct_exports.demo_exports(BASE)


def rows(text, delimiter=","):
    return list(csv.DictReader(io.StringIO(text), delimiter=delimiter))


def signed(row):
    amount = decimal.Decimal(row["AMOUNT"])
    assert amount > 0 and row["AMOUNT"] == f"{amount:.2f}"
    return amount * int(row["TR_TYPE"])


def test_every_export_starts_with_a_real_header_row():
    real = set((FACTS / "headers.txt").read_text(encoding="utf-8").splitlines())
    names = set()
    for name, text, _modified in exports():
        assert text.split("\n", 1)[0] in real, name
        names.add(name.split(".", 1)[0])
    assert names >= {"GLENTRY", "CUSTOMER", "VENDOR"}
    customer = next(t for n, t, _ in exports() if n.startswith("CUSTOMER.all"))
    assert "DISPLAYCONTACT.EMAIL1" in customer.split("\n", 1)[0]


def test_every_journal_batch_balances_and_so_does_the_ledger():
    gl = [(name, rows(text)) for name, text, _ in exports() if name.startswith("GLENTRY")]
    batches = {}
    for _name, lines in gl:
        for line in lines:
            if line["ddsChangeType"] != "update":
                batches.setdefault(line["BATCHNO"], {})[line["RECORDNO"]] = line
    assert len(batches) >= 40
    for lines in batches.values():
        assert sum(signed(line) for line in lines.values()) == 0
        assert {line["TR_TYPE"] for line in lines.values()} == {"1", "-1"}
    live = [line for lines in batches.values() for line in lines.values()
            if line["ddsChangeType"] != "delete"]
    debits = sum(signed(line) for line in live if line["TR_TYPE"] == "1")
    credits = -sum(signed(line) for line in live if line["TR_TYPE"] == "-1")
    assert debits == credits > 0


def test_a_full_export_in_two_parts_then_changes_with_an_update_and_a_delete():
    names = [name for name, _, _ in exports()]
    parts = [n for n in names if n.startswith("GLENTRY.all.")]
    assert len(parts) == 2 and len({p.split(".")[2] for p in parts}) == 1
    changes = {n.split(".", 1)[0]: rows(t) for n, t, _ in exports() if ".change." in n}
    kinds = {row["ddsChangeType"] for row in changes["GLENTRY"]}
    assert {"create", "update", "delete"} <= kinds
    assert [row["ddsChangeType"] for row in changes["VENDOR"]] == ["delete"]
    modified = [m for _, _, m in exports()]
    assert modified.index(max(modified)) == len(modified) - 1  # the newest full export last
    deleted = changes["VENDOR"][0]["RECORDNO"]
    newest_vendors = rows(next(t for n, t, _ in exports() if n.startswith("VENDOR.all.109")))
    assert deleted not in {row["RECORDNO"] for row in newest_vendors}
