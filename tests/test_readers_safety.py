"""Careless and hostile table files: each gives a clear problem (file, column, rows, fix).

Issue 12: non-finite and overflowing numbers, dates outside pandas' range, mixed
timezone offsets, repeated header names, huge integers, Excel formulas without values,
Excel date serials and long numeric ids, multi-character delimiters, long or
control-character cells, unparsable files, row numbers after quoted line breaks,
unreadable files and the header check before the body is read.
"""

from __future__ import annotations

import builtins
import datetime as dt
import random

import numpy as np
import openpyxl
import pandas as pd
import pytest

from kamlib import DatasetError, load_dataset
from kamlib.config import read_config
from kamlib.dataset import _load_table
from kamlib.validation import show_list

HEADER = "account_id,date,amount\n"


def problems_of(root) -> list[str]:
    with pytest.raises(DatasetError) as info:
        load_dataset(root)
    return [str(p) for p in info.value.problems]


def one_problem(root) -> str:
    msgs = problems_of(root)
    assert len(msgs) == 1, msgs
    return msgs[0]


def _workbook(path, rows):
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)


# --- 1. non-finite numbers ----------------------------------------------------------


def test_infinite_and_nan_text_numbers_are_refused_with_rows(make_dataset):
    values = ["inf", "-inf", "Infinity", "1e309", "NaN"]
    body = "".join(f"A1,2025-01-0{i + 1},{v}\n" for i, v in enumerate(values))
    msg = one_problem(make_dataset({"transactions.csv": HEADER + body}))
    assert (
        "transactions.csv, column 'amount' (transactions.amount): 5 values are not finite "
        "numbers — rows 2, 3, 4, 5, 6: 'inf', '-inf', 'Infinity', '1e309', 'NaN'."
    ) in msg
    assert "leave the cell empty" in msg


def test_amounts_whose_sum_overflows_are_refused(make_dataset):
    body = "A1,2025-01-01,1e308\nA1,2025-01-02,1e308\nA1,2025-01-03,5\n"
    msg = one_problem(make_dataset({"transactions.csv": HEADER + body}))
    assert (
        "transactions.csv, column 'amount' (transactions.amount): the values are too large" in msg
    )
    assert "largest 1e+308 in row 2" in msg
    assert "unit" in msg


def test_native_infinite_floats_from_parquet_are_refused(make_dataset, tmp_path):
    root = make_dataset({})
    frame = pd.DataFrame(
        {"account_id": ["A1", "A2"], "date": pd.to_datetime(["2025-01-01"] * 2)}
    ).assign(amount=[np.inf, 5.0])
    frame.to_parquet(root / "transactions.parquet")
    msg = one_problem(root)
    assert (
        "column 'amount' (transactions.amount): 1 value is not a finite number — row 1: inf" in msg
    )


# --- 2. dates outside pandas' range ------------------------------------------------------


def test_dates_out_of_range_are_problems_next_to_the_others(make_dataset):
    body = "A1,2300-01-01,1\nA1,9999-12-31,2\nA1,0001-01-01,x\nA1,2025-01-01,3\n"
    msgs = problems_of(make_dataset({"transactions.csv": HEADER + body}))
    assert len(msgs) == 2, msgs
    (dates,) = [m for m in msgs if "column 'date'" in m]
    assert (
        "3 values are out of range (1677–2262) — rows 2, 3, 4: '2300-01-01', '9999-12-31', "
        "'0001-01-01'" in dates
    )
    assert any("1 value is not a number — row 4: 'x'" in m for m in msgs)


def test_excel_native_dates_out_of_range(make_dataset):
    root = make_dataset({})
    _workbook(
        root / "transactions.xlsx",
        [
            ["account_id", "date", "amount"],
            ["A1", dt.datetime(2025, 1, 1), 1],
            ["A1", dt.datetime(9999, 12, 31), 2],
        ],
    )
    msg = one_problem(root)
    assert "column 'date' (transactions.date): 1 value is out of range (1677–2262) — row 3" in msg


# --- 3. mixed timezone offsets --------------------------------------------------------------


def test_mixed_timezone_offsets_keep_the_date_as_written(make_dataset):
    body = (
        "A1,2025-03-29T10:00:00+01:00,1\n"
        "A1,2025-03-31T00:30:00+02:00,2\n"  # in UTC still 30 March: the written date wins
        "A1,2025-04-01,3\n"
    )
    ds = load_dataset(make_dataset({"transactions.csv": HEADER + body}))
    assert ds.transactions["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2025-03-29",
        "2025-03-31",
        "2025-04-01",
    ]
    assert ds.transactions["date"].dtype == "datetime64[ns]"


# --- 4. repeated header names ---------------------------------------------------------------


