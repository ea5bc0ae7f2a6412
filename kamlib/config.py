"""Reading ``kam.yaml``: which file holds each table and how to read it.

A dataset is a folder with a ``kam.yaml`` (or the YAML file itself)::

    name: ACME Klebstoffe
    currency: EUR
    quantity_unit: kg
    defaults:                 # read options for every table
      delimiter: ";"
      decimal: ","
      date_format: "%d.%m.%Y"
    tables:
      transactions:
        file: umsatz.csv
        encoding: latin-1
        columns:              # model column: your column
          account_id: Kundennr
          date: Rechnungsdatum
          amount: Umsatz netto
      accounts: kunden.xlsx   # a file name alone takes the defaults

A folder without ``kam.yaml`` is read by convention: ``transactions.csv``,
``accounts.csv`` … (or ``.xlsx``/``.parquet``) with the model's column names.

Reading ``kam.yaml`` never raises: every mistake is a :class:`Problem` that names
the setting and the fix, and the loader reports them all at once. The file is read
with :func:`kamlib._yaml.load_yaml` (UTF-8; bounded size, aliases and nesting;
a key written twice is refused). Beyond types, the settings are checked here so
that they cannot fail later:

* ``file:`` must lie inside the dataset folder once symlinks are resolved
  (``../x.csv``, ``/etc/passwd`` or a symlink pointing out are refused, and the
  file is never opened). The top-level option ``allow_outside_files: true``
  lifts this for a kam.yaml whose tables really live elsewhere, e.g. on a share.
  A folder without kam.yaml has no such option: its files must be in it.
* ``encoding:`` must be a text encoding Python knows (``utf-8``, ``latin-1``,
  ``cp1252``, ``utf-16`` …); ``date_format:`` must hold strftime codes pandas can
  parse, including a year (``ISO8601`` and ``mixed`` are pandas' own words);
  ``skip_rows:`` at most 1,000,000; ``sheet:`` a name (at most 31 characters, as
  in Excel) or a number from 0 (the first sheet) to 1000;
  ``decimal:`` one character, ``thousands:`` one character (or empty) and not
  the same as ``decimal:`` (a ``thousands: "."`` with ``decimal:`` left out is
  left to the reader, whose message shows the values and the fix); a value may not be both in ``true_values:`` and
  ``false_values:``.
* ``delimiter:`` may not be empty or hold a line break or a quote; several
  characters (``"||"``) are allowed and kept as written (the reader matches them
  literally, not as a regular expression); ``"\\t"`` means a tab.
* ``normalize_ids:`` (true/false, default false, in ``defaults:`` or per table):
  when true, id columns are trimmed, invisible characters (zero-width,
  non-breaking space) removed, Unicode NFKC-normalised and upper-cased before
  use; otherwise such differences are reported, never merged silently.
* ``trailing_minus:`` and ``strip_currency:`` (true/false, default false, in
  ``defaults:`` or per table): read ``2.770,00-`` as −2770 (SAP), and drop a
  currency sign (€ $ £) or three-letter code (EUR) written beside a number.
* ``header: false`` (default true) with ``names: [..]`` for a file without a header
  row: ``names:`` must be a list of distinct, non-empty names; ``header: false``
  without ``names:``, or ``names:`` without ``header: false``, is refused (their
  count is checked against the file's columns by the reader).
* A table given twice under two names (``invoices:`` and ``payments:``) is refused.
* One column of the file may feed only one model column: ``amount`` and ``cost``
  from one column would make every margin 0, ``account_id`` and ``product_id``
  would mix customers and articles. The one exception is an id that doubles as
  the name (``account_id`` + ``name`` in accounts, ``product_id`` + ``name`` in
  products, ``contact_id`` + ``name`` in contacts), for files with no separate
  name column.
* ``name:``, ``currency:``, ``quantity_unit:`` and ``description:`` are kept as
  plain text (``name: 2024`` is the text "2024"; a list is refused).
"""

from __future__ import annotations

import codecs
import datetime as dt
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from kamlib._yaml import ConfigError, load_yaml_file
from kamlib.schema import MODEL
from kamlib.validation import Problem, closest, show_list

