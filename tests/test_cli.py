"""The kam command as a report owner or analyst runs it: output and exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

import kamlib
from kamlib.cli import main

from .conftest import ACCOUNTS, TRANSACTIONS


def test_check_sample_prints_summary_and_exits_0(capsys):
    assert main(["check", "sample"]) == 0
    out = capsys.readouterr().out
    assert "is valid." in out
    assert "transactions  transactions.csv" in out
    assert "25,656 transaction lines, 298 accounts buying, 2023-10-02 to 2026-09-28" in out


def test_check_broken_dataset_prints_every_problem_and_exits_1(make_dataset, capsys):
    tx = TRANSACTIONS.replace("2025-02-15", "15.02.2025") + "A9,2025-04-01,10.00,1,5.00,P1,R9\n"
    root = make_dataset({"transactions.csv": tx, "accounts.csv": ACCOUNTS})
    assert main(["check", str(root)]) == 1
    err = capsys.readouterr().err
    assert "has 2 problems" in err and "not a date" in err and "'A9'" in err
    assert "Nothing was changed" in err


def test_check_lists_missing_tables_and_ignored_columns(make_dataset, capsys):
    root = make_dataset({"transactions.csv": TRANSACTIONS.replace("invoice_id", "notes")})
    assert main(["check", str(root)]) == 0
    out = capsys.readouterr().out
    assert "4 transaction lines, 3 accounts buying" in out
    assert "Optional tables not given: accounts, products" in out
    assert "Ignored columns of transactions (not in the model, not mapped): notes" in out


def test_kam_is_installed_as_a_console_script():
    exe = Path(sys.executable).with_name("kam")
    result = subprocess.run([str(exe), "check", "nowhere-at-all"], capture_output=True, text=True)
    assert result.returncode == 1
    assert "no such file or folder" in result.stderr


def test_sample_command_writes_a_dataset(tmp_path, capsys):
    out = tmp_path / "co"
    assert (
        main(["sample", "--out", str(out), "--accounts", "25", "--years", "2", "--seed", "4"]) == 0
    )
    assert "25 accounts, 2 years, seed 4" in capsys.readouterr().out
    assert kamlib.load_dataset(out).get("accounts").shape[0] == 25


def test_sample_command_bad_parameters_exit_2(tmp_path, capsys):
    assert main(["sample", "--out", str(tmp_path / "x"), "--accounts", "3"]) == 2
    assert "accounts must be at least 20" in capsys.readouterr().err


def test_report_rejects_unknown_parameter_listing_known_ones(tmp_path, capsys):
    code = main(["report", "--out", str(tmp_path), "-p", "as_off=2026-01-01"])
    assert code == 2
    err = capsys.readouterr().err
    assert "no notebook has a parameter 'as_off'" in err
    assert (
        "00_start_here: data, as_of, exports" in err
        and "02_abc_xyz: data, as_of, window_months" in err
    )
    assert list(tmp_path.iterdir()) == []  # nothing started


def test_report_refuses_a_bad_dataset_before_any_notebook(make_dataset, tmp_path, capsys):
    root = make_dataset({"transactions.csv": TRANSACTIONS.replace("amount", "betrag")})
    assert main(["report", "--data", str(root), "--out", str(tmp_path / "r")]) == 2
    assert "required column `amount` is missing" in capsys.readouterr().err
    assert not (tmp_path / "r").exists()


@pytest.mark.slow
def test_report_keeps_going_after_a_failing_notebook_and_exits_1(tmp_path, capsys):
    good = kamlib.project_root() / "notebooks" / "00_start_here.ipynb"
    nb = nbformat.read(good, as_version=4)
    nb.cells.insert(3, nbformat.v4.new_code_cell("raise RuntimeError('boom in the middle')"))
    bad = tmp_path / "01_broken.ipynb"
    nbformat.write(nb, bad)
    code = main(
        ["report", str(bad), str(good), "--out", str(tmp_path / "r"), "-p", "as_of=2026-06-30"]
    )
    assert code == 1
    out = capsys.readouterr().out
    assert "failed" in out and "RuntimeError: boom in the middle" in out
    (run,) = (tmp_path / "r").iterdir()
    meta = json.loads((run / "run.json").read_text())
    assert [n["status"] for n in meta["notebooks"]] == ["failed", "ok"]
    assert meta["parameters"] == {"as_of": "2026-06-30"}
    assert "boom in the middle" in (run / "01_broken.html").read_text(encoding="utf-8")
    assert "failed" in (run / "index.html").read_text(encoding="utf-8")


def test_check_prints_the_datasets_warnings(make_dataset, capsys):
    from kamlib.cli import main

    root = make_dataset(
        {"t.csv": "account_id,date,cost\nA1,2025-01-01,10\n"},
        yaml="""
        tables:
          transactions:
            file: t.csv
            columns: {amount: cost}
        """,
    )
    assert main(["check", str(root)]) == 0
    out = capsys.readouterr().out
    assert "Check this point (read as said, not errors):" in out
    assert "1. t.csv: column 'cost' is mapped to `amount`, so it is not also read as `cost`" in out