def test_header_names_repeated_after_trimming_spaces(make_dataset):
    text = "account_id,date,amount,amount \nA1,2025-01-01,1,2\n"
    msg = one_problem(make_dataset({"transactions.csv": text}))
    assert (
        "transactions.csv: the header has columns more than once (after trimming spaces): 'amount'"
        in msg
    )


def test_a_real_column_named_like_a_mangled_duplicate_is_kept(make_dataset):
    text = "account_id,date,amount,amount.2024\nA1,2025-01-01,1,2\n"
    ds = load_dataset(make_dataset({"transactions.csv": text}))
    assert ds.ignored_columns["transactions"] == ("amount.2024",)
    assert ds.transactions["amount"].tolist() == [1.0]


def test_excel_header_repeated_is_reported(make_dataset):
    root = make_dataset({})
    _workbook(
        root / "transactions.xlsx",
        [["account_id", "date", "amount", "amount"], ["A1", dt.datetime(2025, 1, 1), 1, 2]],
    )
    assert "the header has columns more than once (after trimming spaces): 'amount'" in (
        one_problem(root)
    )


# --- 5. huge integers --------------------------------------------------------------------


def test_huge_integer_in_a_number_column_is_out_of_range(make_dataset):
    body = "A1,2025-01-01,123456789012345678901234567890\nA1,2025-01-02,5\n"
    msg = one_problem(make_dataset({"transactions.csv": HEADER + body}))
    assert (
        "column 'amount' (transactions.amount): 1 value is out of range — row 2: "
        "'123456789012345678901234567890'" in msg
    )
    assert "9,007,199,254,740,992" in msg


def test_huge_integer_in_an_integer_column_is_out_of_range(make_dataset, good_files):
    acc = "account_id,headcount\nA1,123456789012345678901234567890\nA2,5\nA3,7\n"
    msg = one_problem(make_dataset({**good_files, "accounts.csv": acc}))
    assert "column 'headcount' (accounts.headcount): 1 value is out of range — row 2" in msg


# --- 6. Excel formulas without stored values --------------------------------------------------


def test_excel_formula_cells_without_a_stored_value(make_dataset):
    root = make_dataset({})
    _workbook(
        root / "transactions.xlsx",
        [
            ["account_id", "date", "amount", "cost"],
            ["A1", dt.datetime(2025, 1, 1), 10, 4],
            ["A1", dt.datetime(2025, 1, 2), "=C2*2", "=D2*2"],
        ],
    )
    msgs = problems_of(root)
    assert len(msgs) == 2, msgs
    assert (
        "transactions.xlsx, column 'amount' (transactions.amount): 1 formula cell without a "
        "stored value — row 3" in msgs[0]
    )
    assert "open the file in Excel and save it again, or export values" in msgs[0]
    assert "column 'cost' (transactions.cost)" in msgs[1]
    assert not any("missing" in m for m in msgs)


# --- 7. Excel date serial numbers ------------------------------------------------------------


def test_excel_date_serials_are_converted_with_a_warning(make_dataset):
    root = make_dataset({})
    _workbook(
        root / "transactions.xlsx",
        [
            ["account_id", "date", "amount"],
            ["A1", dt.datetime(2025, 1, 1), 1],
            ["A1", 45292, 2],  # 2024-01-01 in Excel's 1900 date system
            ["A1", 45293.75, 3],  # with a time of day
        ],
    )
    config, _ = read_config(root)
    warnings: list = []
    frame, _, problems = _load_table(config.tables["transactions"], warnings=warnings)
    assert problems == []
    assert frame["date"].dt.strftime("%Y-%m-%d").tolist() == [
        "2025-01-01",
        "2024-01-01",
        "2024-01-02",
    ]
    (note,) = [str(w) for w in warnings]
    assert (
        "transactions.xlsx, column 'date' (transactions.date): 2 values are Excel date serial "
        "numbers, read as dates — rows 3, 4: 45292 (2024-01-01), 45293.75 (2024-01-02)" in note
    )
    assert "format the column as Date" in note
    assert load_dataset(root).transactions["date"].iloc[1] == pd.Timestamp("2024-01-01")


def test_date_serials_typed_in_a_csv_are_refused_with_a_hint(make_dataset):
    body = "A1,45292,1\nA1,2025-01-02,2\n"
    msg = one_problem(make_dataset({"transactions.csv": HEADER + body}))
    assert "1 value is not a date — row 2: '45292'" in msg
    assert "Excel date serial numbers (45292 = 2024-01-01)" in msg


# --- 8. long numeric ids from Excel -------------------------------------------------------