__all__ = ["DatasetConfig", "TableConfig", "read_config"]

CONFIG_NAME = "kam.yaml"
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq")

_TEXT_KEYS = ("name", "currency", "quantity_unit", "description")
_TOP_KEYS = {*_TEXT_KEYS, "defaults", "tables", "allow_outside_files"}
_READ_KEYS = {
    "delimiter",
    "decimal",
    "thousands",
    "encoding",
    "date_format",
    "sheet",
    "skip_rows",
    "true_values",
    "false_values",
    "normalize_ids",
    "trailing_minus",
    "strip_currency",
    "header",
    "names",
}
_TABLE_KEYS = _READ_KEYS | {"file", "columns", "values"}
_ALIASES = {alias: t.name for t in MODEL.values() for alias in t.aliases}


#: Most title lines above the header that ``skip_rows:`` may skip.
MAX_SKIP_ROWS = 1_000_000
#: Highest sheet number (0 is the first sheet).
MAX_SHEET = 1000
#: Longest sheet name Excel allows.
MAX_SHEET_NAME = 31
#: Encodings offered when ``encoding:`` names none Python knows.
_ENCODINGS = ("utf-8", "utf-8-sig", "latin-1", "cp1252", "iso-8859-15", "utf-16", "cp850", "ascii")
#: Names other programs use for an encoding, and Python's name for it.
_ENCODING_WORDS = {"ansi": "cp1252", "windows": "cp1252", "western": "cp1252", "unicode": "utf-16"}
#: Pairs of model columns that may come from one column of the file: an id as the name.
_SHARED_OK = {
    ("accounts", frozenset({"account_id", "name"})),
    ("products", frozenset({"product_id", "name"})),
    ("contacts", frozenset({"contact_id", "name"})),
}
#: Why two model columns from one source column is wrong, where there is more to say.
_SHARED_WHY = {
    frozenset({"amount", "cost"}): "margin would always be 0",
    frozenset({"amount", "margin"}): "margin would equal the amount",
}
#: pandas' own words for date_format (not strftime codes).
_PANDAS_DATE_WORDS = ("ISO8601", "mixed")
_SAMPLE_DATE = dt.datetime(2025, 1, 31, 13, 45, 56, tzinfo=dt.UTC)
_DATE_TOKENS = (
    ("yyyy", "%Y"),
    ("jjjj", "%Y"),
    ("tt", "%d"),
    ("dd", "%d"),
    ("mm", "%m"),
    ("yy", "%y"),
)
_STRFTIME_HINT = (
    "strftime codes: %d day, %m month, %Y year (4 digits), %y year (2 digits), %H hour, "
    '%M minute, e.g. date_format: "%d.%m.%Y"'
)


@dataclass(frozen=True)
class TableConfig:
    """How to read one table."""

    table: str
    file: Path
    file_label: str
    delimiter: str | None = None
    decimal: str = "."
    thousands: str | None = None
    encoding: str = "utf-8-sig"
    date_format: str | None = None
    sheet: str | int | None = None
    skip_rows: int = 0
    true_values: tuple[str, ...] = ("true", "yes", "y", "1", "x", "wahr", "ja", "si", "sí", "oui")
    false_values: tuple[str, ...] = ("false", "no", "n", "0", "falsch", "nein", "non")
    columns: dict[str, str] = field(default_factory=dict)
    values: dict[str, dict[str, str]] = field(default_factory=dict)
    normalize_ids: bool = False
    trailing_minus: bool = False
    strip_currency: bool = False
    header: bool = True
    names: tuple[str, ...] | None = None


@dataclass(frozen=True)
class DatasetConfig:
    """A parsed ``kam.yaml`` (or the conventions of a folder without one)."""

    name: str
    root: Path
    currency: str = "EUR"
    quantity_unit: str = "kg"
    tables: dict[str, TableConfig] = field(default_factory=dict)


def _unknown_keys(keys, allowed, where: str, label: str) -> list[Problem]:
    problems = []
    for key in keys:
        if key not in allowed:
            near = closest(str(key), sorted(allowed))
            hint = f"did you mean {near!r}?" if near else "allowed: " + ", ".join(sorted(allowed))
            problems.append(
                Problem(f"{label}: unknown setting {key!r} in {where}.", hint, file=label)
            )
    return problems


