"""Reading one table's file and parsing its columns into the model's types.

Every function here returns problems instead of raising, so that the loader can
report all of them at once. Source files are only ever opened for reading.
"""

from __future__ import annotations

import csv
import re

import numpy as np
import pandas as pd

from kamlib.config import TableConfig
from kamlib.schema import Column
from kamlib.validation import SHOW, Problem, closest, show_list

_ENCODING_NAMES = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "utf8": "UTF-8"}
_EXCEL = (".xlsx", ".xlsm", ".xls")
_PARQUET = (".parquet", ".pq")
_DAY_FIRST = re.compile(r"^\d{1,2}([./-])\d{1,2}\1\d{2,4}$")
_MANGLED = re.compile(r"^.+\.\d+$")
_DOT_THOUSANDS = re.compile(r"^[-+]?\d{1,3}(\.\d{3})+(,\d+)?$")
_COMMA_DECIMAL = re.compile(r"^[-+]?[\d.\s']*\d,\d+$")


def row0(cfg: TableConfig) -> int:
    """Spreadsheet row number of the first data row (the header is row 1)."""
    if cfg.file.suffix.lower() in _PARQUET:
        return 1
    return cfg.skip_rows + 2


def rows_text(positions: np.ndarray, first: int) -> str:
    """``rows 3, 7, 12 (40 rows in all)`` for 0-based positions."""
    rows = [int(p) + first for p in positions[:SHOW]]
    label = "row" if len(positions) == 1 else "rows"
    text = f"{label} {', '.join(map(str, rows))}"
    if len(positions) > SHOW:
        text += f" … ({len(positions)} rows in all)"
    return text


def _sniff_delimiter(cfg: TableConfig) -> str:
    with open(cfg.file, encoding=cfg.encoding, errors="replace", newline="") as fh:
        head = fh.read(65536)
    lines = head.splitlines()[cfg.skip_rows : cfg.skip_rows + 20]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        return ","


def read_raw(cfg: TableConfig) -> tuple[pd.DataFrame | None, list[Problem]]:
    """The file's table as read, with its own column names, or the problem why not."""
    label = cfg.file_label
    if not cfg.file.is_file():
        present = sorted(p.name for p in cfg.file.parent.glob("*") if p.is_file())
        near = closest(cfg.file.name, present)
        hint = f"did you mean {near!r}? " if near else ""
        hint += "Files there: " + (show_list(present, 10) if present else "none")
        return None, [
            Problem(
                f"{label}: file not found for table `{cfg.table}` (looked in {cfg.file.parent}).",
                hint,
                label,
                cfg.table,
            )
        ]
    suffix = cfg.file.suffix.lower()
    try:
        if suffix in _EXCEL:
            sheet = 0 if cfg.sheet is None else cfg.sheet
            try:
                frame = pd.read_excel(
                    cfg.file, sheet_name=sheet, dtype=object, skiprows=cfg.skip_rows
                )
            except ValueError as exc:
                if "not found" not in str(exc) and "index" not in str(exc).lower():
                    raise
                sheets = pd.ExcelFile(cfg.file).sheet_names
                return None, [
                    Problem(
                        f"{label}: no sheet {sheet!r}. Sheets found: {show_list(sheets, 20)}.",
                        "set `sheet:` for this table in kam.yaml to one of them",
                        label,
                        cfg.table,
                    )
                ]
        elif suffix in _PARQUET:
            frame = pd.read_parquet(cfg.file)
        else:
            delimiter = cfg.delimiter or _sniff_delimiter(cfg)
            frame = pd.read_csv(
                cfg.file,
                sep=delimiter,
                dtype=str,
                keep_default_na=False,
                na_values=[""],
                encoding=cfg.encoding,
                skiprows=cfg.skip_rows,
                skipinitialspace=True,
            )
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
                f"{label}: cannot be read as a table ({detail}).",
                "lines with a different number of fields usually mean title lines above the header "
                "(set `skip_rows:` to their number) or a wrong `delimiter:`; also check that the file "
                "is the format its name says",
                label,
                cfg.table,
            )
        ]
    frame.columns = [str(c).strip() for c in frame.columns]
    # pandas renames a repeated header "amount" to "amount.1": report it instead
    repeated = sorted(
        {
            c.rsplit(".", 1)[0]
            for c in frame.columns
            if _MANGLED.match(c) and c.rsplit(".", 1)[0] in frame.columns
        }
    )
    if repeated:
        return None, [
            Problem(
                f"{label}: the header has columns more than once: {show_list(repeated)}.",
                "rename or remove the repeated columns",
                label,
                cfg.table,
            )
        ]
    return frame, []


def blank(series: pd.Series) -> pd.Series:
    """Cells that are empty (missing, or only spaces)."""
    return _text(series).isna()


