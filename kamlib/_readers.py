"""Reading one table's file and parsing its columns into the model's types.

Every function here returns problems instead of raising, so that the loader can
report all of them at once. Source files are only ever opened for reading.

Row numbers in messages are the ones an editor or spreadsheet shows: the header
is row 1 (after ``skip_rows`` title lines), and for CSV files a record that holds
a quoted line break, or a blank line the reader skipped, moves the later rows down
just as it does in the editor (see :func:`row_numbers`).
"""

from __future__ import annotations

import calendar
import codecs
import csv
import dataclasses
import datetime as dt
import functools
import itertools
import mmap
import re
import warnings
from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd

from kamlib.config import TableConfig
from kamlib.schema import Column
from kamlib.validation import SHOW, Problem, closest, shorten, show, show_list

_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "utf8": "UTF-8"}
_EXCEL = (".xlsx", ".xlsm", ".xls")
_PARQUET = (".parquet", ".pq")
_DAY_FIRST = re.compile(r"^\d{1,2}([./-])\d{1,2}\1\d{2,4}$")
_DOT_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$")
_COMMA_DECIMAL = re.compile(r"^[-+]?[\d.\s']*\d,\d+$")
_SERIAL_TEXT = re.compile(r"^\d{1,7}(\.\d+)?$")
#: A currency sign, or a three-letter code (EUR, USD), written beside an amount.
_CURRENCY = r"(?:[€$£]|[A-Z]{3})"
#: ``strip_currency:`` removes these: before a number, and after one.
_CURRENCY_BEFORE = re.compile(rf"^{_CURRENCY}\s*(?=[-+]?[\d.,])")
_CURRENCY_AFTER = re.compile(rf"(?<=[\d.,-])\s*{_CURRENCY}$")
#: ``trailing_minus:`` reads ``2.770,00-`` (SAP's credit notes) as ``-2.770,00``.
_TRAILING_MINUS = re.compile(r"^(\d[\d.,'\s]*)-$")
#: ``inf``, ``-Infinity``, ``NaN`` typed as text.
_NON_FINITE = r"[-+]?(?:nan|inf|infinity)"
#: Lines read below a header with problems, to tell a title line from a typo.
_SAMPLE_ROWS = 50
#: Whole numbers from here on cannot be held exactly in a float (2**53).
LARGEST_EXACT = 2**53
#: A time followed by a timezone offset: the offset is group 1.
_OFFSET = r"\d:\d{2}(?::\d{2}(?:[.,]\d+)?)?\s*(Z|[-+]\d{2}(?::?\d{2})?)$"
#: Dates pandas can hold (nanosecond timestamps), as whole days.
_FIRST_DAY = np.datetime64("1677-09-22", "us")
_LAST_DAY = np.datetime64("2262-04-11", "us")
DATE_RANGE = "1677–2262"
#: Patterns of the strftime codes an impossible date is recognised by (day, month, year).
_DATE_CODES = {
    "d": r"(?P<d>\d{1,2})",
    "m": r"(?P<m>\d{1,2})",
    "Y": r"(?P<Y>\d{4})",
    "y": r"(?P<y>\d{2})",
    "H": r"\d{1,2}",
    "M": r"\d{1,2}",
    "S": r"\d{1,2}",
    "f": r"\d{1,6}",
    "%": "%",
}
#: Excel's 1900 date system: serial 1 is 1900-01-01; the largest is 9999-12-31.
_EXCEL_SERIALS = (1, 2958465)


def row0(cfg: TableConfig) -> int:
    """Spreadsheet row number of the first data row (the header is row 1)."""
    if cfg.file.suffix.lower() in _PARQUET:
        return 1
    return cfg.skip_rows + (2 if cfg.header else 1)


def row_numbers(positions: Sequence[int] | np.ndarray, where: int | TableConfig) -> np.ndarray:
    """Row numbers as the user's editor shows them, for 0-based record positions.

    Parameters
    ----------
    positions : array of int
        Positions of records in the table as read (0 = first data row).
    where : int or TableConfig
        The row number of the first data row (see :func:`row0`), or the table's
        config: then, for CSV files with quoted line breaks or blank lines, each
        record's first physical line (found by one scan of the file, only when a
        message needs it).

    Returns
    -------
    numpy.ndarray
        One row number per position.
    """
    positions = np.asarray(positions, dtype=np.int64)
    if isinstance(where, TableConfig):
        starts = _record_lines(where)
        if starts is not None and (positions.size == 0 or positions.max() < len(starts)):
            return starts[positions]
        where = row0(where)
    return positions + where


def rows_text(positions: np.ndarray, first: int | TableConfig) -> str:
    """``rows 3, 7, 12 (40 rows in all)`` for 0-based positions.

    ``first`` is the row number of the first data row, or the table's config for
    the editor's line numbers (see :func:`row_numbers`).
    """
    rows = row_numbers(positions[:SHOW], first).tolist()
    label = "row" if len(positions) == 1 else "rows"
    text = f"{label} {', '.join(map(str, rows))}"
    if len(positions) > SHOW:
        text += f" … ({len(positions)} rows in all)"
    return text


def _record_lines(cfg: TableConfig) -> np.ndarray | None:
    """First physical line of each data record of a CSV file, or None when rows are lines."""
    if cfg.file.suffix.lower() in _EXCEL + _PARQUET:
        return None
    try:
        stat = cfg.file.stat()
        return _scan_records(
            str(cfg.file),
            stat.st_mtime_ns,
            stat.st_size,
            cfg.encoding,
            cfg.delimiter is not None and len(cfg.delimiter) > 1,
            cfg.skip_rows,
            cfg.header,
        )
    except (OSError, ValueError, LookupError, csv.Error):
        return None


