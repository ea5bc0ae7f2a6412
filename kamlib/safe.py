"""Showing data-derived text in a notebook without letting it become markup.

Account, contact and product names, segments, notes, reasons and the dataset's
``name:`` come from the company's files: whoever can write a cell of a CSV file can
write ``<script>…</script>``, ``<img src=x onerror=…>`` or ``[x](javascript:…)``.
The notebooks show such text in two ways, and each has one helper here:

* :func:`say` for a generated sentence (the ``describe_*`` functions, the notebooks'
  own f-strings): the Markdown the kit writes (``**bold**``, ``*italic*``,
  ```code```, ``## headings``) still works, but every HTML character is escaped,
  link, image and autolink syntax is neutralised, and ``javascript:`` / ``data:`` /
  ``vbscript:`` never form a URL. :func:`literal` escapes one value completely, for
  the places where a sentence puts a name between the kit's own ``**``.
* :func:`table` for a DataFrame shown through a pandas ``Styler``: every text cell,
  index label and column label is HTML-escaped *before* the Styler sees it, so a
  later ``.format(...)`` (which would replace a ``format(escape="html")``) cannot
  bring the raw text back. :func:`escape_frame` is the escaping step on its own.

A plain ``display(df)`` needs neither: pandas escapes ``DataFrame.to_html`` itself.
The rendered reports carry a Content-Security-Policy without ``script-src`` on top
(``kamlib/templates/kam_report.html.j2``), so even an escape that was forgotten runs
no script; these helpers keep the text readable as text.
"""

from __future__ import annotations

import datetime as dt
import html
import numbers
import re
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:  # pandas' Styler imports matplotlib (pandas 2.2): only when a table is styled
    from pandas.io.formats.style import Styler

__all__ = ["CSP", "Sentence", "escape_frame", "escape_markdown", "literal", "say", "table"]

#: The Content-Security-Policy of every page the kit writes (reports, their index,
#: dossiers, consumption pages): no script of any kind, images only as embedded
#: ``data:``, inline styles, nothing fetched from anywhere. The templates carry the
#: same text (a test keeps them equal).
CSP = (
    "default-src 'none'; img-src data:; style-src 'unsafe-inline'; font-src data:; "
    "base-uri 'none'; form-action 'none'"
)

# Every ASCII punctuation character may be backslash-escaped in CommonMark.
_PUNCTUATION = r"""!"#$%&'()*+,\-./:;<=>?@\[\\\]^_`{|}~"""
_PUNCT_RE = re.compile(f"([{_PUNCTUATION}])")
_CODE_PUNCT_RE = re.compile(r"""([!"$%'()*+,\-./:<=>?@\[\\\]^_`{|}~])""")
_LINE_BREAK_RE = re.compile(r"\r\n|[\r\n\u2028\u2029\x0b\x0c\x85]")

# One pass over a sentence, left to right, as a Markdown parser reads it:
# an existing backslash escape, a one-backtick code span on one line, or one character.
_SENTENCE_RE = re.compile(
    rf"(?P<escape>\\[{_PUNCTUATION}])"
    r"|(?P<code>`[^`\r\n]+`)"
    r"|(?P<char>[&<>\"'\[\]!|$`])"
)
_CHAR = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "'": "&#x27;",
    "[": r"\[",
    "]": r"\]",
    "!": r"\!",
    "|": r"\|",
    "$": r"\$",
    "`": r"\`",
}
# Code-span content that reads the same whether or not a parser takes it as a span.
_PLAIN_CODE_RE = re.compile(r"`[^`<>&|$\\\[\]!\"'\r\n]+`")
# URL schemes that run or smuggle code: their colon is escaped wherever they appear.
_SCHEME_RE = re.compile(r"(?i)\b(javascript|vbscript|livescript|data)(\s*):")


