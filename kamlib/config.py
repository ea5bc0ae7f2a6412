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
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from kamlib.schema import MODEL
from kamlib.validation import Problem, closest

__all__ = ["DatasetConfig", "TableConfig", "read_config"]

CONFIG_NAME = "kam.yaml"
SUFFIXES = (".csv", ".txt", ".tsv", ".xlsx", ".xlsm", ".xls", ".parquet", ".pq")

_TOP_KEYS = {"name", "currency", "quantity_unit", "defaults", "tables", "description"}
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
}
_TABLE_KEYS = _READ_KEYS | {"file", "columns", "values"}
_ALIASES = {alias: t.name for t in MODEL.values() for alias in t.aliases}


class _Loader(yaml.SafeLoader):
    """YAML as people write it: ``yes``, ``no``, ``on``, ``off``, ``ja`` stay text.

    PyYAML follows YAML 1.1, where unquoted ``yes``/``no`` are booleans; in
    ``true_values: [yes, ja]`` that would silently turn "yes" into "true". Only
    ``true`` and ``false`` are booleans here (as in YAML 1.2).
    """


_Loader.yaml_implicit_resolvers = {
    key: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:bool"]
    for key, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.copy().items()
}
for _first in "tTfF":
    _Loader.yaml_implicit_resolvers.setdefault(_first, []).insert(
        0,
        (
            "tag:yaml.org,2002:bool",
            re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"),
        ),
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


def _read_options(raw: dict[str, Any], label: str, where: str) -> tuple[dict, list[Problem]]:
    problems: list[Problem] = []
    opts: dict[str, Any] = {}
    for key in _READ_KEYS & raw.keys():
        value = raw[key]
        if key in ("true_values", "false_values"):
            if not isinstance(value, list):
                problems.append(
                    Problem(
                        f"{label}: {where}.{key} must be a list.", f"e.g. {key}: [ja, x]", label
                    )
                )
                continue
            value = tuple(str(v).strip().lower() for v in value)
        elif key == "skip_rows":
            if not isinstance(value, int) or value < 0:
                problems.append(
                    Problem(f"{label}: {where}.skip_rows must be a whole number ≥ 0.", "", label)
                )
                continue
        elif key == "sheet":
            value = value if isinstance(value, int) else str(value)
        elif value is not None:
            value = str(value)
        opts[key] = value
    if opts.get("delimiter") == "\\t":
        opts["delimiter"] = "\t"
    return opts, problems


def _mapping(raw: Any, label: str, where: str) -> tuple[dict, list[Problem]]:
    if raw is None:
        return {}, []
    if not isinstance(raw, dict):
        return {}, [Problem(f"{label}: {where} must be a mapping.", "", label)]
    return raw, []


def _table_config(
    table: str, raw: Any, root: Path, label: str, defaults: dict
) -> tuple[TableConfig | None, list[Problem]]:
    where = f"tables.{table}"
    if isinstance(raw, str):
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
    spec = MODEL[table]
    columns, p = _mapping(raw.get("columns"), label, f"{where}.columns")
    problems += p
    for model_col in columns:
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
    values, p = _mapping(raw.get("values"), label, f"{where}.values")
    problems += p
    for model_col, mapping in values.items():
        if model_col not in spec.column_names:
            problems.append(
                Problem(
                    f"{label}: {where}.values names {model_col!r}, which is not a column of "
                    f"`{table}`.",
                    "",
                    label,
                    table,
                )
            )
        elif not isinstance(mapping, dict):
            problems.append(
                Problem(f"{label}: {where}.values.{model_col} must be a mapping.", "", label)
            )
    file_label = str(raw["file"])
    merged = {**defaults, **opts}
    cfg = TableConfig(
        table=table,
        file=(root / file_label),
        file_label=file_label,
        columns={str(k): str(v) for k, v in columns.items()},
        values={
            str(k): {str(a): str(b) for a, b in v.items()}
            for k, v in values.items()
            if isinstance(v, dict)
        },
        **merged,
    )
    return cfg, problems


def _by_convention(root: Path) -> DatasetConfig:
    tables = {}
    for name, spec in MODEL.items():
        for alias in (name, *spec.aliases):
            found = [root / f"{alias}{s}" for s in SUFFIXES if (root / f"{alias}{s}").is_file()]
            if found:
                tables[name] = TableConfig(name, found[0], found[0].name)
                break
    return DatasetConfig(name=root.resolve().name, root=root, tables=tables)


def read_config(path: Path) -> tuple[DatasetConfig | None, list[Problem]]:
    """Parse the dataset at ``path`` (folder or YAML file) into a config and its problems."""
    if path.is_dir():
        yaml_path = path / CONFIG_NAME
        if not yaml_path.is_file():
            return _by_convention(path), []
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
    label = str(yaml_path)
    try:
        raw = yaml.load(yaml_path.read_text(encoding="utf-8-sig"), Loader=_Loader) or {}
    except yaml.YAMLError as exc:
        where = getattr(exc, "problem_mark", None)
        at = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        what = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        return None, [
            Problem(
                f"{label}: not valid YAML{at} ({what}).",
                'put quotes around values with special characters, e.g. `decimal: ","`, '
                '`delimiter: ";"`, `date_format: "%d.%m.%Y"`; indent with spaces, not tabs',
                label,
            )
        ]
    if not isinstance(raw, dict):
        return None, [
            Problem(
                f"{label}: expected settings (key: value), found {type(raw).__name__}.", "", label
            )
        ]
    problems = _unknown_keys(raw, _TOP_KEYS, "the top level", label)
    root = yaml_path.parent.resolve()
    defaults, p = _read_options(raw.get("defaults") or {}, label, "defaults")
    problems += p
    problems += _unknown_keys(raw.get("defaults") or {}, _READ_KEYS, "defaults", label)
    tables: dict[str, TableConfig] = {}
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
        cfg, p = _table_config(table, table_raw, root, label, defaults)
        problems += p
        if cfg is not None:
            tables[table] = cfg
    config = DatasetConfig(
        name=str(raw.get("name") or root.name),
        root=root,
        currency=str(raw.get("currency") or "EUR"),
        quantity_unit=str(raw.get("quantity_unit") or "kg"),
        tables=tables,
    )
    return config, problems