@functools.lru_cache(maxsize=8)
def _scan_records(
    path: str,
    _mtime: int,
    size: int,
    encoding: str,
    literal: bool,
    skip_rows: int,
    header: bool = True,
) -> np.ndarray | None:
    """Scan a CSV file once for the line each record starts on (cached per file version).

    Only files with a quote character (a possible quoted line break) or a blank
    line (which pandas skips) need it; the others return None at the cost of a
    byte search. Multi-character delimiters are read without quoting (as pandas
    reads them), so only blank lines matter there.
    """
    if size == 0:
        return None
    wide = codecs.lookup(encoding).name.startswith(("utf-16", "utf-32"))
    if not wide:
        with open(path, "rb") as fh, mmap.mmap(fh.fileno(), 0, access=mmap.ACCESS_READ) as mm:
            quoted = not literal and mm.find(b'"') >= 0
            if not quoted and mm.find(b"\n\n") < 0 and mm.find(b"\n\r\n") < 0:
                return None
    with open(path, encoding=encoding, errors="replace", newline="") as fh:
        reader = csv.reader(
            itertools.islice(fh, skip_rows, None),
            quoting=csv.QUOTE_NONE if literal else csv.QUOTE_MINIMAL,
            skipinitialspace=True,
        )
        ends_filled = [(reader.line_num, bool(row)) for row in reader]
    if not ends_filled:
        return None
    ends, filled = (np.array(v) for v in zip(*ends_filled, strict=True))
    starts = skip_rows + np.concatenate([[0], ends[:-1]]) + 1
    starts = starts[filled.astype(bool)]
    return starts[1:] if header else starts  # the first record is the header, if any


def _sniff_delimiter(cfg: TableConfig) -> str:
    with open(cfg.file, encoding=cfg.encoding, errors="replace", newline="") as fh:
        head = fh.read(65536)
    lines = head.splitlines()[cfg.skip_rows : cfg.skip_rows + 20]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def _csv_options(cfg: TableConfig) -> dict:
    """``pandas.read_csv`` options; a multi-character delimiter is taken literally."""
    delimiter = cfg.delimiter or _sniff_delimiter(cfg)
    options = {
        "sep": delimiter,
        "dtype": str,
        "keep_default_na": False,
        "na_values": [""],
        "encoding": cfg.encoding,
        "skiprows": cfg.skip_rows,
        "skipinitialspace": True,
    }
    if len(delimiter) > 1:  # pandas reads longer separators as regular expressions
        options.update(sep=re.escape(delimiter), engine="python")
    return options


#: Lines at the top of a file searched for the header when the expected one is not found.
_HEADER_SEARCH = 10
#: Delimiters a wrongly split header is tried with: (as kam.yaml writes it, as it splits).
_DELIMITERS = ((";", ";"), ("\\t", "\t"), ("|", "|"), (",", ","), (" ", None))


def header_line(cfg: TableConfig, expected: Sequence[str]) -> int | None:
    """The file's line (1 = first) among the first few whose cells hold all ``expected`` names.

    Parameters
    ----------
    cfg : TableConfig
        How the table is read; the line ``skip_rows + 1`` (the header as read) is
        not considered.
    expected : sequence of str
        Column names the header should have (the missing ones).

    Returns
    -------
    int or None
        The line number as an editor shows it, or None when no line has them all
        (or the file cannot be read again, or is a Parquet file).
    """
    wanted = {str(e).strip() for e in expected}
    suffix = cfg.file.suffix.lower()
    if not wanted or suffix in _PARQUET:
        return None
    count = cfg.skip_rows + _HEADER_SEARCH + 1
    try:
        if suffix in _EXCEL:
            sheet = 0 if cfg.sheet is None else cfg.sheet
            top = pd.read_excel(cfg.file, sheet_name=sheet, header=None, dtype=object, nrows=count)
            rows = [[str(v).strip() for v in row if pd.notna(v)] for row in top.to_numpy()]
        else:
            with open(cfg.file, encoding=cfg.encoding, errors="replace", newline="") as fh:
                lines = list(itertools.islice(fh, count))
            seps = (
                [cfg.delimiter] if cfg.delimiter else [_sniff_delimiter(cfg), ",", ";", "\t", "|"]
            )
            rows = [
                [c.strip() for sep in seps for c in _split_line(line.rstrip("\r\n"), sep)]
                for line in lines
            ]
    except (OSError, ValueError, LookupError, csv.Error, ImportError):
        return None
    for number, cells in enumerate(rows, start=1):
        if number != cfg.skip_rows + 1 and wanted <= set(cells):
            return number
    return None


def _split_line(line: str, sep: str) -> list[str]:
    """One line's cells: quoted cells as the csv module reads them; longer separators literally."""
    if len(sep) > 1:
        return line.split(sep)
    return next(csv.reader([line], delimiter=sep, skipinitialspace=True), [])


def split_header(found: Sequence[str], expected: Sequence[str]) -> str | None:
    """The delimiter (as written in kam.yaml) that splits a one-column header into ``expected``.

    A file read with the wrong delimiter has one column whose name holds all the
    real names (``account_id;date;amount``). None when ``found`` is not such a header.
    """
    if len(found) != 1 or not expected:
        return None
    wanted = {str(e).strip() for e in expected}
    enough = min(2, len(wanted))
    for written, sep in _DELIMITERS:
        parts = found[0].split(sep)
        names = {p.strip().strip('"').strip() for p in parts}
        if len(parts) > 1 and len(wanted & names) >= enough:
            return written
    return None


def _header_names(values: Sequence[object]) -> list[str]:
    """Header cells as column names, trimmed; empty cells named as pandas names them."""
    return [
        f"Unnamed: {i}" if pd.isna(v) or not str(v).strip() else str(v).strip()
        for i, v in enumerate(values)
    ]


def _names_count(cfg: TableConfig, first: list[object]) -> list[Problem]:
    """``names:`` must name every column of a file without a header row, no more."""
    names = list(cfg.names or ())
    if len(names) == len(first):
        return []
    return [
        Problem(
            f"{cfg.file_label}: names: has {len(names)} names for {len(first)} columns "
            f"(table `{cfg.table}`; the first line read: {show_list([str(v) for v in first], 10)}).",
            "give one name per column, in the file's order (a column you do not need still "
            "needs a name)",
            cfg.file_label,
            cfg.table,
        )
    ]