def literal(value: object) -> str:
    """One value as Markdown that shows exactly its text, whatever it holds.

    Every ASCII punctuation character is backslash-escaped (``<`` becomes ``\\<``, so
    no tag, link, emphasis or heading can start) and line breaks become spaces (so no
    block starts inside a sentence). Use it for data placed between the kit's own
    Markdown, e.g. ``say(f"**{literal(ds.name)}** has …")``; not inside a code span,
    where backslashes show.

    Parameters
    ----------
    value : object
        Anything; ``str(value)`` is escaped.

    Returns
    -------
    str
        Markdown source that renders as the text of ``value``.
    """
    return _PUNCT_RE.sub(r"\\\1", _LINE_BREAK_RE.sub(" ", str(value)))


def _code_text(text: str) -> str:
    """Code-span content inside ``<code>``: HTML characters as references, the rest escaped."""
    escaped = html.escape(_LINE_BREAK_RE.sub(" ", text), quote=False)
    return _CODE_PUNCT_RE.sub(r"\\\1", escaped)


def _sentence_part(match: re.Match) -> str:
    kind = match.lastgroup
    text = match.group()
    if kind == "escape":
        return text
    if kind == "code":
        if _PLAIN_CODE_RE.fullmatch(text) and not _SCHEME_RE.search(text):
            return text
        return f"<code>{_code_text(text[1:-1])}</code>"
    return _CHAR[text]


def escape_markdown(text: object) -> str:
    """A generated sentence made safe to show as Markdown.

    The kit's Markdown (``**bold**``, ``*italic*``, ```code```, headings, paragraphs)
    keeps working; everything that could turn text into markup is neutralised:

    * ``& < > " '`` become HTML character references (shown as typed: data reading
      ``&lt;`` shows ``&lt;``, never ``<``), so there is no HTML tag and no autolink;
    * ``[ ] ! | $`` and stray backticks are backslash-escaped: no link, image,
      reference, table or math;
    * a code span whose content holds any of those characters becomes
      ``<code>…</code>`` around escaped text, so it reads the same in every parser;
    * ``javascript:``, ``vbscript:``, ``data:`` (any case) get an escaped colon, so no
      linkifier can make a URL of them;
    * backslash escapes already in the text (from :func:`literal`) are kept.

    Parameters
    ----------
    text : object
        The sentence; ``str(text)`` is escaped.

    Returns
    -------
    str
        Markdown source.
    """
    return _SCHEME_RE.sub(r"\1\2\\:", _SENTENCE_RE.sub(_sentence_part, str(text)))


@dataclass(frozen=True)
class Sentence:
    """Markdown built from data, shown escaped (see :func:`escape_markdown`).

    Attributes
    ----------
    text : str
        The sentence as written, before escaping (``str()`` gives it back).
    """

    text: str

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text

    def _repr_markdown_(self) -> str:
        return escape_markdown(self.text)


def say(text: object) -> Sentence:
    """A sentence for a notebook: Markdown from the kit, text from the data escaped.

    Parameters
    ----------
    text : object
        A sentence, usually from a ``describe_*`` function or an f-string of the
        notebook; ``str(text)`` is shown.

    Returns
    -------
    Sentence
        Displayed as Markdown (the last expression of a cell, or ``display(...)``).

    Examples
    --------
    >>> print(say("**<b>Acme</b>** bought [x](javascript:alert(1))")._repr_markdown_())
    **&lt;b&gt;Acme&lt;/b&gt;** bought \\[x\\](javascript\\:alert(1))
    """
    return Sentence(str(text))


# --- tables --------------------------------------------------------------------------------


def _escape_strings(values: pd.Series) -> pd.Series:
    """HTML-escape a Series of strings (vectorised)."""
    out = values.str.replace("&", "&amp;", regex=False)
    for char in "<>\"'":
        out = out.str.replace(char, html.escape(char), regex=False)
    return out


_PLAIN_TYPES = (numbers.Number, np.number, np.bool_, dt.date, dt.time, dt.timedelta, pd.Period)


