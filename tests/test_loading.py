"""Loading company data: what a valid dataset gives, and what each bad input says."""

from __future__ import annotations

import hashlib
import io

import numpy as np
import pandas as pd
import pytest

import kamlib
from kamlib import DatasetError, load_dataset

from .conftest import ACCOUNTS, TRANSACTIONS


def problems_of(root) -> list[str]:
    with pytest.raises(DatasetError) as info:
        load_dataset(root)
    return [str(p) for p in info.value.problems]


# --- valid datasets ---------------------------------------------------------------


def test_folder_by_convention_loads_with_model_types(make_dataset, good_files):
    ds = load_dataset(make_dataset(good_files))
    tx = ds.transactions
    assert list(tx["amount"]) == [1000.0, 500.0, 250.5, -50.0]
    assert tx["date"].iloc[0] == pd.Timestamp("2025-01-15")
    assert pd.api.types.is_datetime64_any_dtype(tx["date"])
    # margin is derived from cost when only cost is given: amount - cost, worked by hand
    assert list(tx["margin"]) == [400.0, 200.0, 50.5, -20.0]
    acc = ds.get("accounts").set_index("account_id")
    assert acc.loc["A1", "is_prestige"] is np.True_ or acc.loc["A1", "is_prestige"] == True  # noqa: E712
    assert acc.loc["A2", "is_prestige"] == False  # noqa: E712
    assert pd.isna(acc.loc["A3", "is_prestige"])
    assert ds.get("contacts") is None and not ds.has("contacts")


def test_missing_table_sentence_names_table(make_dataset, good_files):
    ds = load_dataset(make_dataset(good_files))
    note = ds.missing_note("contacts", "the decision-making unit")
    assert "no `contacts` table" in note and "decision-making unit" in note


def test_unknown_table_name_in_get_is_an_error(make_dataset, good_files):
    ds = load_dataset(make_dataset(good_files))
    with pytest.raises(KeyError, match="not a table of the model"):
        ds.get("customers")


def test_kam_yaml_maps_columns_and_reads_awkward_csv(make_dataset):
    text = (
        "Umsatzliste 2025\n"
        "Kunde;Datum;Betrag;Menge;Notiz\n"
        "K1;31.01.2025;1.234,56;10,5;Müller\n"
        "K1;01.02.2025;-99,90;-1;\n"
        "K2;15.03.2025;12,00;1;Grüße\n"
    ).encode("latin-1")
    root = make_dataset(
        {"umsatz.csv": text},
        """\
        name: Awkward GmbH
        tables:
          transactions:
            file: umsatz.csv
            encoding: latin-1
            delimiter: ";"
            decimal: ","
            thousands: "."
            date_format: "%d.%m.%Y"
            skip_rows: 1
            columns: {account_id: Kunde, date: Datum, amount: Betrag, quantity: Menge}
        """,
    )
    ds = load_dataset(root)
    tx = ds.transactions
    assert ds.name == "Awkward GmbH"
    assert list(tx["amount"]) == [1234.56, -99.90, 12.0]
    assert list(tx["quantity"]) == [10.5, -1.0, 1.0]
    assert list(tx["date"].dt.strftime("%Y-%m-%d")) == ["2025-01-31", "2025-02-01", "2025-03-15"]
    assert ds.ignored_columns["transactions"] == ("Notiz",)


@pytest.mark.parametrize("delimiter", [";", "\t", "|", ","])
def test_any_delimiter_is_detected(make_dataset, delimiter):
    text = TRANSACTIONS.replace(",", delimiter)
    ds = load_dataset(make_dataset({"transactions.csv": text}))
    assert ds.transactions["amount"].sum() == pytest.approx(1700.5)


def test_utf8_bom_is_read(make_dataset):
    data = ("\ufeff" + ACCOUNTS.replace("Alpha GmbH", "Müller & Söhne")).encode("utf-8")
    root = make_dataset({"transactions.csv": TRANSACTIONS, "accounts.csv": data})
    acc = load_dataset(root).get("accounts")
    assert acc.columns[0] == "account_id"
    assert acc.loc[0, "name"] == "Müller & Söhne"