def _repeated(cfg: TableConfig, names: list[str]) -> list[Problem]:
    """A header naming a column twice (after trimming spaces) is a problem."""
    seen = pd.Series(names, dtype=object)
    repeated = sorted(set(seen[seen.duplicated()]))
    if not repeated:
        return []
    return [
        Problem(
            f"{cfg.file_label}: the header has columns more than once (after trimming spaces): "
            f"{show_list(repeated)}.",
            "rename or remove the repeated columns",
            cfg.file_label,
            cfg.table,
        )
    ]


def _read_table(
    cfg: TableConfig, check_header: Callable[[list[str]], list[Problem]] | None
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """The table with trimmed header names; the header is checked before a CSV body is read."""
    label = cfg.file_label
    suffix = cfg.file.suffix.lower()
    if suffix in _EXCEL:
        sheet = 0 if cfg.sheet is None else cfg.sheet
        try:
            whole = pd.read_excel(
                cfg.file, sheet_name=sheet, dtype=object, skiprows=cfg.skip_rows, header=None
            )
        except ValueError as exc:
            if "not found" not in str(exc) and "index" not in str(exc).lower():
                raise
            sheets = pd.ExcelFile(cfg.file).sheet_names
            return None, [
                Problem(
                    f"{label}: no sheet {show(sheet)}. Sheets found: {show_list(sheets, 20)}.",
                    "set `sheet:` for this table in kam.yaml to one of them",
                    label,
                    cfg.table,
                )
            ]
        if whole.empty:
            raise pd.errors.EmptyDataError("No columns to parse from file")
        if not cfg.header:
            problems = _names_count(cfg, whole.iloc[0].tolist())
            if problems:
                return None, problems
            names, frame = list(cfg.names), whole
        else:
            names = _header_names(whole.iloc[0].tolist())
            frame = whole.iloc[1:].reset_index(drop=True)
        frame.columns = names
    elif suffix in _PARQUET:
        if not cfg.header:
            return None, [
                Problem(
                    f"{label}: header: false is for CSV and Excel files; a Parquet file always "
                    "names its columns.",
                    "leave out header: and names:, and map the file's names under columns:",
                    label,
                    cfg.table,
                )
            ]
        frame = pd.read_parquet(cfg.file)
        names = [str(c).strip() for c in frame.columns]
        frame.columns = names
    else:
        options = _csv_options(cfg)
        header = pd.read_csv(cfg.file, header=None, nrows=1, **options)
        if not cfg.header:
            problems = _names_count(cfg, header.iloc[0].tolist() if len(header) else [])
            if problems:
                return None, problems
            names = list(cfg.names)
        else:
            names = _header_names(header.iloc[0].tolist()) if len(header) else []
        problems = _repeated(cfg, names) or (check_header(names) if check_header else [])
        if problems:  # before the body: a header typo costs no time on a large file
            # a header that does not fit is often a title line: the lines below it then have
            # more fields, and the parser's error (raised here) says so better
            pd.read_csv(cfg.file, nrows=_SAMPLE_ROWS, **options)
            return None, problems
        frame = pd.read_csv(cfg.file, header="infer" if cfg.header else None, **options)
        frame.columns = (
            names if len(names) == len(frame.columns) else [str(c).strip() for c in frame.columns]
        )
        return frame, []
    problems = _repeated(cfg, names) or (check_header(names) if check_header else [])
    return (None, problems) if problems else (frame, [])


def read_raw(
    cfg: TableConfig, *, check_header: Callable[[list[str]], list[Problem]] | None = None
) -> tuple[pd.DataFrame | None, list[Problem]]:
    """The file's table as read, with its own column names, or the problems why not.

    Parameters
    ----------
    cfg : TableConfig
        Where and how to read the table.
    check_header : callable, optional
        Called with the header's column names (trimmed) before the body of a CSV
        file is read; problems it returns are returned without reading the body.

    Returns
    -------
    frame : pandas.DataFrame or None
        The table, or None when it cannot be read (or its header has problems).
    problems : list of Problem
    """
    label = cfg.file_label
    if cfg.file.is_dir():
        inside = sorted(p.name for p in cfg.file.glob("*") if p.is_file())
        return None, [
            Problem(
                f"{label}: is a folder, not a file (table `{cfg.table}`).",
                f"name the file itself in kam.yaml, e.g. `file: {shorten(label)}/…`"
                + (f"; files in it: {show_list(inside, 10)}" if inside else "; it holds no files"),
                label,
                cfg.table,
            )
        ]
    if not cfg.file.is_file():
        present = sorted(p.name for p in cfg.file.parent.glob("*") if p.is_file())
        near = closest(cfg.file.name, present)
        hint = f"did you mean {show(near)}? " if near else ""
        hint += "Files there: " + (show_list(present, 10) if present else "none")
        return None, [
            Problem(
                f"{label}: file not found for table `{cfg.table}` (looked in {cfg.file.parent}).",
                hint,
                label,
                cfg.table,
            )
        ]
    try:
        return _read_table(cfg, check_header)
    except PermissionError:
        return None, [
            Problem(
                f"{label}: cannot be opened (permission denied).",
                "check the file's permissions (your user must be allowed to read it), and close "
                "it in Excel or any other program that keeps it locked",
                label,
                cfg.table,
            )
        ]
    except UnicodeDecodeError as exc:
        return None, [
            Problem(
                f"{label}: cannot be read as {_ENCODING_NAMES.get(cfg.encoding, cfg.encoding)} (byte {exc.start}: "
                f"{exc.object[exc.start : exc.start + 1]!r}).",
                "files saved by Excel on Windows are often Latin-1: set `encoding: latin-1` "
                "(or cp1252) for this table in kam.yaml",
                label,
                cfg.table,
            )
        ]
    except (
        pd.errors.ParserError,
        pd.errors.EmptyDataError,
        OSError,
        ValueError,
        ImportError,
    ) as exc:
        detail = " ".join(str(exc).replace("Error tokenizing data. C error: ", "").split())
        return None, [
            Problem(
                f"{label}: cannot be read as a table ({shorten(detail, 160)}).",
                "lines with a different number of fields usually mean title lines above the header "
                "(set `skip_rows:` to their number) or a wrong `delimiter:`; also check that the file "
                "is the format its name says",
                label,
                cfg.table,
            )
        ]


def empty_formulas(cfg: TableConfig, frame: pd.DataFrame) -> dict[str, np.ndarray]:
    """Excel formula cells without a stored value, by column: 0-based positions.

    A workbook written by a program that does not compute formulas holds the
    formula but no value, and reads as an empty cell. Only columns of ``frame``
    with empty cells are looked at, and only .xlsx/.xlsm files (openpyxl), so a
    clean file costs nothing.
    """
    if cfg.file.suffix.lower() not in (".xlsx", ".xlsm"):
        return {}
    empty = frame.isna()
    wanted = [c for c in frame.columns if empty[c].any()]
    if not wanted:
        return {}
    import openpyxl

    book = openpyxl.load_workbook(cfg.file, read_only=True, data_only=False)
    try:
        sheet = (
            book.worksheets[cfg.sheet or 0] if not isinstance(cfg.sheet, str) else book[cfg.sheet]
        )
        top = cfg.skip_rows + 1
        if cfg.header:
            header = next(sheet.iter_rows(min_row=top, max_row=top, values_only=True), ())
            names = _header_names(list(header))
        else:  # no header row: the data starts on the first line read
            names, top = list(cfg.names or ()), top - 1
        where = {c: names.index(c) for c in wanted if c in names}
        if not where:
            return {}
        first, last = min(where.values()), max(where.values())
        cells = [
            [isinstance(v, str) and v.startswith("=") for v in row]
            for row in sheet.iter_rows(
                min_row=top + 1,
                max_row=top + len(frame),
                min_col=first + 1,
                max_col=last + 1,
                values_only=True,
            )
        ]
    finally:
        book.close()
    formula = np.zeros((len(frame), last - first + 1), dtype=bool)
    if cells:
        block = np.array([r + [False] * (last - first + 1 - len(r)) for r in cells], dtype=bool)
        formula[: len(block)] = block
    found = {}
    for name, index in where.items():
        mask = formula[:, index - first] & empty[name].to_numpy()
        if mask.any():
            found[name] = np.flatnonzero(mask)
    return found


#: A UTF-8 lead byte read as one Latin-1/cp1252 letter, and a byte after it: 'Ã±', 'â€'.
_MOJIBAKE = r"[\u00c2-\u00f4][^\x00-\x7f]"


def mojibake_warnings(
    cfg: TableConfig, frame: pd.DataFrame, sources: dict[str, str]
) -> list[Problem]:
    """Notes on text that looks like UTF-8 read with a one-byte encoding ('MontaÃ±a').

    Such a file reads without error and every accented letter becomes two. A cell
    counts when it holds a UTF-8 lead byte followed by a non-ASCII letter and
    reads as valid, different UTF-8 once encoded back; a genuine Latin-1 text
    rarely does both. CSV files read with a non-UTF encoding only.

    Parameters
    ----------
    cfg : TableConfig
        How the table was read.
    frame : pandas.DataFrame
        The table as read.
    sources : dict
        Model column name -> the file's column, for the columns used.

    Returns
    -------
    list of Problem
        One note per column, naming the rows and an example with its fix.
    """
    if cfg.file.suffix.lower() in _EXCEL + _PARQUET:
        return []
    encoding = codecs.lookup(cfg.encoding).name
    if encoding.startswith("utf"):
        return []
    notes = []
    for name, src in sources.items():
        text = frame[src].astype("string")
        suspect = text.str.contains(_MOJIBAKE, regex=True).fillna(False).astype(bool)
        if not suspect.any():
            continue
        before = text[suspect]
        after = before.str.encode(encoding, errors="replace").str.decode("utf-8", errors="replace")
        fixed = ~after.str.contains("\ufffd", regex=False) & (after != before)
        if not fixed.any():
            continue
        mask = pd.Series(False, index=text.index)
        mask[fixed[fixed].index] = True
        pos = np.flatnonzero(mask.to_numpy())
        first = fixed[fixed].index[0]
        notes.append(
            Problem(
                f"{cfg.file_label}, column {show(src)} ({cfg.table}.{name}): text looks like "
                f"UTF-8 read as {cfg.encoding} ({show(before[first])} would be "
                f"{show(after[first])}) — {rows_text(pos, cfg)}.",
                "set `encoding: utf-8` for this table in kam.yaml (the file was saved as "
                f"UTF-8); if it really is {cfg.encoding}, check these values",
                cfg.file_label,
                cfg.table,
                name,
                tuple(int(r) for r in row_numbers(pos[:SHOW], cfg)),
            )
        )
    return notes


def formula_problem(cfg: TableConfig, col: Column, src: str, positions: np.ndarray) -> Problem:
    """The problem for formula cells without a stored value in one column."""
    n = len(positions)
    return Problem(
        f"{cfg.file_label}, column {show(src)} ({cfg.table}.{col.name}): {n} formula "
        f"cell{'s' if n != 1 else ''} without a stored value — {rows_text(positions, cfg)}.",
        "the workbook was written by a program that does not compute formulas: open the file "
        "in Excel and save it again, or export values",
        cfg.file_label,
        cfg.table,
        col.name,
        tuple(int(r) for r in row_numbers(positions[:SHOW], cfg)),
    )


def blank(series: pd.Series) -> pd.Series:
    """Cells that are empty (missing, or only spaces)."""
    return _text(series).isna()


def _text(series: pd.Series) -> pd.Series:
    """Values as stripped text, missing stays missing (no 'nan' strings)."""
    if pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series):
        as_int = series.dropna()
        if (as_int % 1 == 0).all() and (as_int.abs() < LARGEST_EXACT).all():
            series = series.astype("Int64")
    out = series.astype(str).str.strip()
    out = out.where(series.notna() & (out != ""), np.nan)
    return out.astype(object)