def _is_text(value: object) -> bool:
    return isinstance(value, str) or not isinstance(value, _PLAIN_TYPES)


def _escape_values(values: pd.Series | pd.Index) -> pd.Series:
    """Escape the text in one column (or index level); numbers and dates stay."""
    series = pd.Series(values, copy=False)
    if isinstance(series.dtype, pd.CategoricalDtype):
        categories = _escape_values(series.cat.categories).to_numpy()
        return series.cat.rename_categories(categories)
    if series.dtype != object:
        if pd.api.types.is_string_dtype(series.dtype):
            return _escape_strings(series)
        return series
    text = series.map(_is_text).to_numpy(dtype=bool) & series.notna().to_numpy()
    if not text.any():
        return series
    values = series.to_numpy(dtype=object, copy=True)
    values[text] = _escape_strings(pd.Series(values[text]).astype(str)).to_numpy()
    return pd.Series(values, index=series.index, name=series.name, dtype=object)


def _escape_label(label: object) -> object:
    return html.escape(label) if isinstance(label, str) else label


def _escape_index(index: pd.Index) -> pd.Index:
    if isinstance(index, pd.MultiIndex):
        levels = [_escape_index(level) for level in index.levels]
        out = index.set_levels(levels, verify_integrity=False)
        return out.set_names([_escape_label(n) for n in index.names])
    name = _escape_label(index.name)
    if isinstance(index.dtype, pd.CategoricalDtype):
        return pd.CategoricalIndex(_escape_values(index), name=name)
    if index.dtype == object or pd.api.types.is_string_dtype(index.dtype):
        return pd.Index(_escape_values(index).to_numpy(), dtype=index.dtype, name=name)
    return index.rename(name)


def escape_frame(data: pd.DataFrame | pd.Series) -> pd.DataFrame:
    """A copy of ``data`` whose text is HTML-escaped, ready for a ``Styler``.

    Text cells (``str`` / ``object`` / ``category`` columns; lists and other objects
    are shown as their ``str()``), index labels, column labels and their names are
    escaped (``& < > " '``); numbers, booleans, dates and missing values stay as they
    are, so ``.format({"revenue": "{:,.0f}"})`` and ``na_rep`` still apply.

    Parameters
    ----------
    data : pandas.DataFrame or pandas.Series
        The table to show; left untouched.

    Returns
    -------
    pandas.DataFrame
        The escaped copy (a Series becomes a one-column frame).

    Raises
    ------
    ValueError
        When ``data`` is neither (e.g. a ``Styler``, whose data can no longer be escaped).
    """
    if isinstance(data, pd.Series):
        data = data.to_frame()
    if not isinstance(data, pd.DataFrame):
        raise ValueError(
            f"kamlib.safe.table needs a pandas DataFrame or Series, not a {type(data).__name__}; "
            "pass the data and style the result, e.g. table(df).format(...) instead of "
            "table(df.style.format(...))."
        )
    out = data.copy()
    for i in range(data.shape[1]):  # columns, not rows: each is escaped in one operation
        out.isetitem(i, _escape_values(data.iloc[:, i]))
    out.columns = _escape_index(data.columns)
    out.index = _escape_index(data.index)
    return out


def table(data: pd.DataFrame | pd.Series, *, hide_index: bool = False) -> Styler:
    """A ``Styler`` of ``data`` with every text escaped (see :func:`escape_frame`).

    Style it as usual: ``table(df, hide_index=True).format({"share": "{:.0%}"})``.
    Formatters see the escaped text, so no later ``.format`` can undo the escaping.

    Parameters
    ----------
    data : pandas.DataFrame or pandas.Series
        The table to show (not its ``.style``).
    hide_index : bool
        Leave the index out, as ``.hide(axis="index")`` does.

    Returns
    -------
    pandas.io.formats.style.Styler
    """
    styler = escape_frame(data).style
    return styler.hide(axis="index") if hide_index else styler
