"""Loading a company's data into the kit's model, with validation at the edge."""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType

import numpy as np
import pandas as pd

from kamlib import _identity, _readers
from kamlib.config import _SHARED_OK, DatasetConfig, TableConfig, read_config
from kamlib.paths import resolve_dataset
from kamlib.schema import MODEL
from kamlib.validation import SHOW, DatasetError, Problem, closest, show, show_list

__all__ = ["Dataset", "DatasetError", "load_dataset", "load_sample"]


@dataclass(frozen=True)
class Dataset:
    """A company's data in the kit's model: one DataFrame per table.

    Attributes
    ----------
    name : str
        Name of the dataset (``name:`` in kam.yaml, else the folder name).
    source : pathlib.Path
        The folder or YAML file it was loaded from.
    tables : Mapping[str, pandas.DataFrame]
        The tables present, by model name; columns as in ``docs/data-model.md``.
    currency : str
        Currency of money columns, e.g. ``EUR``.
    quantity_unit : str
        Unit of ``transactions.quantity``, e.g. ``kg``.
    files : Mapping[str, pathlib.Path]
        The file each table came from.
    ignored_columns : Mapping[str, tuple of str]
        Columns of each file that are not in the model (and not mapped), left out.
    warnings : tuple of Problem
        Values the loader read in a way the user should check, though the dataset
        is valid (e.g. Excel date serial numbers converted to dates); ``kam check``
        prints them.
    """

    name: str
    source: Path
    tables: Mapping[str, pd.DataFrame]
    currency: str = "EUR"
    quantity_unit: str = "kg"
    files: Mapping[str, Path] = field(default_factory=dict)
    ignored_columns: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    warnings: tuple[Problem, ...] = ()

    @property
    def transactions(self) -> pd.DataFrame:
        """The invoice lines (always present)."""
        return self.tables["transactions"]

    def has(self, table: str) -> bool:
        """Whether the dataset has ``table``."""
        return table in self.tables

    def get(self, table: str) -> pd.DataFrame | None:
        """``table``, or None when the dataset does not have it."""
        if table not in MODEL:
            raise KeyError(f"{table!r} is not a table of the model; tables: {', '.join(MODEL)}")
        return self.tables.get(table)

    def missing_note(self, table: str, purpose: str = "this section") -> str:
        """One sentence for a notebook section whose table is missing."""
        return (
            f"The dataset {self.name!r} has no `{table}` table, so {purpose} is skipped; "
            f"add it in kam.yaml (see docs/data-model.md) to see it."
        )

    def summary(self) -> pd.DataFrame:
        """One row per table of the model.

        Returns
        -------
        pandas.DataFrame
            ``table``, ``present`` (bool), ``file``, ``rows``, ``columns`` (model columns
            present), ``first_date`` and ``last_date`` (span of the table's main date
            column, where it has one), ``accounts`` (distinct ``account_id``).
        """
        rows = []
        for name, spec in MODEL.items():
            frame = self.tables.get(name)
            date_cols = [c.name for c in spec.columns if c.type == "date"]
            first = last = pd.NaT
            accounts = np.nan
            if frame is not None:
                present_dates = [c for c in date_cols if c in frame]
                if present_dates:
                    first, last = frame[present_dates[0]].min(), frame[present_dates[0]].max()
                if "account_id" in frame:
                    accounts = frame["account_id"].nunique()
            rows.append(
                {
                    "table": name,
                    "present": frame is not None,
                    "file": self.files[name].name if name in self.files else "",
                    "rows": 0 if frame is None else len(frame),
                    "columns": 0 if frame is None else len(frame.columns),
                    "first_date": first,
                    "last_date": last,
                    "accounts": accounts,
                }
            )
        out = pd.DataFrame(rows)
        out["accounts"] = out["accounts"].astype("Int64")
        return out

    def fingerprint(self) -> str:
        """SHA-256 over the dataset's files (config and tables), to tell runs apart."""
        digest = hashlib.sha256()
        config = self.source if self.source.is_file() else self.source / "kam.yaml"
        paths = {*self.files.values()} | ({config} if config.is_file() else set())
        for path in sorted(paths):
            digest.update(path.name.encode())
            digest.update(path.read_bytes())
        return digest.hexdigest()


