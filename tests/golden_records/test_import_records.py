"""import_records: CSV and JSON Lines files through the ingest pipeline, with a summary."""

from __future__ import annotations

import gzip
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import OperationalError

from golden_records.history import os_user
from golden_records.management.commands import import_records
from golden_records.models import Customer, Item, SourceRecord
from tests.conftest import make_system
from tests.helpers import golden_of

pytestmark = pytest.mark.django_db


@pytest.fixture
def erp(db):
    return make_system("erp")


def write(tmp_path: Path, name: str, text: str, encoding: str = "utf-8") -> Path:
    path = tmp_path / name
    path.write_bytes(text.encode(encoding))
    return path


def run(*args, **options) -> tuple[str, str]:
    """call_command; returns (stdout, stderr)."""
    out, err = io.StringIO(), io.StringIO()
    call_command("import_records", *map(str, args), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


def run_failing(*args, match: str, **options) -> tuple[str, str, CommandError]:
    out, err = io.StringIO(), io.StringIO()
    with pytest.raises(CommandError, match=match) as info:
        call_command("import_records", *map(str, args), stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue(), info.value


def counts(stdout: str) -> dict[str, int]:
    """{action: n} from the summary."""
    found = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit():
            found[parts[0]] = int(parts[1])
    return found


CUSTOMERS = (
    "source_id,name,tax_id,city,country,credit_limit,credit_currency\n"
    "C-1,Acme GmbH,DE136695976,Berlin,DE,1234.56,EUR\n"
    "C-2,Globex,,Springfield,US,,\n"
)


def test_csv_import_creates_golden_records(tmp_path, erp):
    path = write(tmp_path, "customers.csv", CUSTOMERS)
    out, err = run(path, system="erp", domain="customer")

    assert Customer.objects.count() == 2
    acme = golden_of("erp", "customer", "C-1")
    assert (acme.name, acme.tax_id, acme.city, acme.country) == (
        "Acme GmbH",
        "DE136695976",
        "Berlin",
        "DE",
    )
    globex = golden_of("erp", "customer", "C-2")
    assert globex.tax_id == ""
    assert globex.credit_limit is None
    # Empty cells are no value: the key is not in the payload at all.
    assert SourceRecord.objects.get(source_id="C-2").payload == {
        "name": "Globex",
        "city": "Springfield",
        "country": "US",
    }
    assert counts(out) == {
        "created": 2,
        "linked": 0,
        "updated": 0,
        "unchanged": 0,
        "stale": 0,
        "rejected": 0,
    }
    assert "customers.csv: 2 rows for erp / customer" in out
    assert err == ""  # no warning, and no progress bar when stderr is not a TTY

    history = acme.history.get()
    assert (history.actor_type, history.actor, history.channel) == (
        "command",
        os_user(),
        "command",
    )
    assert history.history_change_reason == "import_records: import customers.csv"


def test_decimals_stay_exact(tmp_path, erp):
    write(tmp_path, "c.csv", "source_id,name,credit_limit\nC-1,Acme,1234.56\n")
    run(tmp_path / "c.csv", system="erp", domain="customer")
    assert golden_of("erp", "customer", "C-1").credit_limit == Decimal("1234.56")

    # A JSON number with a fraction is parsed as Decimal, never float.
    write(
        tmp_path,
        "c.jsonl",
        '{"source_id": "C-2", "name": "Small", "credit_limit": 1234.56}\n'
        '{"source_id": "C-3", "name": "Big", "credit_limit": 1234567890123.45}\n',
    )
    run(tmp_path / "c.jsonl", system="erp", domain="customer")
    assert golden_of("erp", "customer", "C-2").credit_limit == Decimal("1234.56")
    # 15 significant digits, the most every supported database stores exactly.
    assert golden_of("erp", "customer", "C-3").credit_limit == Decimal("1234567890123.45")
    assert SourceRecord.objects.get(source_id="C-3").payload["credit_limit"] == "1234567890123.45"


def test_unknown_columns_are_ignored_with_one_warning(tmp_path, erp):
    path = write(
        tmp_path,
        "export.csv",
        "source_id,name,legacy_code,city,notes\nC-1,Acme,X9,Berlin,call back\nC-2,B,X8,Rome,\n",
    )
    out, err = run(path, system="erp", domain="customer")
    assert counts(out)["created"] == 2
    warnings = [line for line in err.splitlines() if line.strip()]
    assert len(warnings) == 1
    assert "legacy_code" in warnings[0]
    assert "notes" in warnings[0]
    assert SourceRecord.objects.get(source_id="C-1").payload == {"name": "Acme", "city": "Berlin"}


def test_invalid_values_are_rejected_and_valid_rows_written(tmp_path, erp):
    path = write(
        tmp_path,
        "items.csv",
        "source_id,sku,gtin,name\n"
        "I-1,A-100,036000291452,Widget\n"
        "I-2,A-200,036000291453,Bad check digit\n"
        "I-3,A-300,,Gadget\n",
    )
    out, _, _ = run_failing(path, system="erp", domain="item", match="^1 records rejected$")
    assert set(Item.objects.values_list("sku", flat=True)) == {"A-100", "A-300"}
    assert not SourceRecord.objects.filter(source_id="I-2").exists()
    assert counts(out)["created"] == 2
    assert counts(out)["rejected"] == 1
    assert "line 3, source_id 'I-2':" in out
    assert "gtin: invalid_gtin:" in out


def test_invalid_country_rejected(tmp_path, erp):
    path = write(
        tmp_path,
        "customers.csv",
        "source_id,name,country\nC-1,Acme,Germany\nC-2,Nowhere Ltd,Atlantis\nC-3,,US\n",
    )
    out, _, _ = run_failing(path, system="erp", domain="customer", match="2 records rejected")
    assert golden_of("erp", "customer", "C-1").country == "DE"
    assert "country: invalid_country:" in out
    assert "line 4, source_id 'C-3':" in out
    assert "name: required:" in out


BARE_TAX_IDS = (
    "source_id,name,tax_id,country\n"
    "C-1,Nordwind Handel AG,811907980,\n"
    "C-2,Nordwind Handel AG,811907980,DE\n"
    "C-3,Bad,811907980,Atlantis\n"
)


@pytest.mark.parametrize("on_error", ["reject_failed", "reject_all"])
def test_rows_with_warnings_are_listed_under_both_policies(tmp_path, erp, on_error):
    """A bare tax id without any country is written (unless reject_all rolls the file back) and
    listed with its warning; a row's own error is no warning."""
    path = write(tmp_path, "customers.csv", BARE_TAX_IDS)
    rejected = "^1 records rejected$" if on_error == "reject_failed" else "^3 records rejected"
    out, _, _ = run_failing(
        path, system="erp", domain="customer", on_error=on_error, match=rejected
    )
    assert "Rows with warnings (all):" in out
    assert "line 2, source_id 'C-1':" in out
    assert "tax_id: tax_id_without_country: '811907980' has no country" in out
    assert "line 3, source_id 'C-2':" not in out
    assert out.count("tax_id_without_country") == 1
    if on_error == "reject_failed":
        assert golden_of("erp", "customer", "C-1").tax_id == "811907980"
    else:
        assert not SourceRecord.objects.exists()


def test_the_systems_default_country_leaves_no_warning(tmp_path, erp):
    erp.default_country = "DE"
    erp.save()
    path = write(tmp_path, "customers.csv", BARE_TAX_IDS.rsplit("C-3", 1)[0])
    out, _ = run(path, system="erp", domain="customer")
    assert "warnings" not in out
    assert counts(out)["created"] == 1 and counts(out)["linked"] == 1
    assert golden_of("erp", "customer", "C-1").tax_id == "DE811907980"


def test_reject_all_writes_nothing(tmp_path, erp):
    path = write(
        tmp_path,
        "items.csv",
        "source_id,sku,gtin\nI-1,A-100,036000291452\nI-2,A-200,036000291453\nI-3,A-300,\n",
    )
    out, _, _ = run_failing(
        path,
        system="erp",
        domain="item",
        on_error="reject_all",
        batch_size=2,  # the valid first batch is rolled back too: the file is all or nothing
        match=r"3 records rejected \(1 not valid\); nothing was written",
    )
    assert Item.objects.count() == 0
    assert SourceRecord.objects.count() == 0
    assert Item.history.count() == 0
    assert counts(out)["created"] == 0
    assert counts(out)["rejected"] == 3
    assert "Nothing was written" in out
    assert "line 3, source_id 'I-2':" in out


def test_reject_all_with_a_valid_file_writes_everything(tmp_path, erp):
    path = write(tmp_path, "items.csv", "source_id,sku\nI-1,A-100\nI-2,A-200\nI-3,A-300\n")
    out, _ = run(path, system="erp", domain="item", on_error="reject_all", batch_size=2)
    assert Item.objects.count() == 3
    assert counts(out)["created"] == 3


PRODUCTS = [
    "Claw hammer", "Pipe wrench", "Safety goggles", "Nitrile gloves", "Cable ties",
    "Duct tape", "Shop towels", "Floor squeegee", "Extension cord", "Circuit breaker",
    "Ball valve", "Wire stripper", "Utility knife", "Spray lubricant", "Hard hat",
    "Ear plugs", "Mop bucket", "Trash liners", "Hand soap", "Paper cups",
    "Ladder", "Padlock", "Flashlight", "Zip bags", "Work boots",
]  # fmt: skip


def test_errors_out_has_every_rejected_row(tmp_path, erp):
    # Distinct products (not variants of one family, which the matcher must tell apart on its
    # own: tests/matching/test_online.py pins that).
    rows = ["source_id,sku,gtin,name"] + [
        f"I-{n},SKU-{n},{'036000291452' if n == 1 else '12345'},{PRODUCTS[n - 1]}"
        for n in range(1, 26)
    ]
    path = write(tmp_path, "items.csv", "\n".join(rows) + "\n")
    errors = tmp_path / "errors.jsonl"
    out, _, _ = run_failing(
        path, system="erp", domain="item", errors_out=errors, match="24 records rejected"
    )
    assert Item.objects.count() == 1
    entries = [json.loads(line) for line in errors.read_text().splitlines()]
    assert len(entries) == 24  # all of them, not only the 20 shown
    assert entries[0] == {
        "line": 3,
        "source_id": "I-2",
        "errors": [
            {
                "field": "gtin",
                "code": "invalid_gtin",
                "message": "'12345' is not a GTIN-8, -12, -13 or -14.",
            }
        ],
        "record": {"source_id": "I-2", "sku": "SKU-2", "gtin": "12345", "name": PRODUCTS[1]},
    }
    assert [e["line"] for e in entries] == list(range(3, 27))
    assert "Rejected rows (first 20 of 24):" in out
    assert out.count(": invalid_gtin:") == 20
    assert f"24 rejected rows written to {errors}" in out

    # The steward fixes the records and imports them again.
    fixed = tmp_path / "fixed.jsonl"
    fixed.write_text(
        "".join(json.dumps({**e["record"], "gtin": None}) + "\n" for e in entries),
        encoding="utf-8",
    )
    out, _ = run(fixed, system="erp", domain="item")
    assert counts(out)["created"] == 24


def test_jsonl_with_malformed_lines(tmp_path, erp):
    path = write(
        tmp_path,
        "customers.jsonl",
        '{"source_id": "C-1", "name": "Acme", "credit_limit": 10.5}\n'
        "\n"
        '{"source_id": "C-2", "name": "Trunc\n'
        '["not", "an", "object"]\n'
        '{"source_id": "C-3", "name": "Globex", "crm_id": "0015g"}\r\n'
        "   \n",
    )
    errors = tmp_path / "errors.jsonl"
    out, err, _ = run_failing(
        path,
        system="erp",
        domain="customer",
        errors_out=errors,
        match="2 records rejected",
    )
    assert set(Customer.objects.values_list("name", flat=True)) == {"Acme", "Globex"}
    assert golden_of("erp", "customer", "C-1").credit_limit == Decimal("10.5")
    assert counts(out)["created"] == 2
    assert counts(out)["rejected"] == 2
    assert "line 3, source_id (none):" in out
    assert "non_field: malformed_json: Not valid JSON" in out
    assert "line 4, source_id (none):" in out
    assert "Expected a JSON object, not an array." in out
    # Keys that are not attributes are ignored, with one warning.
    assert "crm_id" in err
    assert len(err.strip().splitlines()) == 1

    entries = [json.loads(line) for line in errors.read_text().splitlines()]
    assert [(e["line"], e["errors"][0]["code"], e["record"]) for e in entries] == [
        (3, "malformed_json", None),
        (4, "malformed_json", None),
    ]
    assert entries[0]["raw"] == '{"source_id": "C-2", "name": "Trunc'


def test_reimport_is_unchanged(tmp_path, erp):
    csv_path = write(tmp_path, "customers.csv", CUSTOMERS)
    run(csv_path, system="erp", domain="customer")
    history = Customer.history.count(), SourceRecord.history.count()

    out, _ = run(csv_path, system="erp", domain="customer")
    assert counts(out) == {
        "created": 0,
        "linked": 0,
        "updated": 0,
        "unchanged": 2,
        "stale": 0,
        "rejected": 0,
    }
    assert (Customer.history.count(), SourceRecord.history.count()) == history

    jsonl = write(
        tmp_path,
        "customers.jsonl",
        '{"source_id": "J-1", "name": "A", "credit_limit": 99.95, "credit_hold": false}\n',
    )
    run(jsonl, system="erp", domain="customer")
    out, _ = run(jsonl, system="erp", domain="customer")
    assert counts(out)["unchanged"] == 1


def test_updates_and_stale_rows(tmp_path, erp):
    header = "source_id,name,city,source_updated_at\n"
    write(tmp_path, "a.csv", header + "C-1,Acme,Berlin,2024-05-01T10:00:00Z\n")
    run(tmp_path / "a.csv", system="erp", domain="customer")
    write(
        tmp_path,
        "b.csv",
        header + "C-1,Acme,Hamburg,2024-06-01T10:00:00Z\nC-2,New,Rome,\n",
    )
    out, _ = run(tmp_path / "b.csv", system="erp", domain="customer")
    assert (counts(out)["updated"], counts(out)["created"]) == (1, 1)
    write(tmp_path, "c.csv", header + "C-1,Acme,Munich,2024-01-01T00:00:00Z\n")
    out, _ = run(tmp_path / "c.csv", system="erp", domain="customer")
    assert counts(out)["stale"] == 1
    assert golden_of("erp", "customer", "C-1").city == "Hamburg"


def test_csv_with_bom(tmp_path, erp):
    path = write(
        tmp_path, "excel.csv", "source_id,name,city\r\nC-1,Müller AG,Köln\r\n", "utf-8-sig"
    )
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    out, err = run(path, system="erp", domain="customer")
    assert counts(out)["created"] == 1
    assert err == ""
    golden = golden_of("erp", "customer", "C-1")
    assert (golden.name, golden.city) == ("Müller AG", "Köln")


def test_jsonl_with_bom(tmp_path, erp):
    path = write(tmp_path, "c.jsonl", '{"source_id": "C-1", "name": "Acme"}\n', "utf-8-sig")
    out, _ = run(path, system="erp", domain="customer")
    assert counts(out)["created"] == 1


def test_not_utf8_stops_with_the_line(tmp_path, erp):
    path = tmp_path / "latin1.csv"
    path.write_bytes("source_id,name\nC-1,Acme\nC-2,Müller\nC-3,Z\n".encode("latin-1"))
    out, _, _ = run_failing(
        path, system="erp", domain="customer", match=r"latin1.csv: line 3: not UTF-8"
    )
    assert list(SourceRecord.objects.values_list("source_id", flat=True)) == ["C-1"]
    assert counts(out)["created"] == 1


def test_line_numbers_count_multiline_cells(tmp_path, erp):
    path = write(
        tmp_path,
        "items.csv",
        'source_id,sku,description,gtin\nI-1,A,"two\nlines",\n\nI-2,B,,1\n',
    )
    out, _, _ = run_failing(path, system="erp", domain="item", match="1 records rejected")
    assert "line 5, source_id 'I-2':" in out
    assert Item.objects.get().description == "two\nlines"


def test_row_with_too_many_fields(tmp_path, erp):
    path = write(tmp_path, "c.csv", "source_id,name\nC-1,Acme, Inc.\nC-2,Globex,\n")
    out, _, _ = run_failing(path, system="erp", domain="customer", match="1 records rejected")
    assert "line 2, source_id (none):" in out
    assert "malformed_csv: The row has 3 fields; the header has 2." in out
    assert golden_of("erp", "customer", "C-2").name == "Globex"  # a trailing empty cell is fine


def test_duplicate_source_id_in_one_batch(tmp_path, erp):
    path = write(tmp_path, "c.csv", "source_id,name\nC-1,First\nC-1,Second\n")
    out, _, _ = run_failing(path, system="erp", domain="customer", match="1 records rejected")
    assert "source_id: duplicate_source_id:" in out
    assert golden_of("erp", "customer", "C-1").name == "First"


def test_batches(tmp_path, erp):
    rows = "".join(f"C-{n},Customer {n}\n" for n in range(7))
    path = write(tmp_path, "c.csv", "source_id,name\n" + rows)
    out, _ = run(path, system="erp", domain="customer", batch_size=3)
    assert counts(out)["created"] == 7
    assert Customer.objects.count() == 7


def test_stdin(erp):
    data = io.BytesIO(b"\xef\xbb\xbfsource_id,name\nC-1,Acme\n")
    out, _ = run("-", system="erp", domain="customer", format="csv", stdin=data)
    assert counts(out)["created"] == 1
    assert "stdin: 1 rows" in out
    assert golden_of("erp", "customer", "C-1").history.get().history_change_reason == (
        "import_records: import stdin"
    )

    text = io.StringIO('{"source_id": "C-2", "name": "Globex"}\n')
    out, _ = run("-", system="erp", domain="customer", format="jsonl", stdin=text)
    assert counts(out)["created"] == 1

    run_failing("-", system="erp", domain="customer", match="needs --format")


def test_gzip(tmp_path, erp):
    path = tmp_path / "c.jsonl.gz"
    with gzip.open(path, "wt", encoding="utf-8") as f:
        f.write('{"source_id": "C-1", "name": "Acme"}\n')
    out, _ = run(path, system="erp", domain="customer")
    assert counts(out)["created"] == 1


def test_format_option_and_extension(tmp_path, erp):
    path = write(tmp_path, "export.txt", '{"source_id": "C-1", "name": "Acme"}\n')
    run_failing(path, system="erp", domain="customer", match="Cannot tell the format")
    out, _ = run(path, system="erp", domain="customer", format="jsonl")
    assert counts(out)["created"] == 1
    write(tmp_path, "e.ndjson", '{"source_id": "C-2", "name": "Globex"}\n')
    out, _ = run(tmp_path / "e.ndjson", system="erp", domain="customer")
    assert counts(out)["created"] == 1


def test_unknown_system_and_domain(tmp_path, erp):
    path = write(tmp_path, "c.csv", CUSTOMERS)
    run_failing(path, system="sap", domain="customer", match="Unknown source system 'sap'")
    _, _, error = run_failing(path, system="erp", domain="vendor", match="Unknown domain 'vendor'")
    assert "customer, item, location, price" in str(error)
    assert SourceRecord.objects.count() == 0


def test_inactive_system(tmp_path, erp):
    erp.active = False
    erp.save()
    path = write(tmp_path, "c.csv", CUSTOMERS)
    run_failing(path, system="erp", domain="customer", match="inactive")


def test_bad_arguments_and_files(tmp_path, erp):
    path = write(tmp_path, "c.csv", CUSTOMERS)
    run_failing(path, system="erp", domain="customer", batch_size=1001, match="--batch-size")
    run_failing(path, system="erp", domain="customer", batch_size=0, match="--batch-size")
    run_failing(tmp_path / "missing.csv", system="erp", domain="customer", match="Cannot open")
    write(tmp_path, "empty.csv", "")
    run_failing(tmp_path / "empty.csv", system="erp", domain="customer", match="is empty")
    write(tmp_path, "noid.csv", "id,name\n1,Acme\n")
    run_failing(tmp_path / "noid.csv", system="erp", domain="customer", match="no source_id")
    write(tmp_path, "dup.csv", "source_id,name,name\n1,A,B\n")
    run_failing(tmp_path / "dup.csv", system="erp", domain="customer", match="more than once")


def test_empty_jsonl_file(tmp_path, erp):
    path = write(tmp_path, "empty.jsonl", "")
    out, _ = run(path, system="erp", domain="customer")
    assert "0 rows" in out


def test_prices_refer_to_items_by_source_id_in_any_order(tmp_path, erp):
    write(
        tmp_path,
        "prices.csv",
        "source_id,item,price_list,currency,unit_price,min_quantity,valid_from,valid_to\n"
        "P-1,I-1,LIST,EUR,19.9900,1,2024-01-01,2024-12-31\n"
        "P-2,I-1,LIST,EUR,17.5,10,2024-01-01,\n"
        "P-3,I-1,LIST,EUR,1.00,1,2024-06-01,2024-05-01\n",
    )
    out, _, _ = run_failing(
        tmp_path / "prices.csv", system="erp", domain="price", match="1 records rejected"
    )
    assert "valid_to: valid_to_before_valid_from:" in out
    assert counts(out)["created"] == 2  # waiting for item I-1

    write(tmp_path, "items.csv", "source_id,sku,name\nI-1,A-100,Widget\n")
    run(tmp_path / "items.csv", system="erp", domain="item")
    item = golden_of("erp", "item", "I-1")
    price = golden_of("erp", "price", "P-1")
    assert price.item_id == item.pk
    assert price.unit_price == Decimal("19.99")
    assert (price.valid_from.isoformat(), price.valid_to.isoformat()) == (
        "2024-01-01",
        "2024-12-31",
    )
    assert golden_of("erp", "price", "P-2").min_quantity == 10


@pytest.mark.parametrize("on_error", ["reject_failed", "reject_all"])
def test_a_database_error_stops_the_import(tmp_path, erp, monkeypatch, on_error):
    calls = []
    ingest_batch = import_records.ingest_batch

    def flaky(*args, **kwargs):
        calls.append(1)
        if len(calls) == 2:
            raise OperationalError("database is locked")
        return ingest_batch(*args, **kwargs)

    monkeypatch.setattr(import_records, "ingest_batch", flaky)
    rows = "".join(f"C-{n},Customer {n}\n" for n in range(5))
    path = write(tmp_path, "c.csv", "source_id,name\n" + rows)
    match = "the batch starting at line 4 failed: database is locked"
    out, _, error = run_failing(
        path, system="erp", domain="customer", batch_size=2, on_error=on_error, match=match
    )
    if on_error == "reject_failed":
        assert "the 2 rows before it were processed" in str(error)
        assert Customer.objects.count() == 2
        assert counts(out)["created"] == 2
    else:
        assert "nothing was written" in str(error)
        assert Customer.objects.count() == 0
        assert counts(out)["created"] == 0
