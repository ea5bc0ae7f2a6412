"""Types of key account: mainstay, image maker, expert, prospect — by rules you can read.

Each rule is a plain test on the account's features (:func:`kamlib.account_features`);
:data:`KEY_ACCOUNT_TYPES` states them in words, with what each type calls for. An
account can meet several rules: ``rules_met`` lists all, ``type`` is the first in
the table's order (mainstay first: the account the business stands on). A key
account that meets none is ``unassigned``: the data do not say, a person decides
(``overrides``).

The rules, with their parameters:

- **mainstay**: brings at least ``mainstay_share`` (10 %) of the profit the typed
  accounts make together, and has bought from us for ``mainstay_years`` (3) years
  or more. The share is of the *key accounts'* profit, not the company's: in a
  portfolio of hundreds of customers no single one reaches 10 % of all profit.
- **image maker**: a prestige name (``is_prestige``).
- **expert**: demanding — at least ``expert_events`` (3) complaints and service
  events in the window, or a test partner.
- **prospect**: new (first order less than ``prospect_years``, 2, years ago, or no
  purchase in the previous window), growing (or new), with buying power (the
  customer's own annual sales at least the median of all accounts; without
  ``annual_sales``, our revenue at least the median).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from kamlib._text import join_where

__all__ = ["KEY_ACCOUNT_TYPES", "assign_types", "describe_types", "key_account_types"]

#: The types in priority order, the rule in words and what each calls for.
KEY_ACCOUNT_TYPES = pd.DataFrame(
    [
        (
            "mainstay",
            "≥ 10 % of the key accounts' profit and ≥ 3 years with us",
            "Protect: long-term agreements, top-management contact, priority in production.",
        ),
        (
            "image maker",
            "prestige flag",
            "Use the name (with permission): references, case studies; keep service flawless.",
        ),
        (
            "expert",
            "≥ 3 complaints and service events in the window, or a test partner",
            "Learn from them: involve R&D and quality, answer fast, test new products with them.",
        ),
        (
            "prospect",
            "new (< 2 years or no purchase before), growing, buying power ≥ median",
            "Invest to win share: proposals, trials, find the decision maker.",
        ),
    ],
    columns=["type", "rule", "calls for"],
)


def assign_types(
    features: pd.DataFrame,
    *,
    accounts: Sequence[str] | None = None,
    mainstay_share: float = 0.10,
    mainstay_years: float = 3.0,
    expert_events: int = 3,
    prospect_years: float = 2.0,
    overrides: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The type of each (key) account by the rules of :data:`KEY_ACCOUNT_TYPES`.

    Parameters
    ----------
    features : pandas.DataFrame
        ``AccountFeatures.table``.
    accounts : sequence of str, optional
        The accounts to type (usually the key accounts); default all. The mainstay
        share is of these accounts' combined profit; the prospect median of all.
    mainstay_share, mainstay_years, expert_events, prospect_years
        The rules' thresholds (see the module text).
    overrides : pandas.DataFrame, optional
        ``account_id`` and ``type``: a person's decision, which wins over the rules.

    Returns
    -------
    pandas.DataFrame
        One row per typed account, in the order of ``accounts``: ``account_id``,
        ``name`` (where known), ``type`` (a type of :data:`KEY_ACCOUNT_TYPES` or
        "unassigned"), ``rules_met`` (all types whose rule holds), ``key_profit_share``,
        ``tenure_years``, ``demands`` (complaints + service events), ``reason`` (the
        numbers behind the type), ``overridden``.
    """
    if not 0 < mainstay_share <= 1:
        raise ValueError(f"mainstay_share must be a fraction in (0, 1], got {mainstay_share!r}")
    table = features.set_index("account_id")
    if accounts is not None:
        ids = pd.Index(list(accounts), name="account_id")
        unknown = ids.difference(table.index)
        if len(unknown):
            raise ValueError(
                f"accounts not in the features table: {', '.join(map(str, unknown[:5]))}"
                f"{' …' if len(unknown) > 5 else ''}; type only accounts that bought in the window"
            )
        typed = table.loc[ids]
    else:
        typed = table
    zeros = pd.Series(0.0, index=typed.index)
    margin = typed["margin"] if "margin" in typed else typed["revenue"]
    positive = margin.clip(lower=0)
    profit_share = positive / positive.sum() if positive.sum() > 0 else zeros
    tenure = typed["tenure_years"]
    demands = sum(
        (typed[c] if c in typed else zeros) for c in ("complaints", "service_events")
    ).astype(int)
    flag = {
        c: typed[c].astype(bool) if c in typed else pd.Series(False, index=typed.index)
        for c in ("is_prestige", "is_test_partner")
    }
    power_col = "annual_sales" if "annual_sales" in table else "revenue"
    median_power = table[power_col].median()
    new = (tenure < prospect_years) | typed["is_new_buyer"]
    growing = typed["is_new_buyer"] | (typed["growth"] > 0)
    rules = pd.DataFrame(
        {
            "mainstay": (profit_share >= mainstay_share) & (tenure >= mainstay_years),
            "image maker": flag["is_prestige"],
            "expert": (demands >= expert_events) | flag["is_test_partner"],
            "prospect": new & growing & (typed[power_col] >= median_power),
        }
    )
    names = np.array(rules.columns, dtype=object)
    met = rules.to_numpy()
    first = np.where(met.any(axis=1), names[met.argmax(axis=1)], "unassigned")
    out = typed[["name"]].copy() if "name" in typed else pd.DataFrame(index=typed.index)
    out["type"] = first
    out["rules_met"] = join_where(met, names)
    out["key_profit_share"] = profit_share.to_numpy()
    out["tenure_years"] = tenure.to_numpy()
    out["demands"] = demands.to_numpy()
    tenure_text = tenure.round(1).astype(str) + " years"
    growth_pct = (typed["growth"] * 100).round().astype("Int64").astype("string")
    # text columns as pandas Series: NumPy 1.x cannot add Python strings to its string arrays
    blank = pd.Series("", index=typed.index, dtype="string")
    sign = blank.mask(typed["growth"] >= 0, "+")
    growth_text = ("growth " + sign + growth_pct.fillna("") + " %").mask(
        typed["is_new_buyer"].astype(bool), "new buyer"
    )
    reasons = {
        "mainstay": "profit share "
        + (profit_share * 100).round(1).astype(str)
        + " %, "
        + tenure_text,
        "image maker": pd.Series("prestige name", index=typed.index),
        "expert": demands.astype(str)
        + " complaints/service events"
        + blank.mask(flag["is_test_partner"], ", test partner"),
        "prospect": tenure_text + ", " + growth_text,
        "unassigned": pd.Series("no rule holds", index=typed.index),
    }
    out["reason"] = ""
    for kind, text in reasons.items():
        out.loc[out["type"] == kind, "reason"] = text[out["type"] == kind]
    out["overridden"] = False
    if overrides is not None and len(overrides):
        out = _apply_overrides(out, overrides)
    return out.rename_axis("account_id").reset_index()