def _missing_columns(cfg: TableConfig, found: list[str]) -> list[Problem]:
    """Required and mapped columns that the header does not have.

    When the missing names are all on a line a little further down (title lines
    above the header), or all in the one column found (the wrong delimiter), one
    problem says so with the setting to change, instead of one per column.
    """
    problems = []
    missing: list[str] = []
    used: set[str] = set()
    for col in MODEL[cfg.table].columns:
        src = cfg.columns.get(col.name, col.name)
        if src in found:
            used.add(src)
            continue
        if not (col.required or col.name in cfg.columns):
            continue
        missing.append(src)
        near = closest(src, [c for c in found if c not in used]) or closest(col.name, found)
        what = "required column" if col.required else "mapped column"
        mapped = f" (mapped from {show(src)})" if src != col.name else ""
        hint = (
            f"closest match: {show(near)} — map it in kam.yaml: "
            f"`tables: {{{cfg.table}: {{columns: {{{col.name}: {show(near)}}}}}}}`"
            if near
            else f"add the column, or map yours in kam.yaml under tables.{cfg.table}.columns"
        )
        problems.append(
            Problem(
                f"{cfg.file_label}: {what} `{col.name}`{mapped} is missing "
                f"(table `{cfg.table}`). Columns found: {show_list(found, 30)}.",
                hint,
                cfg.file_label,
                cfg.table,
                col.name,
            )
        )
    return _misread_header(cfg, found, missing) or problems


def _misread_header(cfg: TableConfig, found: list[str], missing: list[str]) -> list[Problem]:
    """One problem when the header was read from the wrong line or with the wrong delimiter."""
    if not missing:
        return []
    written = _readers.split_header(found, missing)
    if written is not None:
        return [
            Problem(
                f"{cfg.file_label}: one column found, {show(found[0])}, which holds the names "
                f"of the columns (table `{cfg.table}`): the file seems to be separated by "
                f"'{written}'.",
                f'set `delimiter: "{written}"` for this table in kam.yaml'
                + (" (runs of spaces count as one)" if written == " " else ""),
                cfg.file_label,
                cfg.table,
            )
        ]
    line = _readers.header_line(cfg, missing)
    if line is None:
        return []
    return [
        Problem(
            f"{cfg.file_label}: the header seems to be on line {line}, not line "
            f"{cfg.skip_rows + 1}: {show_list(missing, 10)} "
            f"{'is' if len(missing) == 1 else 'are'} there (table `{cfg.table}`). "
            f"Columns found on line {cfg.skip_rows + 1}: {show_list(found, 10)}.",
            f"set `skip_rows: {line - 1}` for this table in kam.yaml: it counts the lines above "
            "the header",
            cfg.file_label,
            cfg.table,
        )
    ]