def _text(series: pd.Series) -> pd.Series:
    """Values as stripped text, missing stays missing (no 'nan' strings)."""
    if pd.api.types.is_float_dtype(series) or pd.api.types.is_integer_dtype(series):
        as_int = series.dropna()
        if (as_int % 1 == 0).all():
            series = series.astype("Int64")
    out = series.astype(str).str.strip()
    out = out.where(series.notna() & (out != ""), np.nan)
    return out.astype(object)


def _problem(cfg, col: Column, src: str, bad: np.ndarray, values: pd.Series, what, hint: str):
    """``what`` is a phrase, or (singular, plural): ("not a date", "not dates")."""
    shown = show_list(list(values.iloc[bad[:SHOW]]))
    n = len(bad)
    singular, plural = (what, what) if isinstance(what, str) else what
    return Problem(
        f"{cfg.file_label}, column {src!r} ({cfg.table}.{col.name}): {n} "
        f"{'value is ' + singular if n == 1 else 'values are ' + plural} — "
        f"{rows_text(bad, row0(cfg))}: {shown}.",
        hint,
        cfg.file_label,
        cfg.table,
        col.name,
        tuple(int(p) + row0(cfg) for p in bad[:SHOW]),
    )


def _number_hint(samples: list[str], cfg: TableConfig) -> str:
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
    return "clean these cells in the source, or map another column in kam.yaml"


def _parse_number(series: pd.Series, cfg: TableConfig) -> tuple[pd.Series, pd.Series]:
    """Numbers and a mask of unparseable cells."""
    if pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series):
        return series.astype(float), pd.Series(False, index=series.index)
    if cfg.file.suffix.lower() in _EXCEL:
        is_text = series.map(lambda v: isinstance(v, str))  # Excel cells mix numbers and text
    else:
        is_text = series.notna()  # CSV cells are all text
    native = pd.to_numeric(series.where(~is_text), errors="coerce")
    text = _text(series.where(is_text))
    cleaned = text.astype("string").str.replace("\u00a0", "", regex=False)
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
    bad = text.notna() & values.isna()
    return values, bad


def _parse_date(series: pd.Series, cfg: TableConfig) -> tuple[pd.Series, pd.Series]:
    if pd.api.types.is_datetime64_any_dtype(series):
        out = series
    elif cfg.file.suffix.lower() in _EXCEL:
        # Excel date cells arrive as datetimes; only cells typed as text follow date_format
        is_text = series.map(lambda v: isinstance(v, str))
        native = pd.to_datetime(series.where(~is_text), errors="coerce")
        text = _text(series.where(is_text))
        parsed = pd.to_datetime(text, format=cfg.date_format or "ISO8601", errors="coerce")
        out = native.where(~is_text, parsed)
    else:
        text = series.where(series.isna(), series.astype(str).str.strip())
        text = text.where(text != "", np.nan)
        out = pd.to_datetime(text, format=cfg.date_format or "ISO8601", errors="coerce")
    if getattr(out.dt, "tz", None) is not None:
        out = out.dt.tz_localize(None)
    bad = series.notna() & out.isna()
    if series.dtype == object:
        bad &= series.astype(str).str.strip() != ""
    return out.dt.normalize().astype("datetime64[ns]"), bad


def _date_hint(samples: list[str], cfg: TableConfig) -> str:
    day_first = [s for s in samples if _DAY_FIRST.match(s)]
    if day_first:
        sep = _DAY_FIRST.match(day_first[0]).group(1)
        year = "%Y" if len(day_first[0].split(sep)[-1]) == 4 else "%y"
        fmt = f"%d{sep}%m{sep}{year}"
        if cfg.date_format:
            return f"the values do not match date_format {cfg.date_format!r}; day-first dates like {day_first[0]!r} need {fmt!r}"
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


def parse_column(
    series: pd.Series, col: Column, src: str, cfg: TableConfig
) -> tuple[pd.Series, list[Problem]]:
    """Parse one column into its model type; problems name file, column and rows."""
    problems: list[Problem] = []

    def flag(mask: pd.Series, what, hint) -> pd.Series:
        """Report the cells in ``mask``; ``hint`` is text or a function of sample values."""
        if mask.any():
            pos = np.flatnonzero(mask.to_numpy())
            if callable(hint):
                hint = hint([str(v) for v in series.iloc[pos[:SHOW]]])
            problems.append(_problem(cfg, col, src, pos, series, what, hint))
        return mask

    if col.type == "string":
        return _text(series), problems
    if col.type in ("number", "integer"):
        values, bad = _parse_number(series, cfg)
        values = values.where(
            ~flag(bad, ("not a number", "not numbers"), lambda s: _number_hint(s, cfg))
        )
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
        return values, problems
    if col.type == "date":
        values, bad = _parse_date(series, cfg)
        flag(bad, ("not a date", "not dates"), lambda s: _date_hint(s, cfg))
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
                f"`values: {{{col.name}: {{{found[0]!r}: <{' | '.join(col.values)}>}}}}`"
            ),
        )
        return values, problems
    raise ValueError(f"unknown column type {col.type!r}")  # pragma: no cover - schema bug
