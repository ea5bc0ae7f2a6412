"""Problems found in a dataset, and the error that lists all of them.

The loader collects every :class:`Problem` before it raises one
:class:`DatasetError`, so an analyst fixes a whole export in one go instead of
one error at a time.
"""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

__all__ = ["DatasetError", "Problem"]

#: How many offending rows or values a message shows.
SHOW = 5
#: How many characters of one value a message shows.
SHOW_CHARS = 60


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a dataset.

    Attributes
    ----------
    message : str
        What is wrong, naming the file, column and first offending rows.
    hint : str
        How to fix it.
    file : str
        The file concerned (or ``kam.yaml``), as the user named it.
    table : str
        The model table concerned, if any.
    column : str
        The model column concerned, if any.
    rows : tuple of int
        Spreadsheet row numbers of the first offending rows (the header is row 1).
    """

    message: str
    hint: str = ""
    file: str = ""
    table: str = ""
    column: str = ""
    rows: tuple[int, ...] = field(default=())

    def __str__(self) -> str:
        return self.message + (f"\n   Fix: {self.hint}" if self.hint else "")


class DatasetError(ValueError):
    """A dataset could not be loaded; ``problems`` lists everything that is wrong."""

    def __init__(self, source: str, problems: Sequence[Problem]):
        self.source = source
        self.problems = list(problems)
        n = len(self.problems)
        head = f"Dataset {source!r} has {n} problem{'s' if n != 1 else ''}:"
        body = "\n".join(f"{i}. {p}" for i, p in enumerate(self.problems, 1))
        super().__init__(f"{head}\n{body}")


def closest(name: str, candidates: Sequence[str]) -> str | None:
    """The candidate most like ``name`` (case-insensitive), or None."""
    lowered = {str(c).lower(): str(c) for c in candidates}
    match = difflib.get_close_matches(name.lower(), list(lowered), n=1, cutoff=0.5)
    return lowered[match[0]] if match else None


def shorten(text: str, limit: int = SHOW_CHARS) -> str:
    """``text`` safe to print: control characters escaped, cut at ``limit`` characters.

    A cut text ends in ``…`` followed by its full length, ``(10,000 characters)``.
    Invisible and control characters (``\\x1b``, ``\\u202e``, line breaks) are
    shown escaped, as Python writes them, so a message cannot be made to hide or
    rewrite itself.
    """
    cut = text if len(text) <= limit else text[: limit - 1]
    escaped = "".join(c if c.isprintable() else repr(c)[1:-1] for c in cut)
    return escaped if cut is text else f"{escaped}… ({len(text):,} characters)"


def show(value: object, limit: int = SHOW_CHARS) -> str:
    """One value as a message shows it: text quoted, escaped and cut (see :func:`shorten`)."""
    if not isinstance(value, str):
        return shorten(str(value), limit)
    if len(value) <= limit:
        return repr(value)
    quoted = repr(value[: limit - 1])
    return f"{quoted[:-1]}…{quoted[-1]} ({len(value):,} characters)"


def show_list(items: Sequence[object], limit: int = SHOW) -> str:
    """``'a', 'b', 'c'`` with ``… (N more)`` when the list is long; each value as :func:`show`."""
    shown = ", ".join(show(i) for i in items[:limit])
    more = len(items) - limit
    return shown + (f" … ({more} more)" if more > 0 else "")