def _load_table(
    cfg: TableConfig, *, warnings: list[Problem] | None = None
) -> tuple[pd.DataFrame | None, tuple[str, ...], list[Problem]]:
    """One table in the model's columns and types, the file's ignored columns, its problems.

    The header is checked against the model and the mapping before the body of a
    CSV file is read. Notes on values read in a way the user should check are
    appended to ``warnings`` (when given).
    """
    raw, problems = _readers.read_raw(cfg, check_header=lambda found: _missing_columns(cfg, found))
    if raw is None:
        return None, (), problems
    spec = MODEL[cfg.table]
    found = list(raw.columns)
    sources = {col.name: cfg.columns.get(col.name, col.name) for col in spec.columns}
    # `columns: {amount: cost}` makes the file's "cost" column the amount: it is then not
    # also read as the model's cost by its name (margin would be 0)
    taken = {src: name for name, src in cfg.columns.items()}
    for name, src in list(sources.items()):
        other = taken.get(src, name)
        if (
            name not in cfg.columns
            and other != name
            and src in raw.columns
            and (cfg.table, frozenset({name, other})) not in _SHARED_OK
        ):
            del sources[name]
            required = spec.column(name).required
            note = Problem(
                f"{cfg.file_label}: column {show(src)} is mapped to `{other}`, so it is not "
                f"also read as `{name}` (table `{cfg.table}`)"
                + (", which is required." if required else "."),
                f"map `{name}` to another column under tables.{cfg.table}.columns"
                + ("" if required else " if the file has one"),
                cfg.file_label,
                cfg.table,
                name,
            )
            if required:
                problems.append(note)
            elif warnings is not None:
                warnings.append(note)
    sources = {name: src for name, src in sources.items() if src in raw.columns}
    used = set(sources.values())
    formulas = _readers.empty_formulas(cfg, raw[list(dict.fromkeys(sources.values()))])
    if warnings is not None:
        warnings += _readers.mojibake_warnings(cfg, raw, sources)
    columns: dict[str, pd.Series] = {}
    for col in spec.columns:
        if col.name not in sources:
            continue
        src = sources[col.name]
        values, col_problems = _readers.parse_column(raw[src], col, src, cfg, warnings=warnings)
        problems += col_problems
        columns[col.name] = values
        if src in formulas:
            problems.append(_readers.formula_problem(cfg, col, src, formulas[src]))
        if not col.required:
            continue
        empty = _readers.blank(raw[src]).to_numpy().copy()  # unparseable: reported above
        empty[formulas.get(src, [])] = False  # reported as formulas
        if empty.any():
            pos = np.flatnonzero(empty)
            problems.append(
                Problem(
                    f"{cfg.file_label}, column {show(src)} ({cfg.table}.{col.name}): required "
                    f"value missing in {_readers.rows_text(pos, cfg)}.",
                    "fill them in, or remove those rows from the export",
                    cfg.file_label,
                    cfg.table,
                    col.name,
                    tuple(int(r) for r in _readers.row_numbers(pos[:SHOW], cfg)),
                )
            )
    if raw.empty:
        problems.append(
            Problem(
                f"{cfg.file_label}: table `{cfg.table}` is empty (a header, no rows).",
                "export the data again, or remove the table from kam.yaml",
                cfg.file_label,
                cfg.table,
            )
        )
    ignored = tuple(c for c in found if c not in used)
    frame = pd.DataFrame(columns, index=pd.RangeIndex(len(raw)))
    if spec.key and all(k in frame for k in spec.key):
        dup = frame.duplicated(list(spec.key), keep=False).to_numpy()
        if dup.any():
            pos = np.flatnonzero(dup)
            keys = frame.loc[dup, list(spec.key)].drop_duplicates()
            first = keys.head(SHOW).astype(str)
            shown = show_list(first.iloc[:, 0].str.cat(first.iloc[:, 1:], sep=", ").tolist())
            if len(keys) > SHOW:
                shown += f" … ({len(keys) - SHOW} more)"
            problems.append(
                Problem(
                    f"{cfg.file_label}: key {' + '.join(spec.key)} of `{cfg.table}` is not unique "
                    f"— {len(keys)} duplicated ({shown}) in {_readers.rows_text(pos, cfg)}.",
                    "each row must have its own key; remove repeated rows or fix the numbers",
                    cfg.file_label,
                    cfg.table,
                    spec.key[0],
                    tuple(int(r) for r in _readers.row_numbers(pos[:SHOW], cfg)),
                )
            )
    return frame, ignored, problems