def test_long_numeric_ids_from_excel_are_refused(make_dataset):
    root = make_dataset({})
    _workbook(
        root / "transactions.xlsx",
        [
            ["account_id", "date", "amount"],
            [12345678901234567890, dt.datetime(2025, 1, 1), 1],
            [12345678901234567891, dt.datetime(2025, 1, 2), 2],
            [4711, dt.datetime(2025, 1, 3), 3],
        ],
    )
    msg = one_problem(root)
    assert (
        "transactions.xlsx, column 'account_id' (transactions.account_id): 2 values are "
        "stored as numbers in Excel and too long to be exact — rows 2, 3" in msg
    )
    assert "format the column as Text in Excel" in msg


# --- 9. multi-character delimiters -----------------------------------------------------------


@pytest.mark.parametrize("sep", ["||", "|.", "**"])
def test_multi_character_delimiter_is_used_literally(make_dataset, sep):
    text = sep.join(["account_id", "date", "amount"]) + "\n"
    text += (
        sep.join(["A1", "2025-01-01", "1.5"]) + "\n" + sep.join(["A2", "2025-01-02", "7"]) + "\n"
    )
    root = make_dataset(
        {"tx.csv": text}, f"tables:\n  transactions: {{file: tx.csv, delimiter: '{sep}'}}\n"
    )
    ds = load_dataset(root)
    assert ds.transactions["amount"].tolist() == [1.5, 7.0]
    assert ds.transactions["account_id"].tolist() == ["A1", "A2"]


# --- 10. long and control-character values ---------------------------------------------------


def test_show_list_shortens_long_values_and_escapes_control_characters():
    text = show_list(["x" * 10_000, "red\x1b[31m\u202e", 3])
    assert text.startswith("'" + "x" * 59)
    assert "…' (10,000 characters)" in text
    assert "\\x1b" in text and "\\u202e" in text and "\x1b" not in text
    assert len(text) < 140


def test_a_ten_thousand_character_cell_is_not_echoed_in_full(make_dataset):
    body = "A1,2025-01-01," + "y" * 10_000 + "\nA1,2025-01-02,bad\x07bell\n"
    msg = one_problem(make_dataset({"transactions.csv": HEADER + body}))
    assert "(10,000 characters)" in msg and "\\x07" in msg
    assert len(msg) < 600


# --- 11. unparsable files --------------------------------------------------------------------


def test_a_long_first_line_is_shown_as_a_short_excerpt(make_dataset):
    secret = "root:x:0:0:" + "s" * 5000
    msgs = problems_of(make_dataset({"transactions.csv": secret + "\nline two\n"}))
    assert msgs and all(len(m) < 600 for m in msgs)
    assert all("s" * 100 not in m for m in msgs)


def test_binary_garbage_is_reported_escaped_and_short(make_dataset):
    rnd = random.Random(12)
    line_ends_and_separators = set(b'\n\r,;\t|"')
    first_line = bytes(
        b for b in (rnd.randrange(256) for _ in range(8_000)) if b not in line_ends_and_separators
    )
    garbage = first_line + bytes(rnd.randrange(256) for _ in range(20_000))
    root = make_dataset(
        {"transactions.csv": garbage},
        "tables:\n  transactions: {file: transactions.csv, encoding: latin-1}\n",
    )
    msgs = problems_of(root)
    for m in msgs:
        assert len(m) < 1200
        assert all(ch.isprintable() or ch == "\n" for ch in m), repr(m)


# --- 12. row numbers after quoted line breaks ------------------------------------------------


def test_rows_after_a_quoted_line_break_are_the_editors_line_numbers(make_dataset):
    text = (
        "account_id,date,amount,note\n"  # line 1
        "A1,2025-01-01,1,plain\n"  # line 2
        'A1,2025-01-02,2,"two\nlines"\n'  # lines 3-4
        "A1,2025-01-03,zz,after\n"  # line 5
    )
    msg = one_problem(make_dataset({"transactions.csv": text}))
    assert "1 value is not a number — row 5: 'zz'" in msg


def test_rows_after_blank_lines_and_title_lines_are_the_editors_line_numbers(make_dataset):
    text = 'Title "report\n' + "account_id,date,amount\nA1,2025-01-01,1\n\nA1,2025-01-03,zz\n"
    root = make_dataset({"tx.csv": text}, "tables:\n  transactions: {file: tx.csv, skip_rows: 1}\n")
    with pytest.raises(DatasetError) as info:
        load_dataset(root)
    (problem,) = info.value.problems
    # line 1 title, 2 header, 3 data, 4 blank, 5 the bad value
    assert "row 5: 'zz'" in str(problem)
    assert problem.rows == (5,)


# --- 13. unreadable files and folders ----------------------------------------------------