def _kind(value: Any) -> str:
    """``a list``, ``a mapping``, ``empty``, ``the number 3``: what a YAML value is."""
    if value is None:
        return "empty"
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, (int, float)):
        return f"the number {value}"
    return repr(str(value)[:40])


def _is_text(value: Any) -> bool:
    """A YAML scalar that reads as text: a string, a number or a date (not a bool)."""
    return isinstance(value, (str, int, float, dt.date)) and not isinstance(value, bool)


def _encoding_problem(name: str) -> tuple[str, str] | None:
    """(what is wrong, hint) for an ``encoding`` that cannot read a text file, or None."""
    common = "common ones: " + ", ".join(_ENCODINGS)
    try:
        info = codecs.lookup(name)
    except (LookupError, ValueError, TypeError):
        near = _ENCODING_WORDS.get(name.strip().lower()) or closest(name, _ENCODINGS)
        return "is not an encoding Python knows", (
            f"did you mean {near!r}? " if near else ""
        ) + common
    if not getattr(info, "_is_text_encoding", True):
        return f"names a codec, {name!r} is not a text encoding", common
    return None


def _date_format_problem(fmt: str) -> tuple[str, str] | None:
    """(what is wrong, hint) for a ``date_format`` pandas cannot use, or None."""
    if fmt in _PANDAS_DATE_WORDS:
        return None
    if not re.search(r"%[A-Za-z]", fmt):
        guess = fmt
        for token, code in _DATE_TOKENS:
            guess = re.sub(token, code, guess, flags=re.IGNORECASE)
        example = guess if "%" in guess else "%d.%m.%Y"
        return "has no % codes", f'write the codes, e.g. date_format: "{example}"; {_STRFTIME_HINT}'
    try:
        sample = _SAMPLE_DATE.strftime(fmt)
        pd.to_datetime(pd.Series([sample]), format=fmt)
    except (ValueError, TypeError, OverflowError) as exc:
        return f"cannot be used ({str(exc)[:120]})", _STRFTIME_HINT
    if not re.search(r"%[YyGcx]", fmt):
        return "has no year (%Y or %y), so every date would fall in 1900", _STRFTIME_HINT
    return None