def _check_references(
    tables: dict[str, pd.DataFrame], configs: dict[str, TableConfig]
) -> list[Problem]:
    problems = []
    for name, frame in tables.items():
        cfg = configs[name]
        for fk in MODEL[name].foreign_keys:
            target = tables.get(fk.table)
            if target is None or target.empty or fk.column not in frame:
                continue  # a missing or empty table is reported on its own
            key = MODEL[fk.table].key[0]
            if key not in target:
                continue
            unknown = frame[fk.column].notna() & ~frame[fk.column].isin(target[key])
            if unknown.any():
                pos = np.flatnonzero(unknown.to_numpy())
                ids = pd.unique(frame.loc[unknown, fk.column])
                target_file = configs[fk.table].file_label
                hint = (
                    f"add the missing rows to {target_file}, or check that both "
                    "files use the same numbering (leading zeros, prefixes)"
                )
                # an id that differs from a known one only in case, invisible characters or
                # look-alike letters: say so, and how to merge them
                keys = _identity.id_key(target[key].dropna().drop_duplicates())
                missing = pd.Series(ids, dtype=object)
                near = missing[_identity.id_key(missing).isin(set(keys)).to_numpy()]
                if len(near):
                    known = dict(zip(keys, target[key].dropna().drop_duplicates(), strict=True))
                    first = near.iloc[0]
                    match = known[_identity.id_key(pd.Series([first])).iloc[0]]
                    hint = (
                        f"{show(first)} looks like {show(match)} in {target_file}: fix the "
                        "spelling, or set `normalize_ids: true` (it applies to both tables); "
                        + hint
                    )
                problems.append(
                    Problem(
                        f"{cfg.file_label}, column {show(cfg.columns.get(fk.column, fk.column))}: "
                        f"{len(ids)} {fk.column} value{'s' if len(ids) != 1 else ''} of `{name}` "
                        f"not found in `{fk.table}` ({target_file}): "
                        f"{show_list(list(ids))} — {_readers.rows_text(pos, cfg)}.",
                        hint,
                        cfg.file_label,
                        name,
                        fk.column,
                    )
                )
    return problems


def _load(config: DatasetConfig, source: Path, problems: list[Problem]) -> Dataset:
    # a transactions table the config refused (outside the folder, a bad file name) has
    # its own problem already: do not also say it is missing
    refused = any(p.table == "transactions" for p in problems)
    if "transactions" not in config.tables and not refused:
        problems.append(
            Problem(
                f"{source}: no `transactions` table (invoice lines), the one table every dataset needs.",
                "name its file in kam.yaml under tables.transactions, or call it transactions.csv",
                str(source),
                "transactions",
            )
        )
    tables: dict[str, pd.DataFrame] = {}
    ignored: dict[str, tuple[str, ...]] = {}
    warnings: list[Problem] = []
    for name, cfg in config.tables.items():
        frame, ign, table_problems = _load_table(cfg, warnings=warnings)
        problems += table_problems
        if frame is not None:
            tables[name] = frame
            ignored[name] = ign
    # normalize_ids first, so that references and look-alikes are checked on the result
    tables, id_problems = _identity.normalize_tables(tables, config.tables)
    problems += id_problems
    problems += _check_references(tables, config.tables)
    problems += _identity.lookalike_problems(tables, config.tables)
    if problems:
        raise DatasetError(str(source), problems)
    tx = tables["transactions"]
    if "margin" not in tx and "cost" in tx:
        tables["transactions"] = tx.assign(margin=tx["amount"] - tx["cost"])
    return Dataset(
        name=config.name,
        source=source,
        tables=MappingProxyType(tables),
        currency=config.currency,
        quantity_unit=config.quantity_unit,
        files=MappingProxyType({n: c.file for n, c in config.tables.items()}),
        ignored_columns=MappingProxyType(ignored),
        warnings=tuple(warnings),
    )


def load_dataset(path: str | os.PathLike[str]) -> Dataset:
    """Load and validate a dataset.

    Parameters
    ----------
    path : str or path-like
        ``"sample"`` for the bundled sample company, a folder with a ``kam.yaml``
        (or with files named after the tables, e.g. ``transactions.csv``), or a
        YAML file. Relative paths are looked up in the working directory, then in
        the project folder.

    Returns
    -------
    Dataset
        One DataFrame per table present, with the model's column names and types.

    Raises
    ------
    DatasetError
        Listing every problem found (a subclass of ``ValueError``).
    """
    source = resolve_dataset(path)
    config, problems = read_config(source)
    if config is None:
        raise DatasetError(str(path), problems)
    return _load(config, source, problems)


def load_sample() -> Dataset:
    """The bundled sample company (an industrial adhesives supplier)."""
    return load_dataset("sample")