def test_a_folder_named_as_the_file(make_dataset):
    root = make_dataset({}, "tables:\n  transactions: {file: somefolder}\n")
    (root / "somefolder").mkdir()
    msg = one_problem(root)
    assert "somefolder: is a folder, not a file (table `transactions`)" in msg
    assert "name the file itself" in msg


def test_a_file_that_cannot_be_opened(make_dataset, good_files, monkeypatch):
    root = make_dataset(good_files)
    real_open = builtins.open

    def deny(file, *args, **kwargs):
        if str(file).endswith("transactions.csv"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", deny)
    msg = one_problem(root)
    assert "transactions.csv: cannot be opened (permission denied)" in msg
    assert "permissions" in msg and "Excel" in msg


# --- 14. header checked before the body ------------------------------------------------------


def test_a_header_typo_is_reported_before_the_body_is_read(make_dataset, monkeypatch):
    body = "".join(f"A{i % 97},2025-01-{1 + i % 28:02d},{i}.5\n" for i in range(200_000))
    root = make_dataset({"transactions.csv": "account_id,date,amuont\n" + body})
    calls = []
    real = pd.read_csv

    def spy(*args, **kwargs):
        calls.append(kwargs.get("nrows"))
        return real(*args, **kwargs)

    monkeypatch.setattr(pd, "read_csv", spy)
    msg = one_problem(root)
    assert "transactions.csv: required column `amount` is missing (table `transactions`)." in msg
    assert "Columns found: 'account_id', 'date', 'amuont'" in msg
    assert "closest match: 'amuont'" in msg
    assert calls and all(n is not None and n <= 50 for n in calls), calls  # never the body


# --- integration in the loader (dataset._load) -----------------------------------------


def test_excel_serial_warning_reaches_the_dataset(tmp_path):
    import openpyxl

    from kamlib.dataset import load_dataset

    root = tmp_path / "xl"
    root.mkdir()
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(["account_id", "date", "amount"])
    sheet.append(["A1", 45292, 10.0])  # 45292 = 2024-01-01 in Excel's 1900 system
    sheet.append(["A2", "2024-01-02", 20.0])
    book.save(root / "transactions.xlsx")
    ds = load_dataset(root)
    assert len(ds.warnings) == 1
    assert "Excel date serial" in str(ds.warnings[0])
    assert str(ds.transactions["date"].min().date()) == "2024-01-01"


def test_a_column_mapped_elsewhere_is_not_also_read_by_its_own_name(make_dataset):
    from kamlib.dataset import load_dataset

    root = make_dataset(
        {"t.csv": "account_id,date,cost\nA1,2025-01-01,10\nA2,2025-01-02,20\n"},
        yaml="""
        tables:
          transactions:
            file: t.csv
            columns: {amount: cost}
        """,
    )
    ds = load_dataset(root)
    assert "cost" not in ds.transactions  # the file's cost column is the amount
    assert ds.transactions["amount"].tolist() == [10.0, 20.0]
    (note,) = ds.warnings
    assert "column 'cost' is mapped to `amount`, so it is not also read as `cost`" in str(note)


def test_a_required_column_mapped_elsewhere_is_a_problem(make_dataset):
    from kamlib.dataset import DatasetError, load_dataset

    root = make_dataset(
        {"t.csv": "account_id,date,amount\nA1,2025-01-01,10\n"},
        yaml="""
        tables:
          transactions:
            file: t.csv
            columns: {product_id: account_id}
        """,
    )
    with pytest.raises(DatasetError) as err:
        load_dataset(root)
    assert "is mapped to `product_id`, so it is not also read as `account_id`" in str(err.value)
    assert "which is required" in str(err.value)


def test_a_transactions_file_refused_by_the_config_is_not_also_called_missing(make_dataset):
    from kamlib.dataset import DatasetError, load_dataset

    root = make_dataset(
        {"a.csv": "account_id\nA1\n"},
        yaml="""
        tables:
          transactions: ../../../../etc/passwd
        """,
    )
    with pytest.raises(DatasetError) as err:
        load_dataset(root)
    text = str(err.value)
    assert "outside the dataset folder" in text
    assert "no `transactions` table" not in text
    assert "root:" not in text  # the target's contents are never echoed


def test_a_missing_reference_that_looks_like_a_known_id_says_so(make_dataset):
    from kamlib.dataset import DatasetError, load_dataset

    root = make_dataset(
        {
            "transactions.csv": "account_id,date,amount\nk100,2025-01-01,10\n",
            "accounts.csv": "account_id,name\nK100,Alpha\n",
        }
    )
    with pytest.raises(DatasetError) as err:
        load_dataset(root)
    assert "'k100' looks like 'K100' in accounts.csv" in str(err.value)
    assert "normalize_ids: true" in str(err.value)
