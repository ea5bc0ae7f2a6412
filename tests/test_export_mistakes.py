"""Export mistakes of real files that `kam check` reads with an option, or names with its fix.

Each test writes the mistake as a real export has it (SAP's trailing minus, a currency
sign beside the amount, a title line above the header, the wrong delimiter, a UTF-8
file declared Latin-1, a file without a header row) and checks the message text.
"""

from __future__ import annotations

import pytest

from kamlib import DatasetError, load_dataset


def problems_of(root) -> list[str]:
    with pytest.raises(DatasetError) as info:
        load_dataset(root)
    return [str(p) for p in info.value.problems]


def _tx_yaml(options: str = "", columns: str = "") -> str:
    return (
        "tables:\n  transactions:\n    file: tx.csv\n"
        + "".join(f"    {line}\n" for line in options.splitlines() if line)
        + (f"    columns: {columns}\n" if columns else "")
    )


SAP = "account_id;date;amount\nA1;2025-01-15;2.770,00-\nA1;2025-01-16;1.234,56\nA2;2025-01-17;12,50-\n"
EURO = (
    "account_id;date;amount\nA1;2025-01-15;1.234,56 €\nA1;2025-01-16;€ 12,50\n"
    "A2;2025-01-17;EUR 1.234,56\nA2;2025-01-18;-7,00 EUR\n"
)
DECIMAL = 'decimal: ","\nthousands: "."\ndelimiter: ";"'


# --- 1. trailing minus and currency signs -----------------------------------------


def test_trailing_minus_is_refused_with_the_option_named(make_dataset):
    root = make_dataset({"tx.csv": SAP}, _tx_yaml(DECIMAL))
    (problem,) = problems_of(root)
    assert "2 values are not numbers" in problem and "'2.770,00-'" in problem
    assert "trailing minus" in problem and "`trailing_minus: true`" in problem


def test_trailing_minus_option_reads_negative_amounts(make_dataset):
    root = make_dataset({"tx.csv": SAP}, _tx_yaml(DECIMAL + "\ntrailing_minus: true"))
    assert load_dataset(root).transactions["amount"].tolist() == [-2770.0, 1234.56, -12.5]


def test_trailing_minus_in_defaults(make_dataset):
    yaml = "defaults:\n  trailing_minus: true\n" + _tx_yaml(DECIMAL)
    root = make_dataset({"tx.csv": SAP}, yaml)
    assert load_dataset(root).transactions["amount"].tolist() == [-2770.0, 1234.56, -12.5]


def test_currency_signs_are_refused_with_the_option_named(make_dataset):
    root = make_dataset({"tx.csv": EURO}, _tx_yaml(DECIMAL))
    (problem,) = problems_of(root)
    assert "4 values are not numbers" in problem and "'1.234,56 €'" in problem
    assert "currency" in problem and "`strip_currency: true`" in problem


def test_strip_currency_reads_the_amounts(make_dataset):
    root = make_dataset({"tx.csv": EURO}, _tx_yaml(DECIMAL + "\nstrip_currency: true"))
    amounts = load_dataset(root).transactions["amount"].tolist()
    assert amounts == [1234.56, 12.5, 1234.56, -7.0]


def test_both_options_together(make_dataset):
    text = "account_id,date,amount\nA1,2025-01-15,12.50 USD\nA1,2025-01-16,$ 3.00-\n"
    root = make_dataset(
        {"tx.csv": text}, _tx_yaml('delimiter: ","\nstrip_currency: true\ntrailing_minus: true')
    )
    assert load_dataset(root).transactions["amount"].tolist() == [12.5, -3.0]


def test_strip_currency_keeps_typed_nan_and_words_refused(make_dataset):
    text = "account_id,date,amount\nA1,2025-01-15,NAN\nA1,2025-01-16,ABC\nA1,2025-01-17,1.00\n"
    root = make_dataset({"tx.csv": text}, _tx_yaml("strip_currency: true"))
    problems = problems_of(root)
    assert any("not a finite number" in p and "'NAN'" in p for p in problems)
    assert any("not a number" in p and "'ABC'" in p for p in problems)


@pytest.mark.parametrize("key", ["trailing_minus", "strip_currency"])
def test_new_options_must_be_true_or_false(make_dataset, key):
    root = make_dataset({"tx.csv": SAP}, _tx_yaml(f"{key}: yes please"))
    problems = problems_of(root)
    assert any(f"tables.transactions.{key} must be true or false" in p for p in problems)


# --- 2. impossible dates ----------------------------------------------------------


def test_impossible_date_is_named_not_the_format_already_set(make_dataset):
    text = "account_id,date,amount\nA1,31/02/2011,1\nA1,15/03/2011,2\n"
    root = make_dataset({"tx.csv": text}, _tx_yaml('date_format: "%d/%m/%Y"'))
    (problem,) = problems_of(root)
    assert "'31/02/2011' is not a date (there is no 31 February)" in problem
    assert "need '%d/%m/%Y'" not in problem