def _kinds(series: pd.Series) -> pd.Series:
    """The Python type of each cell (Excel cells mix text, numbers and datetimes)."""
    return series.map(type)


def _is_number(kinds: pd.Series) -> pd.Series:
    return kinds.map(lambda k: issubclass(k, (int, float, np.number)) and not issubclass(k, bool))


def _problem(
    cfg, col: Column, src: str, bad: np.ndarray, values: pd.Series, what, hint: str, shown=None
):
    """``what`` is a phrase, or (singular, plural): ("not a date", "not dates")."""
    shown = shown if shown is not None else show_list(list(values.iloc[bad[:SHOW]]))
    n = len(bad)
    singular, plural = (what, what) if isinstance(what, str) else what
    return Problem(
        f"{cfg.file_label}, column {show(src)} ({cfg.table}.{col.name}): {n} "
        f"{'value is ' + singular if n == 1 else 'values are ' + plural} — "
        f"{rows_text(bad, cfg)}: {shown}.",
        hint,
        cfg.file_label,
        cfg.table,
        col.name,
        tuple(int(r) for r in row_numbers(bad[:SHOW], cfg)),
    )


def _strip_amount(text: pd.Series, cfg: TableConfig) -> pd.Series:
    """``text`` with currency signs and a trailing minus handled, as ``cfg`` asks."""
    if cfg.strip_currency:
        text = text.str.replace(_CURRENCY_BEFORE, "", regex=True)
        text = text.str.replace(_CURRENCY_AFTER, "", regex=True)
    if cfg.trailing_minus:
        text = text.str.replace(_TRAILING_MINUS, r"-\1", regex=True)
    return text


