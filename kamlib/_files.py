"""Writing a folder whole or not at all."""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pandas as pd


@contextmanager
def folder_written_whole(target: Path, *, prefix: str = ".kam-") -> Iterator[Path]:
    """Yield a temporary folder beside ``target``; on success it replaces ``target``.

    If the block raises, the temporary folder is removed and ``target`` is left as it
    was, so a reader never sees a half-written dataset.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=prefix, dir=target.parent))
    tmp.chmod(0o755)
    try:
        yield tmp
        if target.exists():
            shutil.rmtree(target)
        os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def csv_text(frame: pd.DataFrame, *, float_format: str | None = None) -> str:
    """A table as the kit writes dataset CSV files: yes/no as ``true``/``false``, dates as
    ``YYYY-MM-DD``, empty cells for missing values, ``\\n`` line ends.

    ``float_format`` (e.g. ``"%.2f"``) fixes the decimals; ``None`` writes each number's
    shortest exact text (a price of 0.0035 stays 0.0035).
    """
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if pd.api.types.is_bool_dtype(values):
            out[column] = values.astype(object).map({True: "true", False: "false"})
    return out.to_csv(
        index=False,
        lineterminator="\n",
        float_format=float_format,
        na_rep="",
        date_format="%Y-%m-%d",
    )