def test_29_february_of_a_common_year_and_month_13(make_dataset):
    text = "account_id,date,amount\nA1,29.02.2023,1\nA1,01.13.2023,2\n"
    root = make_dataset({"tx.csv": text}, _tx_yaml('date_format: "%d.%m.%Y"'))
    (problem,) = problems_of(root)
    assert "'29.02.2023' is not a date (there is no 29 February in 2023)" in problem
    assert "'01.13.2023' is not a date (there is no month 13)" in problem


def test_wrong_format_still_gets_the_day_first_hint(make_dataset):
    text = "account_id,date,amount\nA1,31/01/2011,1\n"
    root = make_dataset({"tx.csv": text}, _tx_yaml('date_format: "%Y-%m-%d"'))
    (problem,) = problems_of(root)
    assert "day-first dates like '31/01/2011' need '%d/%m/%Y'" in problem


# --- 3. a title line above the header ---------------------------------------------


@pytest.mark.parametrize(
    "title", ["Umsatzliste 2025;;\n", "Umsatzliste 2025\nStand: 31.12.2025;;\n"]
)
def test_title_lines_give_one_skip_rows_hint(make_dataset, title):
    text = title + "account_id;date;amount\nA1;2025-01-15;1\n"
    root = make_dataset({"tx.csv": text}, _tx_yaml('delimiter: ";"'))
    (problem,) = problems_of(root)
    n = title.count("\n") + 1
    assert f"the header seems to be on line {n}" in problem
    assert f"set `skip_rows: {n - 1}`" in problem


def test_title_line_above_a_mapped_header(make_dataset):
    text = "Export\nKunde,Datum,Betrag\nA1,2025-01-15,1\n"
    yaml = _tx_yaml('delimiter: ","', "{account_id: Kunde, date: Datum, amount: Betrag}")
    (problem,) = problems_of(make_dataset({"tx.csv": text}, yaml))
    assert "the header seems to be on line 2" in problem and "`skip_rows: 1`" in problem
    fixed = _tx_yaml(
        'delimiter: ","\nskip_rows: 1', "{account_id: Kunde, date: Datum, amount: Betrag}"
    )
    assert len(load_dataset(make_dataset({"tx.csv": text}, fixed, "ok")).transactions) == 1


def test_title_row_in_excel(make_dataset, tmp_path):
    import pandas as pd

    root = make_dataset({}, _tx_yaml().replace("tx.csv", "tx.xlsx"))
    rows = [["Umsatz 2025", None, None], ["account_id", "date", "amount"], ["A1", "2025-01-15", 1]]
    pd.DataFrame(rows).to_excel(root / "tx.xlsx", header=False, index=False)
    (problem,) = problems_of(root)
    assert "the header seems to be on line 2" in problem and "`skip_rows: 1`" in problem


def test_a_plain_missing_column_keeps_its_own_message(make_dataset):
    text = "account_id,date\nA1,2025-01-15\n"
    (problem,) = problems_of(make_dataset({"tx.csv": text}, _tx_yaml()))
    assert "required column `amount` is missing" in problem
    assert "skip_rows" not in problem and "delimiter" not in problem


# --- 4. the wrong delimiter -------------------------------------------------------


@pytest.mark.parametrize(("sep", "shown"), [(";", ";"), ("\t", "\\t"), ("|", "|"), (",", ",")])
def test_one_column_holding_the_header_names_the_delimiter(make_dataset, sep, shown):
    text = sep.join(["account_id", "date", "amount"]) + "\n" + sep.join(["A1", "2025-01-15", "1"])
    wrong = ":" if sep != ":" else ";"
    root = make_dataset({"tx.csv": text + "\n"}, _tx_yaml(f'delimiter: "{wrong}"'))
    (problem,) = problems_of(root)
    assert f"the file seems to be separated by '{shown}'" in problem
    assert f'set `delimiter: "{shown}"`' in problem


def test_runs_of_spaces_read_with_a_space_delimiter(make_dataset):
    text = "account_id   date         amount\nA1           2025-01-15   1.50\nA22          2025-01-16   -2\n"
    root = make_dataset({"tx.csv": text}, _tx_yaml('delimiter: " "'))
    tx = load_dataset(root).transactions
    assert tx["account_id"].tolist() == ["A1", "A22"] and tx["amount"].tolist() == [1.5, -2.0]


def test_runs_of_spaces_with_another_delimiter_get_the_hint(make_dataset):
    text = "account_id   date         amount\nA1           2025-01-15   1.50\n"
    (problem,) = problems_of(make_dataset({"tx.csv": text}, _tx_yaml('delimiter: ";"')))
    assert 'set `delimiter: " "`' in problem


