"""Ids that look identical but differ: found, shown visibly, merged only when asked.

An export can spell one customer number in several ways that a person cannot
tell apart: ``K100`` and ``k100``, ``K 100`` with a non-breaking space, ``K100``
with a zero-width space, full-width digits (``K１００``), or a Cyrillic ``К``.
Loaded as they are, these become separate accounts (or products, invoices …).
The loader never merges or splits them silently:

* :func:`lookalike_problems` reports, per table and id column, the groups of
  different spellings that share one folded key (:func:`id_key`);
* ``normalize_ids: true`` for a table in ``kam.yaml`` replaces its ids by their
  normalised form (:func:`normalize_id`) before anything else looks at them
  (:func:`normalize_tables`).

Surrounding spaces (of any kind, including non-breaking ones) are stripped from
every text cell by the reader already; they never make two ids.

Rules
-----
Folding, in this order:

1. remove invisible characters (zero-width space U+200B, non-joiner U+200C,
   joiner U+200D, word joiner U+2060, byte-order mark U+FEFF, soft hyphen,
   direction marks and the other default-ignorable characters);
2. Unicode NFKC: full-width letters and digits become ASCII, non-breaking and
   other spaces become plain spaces, ligatures are split (``ﬁ`` → ``fi``);
3. upper-case, then map the capital Cyrillic and Greek letters that look like
   Latin ones to those (:data:`LOOKALIKE`; lower-case look-alikes reach it
   through the upper-casing);
4. collapse runs of spaces into one and strip.

:func:`normalize_id` is the result (upper-case); :func:`id_key` is its
``casefold``, so ids equal after normalisation always share a key and are
reported as one group. Characters that merely resemble each other within one
script (``O`` and ``0``, ``I`` and ``1``) are different characters and are
never folded.

Which columns: every text column of the model whose name ends in ``_id``
(:data:`ID_COLUMNS`). ``normalize_ids`` works per kind of id, so that references
between tables still match: when any table that sets it holds a kind of id
(``account_id``, ``product_id`` …), that kind is normalised in every table that
holds it. ``normalize_ids`` in ``defaults:`` therefore normalises every id.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

import numpy as np
import pandas as pd

from kamlib import _readers
from kamlib.schema import MODEL
from kamlib.validation import SHOW, Problem

__all__ = [
    "ID_COLUMNS",
    "LOOKALIKE",
    "id_key",
    "lookalike_problems",
    "normalize_id",
    "normalize_tables",
]

#: The id columns of each table: the model's text columns named ``*_id``.
ID_COLUMNS: dict[str, tuple[str, ...]] = {
    name: tuple(c.name for c in table.columns if c.type == "string" and c.name.endswith("_id"))
    for name, table in MODEL.items()
}

#: Capital Cyrillic and Greek letters that look like Latin capitals.
LOOKALIKE: dict[str, str] = {
    # Cyrillic
    "\u0410": "A",  # А
    "\u0412": "B",  # В
    "\u0415": "E",  # Е
    "\u041a": "K",  # К
    "\u041c": "M",  # М
    "\u041d": "H",  # Н
    "\u041e": "O",  # О
    "\u0420": "P",  # Р
    "\u0421": "C",  # С
    "\u0422": "T",  # Т
    "\u0423": "Y",  # У (lower-case у looks like y)
    "\u0425": "X",  # Х
    "\u0405": "S",  # Ѕ
    "\u0406": "I",  # І
    "\u0408": "J",  # Ј
    "\u04ae": "Y",  # Ү
    "\u04ba": "H",  # Һ (lower-case һ looks like h)
    "\u051a": "Q",  # Ԛ
    "\u051c": "W",  # Ԝ
    # Greek
    "\u0391": "A",  # Α
    "\u0392": "B",  # Β
    "\u0395": "E",  # Ε
    "\u0396": "Z",  # Ζ
    "\u0397": "H",  # Η
    "\u0399": "I",  # Ι
    "\u039a": "K",  # Κ
    "\u039c": "M",  # Μ
    "\u039d": "N",  # Ν
    "\u039f": "O",  # Ο
    "\u03a1": "P",  # Ρ
    "\u03a4": "T",  # Τ
    "\u03a5": "Y",  # Υ
    "\u03a7": "X",  # Χ
}
_TO_LATIN = str.maketrans(LOOKALIKE)
# the same, keeping case (for telling a case difference from a script difference)
_SHAPE = str.maketrans(
    {
        **LOOKALIKE,
        **{cap.lower(): lat.lower() for cap, lat in LOOKALIKE.items() if cap.lower() != cap},
        "\u0131": "i",  # dotless ı
    }
)

# default-ignorable characters: zero-width, joiners, BOM, soft hyphen, direction
# marks, variation selectors, Hangul fillers, tags
_INVISIBLE = (
    "\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e"
    "\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\ufff0-\ufff8"
    "\U0001d173-\U0001d17a\U000e0000-\U000e0fff"
)
_INVISIBLE_RE = re.compile(f"[{_INVISIBLE}]")
# shown as ⟨U+XXXX⟩: invisible characters, spaces other than " ", control characters
_HIDDEN_RE = re.compile(f"[{_INVISIBLE}\\x00-\\x1f\\x7f-\\x9f]|[^\\S ]")
_PLAIN = r"[!-~]+(?: [!-~]+)*"
_NON_BREAKING = {"\u00a0", "\u2007", "\u202f"}
_LONGEST = 40  # characters of an id shown in a message


def _fold(text: pd.Series) -> pd.Series:
    """The normalised (upper-case) form of ``text``, a Series of str."""
    text = text.str.replace(_INVISIBLE_RE, "", regex=True).str.normalize("NFKC")
    text = text.str.upper().str.translate(_TO_LATIN).str.normalize("NFKC")
    text = text.str.replace(_INVISIBLE_RE, "", regex=True)
    return text.str.replace(r"\s+", " ", regex=True).str.strip()


def _on_unique(series: pd.Series, func) -> pd.Series:
    """``func`` applied to the distinct values of ``series`` only; missing stays missing."""
    codes, uniques = pd.factorize(series)
    if not len(uniques):
        return pd.Series(np.nan, index=series.index, dtype=object)
    # not numpy's str dtype: it drops trailing NUL characters
    done = func(pd.Series(uniques, dtype=object).map(str)).to_numpy(dtype=object)
    out = np.where(codes >= 0, done[np.maximum(codes, 0)], np.nan)
    return pd.Series(out, index=series.index, dtype=object)


def _normal(text: pd.Series) -> pd.Series:
    # printable ASCII with single inner spaces (most ids) only needs upper-casing
    plain = text.str.fullmatch(_PLAIN).to_numpy(dtype=bool)
    out = text.str.upper()
    rest = text[~plain]
    # folding until nothing changes (at most a few rounds) makes it idempotent even for
    # the rare characters whose NFKC or upper-case form folds further
    for _ in range(4):
        again = _fold(rest)
        if again.equals(rest):
            break
        rest = again
    out[~plain] = rest
    return out


def normalize_id(series: pd.Series) -> pd.Series:
    """The normalised form of each id: what ``normalize_ids: true`` stores.

    Parameters
    ----------
    series : pandas.Series
        Ids as loaded (text, missing as NaN).

    Returns
    -------
    pandas.Series
        Same index: invisible characters removed, NFKC (full-width to ASCII,
        non-breaking to plain spaces), upper-case, Cyrillic and Greek
        look-alikes mapped to Latin (:data:`LOOKALIKE`), spaces collapsed and
        stripped. Missing stays missing; an id of only invisible characters
        becomes ``""``.

    Examples
    --------
    >>> normalize_id(pd.Series(["k100", "K\\u200b100", "\\u041a１００"])).tolist()
    ['K100', 'K100', 'K100']
    """
    return _on_unique(series, _normal)


def id_key(series: pd.Series) -> pd.Series:
    """The folded key of each id: ids with one key look alike.

    Parameters
    ----------
    series : pandas.Series
        Ids as loaded (text, missing as NaN).

    Returns
    -------
    pandas.Series
        ``normalize_id(series)`` case-folded, same index; missing stays missing.
        Idempotent, and ids equal after :func:`normalize_id` have equal keys.
    """
    return _on_unique(series, lambda text: _normal(text).str.casefold())


def _visible(text: str) -> str:
    """``text`` quoted, with invisible characters and odd spaces as ⟨U+XXXX⟩."""
    shown = _HIDDEN_RE.sub(lambda m: f"⟨U+{ord(m.group()):04X}⟩", text)
    if len(shown) > _LONGEST:
        shown = shown[: _LONGEST - 1] + "…"
    return repr(shown)


def _code(char: str) -> str:
    return f"U+{ord(char):04X}"


def _difference(main: str, other: str) -> str:
    """What tells ``other`` from ``main``: ``case``, ``invisible character U+200B`` …"""
    order = list(dict.fromkeys(other + main))
    differ = set(main) ^ set(other)
    chars = [c for c in order if c in differ]
    labels = []
    invisible = [c for c in chars if _INVISIBLE_RE.match(c)]
    if invisible:
        labels.append(
            f"invisible character{'s' if len(invisible) > 1 else ''} "
            + ", ".join(map(_code, invisible[:3]))
        )
    spaces = [c for c in chars if c.isspace() and c != " "]
    for c in spaces[:3]:
        kind = "non-breaking space" if c in _NON_BREAKING else "unusual space"
        labels.append(f"{kind} {_code(c)}")
    if any(re.search(r"\s\s", s) for s in (main, other)):
        labels.append("extra spaces")
    rest = [c for c in chars if not c.isspace() and not _INVISIBLE_RE.match(c) and not c.isascii()]
    wide = [c for c in rest if "FULLWIDTH" in unicodedata.name(c, "")]
    if wide:
        labels.append("full-width characters")
    special = [c for c in rest if c not in wide and unicodedata.normalize("NFKC", c) != c]
    if special:
        labels.append("special forms " + ", ".join(f"{c} {_code(c)}" for c in special[:3]))
    scripts: dict[str, list[str]] = {}
    for c in rest:
        if c not in wide and c not in special:
            script = unicodedata.name(c, "OTHER").split()[0].title()
            scripts.setdefault(script, []).append(f"{c} {_code(c)}")
    labels += [f"{script} {', '.join(found[:3])}" for script, found in scripts.items()]

    def shape(text: str) -> str:
        text = unicodedata.normalize("NFKC", _INVISIBLE_RE.sub("", text))
        return " ".join(text.translate(_SHAPE).split())

    if shape(main) != shape(other):
        labels.append("case")
    return ", ".join(labels) or "differently encoded characters"


def _column_problems(
    series: pd.Series, table: str, column: str, cfg, normalised: bool
) -> list[Problem]:
    """Look-alike groups (and ids that look empty) in one id column."""
    codes, uniques = pd.factorize(series)
    if len(uniques) < 1:
        return []
    spellings = pd.DataFrame(
        {
            "raw": np.asarray(uniques, dtype=object),
            "key": id_key(pd.Series(uniques, dtype=object)).to_numpy(),
            "count": np.bincount(codes[codes >= 0], minlength=len(uniques)),
            "first": np.arange(len(uniques)),  # factorize numbers in order of appearance
        }
    )
    src = cfg.columns.get(column, column)
    where = f"{cfg.file_label}, column {src!r} ({table}.{column})"
    problems = []
    empty = spellings[spellings["key"] == ""]
    if len(empty):
        pos = np.flatnonzero(np.isin(codes, empty["first"].to_numpy()))
        n = len(empty)
        problems.append(
            Problem(
                f"{where}: {n} id{' is' if n == 1 else 's are'} only invisible characters and "
                f"look{'s' if n == 1 else ''} empty — {_readers.rows_text(pos, cfg)}: "
                f"{', '.join(_visible(t) for t in empty['raw'].head(SHOW))}"
                f"{f' … ({n - SHOW} more)' if n > SHOW else ''}.",
                "fill in the id, or remove those rows",
                cfg.file_label,
                table,
                column,
                tuple(int(r) for r in _readers.row_numbers(pos[:SHOW], cfg)),
            )
        )
    grouped = spellings[(spellings["key"] != "") & spellings["key"].duplicated(keep=False)]
    if grouped.empty:
        return problems
    grouped = grouped.assign(
        start=grouped.groupby("key")["first"].transform("min"), order=-grouped["count"]
    ).sort_values(["start", "order", "first"])
    main = ~grouped["key"].duplicated()
    pos = np.flatnonzero(np.isin(codes, grouped.loc[~main, "first"].to_numpy()))
    n_groups = int(main.sum())
    shown = []
    for _, group in list(grouped.groupby("start", sort=True))[:SHOW]:
        head, *others = group["raw"].tolist()
        shown.append(
            " / ".join(
                [_visible(head), *(f"{_visible(o)} ({_difference(head, o)})" for o in others)]
            )
        )
    listed = "; ".join(shown)
    if n_groups > SHOW:
        listed += f" … ({n_groups - SHOW} more groups)"
    in_groups = f", in {n_groups} groups" if n_groups > 1 else ""
    rarer = "the rarer spelling" if len(pos) == 1 else "the rarer spellings"
    hint = (
        "these still differ after normalize_ids: fix them in the source"
        if normalised
        else "fix them in the source, or set `normalize_ids: true` for this table in kam.yaml "
        "to merge them"
    )
    problems.append(
        Problem(
            f"{where}: {len(grouped)} ids look alike but differ{in_groups} — {listed} — "
            f"{_readers.rows_text(pos, cfg)} ({rarer}).",
            hint,
            cfg.file_label,
            table,
            column,
            tuple(int(r) for r in _readers.row_numbers(pos[:SHOW], cfg)),
        )
    )
    return problems


def _normalised_kinds(configs: Mapping[str, object]) -> set[str]:
    """The kinds of id (column names) to normalise: those of tables that ask for it."""
    return {
        column
        for name, cfg in configs.items()
        if getattr(cfg, "normalize_ids", False)
        for column in ID_COLUMNS.get(name, ())
    }


def lookalike_problems(
    tables: Mapping[str, pd.DataFrame], configs: Mapping[str, object]
) -> list[Problem]:
    """Ids that look alike but differ, once per table and id column.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The loaded tables, by model name (after :func:`normalize_tables`).
    configs : mapping of str to TableConfig
        How each table was read (file label, column mapping, ``normalize_ids``).

    Returns
    -------
    list of Problem
        For each id column (:data:`ID_COLUMNS`) with different spellings that
        share one :func:`id_key`: the groups (most common spelling first,
        invisible characters shown as ``⟨U+200B⟩``), what differs (case,
        invisible character, non-breaking space, extra spaces, full-width
        characters, letters of another script) and the rows of the rarer
        spellings. Also ids made of invisible characters only.
    """
    kinds = _normalised_kinds(configs)
    problems: list[Problem] = []
    for name, frame in tables.items():
        for column in ID_COLUMNS.get(name, ()):
            if column in frame:
                problems += _column_problems(
                    frame[column], name, column, configs[name], column in kinds
                )
    return problems


def _key_text(frame: pd.DataFrame, key: list[str]) -> pd.Series:
    text = frame[key].fillna("").astype(str)
    return text.iloc[:, 0].str.cat(text.iloc[:, 1:], sep=", ") if len(key) > 1 else text.iloc[:, 0]


def _repeated_keys(before: pd.DataFrame, after: pd.DataFrame, table: str, cfg) -> list[Problem]:
    """Keys that normalisation made equal: two rows of master data for one id."""
    key = list(MODEL[table].key)
    if not key or not all(k in after for k in key):
        return []
    pairs = pd.DataFrame({"norm": _key_text(after, key), "raw": _key_text(before, key)})
    distinct = pairs.drop_duplicates()
    clash = distinct[distinct["norm"].duplicated(keep=False)]
    if clash.empty:
        return []
    pos = np.flatnonzero(pairs["norm"].isin(clash["norm"]).to_numpy())
    groups = list(clash.groupby("norm", sort=False)["raw"])
    shown = "; ".join(
        f"{_visible(norm)} from {' / '.join(_visible(r) for r in raw)}"
        for norm, raw in groups[:SHOW]
    )
    if len(groups) > SHOW:
        shown += f" … ({len(groups) - SHOW} more)"
    n = len(groups)
    return [
        Problem(
            f"{cfg.file_label}: key {' + '.join(key)} of `{table}` is not unique after "
            f"normalize_ids — {n} id{'s' if n != 1 else ''} written in several ways ({shown}) "
            f"in {_readers.rows_text(pos, cfg)}.",
            f"these rows are one {' + '.join(key)}: keep one of them in the source",
            cfg.file_label,
            table,
            key[0],
            tuple(int(r) for r in _readers.row_numbers(pos[:SHOW], cfg)),
        )
    ]


def normalize_tables(
    tables: Mapping[str, pd.DataFrame], configs: Mapping[str, object]
) -> tuple[dict[str, pd.DataFrame], list[Problem]]:
    """The tables with their ids normalised where ``normalize_ids`` asks for it.

    Parameters
    ----------
    tables : mapping of str to pandas.DataFrame
        The loaded tables, by model name; not changed.
    configs : mapping of str to TableConfig
        How each table was read; ``normalize_ids`` (default False) per table.

    Returns
    -------
    tables : dict of str to pandas.DataFrame
        New frames where ids were normalised (:func:`normalize_id`), the same
        frames elsewhere. A kind of id (``account_id`` …) held by a table that
        sets ``normalize_ids`` is normalised in every table holding it, so
        references between tables keep matching. Ids made of invisible
        characters only keep their spelling (and are reported).
    problems : list of Problem
        Keys that became equal (two rows of ``accounts`` for ``K100`` and
        ``k100``): those rows are one id and cannot be merged silently.
    """
    kinds = _normalised_kinds(configs)
    out = dict(tables)
    problems: list[Problem] = []
    if not kinds:
        return out, problems
    for name, frame in tables.items():
        columns = [c for c in ID_COLUMNS.get(name, ()) if c in kinds and c in frame]
        if not columns:
            continue
        changed = {}
        for column in columns:
            normal = normalize_id(frame[column])
            changed[column] = normal.where(normal != "", frame[column])
        out[name] = frame.assign(**changed)
        problems += _repeated_keys(frame, out[name], name, configs[name])
    return out, problems