def _read_option(key: str, value: Any, name: str) -> tuple[Any, str, str]:
    """(value to use, problem, hint) for one read option; problem empty when it is fine."""
    if key in ("true_values", "false_values"):
        if not isinstance(value, list) or not all(v is None or _is_text(v) for v in value):
            return (
                None,
                f"{name} must be a list of words, not {_kind(value)}.",
                f"e.g. {key}: [ja, x]",
            )
        return tuple("" if v is None else str(v).strip().lower() for v in value), "", ""
    if key == "names":
        if not isinstance(value, list) or not value or not all(_is_text(v) for v in value):
            return (
                None,
                f"{name} must be a list of column names, not {_kind(value)}.",
                "one name per column, in the file's order, e.g. names: [Kunde, Datum, Betrag]",
            )
        names = [str(v).strip() for v in value]
        seen = pd.Series(names, dtype=object)
        twice = sorted(set(seen[seen.duplicated()]))
        if twice or "" in names:
            what = f"{show_list(twice)} is there more than once" if twice else "a name is empty"
            return None, f"{name}: {what}.", "give each column its own name"
        return tuple(names), "", ""
    if key in ("normalize_ids", "trailing_minus", "strip_currency", "header"):
        if not isinstance(value, bool):
            return None, f"{name} must be true or false, not {_kind(value)}.", f"{key}: true"
        return value, "", ""
    if key == "skip_rows":
        if not isinstance(value, int) or isinstance(value, bool) or value < 0:
            return None, f"{name} must be a whole number ≥ 0, not {_kind(value)}.", ""
        if value > MAX_SKIP_ROWS:
            return (
                None,
                f"{name} {value} is more than {MAX_SKIP_ROWS:,}.",
                "skip_rows counts the title lines above the header row, usually 0 to 10",
            )
        return value, "", ""
    if key == "sheet":
        if value is None:
            return None, "", ""
        if isinstance(value, int) and not isinstance(value, bool):
            if value < 0:
                return None, f"{name} {value} is negative.", "0 is the first sheet, 1 the second …"
            if value > MAX_SHEET:
                return (
                    None,
                    f"{name} {value} is not a sheet number (0 is the first sheet, at most "
                    f"{MAX_SHEET}).",
                    f'to name a sheet called {value}, put it in quotes: sheet: "{value}"',
                )
            return value, "", ""
        if not isinstance(value, str):
            return (
                None,
                f"{name} must be one sheet name or number, not {_kind(value)}.",
                'e.g. sheet: "Umsatz 2024" or sheet: 0 (the first)',
            )
        if not value.strip():
            return None, f"{name} is empty.", "name the sheet, or leave sheet: out for the first"
        if len(value) > MAX_SHEET_NAME:
            return (
                None,
                f"{name} {value[:40]!r} is longer than the {MAX_SHEET_NAME} characters Excel "
                "allows for a sheet name.",
                "copy the sheet's name from its tab",
            )
        return value, "", ""
    if not isinstance(value, str):
        if key == "thousands" and value is None:
            return None, "", ""
        if key == "date_format" and value is None:
            return None, "", ""
        return None, f"{name} must be text, not {_kind(value)}.", 'put it in quotes, e.g. ";"'
    if key == "delimiter":
        if value == "":
            return None, f"{name} is empty.", 'e.g. delimiter: ";" — or leave it out to detect it'
        if any(c in value for c in '\n\r"'):
            return None, f"{name} {value!r} holds a line break or a quote.", 'e.g. delimiter: ";"'
        return ("\t" if value == "\\t" else value), "", ""
    if key in ("decimal", "thousands"):
        if key == "thousands" and value == "":
            return None, "", ""
        if len(value) != 1:
            return None, f"{name} {value!r} must be one character.", f'e.g. {key}: ","'
        return value, "", ""
    if key == "encoding":
        why = _encoding_problem(value)
        if why:
            return None, f"{name} {value[:40]!r} {why[0]}.", why[1]
        return value, "", ""
    if key == "date_format":
        why = _date_format_problem(value)
        if why:
            return None, f"{name} {value[:40]!r} {why[0]}.", why[1]
        return value, "", ""
    return value, "", ""


def _read_options(raw: dict[str, Any], label: str, where: str) -> tuple[dict, list[Problem]]:
    problems: list[Problem] = []
    opts: dict[str, Any] = {}
    for key in sorted(_READ_KEYS & raw.keys()):
        value, problem, hint = _read_option(key, raw[key], f"{where}.{key}")
        if problem:
            problems.append(Problem(f"{label}: {problem}", hint, label))
        elif value is not None or key in ("thousands", "date_format", "sheet"):
            opts[key] = value
    return opts, problems


def _clashes(opts: dict[str, Any], label: str, where: str) -> tuple[dict, list[Problem]]:
    """Options that contradict each other; returns options safe to read with."""
    problems = []
    decimal, thousands = opts.get("decimal"), opts.get("thousands")
    if thousands is not None and thousands == decimal:
        problems.append(
            Problem(
                f"{label}: {where}: decimal and thousands are both {decimal!r}; numbers cannot "
                "be read that way.",
                'e.g. decimal: "," with thousands: "." (1.234,56), or decimal: "." with '
                'thousands: "," (1,234.56)',
                label,
            )
        )
        opts = {**opts, "thousands": None}
    both = sorted(
        set(opts.get("true_values") or ()) & set(opts.get("false_values") or ()),
        key=str,
    )
    if both:
        problems.append(
            Problem(
                f"{label}: {where}: {show_list(both)} is in both true_values and false_values.",
                "each word may mean only one of yes or no",
                label,
            )
        )
    return opts, problems