def test_excel_sheet_and_parquet(make_dataset, tmp_path):
    root = make_dataset({}, None)
    tx = pd.read_csv(io.StringIO(TRANSACTIONS))
    with pd.ExcelWriter(root / "erp.xlsx") as writer:
        pd.DataFrame({"x": [1]}).to_excel(writer, sheet_name="Cover", index=False)
        tx.to_excel(writer, sheet_name="Lines", index=False)
    pd.read_csv(io.StringIO(ACCOUNTS)).to_parquet(root / "accounts.parquet")
    (root / "kam.yaml").write_text(
        "tables:\n  transactions: {file: erp.xlsx, sheet: Lines}\n  accounts: accounts.parquet\n",
        encoding="utf-8",
    )
    ds = load_dataset(root)
    assert ds.transactions["amount"].sum() == pytest.approx(1700.5)
    assert ds.transactions["account_id"].tolist() == ["A1", "A1", "A2", "A3"]
    assert len(ds.get("accounts")) == 3


def test_yaml_file_as_dataset(make_dataset, good_files):
    root = make_dataset(good_files, "tables:\n  transactions: transactions.csv\n")
    (root / "kam.yaml").rename(root / "company.yaml")
    ds = load_dataset(root / "company.yaml")
    assert len(ds.transactions) == 4 and not ds.has("accounts")


def test_source_files_are_never_written(make_dataset, good_files):
    root = make_dataset(good_files)
    before = {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in root.iterdir()
    }
    load_dataset(root)
    after = {
        p.name: (hashlib.sha256(p.read_bytes()).hexdigest(), p.stat().st_mtime_ns)
        for p in root.iterdir()
    }
    assert before == after


def test_category_values_are_translated(make_dataset, good_files):
    contacts = "contact_id,account_id,role,influence\nC1,A1,Entscheider,5\nC2,A1,Einkauf,3\nC3,A2,Decision Maker,4\n"
    root = make_dataset(
        {**good_files, "contacts.csv": contacts},
        """\
        tables:
          transactions: transactions.csv
          accounts: accounts.csv
          contacts:
            file: contacts.csv
            values: {role: {Entscheider: decision_maker, Einkauf: buyer}}
        """,
    )
    roles = load_dataset(root).get("contacts")["role"].tolist()
    assert roles == ["decision_maker", "buyer", "decision_maker"]


# --- bad inputs: each with its message --------------------------------------------


def test_error_is_a_value_error_and_lists_every_problem(make_dataset):
    tx = TRANSACTIONS.replace("2025-02-15", "15.02.2025").replace("250.50", '"250,50"')
    root = make_dataset({"transactions.csv": tx, "accounts.csv": ACCOUNTS.replace("A3,", "A9,")})
    with pytest.raises(ValueError) as info:
        load_dataset(root)
    assert isinstance(info.value, DatasetError)
    text = str(info.value)
    assert "has 3 problems" in text
    assert (
        "is not a date" in text and "is not a number" in text and "not found in `accounts`" in text
    )


def test_missing_required_column_lists_found_and_closest(make_dataset):
    tx = TRANSACTIONS.replace("account_id", "Account ID")
    (msg,) = problems_of(make_dataset({"transactions.csv": tx}))
    assert "transactions.csv: required column `account_id` is missing" in msg
    assert "Columns found: 'Account ID', 'date', 'amount'" in msg
    assert "closest match: 'Account ID'" in msg
    assert "columns: {account_id: 'Account ID'}" in msg


def test_mapped_column_that_is_not_in_the_file(make_dataset):
    root = make_dataset(
        {"tx.csv": TRANSACTIONS},
        "tables:\n  transactions:\n    file: tx.csv\n    columns: {amount: Umsatz}\n",
    )
    (msg,) = problems_of(root)
    assert "required column `amount` (mapped from 'Umsatz') is missing" in msg


