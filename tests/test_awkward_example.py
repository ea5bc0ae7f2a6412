"""The awkward German ERP export in docs/examples/awkward-export (walk-through: docs/your-data.md).

The first tests check hand-computed values of the valid example; the rest break a
copy of it the way docs/your-data.md shows and check that the messages name the
file, the column, the rows and the fix.
"""

from __future__ import annotations

import hashlib
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

import kamlib

EXAMPLE = Path(__file__).parents[1] / "docs/examples/awkward-export"


@pytest.fixture(scope="module")
def ds() -> kamlib.Dataset:
    return kamlib.load_dataset(EXAMPLE)


def _line(tx: pd.DataFrame, invoice_id: str, product_id: str) -> pd.Series:
    rows = tx[(tx["invoice_id"] == invoice_id) & (tx["product_id"] == product_id)]
    assert len(rows) == 1, rows
    return rows.iloc[0]


# --- the valid example --------------------------------------------------------------


def test_example_loads_with_its_tables(ds):
    assert ds.name == "Klebwerk GmbH – ERP-Export (Beispiel)"
    assert ds.currency == "EUR"
    assert ds.quantity_unit == "kg"
    assert set(ds.tables) == {"transactions", "accounts", "contacts"}
    assert len(ds.transactions) == 32
    assert ds.transactions["account_id"].nunique() == 7
    assert len(ds.tables["accounts"]) == 7
    assert len(ds.tables["contacts"]) == 9


def test_german_numbers_are_read(ds):
    tx = ds.transactions
    line = _line(tx, "RE-24-0012", "KL-310")  # 120,000;1.234,56;802,40
    assert line["amount"] == pytest.approx(1234.56)
    assert line["quantity"] == pytest.approx(120.0)
    assert line["cost"] == pytest.approx(802.40)
    assert _line(tx, "RE-25-0008", "PU-720")["amount"] == pytest.approx(19750.0)  # 19.750,00
    assert tx["amount"].sum() == pytest.approx(145702.06)
    assert tx["cost"].sum() == pytest.approx(99858.25)


def test_quoted_cell_with_semicolon_keeps_the_columns_aligned(ds):
    # Bemerkung is "Rabatt 3 %; Jahresvereinbarung" (quoted, with the delimiter inside).
    line = _line(ds.transactions, "RE-24-0119", "PU-720")
    assert line["account_id"] == "10015"
    assert line["amount"] == pytest.approx(15800.0)
    assert line["cost"] == pytest.approx(10400.0)


def test_credit_note_is_negative(ds):
    credit = _line(ds.transactions, "GS-25-0003", "PU-720")  # -250,000;-1.975,00;-1.300,00
    assert credit["amount"] == pytest.approx(-1975.0)
    assert credit["quantity"] == pytest.approx(-250.0)
    assert credit["cost"] == pytest.approx(-1300.0)
    assert credit["margin"] == pytest.approx(-675.0)
    assert credit["date"] == pd.Timestamp("2025-02-21")


def test_margin_is_amount_minus_cost(ds):
    tx = ds.transactions
    assert (tx["margin"] - (tx["amount"] - tx["cost"])).abs().max() < 1e-9
    assert _line(tx, "RE-24-0012", "KL-310")["margin"] == pytest.approx(432.16)
    assert tx["margin"].sum() == pytest.approx(145702.06 - 99858.25)


def test_dates_are_day_first(ds):
    tx = ds.transactions
    assert pd.api.types.is_datetime64_any_dtype(tx["date"])
    # 06.02.2024 is the 6th of February, not the 2nd of June.
    assert _line(tx, "RE-24-0031", "KL-200")["date"] == pd.Timestamp("2024-02-06")
    assert _line(tx, "RE-24-0119", "PU-720")["date"] == pd.Timestamp("2024-04-30")
    assert tx["date"].min() == pd.Timestamp("2024-01-15")
    assert tx["date"].max() == pd.Timestamp("2025-12-16")
    accounts = ds.tables["accounts"].set_index("account_id")
    assert accounts.loc["10015", "first_order_date"] == pd.Timestamp("2005-05-03")
    contacts = ds.tables["contacts"].set_index("contact_id")
    assert contacts.loc["KP-0101", "last_contact"] == pd.Timestamp("2025-11-14")


def test_accounts_text_numbers_and_flags(ds):
    acc = ds.tables["accounts"].set_index("account_id")
    # Latin-1 text decoded correctly.
    assert acc.loc["10013", "name"] == "Société Générale d'Emballage SA"
    assert acc.loc["10015", "name"] == "Weiß Möbelwerke AG"
    assert acc.loc["10010", "region"] == "Süd"
    # Thousands dots: 1.250 and 185.000.000.
    assert acc.loc["10010", "headcount"] == 1250
    assert acc.loc["10010", "annual_sales"] == pytest.approx(185_000_000)
    # Händler: ja/nein.
    assert bool(acc.loc["10014", "is_distributor"]) is True
    assert bool(acc.loc["10010", "is_distributor"]) is False
    # Konzern: X/empty; with "" among the false values, empty means no.
    assert bool(acc.loc["10010", "is_multinational"]) is True
    assert bool(acc.loc["10011", "is_multinational"]) is False
    # Referenzkunde: J/N, via true_values/false_values.
    assert bool(acc.loc["10010", "is_prestige"]) is True
    assert bool(acc.loc["10011", "is_prestige"]) is False
    assert acc["is_prestige"].notna().all()