def _header_clash(opts: dict[str, Any], label: str, where: str) -> tuple[dict, list[Problem]]:
    """``header: false`` needs ``names:``, and ``names:`` is only for ``header: false``."""
    header, names = opts.get("header", True), opts.get("names")
    if not header and not names:
        return {**opts, "header": True}, [
            Problem(
                f"{label}: {where}: header: false needs `names:`, the columns' names in the "
                "file's order.",
                "e.g. names: [Kunde, Datum, Betrag], then map them under columns: as usual",
                label,
            )
        ]
    if header and names:
        return {**opts, "names": None}, [
            Problem(
                f"{label}: {where}: names: is for files without a header row, and header: "
                "false is not set.",
                "set `header: false` if the file's first line is already data; otherwise leave "
                "names: out and map the header's names under columns:",
                label,
            )
        ]
    return opts, []


def _mapping(raw: Any, label: str, where: str) -> tuple[dict, list[Problem]]:
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [Problem(f"{label}: {where} must be a mapping, not {_kind(raw)}.", "", label)]
    return raw, []


def _outside(path: Path, root: Path) -> Path | None:
    """The resolved ``path`` when it lies outside the (resolved) ``root``, else None."""
    resolved = path.resolve()
    return None if resolved.is_relative_to(root.resolve()) else resolved


def _outside_problem(what: str, resolved: Path, root: Path, label: str, table: str) -> Problem:
    return Problem(
        f"{label}: {what} is outside the dataset folder (it resolves to {resolved}; the "
        f"folder is {root.resolve()}), and `allow_outside_files: true` is not set.",
        "move or copy the file into the dataset folder, or, if reading files outside it is "
        "intended, set `allow_outside_files: true` at the top of kam.yaml",
        label,
        table,
    )


def _table_file(
    raw: Any, root: Path, label: str, where: str, table: str, allow_outside: bool
) -> tuple[str | None, list[Problem]]:
    if not _is_text(raw) or not str(raw).strip():
        return None, [
            Problem(
                f"{label}: {where}.file must be a file name, not {_kind(raw)}.",
                f"e.g. file: {table}.csv",
                label,
                table,
            )
        ]
    file_label = str(raw).strip()
    try:
        resolved = _outside(root / file_label, root)
    except (OSError, ValueError, RuntimeError) as exc:
        return None, [
            Problem(
                f"{label}: {where}.file is not a usable file name ({exc}).",
                "write the file's name as it appears in the folder",
                label,
                table,
            )
        ]
    if resolved is not None and not allow_outside:
        return None, [
            _outside_problem(f"{where}.file {file_label!r}", resolved, root, label, table)
        ]
    return file_label, []


def _columns(raw: Any, table: str, label: str, where: str) -> tuple[dict[str, str], list[Problem]]:
    columns, problems = _mapping(raw, label, f"{where}.columns")
    spec = MODEL[table]
    out: dict[str, str] = {}
    for model_col, src in columns.items():
        if model_col not in spec.column_names:
            near = closest(str(model_col), spec.column_names)
            problems.append(
                Problem(
                    f"{label}: {where}.columns maps {model_col!r}, which is not a column of "
                    f"`{table}`. Its columns are: {', '.join(spec.column_names)}.",
                    (f"did you mean {near!r}? " if near else "")
                    + "Write the model's name on the left: `model_column: your column`.",
                    label,
                    table,
                    str(model_col),
                )
            )
        elif not _is_text(src) or not str(src):
            problems.append(
                Problem(
                    f"{label}: {where}.columns.{model_col} must be one column name of the "
                    f"file, not {_kind(src)}.",
                    f"e.g. {model_col}: Your Column",
                    label,
                    table,
                    str(model_col),
                )
            )
        else:
            out[str(model_col)] = str(src)
    sources: dict[str, list[str]] = {}
    for model_col, src in out.items():
        sources.setdefault(src, []).append(model_col)
    for src, model_cols in sources.items():
        pair = frozenset(model_cols)
        if len(model_cols) < 2 or (table, pair) in _SHARED_OK:
            continue
        named = ", ".join(f"`{c}`" for c in model_cols[:-1]) + f" and `{model_cols[-1]}`"
        why = next((w for p, w in _SHARED_WHY.items() if p <= pair), "")
        problems.append(
            Problem(
                f"{label}: {where}.columns maps {named} to the same column {src!r}"
                + (f": {why}" if why else "")
                + ".",
                "map each model column to its own column of the file, and leave out those the "
                "file does not have (only an id may double as the name)",
                label,
                table,
                model_cols[0],
            )
        )
    return out, problems


