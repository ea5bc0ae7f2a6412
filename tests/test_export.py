"""Tests of kamlib.export: Excel-friendly CSV, xlsx, formula neutralising, atomic writes."""

from __future__ import annotations

import csv
import io
import os
import stat
from pathlib import Path

import openpyxl
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import kamlib.export as export_module
from kamlib import export_table, neutralise_formulas

BOM = b"\xef\xbb\xbf"
DANGER = ("=", "+", "-", "@", "\t", "\r")
HYPERLINK = '=HYPERLINK("http://x","y")'

# account name -> what both files must show
ACCOUNTS = {
    "Müller GmbH": "Müller GmbH",
    "Svobodová s.r.o.": "Svobodová s.r.o.",
    "Dvořák, a.s.": "Dvořák, a.s.",
    HYPERLINK: "'" + HYPERLINK,
    "+420 777 123": "'+420 777 123",
    "-1 discount": "'-1 discount",
    "@SUM(A1:A9)": "'@SUM(A1:A9)",
    "\tTabbed": "'\tTabbed",
    "\rReturn": "'\rReturn",
    "Plain harmless text": "Plain harmless text",
}
AMOUNTS = [120, -5, 30, 0, 7, 8, 9, 10, 11, 12]
SHARES = [0.5, -0.25, 1.0, 0.0, 2.5, 3.5, 4.5, 5.5, 6.5, 7.5]


@pytest.fixture
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "account": list(ACCOUNTS),
            "amount": AMOUNTS,
            "share": SHARES,
            "=cmd|' /C calc'!A0": ["x"] * len(ACCOUNTS),
        }
    )


def read_csv_rows(path: Path, delimiter: str = ",") -> list[list[str]]:
    raw = path.read_bytes()
    assert raw.startswith(BOM)
    text = raw.decode("utf-8-sig")
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))