def _amount_options_hint(samples: list[str], cfg: TableConfig) -> str:
    """The hint naming ``strip_currency``/``trailing_minus`` when samples need them, or ''."""
    sample = pd.Series(samples, dtype="string").str.strip()
    with_currency = sample.str.contains(_CURRENCY_BEFORE) | sample.str.contains(_CURRENCY_AFTER)
    bare = _strip_amount(
        sample, dataclasses.replace(cfg, strip_currency=True, trailing_minus=False)
    )
    trailing = bare.str.strip().str.match(_TRAILING_MINUS)
    options, what = [], []
    if not cfg.strip_currency and with_currency.any():
        options.append("`strip_currency: true`")
        what.append(
            f"a currency sign or code beside the number ({show(samples[with_currency.idxmax()])})"
        )
    if not cfg.trailing_minus and trailing.any():
        options.append("`trailing_minus: true`")
        what.append(
            f"a trailing minus, as SAP writes credit notes ({show(samples[trailing.idxmax()])})"
        )
    if not options:
        return ""
    both = dataclasses.replace(cfg, strip_currency=True, trailing_minus=True)
    stripped = _strip_amount(sample, both).astype(object)
    still = _parse_number(stripped, both)[1]  # what the options alone would not read
    then = _format_hint(stripped[still].astype(str).tolist(), both) if still.any() else ""
    return (
        f"these look like amounts with {' and '.join(what)}: set {' and '.join(options)} for "
        "this table in kam.yaml" + (f"; then {then}" if then else "")
    )


def _number_hint(samples: list[str], cfg: TableConfig) -> str:
    return (
        _amount_options_hint(samples, cfg)
        or _format_hint(samples, cfg)
        or "clean these cells in the source, or map another column in kam.yaml"
    )


def _format_hint(samples: list[str], cfg: TableConfig) -> str:
    """The hint on ``decimal:``/``thousands:`` when samples need them, or ''."""
    if any(_DOT_THOUSANDS.match(s) for s in samples) and not cfg.thousands:
        return (
            'these look like numbers with dots between thousands ("1.500", "185.000.000"): '
            'set `thousands: "."` (and `decimal: ","`) for this table in kam.yaml'
        )
    if any(_COMMA_DECIMAL.match(s) for s in samples):
        return (
            'these look like decimal commas ("1.234,56"): set `decimal: ","` and '
            '`thousands: "."` for this table in kam.yaml'
        )
    if cfg.decimal == "," and any(re.match(r"^[-+]?\d{1,3}(,\d{3})+(\.\d+)?$", s) for s in samples):
        return 'these look like "1,234.56": remove `decimal: ","` or set `thousands: ","`'
    return ""