def _values(raw: Any, table: str, label: str, where: str) -> tuple[dict, list[Problem]]:
    values, problems = _mapping(raw, label, f"{where}.values")
    out: dict[str, dict[str, str]] = {}
    for model_col, mapping in values.items():
        if model_col not in MODEL[table].column_names:
            problems.append(
                Problem(
                    f"{label}: {where}.values names {model_col!r}, which is not a column of "
                    f"`{table}`.",
                    "",
                    label,
                    table,
                )
            )
        elif not isinstance(mapping, dict) or not all(
            _is_text(a) and _is_text(b) for a, b in mapping.items()
        ):
            problems.append(
                Problem(
                    f"{label}: {where}.values.{model_col} must be a mapping of your value to "
                    "the model's.",
                    f"e.g. values: {{{model_col}: {{Ihr Wert: model_value}}}}",
                    label,
                    table,
                )
            )
        else:
            out[str(model_col)] = {str(a): str(b) for a, b in mapping.items()}
    return out, problems


def _table_config(
    table: str, raw: Any, root: Path, label: str, defaults: dict, allow_outside: bool
) -> tuple[TableConfig | None, list[Problem]]:
    where = f"tables.{table}"
    if _is_text(raw):
        raw = {"file": raw}
    if not isinstance(raw, dict) or "file" not in raw:
        return None, [
            Problem(
                f"{label}: {where} names no file.",
                f"write `{table}: your_file.csv` or give `file:` under {where}",
                label,
                table,
            )
        ]
    problems = _unknown_keys(raw, _TABLE_KEYS, where, label)
    opts, p = _read_options(raw, label, where)
    problems += p
    columns, p = _columns(raw.get("columns"), table, label, where)
    problems += p
    values, p = _values(raw.get("values"), table, label, where)
    problems += p
    merged = {**defaults, **opts}
    if {"decimal", "thousands", "true_values", "false_values"} & opts.keys():
        merged, p = _clashes(merged, label, where)
        problems += p
    elif defaults.get("thousands") is not None and defaults.get("thousands") == defaults.get(
        "decimal"
    ):
        merged = {**merged, "thousands": None}  # reported once, under defaults
    merged, p = _header_clash(merged, label, where)
    problems += p
    file_label, p = _table_file(raw["file"], root, label, where, table, allow_outside)
    problems += p
    if file_label is None:
        return None, problems  # never opened: no name, or outside the folder
    cfg = TableConfig(
        table=table,
        file=(root / file_label),
        file_label=file_label,
        columns=columns,
        values=values,
        **merged,
    )
    return cfg, problems


def _by_convention(root: Path) -> tuple[DatasetConfig, list[Problem]]:
    tables = {}
    problems = []
    for name, spec in MODEL.items():
        for alias in (name, *spec.aliases):
            found = [root / f"{alias}{s}" for s in SUFFIXES if (root / f"{alias}{s}").is_file()]
            if found:
                resolved = _outside(found[0], root)
                if resolved is not None:
                    problem = _outside_problem(found[0].name, resolved, root, str(root), name)
                    problems.append(
                        Problem(
                            problem.message,
                            "copy the file into the folder instead of linking to it, or write a "
                            "kam.yaml naming it with `allow_outside_files: true`",
                            str(found[0]),
                            name,
                        )
                    )
                else:
                    tables[name] = TableConfig(name, found[0], found[0].name)
                break
    return DatasetConfig(name=root.resolve().name, root=root, tables=tables), problems


def _text_setting(raw: dict, key: str, default: str, label: str) -> tuple[str, list[Problem]]:
    value = raw.get(key)
    if value is None or value == "":
        return default, []
    if not _is_text(value):
        return default, [
            Problem(
                f"{label}: {key} must be text, not {_kind(value)}.",
                f'e.g. {key}: "{default or "…"}"',
                label,
            )
        ]
    return str(value).strip() or default, []


