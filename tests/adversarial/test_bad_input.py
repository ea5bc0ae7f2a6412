"""Careless and hostile datasets through ``kam check``: a clear message, never a traceback.

Every case builds a small dataset in a temporary folder, runs ``kam check`` on it under a
time and memory limit, and asserts the documented exit code (1: problems in the data,
0: the data is fine), no traceback, what the message must (and must not) say, and that
nothing in the folder tree changed.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from .hostile import (
    BOMB,
    TINY_ACCOUNTS,
    TINY_TRANSACTIONS,
    changes,
    check_result,
    run_cli,
    tiny_dataset,
    tree_state,
)

HEADER = "account_id,date,amount,quantity,cost,product_id,invoice_id\n"
#: A valid transactions file kept outside the dataset folder.
OUTSIDE_TX = HEADER + "OUT1,2025-01-15,1000.00,100,600.00,P1,R1\n"


def tx(*rows: str, header: str = HEADER) -> dict[str, str]:
    """A transactions file with ``rows`` (and the tiny accounts)."""
    return {"transactions.csv": header + "".join(r + "\n" for r in rows)}


def _yaml_tx(extra: str = "", columns: str = "", file: str = "transactions.csv") -> str:
    """A kam.yaml with the transactions table and ``extra`` read options for it."""
    text = f"name: Case\ntables:\n  transactions:\n    file: {file}\n"
    text += "".join(f"    {line}\n" for line in extra.splitlines())
    if columns:
        text += "    columns:\n" + "".join(f"      {line}\n" for line in columns.splitlines())
    return text


def _excel(path: Path, rows: list[list], *, formats: dict[str, str] | None = None) -> None:
    import openpyxl

    book = openpyxl.Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(row)
    for cell, number_format in (formats or {}).items():
        sheet[cell].number_format = number_format
    book.save(path)


@dataclass(frozen=True)
class Case:
    """A dataset to build, and what ``kam check`` must answer."""

    id: str
    build: Callable[[Path, Path], None]  # (dataset folder, folder outside it)
    code: int | tuple[int, ...] = 1
    says: tuple[str, ...] = ()  # in stderr (stdout and stderr on exit 0), case-insensitive
    never: tuple[str, ...] = ()  # nowhere in the output
    check: Callable[[str, str], None] | None = None  # more checks on (stdout, stderr)


def _files(files=None, yaml=None):
    def build(folder: Path, outside: Path) -> None:
        tiny_dataset(folder, files=files, yaml=yaml)

    return build


def _outside_relative(folder: Path, outside: Path) -> None:
    (outside / "transactions.csv").write_text(OUTSIDE_TX, encoding="utf-8")
    rel = os.path.relpath(outside / "transactions.csv", folder)
    tiny_dataset(folder, files={}, yaml=_yaml_tx(file=rel))


def _outside_absolute(folder: Path, outside: Path) -> None:
    (outside / "transactions.csv").write_text(OUTSIDE_TX, encoding="utf-8")
    tiny_dataset(folder, files={}, yaml=_yaml_tx(file=str(outside / "transactions.csv")))


def _outside_link(folder: Path, outside: Path) -> None:
    (outside / "secret.csv").write_text(OUTSIDE_TX, encoding="utf-8")
    tiny_dataset(folder, files={"accounts.csv": TINY_ACCOUNTS})
    os.symlink(outside / "secret.csv", folder / "transactions.csv")


def _outside_secret(folder: Path, outside: Path) -> None:
    (outside / "secret.txt").write_text("db_password=hunter2\n", encoding="utf-8")
    tiny_dataset(folder, files={}, yaml=_yaml_tx(file="../outside/secret.txt"))


def _passwd(folder: Path, outside: Path) -> None:
    tiny_dataset(folder, files={}, yaml=_yaml_tx(file="../" * 12 + "etc/passwd"))


def _long_cell_check(out: str, err: str) -> None:
    assert len(err) < 2000, f"the message is {len(err)} characters long"
    assert "z" * 200 not in err


def _line_number_check(out: str, err: str) -> None:
    assert re.search(r"\b(row|line) 4\b", err), err


def _lookalike_check(out: str, err: str) -> None:
    text = out + err
    assert "К100" in text or "\\u041a100" in text.lower(), text
    assert "k100" in text, text


def _excel_serial_dates(folder: Path, outside: Path) -> None:
    rows = [["account_id", "date", "amount"], ["A1", 45678, 100.0], ["A2", 45700, 50.0]]
    _excel(folder / "transactions.xlsx", rows)


def _excel_long_ids(folder: Path, outside: Path) -> None:
    # two customer numbers that a float cannot tell apart, and one text id
    rows = [
        ["account_id", "date", "amount"],
        [12345678901234567891, "2025-01-15", 100.0],
        [12345678901234567892, "2025-01-16", 50.0],
        ["A3", "2025-01-17", 20.0],
    ]
    _excel(folder / "transactions.xlsx", rows)


def _long_ids_check(out: str, err: str) -> None:
    # two accounts stay two, or the problem is named: never merged silently
    assert "3 accounts buying" in out or "account_id" in err, out + err


def _excel_formulas(folder: Path, outside: Path) -> None:
    rows = [
        ["account_id", "date", "amount"],
        ["A1", "2025-01-15", "=100*2"],
        ["A2", "2025-01-16", "=SUM(1,2)"],
    ]
    _excel(folder / "transactions.xlsx", rows)


def _folder_as_file(folder: Path, outside: Path) -> None:
    tiny_dataset(folder, files={"accounts.csv": TINY_ACCOUNTS})
    (folder / "transactions.csv").mkdir()
    (folder / "transactions.csv" / "part-1.csv").write_text(TINY_TRANSACTIONS, encoding="utf-8")


CASES = [
    Case("file-relative-outside", _outside_relative, says=("outside",), never=("OUT1",)),
    Case("file-absolute-outside", _outside_absolute, says=("outside",), never=("OUT1",)),
    Case("file-link-outside", _outside_link, says=("transactions.csv",), never=("OUT1",)),
    Case("file-outside-not-echoed", _outside_secret, says=("secret.txt",), never=("hunter2",)),
    Case("file-etc-passwd", _passwd, says=("passwd",), never=("root:x:", "root:")),
    Case(
        "yaml-alias-bomb",
        _files(yaml=BOMB + "name: *i\ntables:\n  transactions: transactions.csv\n"),
        says=("kam.yaml",),
        check=lambda out, err: _short(err),
    ),
    Case("skip-rows-huge", _files(yaml=_yaml_tx("skip_rows: 1000000000")), says=("skip_rows",)),
    Case(
        "yaml-latin-1",
        _files(
            yaml="name: Müller Klebstoffe\ntables:\n  transactions: transactions.csv\n".encode(
                "latin-1"
            )
        ),
        says=("kam.yaml", "utf-8"),
    ),
    Case(
        "yaml-utf-16",
        _files(
            yaml="name: Müller Klebstoffe\ntables:\n  transactions: transactions.csv\n".encode(
                "utf-16"
            )
        ),
        code=(0, 1),  # its byte-order mark tells UTF-16 apart: read right, or refused clearly
        check=lambda out, err: _read_or_refused(
            out, err, "Dataset 'Müller Klebstoffe'", "kam.yaml"
        ),
    ),
    Case(
        "unknown-encoding", _files(yaml=_yaml_tx("encoding: utf-42")), says=("utf-42", "encoding")
    ),
    Case(
        "bad-date-format-directive",
        _files(yaml=_yaml_tx('date_format: "%Y-%q-%d"')),
        says=("date_format", "%q"),
    ),
    Case(
        "duplicate-yaml-key",
        _files(
            yaml="name: Case\ncurrency: EUR\ncurrency: CHF\ntables:\n  transactions: transactions.csv\n"
        ),
        says=("currency",),
    ),
    Case(
        "invoices-and-payments",
        _files(
            files={
                "transactions.csv": TINY_TRANSACTIONS,
                "invoices.csv": "invoice_id,account_id,due_date\nR1,A1,2025-02-15\n",
                "payments.csv": "invoice_id,account_id,due_date\nR2,A1,2025-03-15\n",
            },
            yaml="name: Case\ntables:\n  transactions: transactions.csv\n"
            "  invoices: invoices.csv\n  payments: payments.csv\n",
        ),
        says=("invoices", "payments"),
    ),
    Case(
        "decimal-equals-thousands",
        _files(yaml=_yaml_tx('decimal: ","\nthousands: ","')),
        says=("decimal", "thousands"),
    ),
    Case(
        "one-column-as-amount-and-cost",
        _files(yaml=_yaml_tx(columns="amount: amount\ncost: amount")),
        says=("amount", "cost"),
    ),
    Case(
        "one-column-as-account-and-product",
        _files(yaml=_yaml_tx(columns="account_id: account_id\nproduct_id: account_id")),
        says=("account_id", "product_id"),
    ),
    Case(
        "infinite-amounts",
        _files(
            files=tx(
                "A1,2025-01-15,inf,1,1,P1,R1",
                "A1,2025-01-16,1e309,1,1,P1,R2",
                "A2,2025-01-17,-inf,1,1,P1,R3",
                "A3,2025-01-18,10.00,1,1,P1,R4",
            )
        ),
        says=("transactions.csv", "amount"),
        check=lambda out, err: _rows(err, 2, 3, 4),
    ),
    Case(
        "amounts-overflow-the-sum",
        _files(files=tx("A1,2025-01-15,1e308,1,1,P1,R1", "A2,2025-01-16,1e308,1,1,P1,R2")),
        says=("transactions.csv", "amount"),
    ),
    Case(
        "dates-out-of-range",
        _files(
            files=tx(
                "A1,2300-01-01,10.00,1,1,P1,R1",
                "A1,9999-12-31,10.00,1,1,P1,R2",
                "A2,0001-01-01,10.00,1,1,P1,R3",
                "A3,2025-01-18,abc,1,1,P1,R4",
            )
        ),
        # every date named, and the other problem (abc) not hidden
        says=("transactions.csv", "2300-01-01", "9999-12-31", "0001-01-01", "abc"),
    ),
    Case(
        "mixed-timezone-offsets",
        _files(
            files=tx(
                "A1,2025-03-29T10:00:00+01:00,10.00,1,1,P1,R1",
                "A2,2025-03-31T10:00:00+02:00,20.00,1,1,P1,R2",
            )
        ),
        code=0,
        says=("2 transaction lines",),
    ),
    Case(
        "header-amount-and-amount-space",
        _files(files=tx("A1,2025-01-15,10.00,11.00", header="account_id,date,amount,amount \n")),
        says=("amount",),
    ),
    Case(
        "real-column-amount-2024",
        _files(
            files=tx("A1,2025-01-15,10.00,11.00", header="account_id,date,amount,amount.2024\n")
        ),
        code=0,
        says=("1 transaction line",),
    ),
    Case(
        "huge-integer-quantity",
        _files(files=tx("A1,2025-01-15,10.00,123456789012345678901234567890,1,P1,R1")),
        says=("quantity",),
    ),
    Case(
        "multi-character-delimiter",
        _files(
            files={
                "transactions.csv": "account_id||date||amount\nA1||2025-01-15||10.00\n"
                "A2||2025-01-16||20.00\n"
            },
            yaml=_yaml_tx('delimiter: "||"'),
        ),
        code=0,
        says=("2 transaction lines",),
    ),
    Case(
        "ten-thousand-character-cell",
        _files(files=tx("A1,2025-01-15,bad" + "z" * 9997 + ",1,1,P1,R1")),
        says=("transactions.csv", "amount"),
        check=_long_cell_check,
    ),
    Case(
        "quoted-line-break-then-bad-value",
        _files(
            files=tx('A1,2025-01-15,10.00,1,1,P1,"R1\ncontinued"', "A2,2025-01-16,abc,1,1,P1,R2")
        ),
        says=("transactions.csv", "abc"),
        check=_line_number_check,
    ),
    Case(
        "look-alike-ids",
        _files(
            files=tx(
                "K100,2025-01-15,10.00,1,1,P1,R1",
                "k100,2025-01-16,10.00,1,1,P1,R2",
                "K100\u200b,2025-01-17,10.00,1,1,P1,R3",
                "\u041a100,2025-01-18,10.00,1,1,P1,R4",
            )
        ),
        code=(0, 1),  # an error or a warning, but named
        check=_lookalike_check,
    ),
    Case(
        "excel-serial-dates",
        _excel_serial_dates,
        code=(0, 1),  # read as the dates they are (45678 is 2025-01-21), or refused clearly
        never=("1970-01-01",),
        check=lambda out, err: _read_or_refused(out, err, "2025-01-21 to 2025-02-12", "date"),
    ),
    Case("excel-long-numeric-ids", _excel_long_ids, code=(0, 1), check=_long_ids_check),
    Case("excel-formulas-without-values", _excel_formulas, says=("formula",)),
    Case("table-file-is-a-folder", _folder_as_file, says=("transactions.csv",)),
]


def _read_or_refused(out: str, err: str, read_as: str, refusal: str) -> None:
    """Either the file was read right (the output shows ``read_as``) or the message names
    ``refusal`` (what is wrong)."""
    if "is valid" in out:
        assert read_as in out, out
    else:
        assert refusal.lower() in err.lower(), err


def _short(err: str) -> None:
    assert len(err) < 5000, f"the message is {len(err)} characters long"


def _rows(err: str, *rows: int) -> None:
    for row in rows:
        assert re.search(rf"\b{row}\b", err), f"row {row} is not named: {err}"


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_check_answers_clearly(tmp_path, case):
    folder, outside = tmp_path / "ds", tmp_path / "outside"
    folder.mkdir()
    outside.mkdir()
    case.build(folder, outside)
    before = tree_state(tmp_path)
    result = run_cli(["check", folder], timeout=20, limit_memory=True)
    check_result(result, case.code)
    if result.code == 1:  # the message names the file it is about
        assert re.search(r"kam\.yaml|transactions\.(csv|xlsx)|secret\.txt|passwd", result.err), (
            result.describe()
        )
    shown = (result.out + result.err if result.code == 0 else result.err).lower()
    missing = [s for s in case.says if s.lower() not in shown]
    assert missing == [], f"the message does not say {missing}\n{result.describe()}"
    leaked = [s for s in case.never if s in result.out + result.err]
    assert leaked == [], f"the output shows {leaked}\n{result.describe()}"
    if case.check is not None:
        case.check(result.out, result.err)
    assert changes(before, tree_state(tmp_path)) == []