def test_unparseable_dates_name_rows_and_hint_day_first(make_dataset):
    tx = TRANSACTIONS.replace("2025-02-15", "15.02.2025").replace("2025-03-01", "01.03.2025")
    (msg,) = problems_of(make_dataset({"transactions.csv": tx}))
    # header is row 1, so the 2nd and 4th data lines are rows 3 and 5
    assert (
        "transactions.csv, column 'date' (transactions.date): 2 values are not dates — rows 3, 5"
        in msg
    )
    assert "'15.02.2025', '01.03.2025'" in msg
    assert 'date_format: "%d.%m.%Y"' in msg


def test_dates_not_matching_the_given_format(make_dataset):
    root = make_dataset(
        {"tx.csv": TRANSACTIONS},
        'tables:\n  transactions: {file: tx.csv, date_format: "%d.%m.%Y"}\n',
    )
    (msg,) = problems_of(root)
    assert "4 values are not dates — rows 2, 3, 4, 5" in msg
    assert "do not match date_format '%d.%m.%Y'" in msg


def test_unparseable_numbers_hint_decimal_comma(make_dataset):
    tx = TRANSACTIONS.replace("1000.00", '"1.234,56"').replace("250.50", '"250,50"')
    (msg,) = problems_of(make_dataset({"transactions.csv": tx}))
    assert (
        "column 'amount' (transactions.amount): 2 values are not numbers — rows 2, 4: '1.234,56', '250,50'"
        in msg
    )
    assert 'decimal: ","' in msg and 'thousands: "."' in msg


def test_text_in_a_number_column(make_dataset):
    tx = TRANSACTIONS.replace("250.50", "n/a")
    (msg,) = problems_of(make_dataset({"transactions.csv": tx}))
    assert "1 value is not a number — row 4: 'n/a'" in msg


def test_duplicate_keys(make_dataset):
    acc = ACCOUNTS + "A2,Beta Copy AG,CH,no\n"
    (msg,) = problems_of(make_dataset({"transactions.csv": TRANSACTIONS, "accounts.csv": acc}))
    assert (
        "accounts.csv: key account_id of `accounts` is not unique — 1 duplicated ('A2') in rows 3, 5"
        in msg
    )


def test_transactions_of_unknown_accounts(make_dataset):
    tx = TRANSACTIONS + "A7,2025-04-01,10.00,1,5.00,P1,R5\nA8,2025-04-02,10.00,1,5.00,P1,R6\n"
    (msg,) = problems_of(make_dataset({"transactions.csv": tx, "accounts.csv": ACCOUNTS}))
    assert (
        "transactions.csv, column 'account_id': 2 account_id values of `transactions` not found in"
        in msg
    )
    assert "'A7', 'A8' — rows 6, 7" in msg
    assert "leading zeros" in msg


def test_empty_table(make_dataset):
    root = make_dataset({"transactions.csv": TRANSACTIONS, "accounts.csv": "account_id,name\n"})
    (msg,) = problems_of(root)
    assert "accounts.csv: table `accounts` is empty (a header, no rows)" in msg


def test_missing_required_values(make_dataset):
    tx = TRANSACTIONS.replace("A2,2025-01-20", ",2025-01-20")
    (msg,) = problems_of(make_dataset({"transactions.csv": tx}))
    assert "required value missing in row 4" in msg


def test_unknown_table_and_column_names_in_kam_yaml(make_dataset, good_files):
    root = make_dataset(
        good_files,
        """\
        tables:
          transactions:
            file: transactions.csv
            columns: {amout: amount}
          acounts: accounts.csv
          customers: accounts.csv
        """,
    )
    msgs = problems_of(root)
    assert len(msgs) == 3
    assert any(
        "maps 'amout', which is not a column of `transactions`" in m
        and "did you mean 'amount'" in m
        for m in msgs
    )
    assert any("unknown table 'acounts'" in m and "did you mean 'accounts'" in m for m in msgs)
    assert any(
        "unknown table 'customers'" in m and "The model's tables are: transactions, accounts" in m
        for m in msgs
    )