def _find_config(path: Path) -> Path | tuple[DatasetConfig | None, list[Problem]]:
    """The kam.yaml to read for ``path``, or the finished result when there is none."""
    if path.is_dir():
        yaml_path = path / CONFIG_NAME
        if not yaml_path.is_file():
            return _by_convention(path)
    elif path.suffix.lower() in (".yaml", ".yml") and path.is_file():
        yaml_path = path
    elif not path.exists():
        return None, [
            Problem(
                f"{path}: no such file or folder.",
                "give a dataset folder (with kam.yaml), a kam.yaml file, or 'sample'",
                str(path),
            )
        ]
    else:
        return None, [
            Problem(
                f"{path}: a dataset is a folder or a .yaml file, not a {path.suffix} file.",
                "put the file in a folder, or write a kam.yaml naming it under tables:",
                str(path),
            )
        ]
    return yaml_path


def read_config(path: Path) -> tuple[DatasetConfig | None, list[Problem]]:
    """Parse the dataset at ``path`` (folder or YAML file) into a config and its problems.

    Never raises for a bad ``kam.yaml``: everything wrong is returned as problems
    (see the module docstring for what is checked).
    """
    try:
        found = _find_config(path)
    except OSError as exc:
        return None, [
            Problem(
                f"{path}: cannot be read ({exc.strerror or exc}).",
                "check that the folder exists and that you may read it",
                str(path),
            )
        ]
    if not isinstance(found, Path):
        return found
    yaml_path = found
    label = str(yaml_path)
    try:
        raw = load_yaml_file(yaml_path, source=label)
    except ConfigError as exc:
        return None, [Problem(exc.message, exc.hint, label)]
    raw = {} if raw is None else raw
    if not isinstance(raw, dict):
        return None, [
            Problem(
                f"{label}: expected settings (key: value), found {type(raw).__name__}.", "", label
            )
        ]
    problems = _unknown_keys(raw, _TOP_KEYS, "the top level", label)
    root = yaml_path.parent.resolve()
    allow_outside = raw.get("allow_outside_files", False)
    if not isinstance(allow_outside, bool):
        problems.append(
            Problem(
                f"{label}: allow_outside_files must be true or false, not {_kind(allow_outside)}.",
                "write allow_outside_files: true to read table files outside the dataset folder",
                label,
            )
        )
        allow_outside = False
    raw_defaults, p = _mapping(raw.get("defaults"), label, "defaults")
    problems += p
    defaults, p = _read_options(raw_defaults, label, "defaults")
    problems += p
    problems += _unknown_keys(raw_defaults, _READ_KEYS, "defaults", label)
    _, p = _clashes(defaults, label, "defaults")
    problems += p
    tables: dict[str, TableConfig] = {}
    given: dict[str, str] = {}
    raw_tables, p = _mapping(raw.get("tables"), label, "tables")
    problems += p
    for name, table_raw in raw_tables.items():
        table = _ALIASES.get(str(name), str(name))
        if table not in MODEL:
            near = closest(str(name), [*MODEL, *_ALIASES])
            problems.append(
                Problem(
                    f"{label}: unknown table {name!r} under tables. "
                    f"The model's tables are: {', '.join(MODEL)}.",
                    f"did you mean {near!r}?" if near else "see docs/data-model.md",
                    label,
                    str(name),
                )
            )
            continue
        if table in given:
            problems.append(
                Problem(
                    f"{label}: tables `{given[table]}` and `{name}` are the same table "
                    f"(`{table}`{', also called ' + ', '.join(MODEL[table].aliases) if MODEL[table].aliases else ''}); "
                    "only one can be read.",
                    "keep one of them under tables:",
                    label,
                    table,
                )
            )
            continue
        given[table] = str(name)
        cfg, p = _table_config(table, table_raw, root, label, defaults, allow_outside)
        problems += p
        if cfg is not None:
            tables[table] = cfg
    texts = {}
    for key, default in zip(_TEXT_KEYS, (root.name, "EUR", "kg", ""), strict=True):
        texts[key], p = _text_setting(raw, key, default, label)
        problems += p
    config = DatasetConfig(
        name=texts["name"],
        root=root,
        currency=texts["currency"],
        quantity_unit=texts["quantity_unit"],
        tables=tables,
    )
    return config, problems
