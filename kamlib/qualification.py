"""The "three P" qualification of prospects: need, solvency, authority to decide.

From the data where it can be read, with a table of manual decisions that wins:

- **need**: the account bought from us in the window, or asked for / received a
  proposal in it (a real need for what we offer);
- **solvency**: its invoices due in the window were paid on average at most
  ``max_days_late`` (30) days late (needs ``invoices``);
- **authority**: we know a decision maker at the account (a contact with role
  ``decision_maker``; needs ``contacts``).

Where the table a P needs is missing, that P is unknown (``<NA>``), not false, and
the account is not counted as qualified until a person fills it in (``overrides``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib._text import join_where
from kamlib.validation import closest

__all__ = ["THREE_P", "three_p"]

#: The three P and the evidence read for each.
THREE_P = pd.DataFrame(
    [
        ("need", "a real need for our offer", "purchases or proposals in the window"),
        ("solvency", "the ability to pay", "average days late on invoices due in the window"),
        ("authority", "the power to decide", "a known decision maker among the contacts"),
    ],
    columns=["p", "meaning", "evidence read"],
)

_P = ("need", "solvency", "authority")
_DAY = pd.Timedelta(days=1)


def _check_overrides(overrides: pd.DataFrame, known: pd.Index) -> pd.DataFrame:
    problems = []
    if "account_id" not in overrides:
        problems.append(f"no account_id column (found: {', '.join(map(str, overrides.columns))})")
    extra = [c for c in overrides.columns if c not in ("account_id", *_P, "note")]
    if extra:
        problems.append(
            f"unknown columns {', '.join(map(repr, extra))}; use account_id, need, solvency, "
            "authority and note"
        )
    if "account_id" in overrides:
        unknown = [a for a in overrides["account_id"].astype(str).unique() if a not in known]
        if unknown:
            guesses = [f"{a!r} (did you mean {closest(a, list(known))!r}?)" for a in unknown[:5]]
            problems.append("accounts not in the table: " + ", ".join(guesses))
    for p in _P:
        if p in overrides:
            values = overrides[p].dropna()
            bad = values[~values.map(type).isin([bool, np.bool_])]
            if len(bad):
                problems.append(f"{p} takes True or False (or empty), got {bad.unique()[:5]}")
    if problems:
        raise ValueError("three P overrides: " + "; ".join(problems))
    return overrides.drop_duplicates("account_id", keep="last").set_index("account_id")


def three_p(
    features: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    months: int = 12,
    contacts: pd.DataFrame | None = None,
    proposals: pd.DataFrame | None = None,
    max_days_late: float = 30.0,
    overrides: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Need, solvency and authority of each account in ``features``.

    Parameters
    ----------
    features : pandas.DataFrame
        ``AccountFeatures.table`` (or its rows for the prospects to qualify).
    as_of : Timestamp
        End of the window in which purchases and proposals count.
    months : int, default 12
        Length of that window.
    contacts, proposals : pandas.DataFrame, optional
        The dataset's tables, where it has them.
    max_days_late : float, default 30
        Solvent when invoices were paid on average at most this many days late.
    overrides : pandas.DataFrame, optional
        A person's judgement: ``account_id`` and any of ``need``, ``solvency``,
        ``authority`` (True/False; empty keeps the data's answer), optional ``note``.

    Returns
    -------
    pandas.DataFrame
        One row per account, in the order of ``features``: ``account_id``, ``name``
        (where known), ``need``, ``solvency``, ``authority`` (boolean, ``<NA>`` where
        unknown), ``evidence`` (the numbers read), ``qualified`` (all three true),
        ``overridden`` (the P set by hand, comma-separated).
    """
    as_of = pd.Timestamp(as_of)
    start = pd.Timestamp(as_of - pd.DateOffset(months=months))
    ids = pd.Index(features["account_id"], name="account_id")
    out = (
        features.set_index("account_id")[["name"]]
        if "name" in features
        else pd.DataFrame(index=ids)
    )
    out = out.copy()
    evidence = features["revenue"].round(0).astype("Int64").astype("string").radd("revenue ")
    evidence = evidence.set_axis(ids)
    bought = (features["revenue"] > 0).set_axis(ids)
    if proposals is not None:
        recent = proposals[(proposals["date"] >= start + _DAY) & (proposals["date"] < as_of + _DAY)]
        n_prop = recent.groupby("account_id").size().reindex(ids, fill_value=0)
        evidence = evidence + ", " + n_prop.astype("string") + " proposals"
        out["need"] = (bought | (n_prop > 0)).astype("boolean")
    else:
        out["need"] = bought.astype("boolean")
    if "avg_days_late" in features:
        late = features["avg_days_late"].set_axis(ids)
        out["solvency"] = (late <= max_days_late).astype("boolean").mask(late.isna())
        days = late.round(0).astype("Int64").astype("string") + " days late on average"
        evidence = evidence + ", " + days.fillna("no invoices due")
    else:
        out["solvency"] = pd.Series(pd.NA, index=ids, dtype="boolean")
    if contacts is not None and "role" in contacts:
        deciders = contacts.loc[contacts["role"] == "decision_maker", "account_id"]
        known = ids.isin(deciders)
        out["authority"] = pd.array(known, dtype="boolean")
        none_known = pd.Series(", none known", index=ids, dtype="string")
        evidence = evidence + none_known.mask(known, ", decision maker known")
    else:
        out["authority"] = pd.Series(pd.NA, index=ids, dtype="boolean")
    out["evidence"] = evidence
    out["overridden"] = ""
    if overrides is not None and len(overrides):
        table = _check_overrides(overrides, ids)
        changed = pd.DataFrame(False, index=ids, columns=list(_P))
        for p in _P:
            if p in table:
                given = table[p].dropna().astype(bool)
                out.loc[given.index, p] = given.astype("boolean")
                changed.loc[given.index, p] = True
        out["overridden"] = join_where(changed.to_numpy(), list(_P))
    out["qualified"] = (out["need"] & out["solvency"] & out["authority"]).fillna(False).astype(bool)
    columns = [c for c in ("name",) if c in out] + [*_P, "evidence", "qualified", "overridden"]
    return out[columns].rename_axis("account_id").reset_index()
