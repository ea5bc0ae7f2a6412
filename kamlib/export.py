"""Writing result tables for analysts: CSV that Excel opens correctly, and .xlsx.

Every notebook writes its tables through :func:`export_table`, which

* writes CSV as UTF-8 with a byte-order mark, so Excel shows accents (Müller,
  Svobodová) correctly, with the delimiter of your choice;
* writes ``.xlsx`` with openpyxl;
* neutralises text cells that begin with ``=``, ``+``, ``-``, ``@`` (or a tab or
  carriage return) by prefixing an apostrophe, so that an account named
  ``=HYPERLINK(...)`` is shown as text and never runs as a formula;
* writes its files completely or not at all (temporary files, renamed into
  place only when all of them are complete), readable as any new file.
"""

from __future__ import annotations

import os
import re
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from kamlib.paths import resolve_output

__all__ = ["export_table", "neutralise_formulas"]

_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_SAFE_NAME = re.compile(r"[^\w\-. ]+")


def _text_matching(values: pd.Series, matches) -> pd.Series:
    """Boolean mask: the cells that are text and for which ``matches(text)`` holds.

    ``matches`` takes the column as ``str`` Series. Both masks are made plain bool: an
    empty text column keeps its text dtype through ``map`` and ``.str`` (pandas 3), and
    a text mask cannot be combined with ``&``.
    """
    is_str = values.map(lambda v: isinstance(v, str)).astype(bool)
    return is_str & matches(values.where(is_str, "").astype(str)).astype(bool)


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` whose text cells cannot run as spreadsheet formulas.

    Text (not numbers) starting with ``=``, ``+``, ``-``, ``@``, tab or carriage
    return gets a leading apostrophe; column names too. Numbers, including
    negative ones, are left alone.

    Returns
    -------
    pandas.DataFrame
        Same shape, index and dtypes as ``frame`` (text columns stay text).
    """

    def fix(text: pd.Series) -> pd.Series:
        danger = _text_matching(text, lambda t: t.str.startswith(_FORMULA_START))
        return text.mask(danger, "'" + text.where(danger, "").astype(str))

    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if isinstance(s.dtype, pd.CategoricalDtype):
            cats = pd.Series(s.cat.categories, dtype=object)
            fixed = fix(cats)
            if not fixed.equals(cats):
                out[col] = s.astype(object).map(dict(zip(cats, fixed, strict=True)))
        elif pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
            out[col] = fix(s)
    out.columns = fix(pd.Series(list(out.columns), dtype=object)).tolist()
    return out


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _temp_beside(path: Path) -> Path:
    """An empty temporary file next to ``path``, with the permissions a new file gets."""
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    os.chmod(
        tmp, 0o666 & ~_umask()
    )  # mkstemp makes 0600; colleagues on a shared server need to read
    return Path(tmp)


_ILLEGAL_XLSX = r"[\x00-\x08\x0b\x0c\x0e-\x1f]"


def _check_xlsx_text(frame: pd.DataFrame) -> None:
    """Excel cannot store control characters; say where they are instead of failing midway."""
    problems = []
    for col in frame.columns:
        s = frame[col]
        if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
            bad = _text_matching(s, lambda t: t.str.contains(_ILLEGAL_XLSX, regex=True))
            if bad.any():
                rows = ", ".join(map(str, list(s.index[bad.to_numpy()])[:5]))
                problems.append(f"column {col!r} (rows {rows})")
    if problems:
        raise ValueError(
            "text with control characters cannot be written to .xlsx: "
            + "; ".join(problems)
            + ". Remove them (e.g. df[col].str.replace(r'[\\x00-\\x1f]', ' ', regex=True)) "
            "or export CSV only."
        )


def export_table(
    frame: pd.DataFrame,
    name: str,
    *,
    out_dir: str | os.PathLike[str] = "exports",
    formats: Sequence[str] = ("csv", "xlsx"),
    delimiter: str = ",",
    index: bool = False,
) -> list[Path]:
    """Write ``frame`` as ``<name>.csv`` and/or ``<name>.xlsx`` in ``out_dir``.

    Parameters
    ----------
    frame : pandas.DataFrame
        The table to write; it is not modified.
    name : str
        File name without extension, e.g. ``"abc_xyz_matrix"``.
    out_dir : path-like, default "exports"
        Folder to write to; a relative folder is taken in the project folder. Created
        if missing.
    formats : sequence of {"csv", "xlsx"}
        Which files to write.
    delimiter : str, default ","
        CSV delimiter; use ``";"`` where Excel expects it (German, French locales).
    index : bool, default False
        Write the index as the first column.

    Returns
    -------
    list of pathlib.Path
        The files written, in the order of ``formats``.
    """
    unknown = [f for f in formats if f not in ("csv", "xlsx")]
    if unknown or not formats:
        raise ValueError(f"formats must be 'csv' and/or 'xlsx', got {list(formats)!r}")
    if not name or _SAFE_NAME.search(name) or name in (".", ".."):
        raise ValueError(
            f"export name {name!r} must be a plain file name (letters, digits, - _ . space), "
            "without folder or extension"
        )
    folder = resolve_output(out_dir)
    folder.mkdir(parents=True, exist_ok=True)
    safe = neutralise_formulas(frame.reset_index() if index else frame)
    if "xlsx" in formats:
        _check_xlsx_text(safe)
    # all files of one call are written to temporary files first, and renamed into place
    # only when every one is complete: a failure leaves the folder as it was
    targets = [folder / f"{name}.{fmt}" for fmt in formats]
    temps: list[Path] = []
    try:
        for fmt, target in zip(formats, targets, strict=True):
            tmp = _temp_beside(target)
            temps.append(tmp)
            if fmt == "csv":
                safe.to_csv(
                    tmp, index=False, sep=delimiter, encoding="utf-8-sig", lineterminator="\r\n"
                )
            else:
                _write_xlsx(safe, tmp, name)
        for tmp, target in zip(temps, targets, strict=True):
            os.replace(tmp, target)
    except BaseException:
        for tmp in temps:
            tmp.unlink(missing_ok=True)
        raise
    return targets


def _write_xlsx(frame: pd.DataFrame, path: Path, sheet: str) -> None:
    tz_free = frame.copy()
    for col in tz_free.columns:
        s = tz_free[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            tz_free[col] = s.dt.tz_localize(None)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        tz_free.to_excel(writer, sheet_name=sheet[:31] or "table", index=False)