def _apply_overrides(out: pd.DataFrame, overrides: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in ("account_id", "type") if c not in overrides]
    if missing:
        raise ValueError(
            f"type overrides need the columns account_id and type; missing {', '.join(missing)}, "
            f"found {', '.join(map(str, overrides.columns))}"
        )
    allowed = set(KEY_ACCOUNT_TYPES["type"]) | {"unassigned"}
    bad = overrides.loc[~overrides["type"].isin(allowed), "type"].unique()
    unknown = overrides.loc[~overrides["account_id"].isin(out.index), "account_id"].unique()
    problems = []
    if len(bad):
        problems.append(f"unknown types {', '.join(map(repr, bad))} (types: {', '.join(allowed)})")
    if len(unknown):
        problems.append(f"accounts not being typed: {', '.join(map(str, unknown[:5]))}")
    if problems:
        raise ValueError("type overrides: " + "; ".join(problems))
    chosen = overrides.drop_duplicates("account_id", keep="last").set_index("account_id")["type"]
    out = out.copy()
    out.loc[chosen.index, "type"] = chosen
    out.loc[chosen.index, "reason"] = "set by hand"
    out.loc[chosen.index, "overridden"] = True
    return out


def describe_types(types: pd.DataFrame) -> str:
    """One sentence: how many accounts of each type."""
    if types.empty:
        return "There are no key accounts to type."
    counts = types["type"].value_counts()
    order = [*KEY_ACCOUNT_TYPES["type"], "unassigned"]
    plural = {t: f"{t}s" for t in order} | {"unassigned": "unassigned"}
    parts = [f"{counts[t]} {plural[t] if counts[t] != 1 else t}" for t in order if t in counts]
    several = int(types["rules_met"].str.contains(",").sum())
    return (
        f"Of {len(types)} key accounts: "
        + ", ".join(parts)
        + f"; {several} {'meets' if several == 1 else 'meet'} more than one rule."
    )


def key_account_types(dataset, *, as_of: pd.Timestamp) -> pd.DataFrame:
    """The key accounts of a dataset with their types, by the kit's defaults.

    The pipeline of notebook 01 with every default: :func:`kamlib.account_features`,
    :func:`kamlib.score_accounts`, :func:`kamlib.select_key_accounts` (share 50 %, cap
    40) and :func:`assign_types`. For other weights or rules, call those steps yourself.

    Returns
    -------
    pandas.DataFrame
        :func:`assign_types`'s table for the key accounts, best score first.
    """
    from kamlib.features import account_features
    from kamlib.identification import score_accounts, select_key_accounts

    found = account_features(
        dataset.transactions,
        as_of=as_of,
        accounts=dataset.get("accounts"),
        products=dataset.get("products"),
        invoices=dataset.get("invoices"),
        interactions=dataset.get("interactions"),
    )
    selection = select_key_accounts(score_accounts(found.table))
    return assign_types(found.table, accounts=selection.key_accounts["account_id"].tolist())