def test_unknown_setting_in_kam_yaml(make_dataset, good_files):
    root = make_dataset(
        good_files, "tables:\n  transactions: {file: transactions.csv, delimeter: ';'}\n"
    )
    (msg,) = problems_of(root)
    assert (
        "unknown setting 'delimeter' in tables.transactions" in msg
        and "did you mean 'delimiter'" in msg
    )


def test_file_that_does_not_exist(make_dataset, good_files):
    root = make_dataset(good_files, "tables:\n  transactions: transaction.csv\n")
    (msg,) = problems_of(root)
    assert "transaction.csv: file not found for table `transactions`" in msg
    assert "did you mean 'transactions.csv'?" in msg


def test_dataset_path_that_does_not_exist(tmp_path):
    with pytest.raises(DatasetError, match="no such file or folder"):
        load_dataset(tmp_path / "nowhere")


def test_folder_without_transactions(make_dataset):
    (msg,) = problems_of(make_dataset({"accounts.csv": ACCOUNTS}))
    assert "no `transactions` table" in msg


def test_latin1_file_read_as_utf8_hints_encoding(make_dataset):
    data = ACCOUNTS.replace("Alpha GmbH", "Müller GmbH").encode("latin-1")
    (msg,) = problems_of(make_dataset({"transactions.csv": TRANSACTIONS, "accounts.csv": data}))
    assert "accounts.csv: cannot be read as UTF-8" in msg and "encoding: latin-1" in msg


def test_wrong_excel_sheet_lists_sheets(make_dataset):
    root = make_dataset({})
    with pd.ExcelWriter(root / "erp.xlsx") as writer:
        pd.read_csv(io.StringIO(TRANSACTIONS)).to_excel(writer, sheet_name="Lines", index=False)
    (root / "kam.yaml").write_text(
        "tables:\n  transactions: {file: erp.xlsx, sheet: Umsatz}\n", encoding="utf-8"
    )
    (msg,) = problems_of(root)
    assert "no sheet 'Umsatz'. Sheets found: 'Lines'" in msg


def test_bad_category_boolean_and_range(make_dataset, good_files):
    contacts = "contact_id,account_id,role,influence\nC1,A1,Boss,5\nC2,A1,buyer,9\n"
    acc = ACCOUNTS.replace("A2,Beta AG,CH,no", "A2,Beta AG,CH,maybe")
    root = make_dataset(
        {"transactions.csv": TRANSACTIONS, "accounts.csv": acc, "contacts.csv": contacts}
    )
    msgs = problems_of(root)
    assert len(msgs) == 3
    assert any(
        "accounts.csv, column 'is_prestige'" in m and "not a yes/no value — row 3: 'maybe'" in m
        for m in msgs
    )
    assert any(
        "not one of decision_maker, influencer" in m and "'Boss'" in m and "values:" in m
        for m in msgs
    )
    assert any("column 'influence'" in m and "above 5 — row 3" in m for m in msgs)


def test_repeated_header_columns(make_dataset):
    tx = TRANSACTIONS.replace("quantity", "amount")
    (msg,) = problems_of(make_dataset({"transactions.csv": tx}))
    assert "the header has columns more than once" in msg


def test_long_lists_are_shortened(make_dataset):
    lines = "".join(f"X{i},2025-01-01,1.0,1,1,P1,R{i}\n" for i in range(12))
    (msg,) = problems_of(
        make_dataset({"transactions.csv": TRANSACTIONS + lines, "accounts.csv": ACCOUNTS})
    )
    assert "12 account_id values" in msg and "(7 more)" in msg and "(12 rows in all)" in msg