def test_contact_roles_are_translated(ds):
    contacts = ds.tables["contacts"].set_index("contact_id")
    assert contacts["role"].to_dict() == {
        "KP-0101": "decision_maker",
        "KP-0102": "buyer",
        "KP-0103": "user",
        "KP-0201": "decision_maker",
        "KP-0301": "buyer",
        "KP-0302": "influencer",
        "KP-0501": "decision_maker",
        "KP-0502": "buyer",
        "KP-0503": "champion",
    }
    assert contacts.loc["KP-0503", "name"] == "Mehmet Yılmaz"  # UTF-8 file
    assert contacts.loc["KP-0101", "attitude"] == 1  # "+1"
    assert contacts.loc["KP-0502", "attitude"] == -2
    assert contacts.loc["KP-0101", "influence"] == 5


def test_extra_columns_are_ignored(ds):
    assert dict(ds.ignored_columns) == {
        "transactions": ("Kundenname", "Vertreter", "Bemerkung"),
        "accounts": ("PLZ", "Ort"),
        "contacts": ("E-Mail",),
    }
    assert "Vertreter" not in ds.transactions.columns


def test_source_files_are_not_written():
    def digest() -> dict[str, str]:
        return {
            p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(EXAMPLE.iterdir())
        }

    before = digest()
    kamlib.load_dataset(EXAMPLE)
    assert digest() == before


# --- broken copies, as shown in docs/your-data.md -------------------------------


def _broken_copy(tmp_path: Path) -> Path:
    target = tmp_path / "awkward-export"
    shutil.copytree(EXAMPLE, target)
    return target


def _drop_setting(folder: Path, setting: str) -> None:
    """Remove the line ``setting ...`` (e.g. ``decimal:``) from kam.yaml."""
    path = folder / "kam.yaml"
    text = path.read_text(encoding="utf-8")
    new, n = re.subn(rf"^[ \t]*{re.escape(setting)}.*\n", "", text, flags=re.MULTILINE)
    assert n == 1, setting
    path.write_text(new, encoding="utf-8")


def _load_error(folder: Path) -> kamlib.DatasetError:
    with pytest.raises(kamlib.DatasetError) as info:
        kamlib.load_dataset(folder)
    return info.value


def test_forgotten_encoding(tmp_path):
    folder = _broken_copy(tmp_path)
    _drop_setting(folder, "encoding: latin-1")
    err = _load_error(folder)
    msg = str(err)
    assert "Umsatz.csv: cannot be read as UTF-8 (byte 263: b'\\xfc')" in msg
    assert "Kunden.csv: cannot be read as UTF-8" in msg
    assert "set `encoding: latin-1`" in msg
    assert {p.file for p in err.problems} == {"Umsatz.csv", "Kunden.csv"}


def test_forgotten_skip_rows(tmp_path):
    folder = _broken_copy(tmp_path)
    _drop_setting(folder, "skip_rows:")
    msg = str(_load_error(folder))
    assert "Umsatz.csv: cannot be read as a table" in msg
    assert "`skip_rows:`" in msg


def test_forgotten_decimal(tmp_path):
    folder = _broken_copy(tmp_path)
    _drop_setting(folder, "decimal:")
    err = _load_error(folder)
    msg = str(err)
    assert "Umsatz.csv, column 'Umsatz netto' (transactions.amount)" in msg
    assert "32 values are not numbers" in msg
    assert "rows 4, 5, 6, 7, 8 … (32 rows in all)" in msg
    assert "'1.234,56'" in msg
    assert 'set `decimal: ","` and `thousands: "."`' in msg
    assert "column 'Menge kg' (transactions.quantity)" in msg
    assert "column 'Einstandswert' (transactions.cost)" in msg
    first = err.problems[0]
    assert (first.file, first.table, first.column) == ("Umsatz.csv", "transactions", "amount")
    assert first.rows == (4, 5, 6, 7, 8)


def test_forgotten_date_format(tmp_path):
    folder = _broken_copy(tmp_path)
    _drop_setting(folder, "date_format:")
    err = _load_error(folder)
    msg = str(err)
    assert "Umsatz.csv, column 'Rechnungsdatum' (transactions.date): 32 values are not dates" in msg
    assert "'15.01.2024'" in msg
    assert 'set `date_format: "%d.%m.%Y"`' in msg
    assert "Kunden.csv, column 'Erstauftrag' (accounts.first_order_date)" in msg
    assert "Kontakte.csv, column 'Letzter Kontakt' (contacts.last_contact)" in msg
    assert err.problems[0].rows == (4, 5, 6, 7, 8)


def test_typo_in_column_name(tmp_path):
    folder = _broken_copy(tmp_path)
    yaml_path = folder / "kam.yaml"
    text = yaml_path.read_text(encoding="utf-8")
    assert "amount: Umsatz netto" in text
    yaml_path.write_text(text.replace("amount: Umsatz netto", "amount: Umsatz Netto"), "utf-8")
    err = _load_error(folder)
    msg = str(err)
    assert "Umsatz.csv: required column `amount` (mapped from 'Umsatz Netto') is missing" in msg
    assert "closest match: 'Umsatz netto'" in msg
    assert len(err.problems) == 1
    assert err.problems[0].column == "amount"


def test_customer_missing_from_customer_file(tmp_path):
    folder = _broken_copy(tmp_path)
    path = folder / "Kunden.csv"
    lines = path.read_bytes().decode("latin-1").splitlines(keepends=True)
    kept = [line for line in lines if not line.startswith("10016;")]
    assert len(kept) == len(lines) - 1
    path.write_bytes("".join(kept).encode("latin-1"))
    err = _load_error(folder)
    msg = str(err)
    assert "Umsatz.csv, column 'Kundennr'" in msg
    assert "not found in `accounts` (Kunden.csv): '10016' — rows 12, 20, 26, 34." in msg
    assert "add the missing rows to Kunden.csv" in msg
    assert len(err.problems) == 1
    assert err.problems[0].column == "account_id"