def folder_files(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


# ---------------------------------------------------------------- CSV


def test_csv_has_bom_and_accents(frame, tmp_path):
    (csv_path,) = export_table(frame, "accounts", out_dir=tmp_path, formats=("csv",))
    raw = csv_path.read_bytes()
    assert raw[:3] == BOM
    assert raw[3:4] != BOM[:1]  # exactly one BOM
    text = raw.decode("utf-8-sig")
    for name in ("Müller GmbH", "Svobodová s.r.o.", "Dvořák, a.s."):
        assert name in text
    assert "Müller".encode() in raw  # really UTF-8, not cp1252


def test_csv_neutralises_text_and_keeps_numbers(frame, tmp_path):
    (csv_path,) = export_table(frame, "accounts", out_dir=tmp_path, formats=("csv",))
    rows = read_csv_rows(csv_path)
    header, body = rows[0], rows[1:]
    assert header == ["account", "amount", "share", "'=cmd|' /C calc'!A0"]
    assert len(body) == len(ACCOUNTS)
    assert [r[0] for r in body] == list(ACCOUNTS.values())
    assert [r[1] for r in body] == [str(a) for a in AMOUNTS]
    assert body[1][1] == "-5"  # a negative number is not "neutralised"
    assert body[1][2] == "-0.25"
    for row in body:
        assert not row[0].startswith(DANGER)


def test_csv_semicolon_delimiter(frame, tmp_path):
    (csv_path,) = export_table(frame, "semi", out_dir=tmp_path, formats=("csv",), delimiter=";")
    text = csv_path.read_bytes().decode("utf-8-sig")
    first_line = text.split("\r\n", 1)[0]
    assert first_line == "account;amount;share;'=cmd|' /C calc'!A0"
    # the comma inside a name needs no quoting with ";"
    assert "\r\nDvořák, a.s.;30;1.0;x\r\n" in text
    rows = read_csv_rows(csv_path, delimiter=";")
    assert [r[0] for r in rows[1:]] == list(ACCOUNTS.values())
    assert all(len(r) == 4 for r in rows)


def test_csv_only_writes_only_csv(frame, tmp_path):
    written = export_table(frame, "only", out_dir=tmp_path, formats=("csv",))
    assert written == [tmp_path / "only.csv"]
    assert folder_files(tmp_path) == ["only.csv"]


# ---------------------------------------------------------------- xlsx


def test_xlsx_text_is_string_not_formula(frame, tmp_path):
    (xlsx_path,) = export_table(frame, "accounts", out_dir=tmp_path, formats=("xlsx",))
    ws = openpyxl.load_workbook(xlsx_path).active
    assert ws.title == "accounts"
    header = [c.value for c in ws[1]]
    assert header == ["account", "amount", "share", "'=cmd|' /C calc'!A0"]
    assert ws.cell(1, 4).data_type == "s"
    for row_no, (original, shown) in enumerate(ACCOUNTS.items(), start=2):
        cell = ws.cell(row_no, 1)
        assert cell.data_type == "s", (original, cell.data_type)
        if original.startswith("\r"):
            # the XML round trip turns a bare CR into LF (openpyxl); the prefix is what matters
            assert cell.value in ("'\rReturn", "'\nReturn")
        else:
            assert cell.value == shown
    link = ws.cell(2 + list(ACCOUNTS).index(HYPERLINK), 1)
    assert link.value == "'" + HYPERLINK
    assert link.data_type != "f"


def test_xlsx_numbers_stay_numbers(frame, tmp_path):
    (xlsx_path,) = export_table(frame, "accounts", out_dir=tmp_path, formats=("xlsx",))
    ws = openpyxl.load_workbook(xlsx_path).active
    amounts = [ws.cell(r, 2) for r in range(2, 2 + len(AMOUNTS))]
    shares = [ws.cell(r, 3) for r in range(2, 2 + len(SHARES))]
    assert all(c.data_type == "n" for c in amounts + shares)
    assert [c.value for c in amounts] == AMOUNTS
    assert [c.value for c in shares] == SHARES
    assert ws.cell(3, 2).value == -5


def test_long_name_gives_valid_sheet(tmp_path):
    name = "a_very_long_table_name_for_the_abc_xyz_matrix"
    (xlsx_path,) = export_table(pd.DataFrame({"a": [1]}), name, out_dir=tmp_path, formats=("xlsx",))
    assert xlsx_path.name == name + ".xlsx"
    assert openpyxl.load_workbook(xlsx_path).active.title == name[:31]


# ---------------------------------------------------------------- API


def test_returns_paths_in_format_order(frame, tmp_path):
    out = tmp_path / "new" / "folder"
    written = export_table(frame, "t", out_dir=out, formats=("xlsx", "csv"))
    assert written == [out / "t.xlsx", out / "t.csv"]
    assert all(p.is_file() and p.stat().st_size > 0 for p in written)
    assert folder_files(out) == ["t.csv", "t.xlsx"]


def test_default_writes_csv_and_xlsx(frame, tmp_path):
    written = export_table(frame, "both", out_dir=str(tmp_path))
    assert written == [tmp_path / "both.csv", tmp_path / "both.xlsx"]
    assert folder_files(tmp_path) == ["both.csv", "both.xlsx"]


def test_input_frame_not_modified(frame, tmp_path):
    before = frame.copy(deep=True)
    export_table(frame, "t", out_dir=tmp_path)
    export_table(frame, "t_index", out_dir=tmp_path, index=True)
    neutralise_formulas(frame)
    pd.testing.assert_frame_equal(frame, before)
    assert list(frame.columns) == list(before.columns)
    assert frame.loc[3, "account"] == HYPERLINK


def test_index_is_neutralised_when_written(tmp_path):
    frame = pd.DataFrame({"amount": [1, -2]}, index=pd.Index(["=evil()", "ok"], name="@who"))
    (csv_path,) = export_table(frame, "idx", out_dir=tmp_path, formats=("csv",), index=True)
    rows = read_csv_rows(csv_path)
    assert rows == [["'@who", "amount"], ["'=evil()", "1"], ["ok", "-2"]]


def test_relative_out_dir_is_in_project_folder(frame, tmp_path, monkeypatch):
    project = tmp_path / "project"
    elsewhere = tmp_path / "cwd"
    project.mkdir()
    elsewhere.mkdir()
    monkeypatch.setattr("kamlib.paths.project_root", lambda: project)
    monkeypatch.chdir(elsewhere)
    written = export_table(frame, "rel", out_dir="exports/sub", formats=("csv",))
    assert written == [project / "exports" / "sub" / "rel.csv"]
    assert written[0].is_file()
    assert list(elsewhere.iterdir()) == []


@pytest.mark.parametrize("formats", [("pdf",), ("csv", "xls"), (), "csv"])
def test_bad_formats_raise(frame, tmp_path, formats):
    with pytest.raises(ValueError, match="formats must be 'csv' and/or 'xlsx'"):
        export_table(frame, "t", out_dir=tmp_path, formats=formats)
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", ["sub/table", "..\\table", "", "..", ".", "a:b", "t*"])
def test_bad_names_raise(frame, tmp_path, name):
    with pytest.raises(ValueError, match="plain file name"):
        export_table(frame, name, out_dir=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_bad_name_message_shows_the_name(frame, tmp_path):
    with pytest.raises(ValueError) as info:
        export_table(frame, "reports/abc", out_dir=tmp_path)
    assert "'reports/abc'" in str(info.value)
    assert "without folder" in str(info.value)


@pytest.mark.skipif(os.name == "nt", reason="POSIX permissions")
def test_exported_files_follow_umask(frame, tmp_path):
    reference = tmp_path / "reference.txt"
    reference.write_text("x")
    expected_mode = stat.S_IMODE(reference.stat().st_mode)
    for path in export_table(frame, "perm", out_dir=tmp_path):
        assert stat.S_IMODE(path.stat().st_mode) == expected_mode


def test_categorical_text_is_neutralised(tmp_path):
    frame = pd.DataFrame({"segment": pd.Categorical(["=1+2", "Key", "=1+2"])})
    out = neutralise_formulas(frame)
    assert out["segment"].astype(str).tolist() == ["'=1+2", "Key", "'=1+2"]
    (csv_path,) = export_table(frame, "cat", out_dir=tmp_path, formats=("csv",))
    assert read_csv_rows(csv_path)[1] == ["'=1+2"]


def test_categorical_without_formulas_is_exported(tmp_path):
    frame = pd.DataFrame({"segment": pd.Categorical(["Key", "Strategic"]), "n": [1, -2]})
    (csv_path,) = export_table(frame, "cat_ok", out_dir=tmp_path, formats=("csv",))
    assert read_csv_rows(csv_path) == [["segment", "n"], ["Key", "1"], ["Strategic", "-2"]]


# ---------------------------------------------------------------- atomicity


def _partial_to_csv(self, path, *args, **kwargs):
    Path(path).write_bytes(BOM + b"account,amount\r\nM\xc3\xbcller,")
    raise OSError("disk full")


def _partial_xlsx(frame, path, sheet):
    Path(path).write_bytes(b"PK\x03\x04 half a zip")
    raise OSError("disk full")


def _interrupted_xlsx(frame, path, sheet):
    Path(path).write_bytes(b"PK\x03\x04")
    raise KeyboardInterrupt


def test_failed_csv_leaves_nothing(frame, tmp_path, monkeypatch):
    monkeypatch.setattr(pd.DataFrame, "to_csv", _partial_to_csv)
    out = tmp_path / "out"
    with pytest.raises(OSError, match="disk full"):
        export_table(frame, "t", out_dir=out)
    assert list(out.iterdir()) == []  # no t.csv, no .part, and xlsx never started


@pytest.mark.parametrize("failing", [_partial_xlsx, _interrupted_xlsx])
def test_failed_xlsx_leaves_no_file_and_no_part(frame, tmp_path, monkeypatch, failing):
    monkeypatch.setattr(export_module, "_write_xlsx", failing)
    with pytest.raises((OSError, KeyboardInterrupt)):
        export_table(frame, "t", out_dir=tmp_path, formats=("xlsx",))
    assert list(tmp_path.iterdir()) == []


def test_failed_write_keeps_previous_good_files(frame, tmp_path, monkeypatch):
    csv_path, xlsx_path = export_table(frame, "t", out_dir=tmp_path)
    old_csv, old_xlsx = csv_path.read_bytes(), xlsx_path.read_bytes()
    changed = frame.assign(amount=frame["amount"] * 1000)

    with monkeypatch.context() as m:
        m.setattr(pd.DataFrame, "to_csv", _partial_to_csv)
        with pytest.raises(OSError):
            export_table(changed, "t", out_dir=tmp_path)
    assert csv_path.read_bytes() == old_csv
    assert xlsx_path.read_bytes() == old_xlsx
    assert folder_files(tmp_path) == ["t.csv", "t.xlsx"]

    with monkeypatch.context() as m:
        m.setattr(export_module, "_write_xlsx", _partial_xlsx)
        with pytest.raises(OSError):
            export_table(changed, "t", out_dir=tmp_path, formats=("xlsx",))
    assert xlsx_path.read_bytes() == old_xlsx
    assert openpyxl.load_workbook(xlsx_path).active.cell(3, 2).value == -5
    assert folder_files(tmp_path) == ["t.csv", "t.xlsx"]


def test_a_failing_xlsx_also_withholds_the_csv(frame, tmp_path, monkeypatch):
    """The files of one call are all written or none: no CSV without its xlsx."""
    monkeypatch.setattr(export_module, "_write_xlsx", _partial_xlsx)
    with pytest.raises(OSError):
        export_table(frame, "t", out_dir=tmp_path)
    assert folder_files(tmp_path) == []


def test_control_characters_are_refused_before_writing(tmp_path):
    frame = pd.DataFrame({"note": ["fine", "bell\x07here"]})
    with pytest.raises(
        ValueError, match=r"control characters cannot be written to .xlsx: column 'note' \(rows 1\)"
    ):
        export_table(frame, "t", out_dir=tmp_path)
    assert folder_files(tmp_path) == []
    (path,) = export_table(frame, "t", out_dir=tmp_path, formats=("csv",))
    assert "bell\x07here" in path.read_text(encoding="utf-8-sig")


# ---------------------------------------------------------------- properties

SAFE_SETTINGS = settings(max_examples=40, deadline=None)


@SAFE_SETTINGS
@given(
    texts=st.lists(st.text(max_size=8), min_size=1, max_size=12),
    dtype=st.sampled_from([object, "str", "string"]),
)
def test_neutralise_text_property(texts, dtype):
    index = pd.RangeIndex(10, 10 + len(texts))
    frame = pd.DataFrame({"t": pd.Series(texts, dtype=dtype, index=index)})
    out = neutralise_formulas(frame)
    assert out.shape == frame.shape
    assert out.index.equals(frame.index)
    assert out["t"].dtype == frame["t"].dtype
    for before, after in zip(texts, out["t"], strict=True):
        assert isinstance(after, str)
        assert not after.startswith(DANGER)
        if before.startswith(DANGER):
            assert after == "'" + before
        else:
            assert after == before


@SAFE_SETTINGS
@given(
    cells=st.lists(
        st.one_of(st.text(max_size=6), st.integers(-(10**9), 10**9), st.floats(), st.none()),
        min_size=1,
        max_size=12,
    )
)
def test_neutralise_mixed_object_column(cells):
    frame = pd.DataFrame({"mixed": pd.Series(cells, dtype=object)})
    out = neutralise_formulas(frame)
    assert out.shape == frame.shape
    for before, after in zip(cells, out["mixed"], strict=True):
        if isinstance(before, str):
            assert after == ("'" + before if before.startswith(DANGER) else before)
        elif isinstance(before, float) and before != before:  # NaN
            assert after != after
        else:
            assert after == before
            assert type(after) is type(before)


@SAFE_SETTINGS
@given(
    floats=st.lists(st.floats(), min_size=1, max_size=12),
    ints=st.lists(st.integers(-(2**63), 2**63 - 1), min_size=1, max_size=12),
)
def test_neutralise_leaves_numbers_alone(floats, ints):
    frame = pd.DataFrame({"f": pd.Series(floats, dtype="float64")})
    pd.testing.assert_frame_equal(neutralise_formulas(frame), frame)
    frame = pd.DataFrame({"i": pd.Series(ints, dtype="int64")})
    pd.testing.assert_frame_equal(neutralise_formulas(frame), frame)


@SAFE_SETTINGS
@given(names=st.lists(st.text(max_size=6), min_size=1, max_size=6, unique=True))
def test_neutralise_column_names(names):
    frame = pd.DataFrame([list(range(len(names)))], columns=names)
    out = neutralise_formulas(frame)
    expected = ["'" + n if n.startswith(DANGER) else n for n in names]
    assert list(out.columns) == expected
    assert out.to_numpy().tolist() == frame.to_numpy().tolist()


def test_an_empty_table_with_text_columns_is_written(tmp_path):
    # an empty list (no account lost) must still give files with the header; with pandas 3
    # an empty text column kept its text dtype through the formula check and failed
    empty = pd.DataFrame({"account_id": pd.Series([], dtype="string"), "value": []})
    csv, xlsx = export_table(empty, "lost_accounts", out_dir=tmp_path)
    assert csv.read_text(encoding="utf-8-sig").splitlines() == ["account_id,value"]
    assert pd.read_excel(xlsx).columns.tolist() == ["account_id", "value"]