# --- 5. UTF-8 read as Latin-1 -----------------------------------------------------


def test_utf8_read_as_latin1_is_a_warning_with_the_fix(make_dataset):
    text = "account_id,name\nA1,Montaña SL\nA2,Plain Ltd\nA3,Müller GmbH\n"
    yaml = _tx_yaml("encoding: latin-1") + "  accounts:\n    file: acc.csv\n    encoding: cp1252\n"
    tx = "account_id,date,amount\nA1,2025-01-15,1\n"
    root = make_dataset({"tx.csv": tx.encode("utf-8"), "acc.csv": text.encode("utf-8")}, yaml)
    ds = load_dataset(root)
    assert ds.get("accounts")["name"].iloc[0] == "MontaÃ±a SL"  # read as declared
    (warning,) = [str(w) for w in ds.warnings]
    assert "acc.csv, column 'name' (accounts.name)" in warning and "rows 2, 4" in warning
    assert "looks like UTF-8 read as cp1252" in warning
    assert "('MontaÃ±a SL' would be 'Montaña SL')" in warning
    assert "set `encoding: utf-8`" in warning


def test_real_latin1_text_gives_no_warning(make_dataset):
    text = "account_id,name\nA1,Señor Ã\nA2,Müller\n"
    yaml = _tx_yaml() + "  accounts:\n    file: acc.csv\n    encoding: latin-1\n"
    tx = "account_id,date,amount\nA1,2025-01-15,1\n"
    root = make_dataset({"tx.csv": tx, "acc.csv": text.encode("latin-1")}, yaml)
    assert load_dataset(root).warnings == ()


# --- 6. files without a header row ------------------------------------------------


def test_header_false_with_names(make_dataset):
    text = "A1;2025-01-15;1,5\nA2;2025-01-16;x\n"
    yaml = _tx_yaml(
        'header: false\nnames: [Kunde, Datum, Betrag]\ndelimiter: ";"\ndecimal: ","',
        "{account_id: Kunde, date: Datum, amount: Betrag}",
    )
    (problem,) = problems_of(make_dataset({"tx.csv": text}, yaml))
    # no header: the first line of the file is row 1
    assert "column 'Betrag' (transactions.amount): 1 value is not a number — row 2: 'x'" in problem
    fixed = make_dataset({"tx.csv": text.replace("x", "2")}, yaml, "ok")
    assert load_dataset(fixed).transactions["amount"].tolist() == [1.5, 2.0]


def test_header_false_names_count_must_match(make_dataset):
    text = "A1;2025-01-15;1\n"
    yaml = _tx_yaml('header: false\nnames: [account_id, date]\ndelimiter: ";"')
    (problem,) = problems_of(make_dataset({"tx.csv": text}, yaml))
    assert "2 names for 3 columns" in problem


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ("header: false", "header: false needs `names:`"),
        ("names: [a, b]", "names: is for files without a header row"),
        ("header: false\nnames: [a, a]", "names: 'a' is there more than once"),
        ("header: false\nnames: a", "names must be a list of column names"),
        ("header: nope", "tables.transactions.header must be true or false"),
    ],
)
def test_header_and_names_are_validated(make_dataset, options, expected):
    root = make_dataset({"tx.csv": "A1;2025-01-15;1\n"}, _tx_yaml(options))
    assert any(expected in p for p in problems_of(root))


def test_header_false_row_numbers_count_blank_lines(make_dataset):
    text = "A1;2025-01-15;1\n\nA2;2025-01-16;x\n"
    yaml = _tx_yaml('header: false\nnames: [account_id, date, amount]\ndelimiter: ";"')
    (problem,) = problems_of(make_dataset({"tx.csv": text}, yaml))
    assert "1 value is not a number — row 3: 'x'" in problem


def test_header_false_in_excel_and_refused_for_parquet(make_dataset):
    import pandas as pd

    yaml = _tx_yaml("header: false\nnames: [Kunde, Datum, Betrag]").replace("tx.csv", "tx.xlsx")
    root = make_dataset(
        {}, yaml + "    columns: {account_id: Kunde, date: Datum, amount: Betrag}\n"
    )
    rows = [["A1", "2025-01-15", 1.5], ["A2", "2025-01-16", "x"]]
    pd.DataFrame(rows).to_excel(root / "tx.xlsx", header=False, index=False)
    (problem,) = problems_of(root)
    assert "1 value is not a number — row 2: 'x'" in problem
    parquet = make_dataset({}, yaml.replace("tx.xlsx", "tx.parquet"), "pq")
    pd.DataFrame({"a": ["A1"]}).to_parquet(parquet / "tx.parquet")
    assert any("header: false is for CSV and Excel files" in p for p in problems_of(parquet))