def test_sample_is_valid_and_has_every_table():
    ds = kamlib.load_sample()
    assert ds.summary()["present"].all()
    assert ds.transactions["account_id"].isin(ds.get("accounts")["account_id"]).all()


# --- readings that must not be silently wrong ------------------------------------


def test_yes_no_words_in_kam_yaml_stay_words(make_dataset):
    acc = "account_id,is_prestige,is_distributor\nA1,yes,on\nA2,nein,off\nA3,ja,no\n"
    root = make_dataset(
        {"transactions.csv": TRANSACTIONS, "accounts.csv": acc},
        """\
        tables:
          transactions: transactions.csv
          accounts:
            file: accounts.csv
            true_values: [yes, ja, on]
            false_values: [no, nein, off]
        """,
    )
    flags = load_dataset(root).get("accounts").set_index("account_id")
    assert flags["is_prestige"].tolist() == [True, False, True]
    assert flags["is_distributor"].tolist() == [True, False, False]


def test_decimal_comma_without_thousands_refuses_dotted_numbers(make_dataset):
    tx = "account_id;date;amount;quantity\nA1;2025-01-31;1500,00;1.500\nA1;2025-02-28;12,5;2\n"
    root = make_dataset({"tx.csv": tx}, 'tables:\n  transactions: {file: tx.csv, decimal: ","}\n')
    (msg,) = problems_of(root)
    assert (
        "column 'quantity' (transactions.quantity): 1 value is not a number — row 2: '1.500'" in msg
    )
    assert 'set `thousands: "."`' in msg


def test_blank_counts_as_false_when_listed(make_dataset):
    acc = "account_id,is_multinational\nA1,X\nA2,\nA3,\n"
    root = make_dataset(
        {"transactions.csv": TRANSACTIONS, "accounts.csv": acc},
        """\
        tables:
          transactions: transactions.csv
          accounts: {file: accounts.csv, true_values: [x], false_values: [""]}
        """,
    )
    assert load_dataset(root).get("accounts")["is_multinational"].tolist() == [True, False, False]


def test_excel_date_cells_ignore_date_format_text_cells_follow_it(make_dataset):
    root = make_dataset({})
    frame = pd.DataFrame(
        {
            "account_id": ["A1", "A1"],
            "date": [pd.Timestamp("2025-01-31"), "15.02.2025"],  # a real date cell and a text cell
            "amount": [10.0, 20.0],
        }
    )
    frame.to_excel(root / "tx.xlsx", index=False)
    (root / "kam.yaml").write_text(
        'defaults: {date_format: "%d.%m.%Y"}\ntables:\n  transactions: tx.xlsx\n', encoding="utf-8"
    )
    dates = load_dataset(root).transactions["date"].dt.strftime("%Y-%m-%d").tolist()
    assert dates == ["2025-01-31", "2025-02-15"]


def test_invalid_yaml_says_where_and_how_to_quote(make_dataset, good_files):
    root = make_dataset(
        good_files,
        "tables:\n  transactions:\n    file: transactions.csv\n    date_format: %d.%m.%Y\n",
    )
    (msg,) = problems_of(root)
    assert "kam.yaml: not valid YAML at line 4" in msg
    assert 'date_format: "%d.%m.%Y"' in msg


def test_dataset_named_after_its_folder_even_when_given_as_dot(
    make_dataset, good_files, monkeypatch
):
    root = make_dataset(good_files, folder="acme-export")
    monkeypatch.chdir(root)
    assert load_dataset(".").name == "acme-export"


def test_duplicate_two_column_key(make_dataset, good_files):
    comp = "account_id,competitor,estimated_share\nA1,Adhexa,0.2\nA1,Bondline,0.1\nA1,Adhexa,0.3\n"
    (msg,) = problems_of(make_dataset({**good_files, "competitors.csv": comp}))
    assert "key account_id + competitor of `competitors` is not unique" in msg
    assert "1 duplicated ('A1, Adhexa') in rows 2, 4" in msg