def _parse_number(
    series: pd.Series, cfg: TableConfig
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Numbers, and masks of unparseable, non-finite and inexact (huge whole) cells.

    Non-finite cells (``inf``, ``1e309``, ``NaN`` typed as text, infinite floats)
    and whole numbers from 2**53 on (which a float cannot hold exactly) are
    masked, not parsed: the caller reports them.
    """
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        values = series.astype(float)
        nonfinite = pd.Series(np.isinf(values.to_numpy()), index=series.index)
        inexact = (
            series.abs().ge(LARGEST_EXACT).fillna(False).astype(bool)
            if pd.api.types.is_integer_dtype(series)
            else pd.Series(False, index=series.index)
        )
        return values, pd.Series(False, index=series.index), nonfinite, inexact
    if cfg.file.suffix.lower() in _EXCEL:
        is_text = series.map(lambda v: isinstance(v, str))  # Excel cells mix numbers and text
    else:
        is_text = series.notna()  # CSV cells are all text
    native = pd.to_numeric(series.where(~is_text), errors="coerce")
    # Excel holds doubles: a whole number this large has lost its last digits
    native_huge = native.abs().ge(LARGEST_EXACT).fillna(False).astype(bool)
    text = _text(series.where(is_text))
    cleaned = _strip_amount(text.astype("string").str.replace("\u00a0", "", regex=False), cfg)
    if cfg.thousands:
        cleaned = cleaned.str.replace(cfg.thousands, "", regex=False)
    if cfg.decimal != ".":
        cleaned = cleaned.str.replace(cfg.decimal, ".", regex=False)
    parsed = pd.to_numeric(cleaned.astype(object), errors="coerce")
    if cfg.decimal != "." and not cfg.thousands:
        # with decimal commas, a dot can only be a thousands separator nobody declared:
        # "1.500" must not silently become 1.5
        parsed = parsed.where(
            ~text.astype("string").str.contains(".", regex=False).fillna(False).astype(bool)
        )
    values = native.where(~is_text, parsed).astype(float)
    nonfinite = pd.Series(np.isinf(values.to_numpy()), index=series.index)
    unparsed = (text.notna() & values.isna()).to_numpy()
    # the text checks run on the few cells concerned only, not on the whole column
    typed_nan = cleaned[unparsed].str.strip().str.fullmatch(_NON_FINITE, case=False)
    # '1e309' is inf in pandas 3 and unparsed in pandas 2.2: Python's float says which
    overflow = cleaned[unparsed].map(_overflows, na_action="ignore")
    nonfinite[unparsed] = (typed_nan.fillna(False) | overflow.fillna(False)).astype(bool).to_numpy()
    huge = (is_text & values.abs().ge(LARGEST_EXACT)).fillna(False).astype(bool).to_numpy()
    whole = cleaned[huge].str.strip().str.fullmatch(r"[-+]?\d+").fillna(False).astype(bool)
    inexact = native_huge.copy()
    inexact[huge] = whole.to_numpy()
    bad = text.notna() & values.isna() & ~nonfinite
    return values, bad.astype(bool), nonfinite, inexact


def _overflows(text: str) -> bool:
    """Whether ``text`` is a number too large for a float (``1e309``)."""
    try:
        return np.isinf(float(str(text).strip()))
    except ValueError:
        return False


def _local_dates(parsed: pd.Series) -> pd.Series:
    """Timestamps as written (a timezone offset dropped, not applied), in microseconds.

    Raises ValueError for a column of mixed offsets, which pandas 2.2 returns as
    objects (with a FutureWarning) where pandas 3 raises.
    """
    if not pd.api.types.is_datetime64_any_dtype(parsed):
        raise ValueError("mixed timezone offsets")
    if getattr(parsed.dt, "tz", None) is not None:
        parsed = parsed.dt.tz_localize(None)
    return parsed.astype("datetime64[us]")


def _to_datetime(text: pd.Series, fmt: str) -> pd.Series:
    """``pd.to_datetime(..., errors="coerce")`` without pandas 2.2's mixed-offset warning."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # mixed offsets: handled by the caller
        return pd.to_datetime(text, format=fmt, errors="coerce")


def _python_date(text: str, fmt: str) -> dt.datetime | None:
    """One date the way Python reads it (years 1 to 9999), or None."""
    try:
        if fmt == "ISO8601":
            return dt.datetime.fromisoformat(text).replace(tzinfo=None)
        return dt.datetime.strptime(text, fmt)
    except (ValueError, TypeError):
        return None


def _beyond_nanoseconds(text: pd.Series, parsed: pd.Series, fmt: str) -> pd.Series:
    """``parsed`` with the dates pandas 2.2 cannot hold (before 1677, after 2262) filled in.

    pandas 3 reads such dates at microsecond resolution; pandas 2.2 makes them NaT,
    which would call '9999-12-31' "not a date" instead of "out of range". Only the
    cells that did not parse are read again, one by one (the few a message names).
    """
    missing = (text.notna() & parsed.isna()).to_numpy()
    if not missing.any() or fmt == "mixed":
        return parsed
    again = text[missing].map(lambda value: _python_date(str(value).strip(), fmt))
    found = again.notna().to_numpy()
    if not found.any():
        return parsed
    out = parsed.copy()
    where = np.flatnonzero(missing)[found]
    out.iloc[where] = np.array(list(again[found]), dtype="datetime64[us]")
    return out


def _parse_date_text(text: pd.Series, date_format: str | None) -> pd.Series:
    """Dates typed as text, as written.

    A timestamp with a timezone offset (``2025-03-31T00:30:00+02:00``) counts on
    the date as written, not on its date in UTC: for an invoice or visit date,
    the date the company wrote is what it means, and an export across a
    daylight-saving change mixes offsets (+01:00, +02:00) in one column. Values
    are parsed in groups of one offset each, so mixed offsets need no UTC
    conversion.
    """
    fmt = date_format or "ISO8601"

    def parse(part: pd.Series) -> pd.Series:
        try:
            parsed = _local_dates(_to_datetime(part, fmt))
        except (ValueError, OverflowError):  # a format pandas refuses: nothing parses
            return pd.Series(pd.NaT, index=part.index, dtype="datetime64[us]")
        return _beyond_nanoseconds(part, parsed, fmt)

    try:
        return _beyond_nanoseconds(text, _local_dates(_to_datetime(text, fmt)), fmt)
    except (ValueError, OverflowError):  # mixed offsets (or a format pandas refuses)
        pass
    offsets = text.astype("string").str.extract(_OFFSET, expand=False).fillna("")
    keys = pd.unique(offsets[text.notna()])
    parts = [parse(text[(offsets == key).to_numpy()]) for key in keys]
    return pd.concat(parts).reindex(text.index) if parts else parse(text)


def _excel_serial_dates(numbers: pd.Series) -> pd.Series:
    """Excel 1900-system serial numbers as dates (the time of day dropped).

    Serial 1 is 1900-01-01. Excel counts a 29 February 1900 that never was
    (serial 60), so from serial 61 on the day is 1899-12-30 plus the serial, and
    below 60 it is 1899-12-31 plus the serial (60 gives 1900-02-28). Serials
    outside 1 … 2958465 (9999-12-31) are not dates and stay empty.
    """
    days = np.floor(numbers.astype(float))
    plausible = days.between(*_EXCEL_SERIALS)
    offset = np.where(days < 60, days + 1, days)
    epoch = np.datetime64("1899-12-30", "D")
    stamps = epoch + np.where(plausible, offset, 0).astype("timedelta64[D]")
    out = pd.Series(stamps.astype("datetime64[us]"), index=numbers.index)
    return out.where(plausible)


def _parse_date(
    series: pd.Series, cfg: TableConfig
) -> tuple[pd.Series, pd.Series, pd.Series, pd.Series]:
    """Dates, and masks of unparseable cells, dates outside 1677–2262 and Excel serials.

    Excel date cells arrive as datetimes; only cells typed as text follow
    ``date_format``. Numbers in a date column of an Excel file are Excel date
    serials (a date cell formatted as a number) and are converted — the caller
    records a warning for each; in a CSV file they are not dates.
    """
    serial = pd.Series(False, index=series.index)
    if pd.api.types.is_datetime64_any_dtype(series):
        out = _local_dates(series)
    elif cfg.file.suffix.lower() in _EXCEL:
        kinds = _kinds(series)
        is_text = kinds.map(lambda k: issubclass(k, str))
        is_stamp = kinds.map(lambda k: issubclass(k, dt.date))
        serial = _is_number(kinds)
        stamps = series.where(is_stamp, None).to_numpy(object)
        native = pd.Series(np.array(stamps, dtype="datetime64[us]"), index=series.index)
        numbers = pd.to_numeric(series.where(serial), errors="coerce")
        out = native.where(is_stamp, _excel_serial_dates(numbers))
        out = out.where(~is_text, _parse_date_text(_text(series.where(is_text)), cfg.date_format))
        serial &= out.notna()
    else:
        out = _parse_date_text(_text(series), cfg.date_format)
    out = out.dt.normalize()
    outside = (out.notna() & ((out < _FIRST_DAY) | (out > _LAST_DAY))).astype(bool)
    serial &= ~outside
    out = out.where(~outside)
    bad = ~blank(series) & out.isna() & ~outside
    return out.astype("datetime64[ns]"), bad.astype(bool), outside, serial.astype(bool)


def _serial_example(text: str) -> str | None:
    """``45292 = 2024-01-01`` when ``text`` looks like an Excel date serial."""
    if not _SERIAL_TEXT.match(text):
        return None
    date = _excel_serial_dates(pd.Series([float(text)])).iloc[0]
    return None if pd.isna(date) or float(text) < 20000 else f"{text} = {date:%Y-%m-%d}"


def _impossible_date(text: str, fmt: str) -> str | None:
    """``'31/02/2011' is not a date (there is no 31 February)`` when ``text`` has the shape of
    ``fmt`` but names no real day; None otherwise (and for formats with other codes)."""
    pattern = ""
    for literal, code in re.findall(r"([^%]*)(?:%(.)|$)", fmt):
        pattern += re.escape(literal)
        if code:
            if code not in _DATE_CODES:
                return None
            pattern += _DATE_CODES[code]
    try:
        found = re.fullmatch(pattern, text)
    except re.error:  # a code written twice
        return None
    if found is None or _python_date(text, fmt) is not None:
        return None
    parts = found.groupdict()
    day, month = int(parts.get("d") or 1), int(parts.get("m") or 1)
    year = int(parts["Y"]) if parts.get("Y") else 2000 + int(parts.get("y") or 0)
    why = ""
    if not 1 <= month <= 12:
        why = f"there is no month {month}"
    elif day == 0:
        why = "there is no day 0"
    elif day > calendar.monthrange(max(year, 1), month)[1]:
        name = calendar.month_name[month]
        why = f"there is no {day} {name}" + (f" in {year}" if (day, month) == (29, 2) else "")
    return f"{show(text)} is not a date" + (f" ({why})" if why else "")


def _date_hint(samples: list[str], cfg: TableConfig) -> str:
    if cfg.date_format and cfg.date_format not in ("ISO8601", "mixed"):
        impossible = [e for e in (_impossible_date(s, cfg.date_format) for s in samples) if e]
        if impossible:
            return (
                "; ".join(impossible)
                + f": the format {cfg.date_format!r} is right; fix these dates in the source (a "
                "typo, or a date the system filled in)"
            )
    serials = [e for e in map(_serial_example, samples) if e]
    if serials:
        return (
            f"these look like Excel date serial numbers ({serials[0]}): format the column as "
            "Date in Excel before exporting, or export the dates as text like 2024-01-31"
        )
    day_first = [s for s in samples if _DAY_FIRST.match(s)]
    if day_first:
        sep = _DAY_FIRST.match(day_first[0]).group(1)
        year = "%Y" if len(day_first[0].split(sep)[-1]) == 4 else "%y"
        fmt = f"%d{sep}%m{sep}{year}"
        if cfg.date_format:
            return f"the values do not match date_format {cfg.date_format!r}; day-first dates like {show(day_first[0])} need {fmt!r}"
        return f'these look like day-first dates: set `date_format: "{fmt}"` for this table in kam.yaml (or "%m{sep}%d{sep}{year}" if month comes first)'
    if cfg.date_format:
        return f"the values do not match date_format {cfg.date_format!r} (see strftime codes: %d day, %m month, %Y year)"
    return 'dates are read as ISO (2024-01-31) unless you set `date_format:`, e.g. "%d.%m.%Y"'


def _parse_bool(series: pd.Series, cfg: TableConfig) -> tuple[pd.Series, pd.Series]:
    text = _text(series).astype("string").str.lower()
    text = text.str.replace(r"\.0$", "", regex=True)
    out = pd.Series(pd.NA, index=series.index, dtype="boolean")
    out[text.isin(cfg.true_values).fillna(False).astype(bool)] = True
    out[text.isin(cfg.false_values).fillna(False).astype(bool)] = False
    if "" in cfg.false_values:  # "X or empty" flags: an empty cell means no
        out[text.isna().to_numpy()] = False
    bad = text.notna() & out.isna()
    return out, bad.astype(bool)


def _normalise_category(text: pd.Series) -> pd.Series:
    return text.astype("string").str.strip().str.lower().str.replace(r"[\s\-/]+", "_", regex=True)


def _parse_category(
    series: pd.Series, col: Column, cfg: TableConfig
) -> tuple[pd.Series, pd.Series]:
    text = _normalise_category(_text(series))
    mapping = cfg.values.get(col.name, {})
    if mapping:
        keys = _normalise_category(pd.Series(list(mapping))).tolist()
        text = text.replace(dict(zip(keys, mapping.values(), strict=True)))
    bad = text.notna() & ~text.isin(col.values).fillna(False).astype(bool)
    return text.astype(object).where(text.notna(), np.nan), bad.astype(bool)


def _id_precision(series: pd.Series, cfg: TableConfig) -> pd.Series:
    """Id cells held as numbers too long to be exact (Excel numbers, or floats)."""
    if pd.api.types.is_float_dtype(series):
        return series.abs().ge(LARGEST_EXACT).fillna(False).astype(bool)
    if cfg.file.suffix.lower() not in _EXCEL or series.dtype != object:
        return pd.Series(False, index=series.index)
    numbers = pd.to_numeric(series.where(_is_number(_kinds(series))), errors="coerce")
    return numbers.abs().ge(LARGEST_EXACT).fillna(False).astype(bool)


def _overflow_problem(cfg: TableConfig, col: Column, src: str, values: pd.Series) -> list[Problem]:
    """A column whose finite values add up to infinity: refuse it, suggesting the unit."""
    magnitude = values.abs().to_numpy(dtype=float, na_value=0.0)
    with np.errstate(over="ignore"):
        total = magnitude.sum()
    if np.isfinite(total):
        return []
    at = np.array([int(np.argmax(magnitude))])
    row = row_numbers(at, cfg)[0]
    return [
        Problem(
            f"{cfg.file_label}, column {show(src)} ({cfg.table}.{col.name}): the values are too "
            f"large to add up (their sum overflows; largest {values.iloc[at[0]]:g} in row {row}).",
            "check the unit of this column and its `decimal:`/`thousands:` settings: numbers this "
            "large mean a wrong unit, a wrong column mapped, or digits run together",
            cfg.file_label,
            cfg.table,
            col.name,
            (int(row),),
        )
    ]


def parse_column(
    series: pd.Series,
    col: Column,
    src: str,
    cfg: TableConfig,
    *,
    warnings: list[Problem] | None = None,
) -> tuple[pd.Series, list[Problem]]:
    """Parse one column into its model type; problems name file, column and rows.

    Parameters
    ----------
    series : pandas.Series
        The column as read.
    col : Column
        The model column it becomes.
    src : str
        The column's name in the file.
    cfg : TableConfig
        How the table was read.
    warnings : list of Problem, optional
        Notes on values read in a way the user should check (e.g. Excel date
        serial numbers converted to dates) are appended here.

    Returns
    -------
    values : pandas.Series
        The parsed column; problem cells are empty.
    problems : list of Problem
    """
    problems: list[Problem] = []

    def flag(mask: pd.Series, what, hint, shown=None, into=problems) -> pd.Series:
        """Report the cells in ``mask``; ``hint`` is text or a function of sample values."""
        if mask.any():
            pos = np.flatnonzero(mask.to_numpy())
            if callable(hint):
                hint = hint([str(v) for v in series.iloc[pos[:SHOW]]])
            into.append(_problem(cfg, col, src, pos, series, what, hint, shown))
        return mask

    if col.type == "string":
        if col.name.endswith("_id"):
            where = "in Excel" if cfg.file.suffix.lower() in _EXCEL else "as floating-point numbers"
            flag(
                _id_precision(series, cfg),
                (
                    f"stored as a number {where} and too long to be exact",
                    f"stored as numbers {where} and too long to be exact",
                ),
                "a number keeps only 15 to 16 digits, so different ids can become one: format "
                "the column as Text in Excel (or export the ids as text) and enter the ids again "
                "from the source system",
            )
        return _text(series), problems
    if col.type in ("number", "integer"):
        values, bad, nonfinite, inexact = _parse_number(series, cfg)
        flag(bad, ("not a number", "not numbers"), lambda s: _number_hint(s, cfg))
        flag(
            nonfinite,
            ("not a finite number", "not finite numbers"),
            "infinite or undefined values (inf, 1e309, NaN) cannot be added up: leave the cell "
            "empty if the value is unknown, or fix the export",
        )
        if col.type == "integer":
            inexact |= values.abs().ge(LARGEST_EXACT).fillna(False).astype(bool) & ~nonfinite
        flag(
            inexact,
            "out of range",
            "whole numbers from 9,007,199,254,740,992 (2^53) on cannot be held exactly: check "
            "the unit, and that the column holds amounts, not ids or codes",
        )
        values = values.where(~(bad | nonfinite | inexact))
        if col.type == "integer":
            fractional = flag(
                values.notna() & (values % 1 != 0),
                ("not a whole number", "not whole numbers"),
                "this column counts whole units",
            )
            values = values.where(~fractional).round().astype("Int64")
        scale = f"{col.name} is on the scale {col.unit}: {col.description}"
        if col.minimum is not None:
            flag(values.lt(col.minimum).fillna(False).astype(bool), f"below {col.minimum:g}", scale)
        if col.maximum is not None:
            flag(values.gt(col.maximum).fillna(False).astype(bool), f"above {col.maximum:g}", scale)
        problems += _overflow_problem(cfg, col, src, values.astype(float))
        return values, problems
    if col.type == "date":
        values, bad, outside, serial = _parse_date(series, cfg)
        flag(bad, ("not a date", "not dates"), lambda s: _date_hint(s, cfg))
        flag(
            outside,
            f"out of range ({DATE_RANGE})",
            "the kit holds dates from 1677-09-22 to 2262-04-11; a year like 9999 or 0001 "
            "usually stands for 'no end' or 'unknown': leave the cell empty instead, or fix "
            "the typo",
        )
        if serial.any():
            pos = np.flatnonzero(serial.to_numpy())[:SHOW]
            flag(
                serial,
                (
                    "an Excel date serial number, read as a date",
                    "Excel date serial numbers, read as dates",
                ),
                "this is how Excel stores a date in a cell formatted as a number (1900 date "
                "system); check these dates, and format the column as Date in Excel so that "
                "this note goes away",
                ", ".join(f"{series.iloc[p]} ({values.iloc[p]:%Y-%m-%d})" for p in pos),
                [] if warnings is None else warnings,
            )
        return values, problems
    if col.type == "boolean":
        values, bad = _parse_bool(series, cfg)
        flag(
            bad,
            ("not a yes/no value", "not yes/no values"),
            f"accepted: {', '.join(cfg.true_values)} / {', '.join(cfg.false_values)}; "
            "add yours with `true_values:` / `false_values:` in kam.yaml",
        )
        return values, problems
    if col.type == "category":
        values, bad = _parse_category(series, col, cfg)
        found = sorted(set(series[bad].astype(str)))
        flag(
            bad,
            f"not one of {', '.join(col.values)}",
            lambda _s: (
                f"values found: {show_list(found, 10)}; translate each to one of the model's "
                "values in kam.yaml under this table, e.g. "
                f"`values: {{{col.name}: {{{show(found[0])}: <{' | '.join(col.values)}>}}}}`"
            ),
        )
        return values, problems
    raise ValueError(f"unknown column type {col.type!r}")  # pragma: no cover - schema bug
