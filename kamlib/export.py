"""Writing result tables for analysts: CSV that Excel opens correctly, and .xlsx.

Every notebook writes its tables through :func:`export_table`, which

* writes CSV as UTF-8 with a byte-order mark, so Excel shows accents (Müller,
  Svobodová) correctly, with the delimiter of your choice;
* writes ``.xlsx`` with openpyxl;
* neutralises text cells that begin with ``=``, ``+``, ``-``, ``@`` (or a tab or
  carriage return) by prefixing an apostrophe, so that an account named
  ``=HYPERLINK(...)`` is shown as text and never runs as a formula;
* writes each file completely or not at all (a temporary file, renamed into
  place only when it is complete).
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
        is_str = text.map(lambda v: isinstance(v, str))
        as_str = text.where(is_str, "").astype(str)
        danger = is_str & as_str.str.startswith(_FORMULA_START)
        return text.mask(danger, "'" + as_str)

    out = frame.copy()
    for col in out.columns:
        s = out[col]
        if pd.api.types.is_object_dtype(s) or pd.api.types.is_string_dtype(s):
            out[col] = fix(s)
    out.columns = fix(pd.Series(list(out.columns), dtype=object)).tolist()
    return out


def _atomic_write(path: Path, write) -> None:
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
    written = []
    for fmt in formats:
        path = folder / f"{name}.{fmt}"
        if fmt == "csv":
            _atomic_write(
                path,
                lambda p: safe.to_csv(p, index=False, sep=delimiter, encoding="utf-8-sig", lineterminator="\r\n"),
            )
        else:
            _atomic_write(path, lambda p: _write_xlsx(safe, p, name))
        written.append(path)
    return written


def _write_xlsx(frame: pd.DataFrame, path: Path, sheet: str) -> None:
    tz_free = frame.copy()
    for col in tz_free.columns:
        s = tz_free[col]
        if isinstance(s.dtype, pd.DatetimeTZDtype):
            tz_free[col] = s.dt.tz_localize(None)
    with pd.ExcelWriter(path, engine="openpyxl") as writer:
        tz_free.to_excel(writer, sheet_name=sheet[:31] or "table", index=False)
