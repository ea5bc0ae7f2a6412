"""The exercises of each notebook, built for the dataset the notebook runs on.

Expected answers are computed from the data, so the checks work on the bundled
sample, on any generated seed and on a company's own data.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from kamlib.dates import window
from kamlib.exercises import Exercise

__all__ = [
    "ABC_HAND_TABLE",
    "DMU_HAND_TABLE",
    "TYPE_HAND_TABLE",
    "WIN_BACK_HAND_AS_OF",
    "WIN_BACK_HAND_TABLE",
    "abc_xyz_exercises",
    "dossier_exercises",
    "identification_exercises",
    "loss_exercises",
    "start_here_exercises",
]


def _month(value) -> pd.Period:
    """A month from '2025-03', a Timestamp, a Period or a date."""
    if isinstance(value, pd.Period):
        return value.asfreq("M")
    if isinstance(value, int) and not isinstance(value, bool) and 190001 <= value <= 299912:
        value = f"{value // 100}-{value % 100:02d}"  # 202604, as typed from a month label
    stamp = pd.Timestamp(value) if value is not None else pd.NaT
    if pd.isna(stamp):
        raise ValueError("that is not a month; write it like '2025-03'")
    return stamp.to_period("M")


def start_here_exercises(transactions: pd.DataFrame, *, as_of: pd.Timestamp) -> dict[str, Exercise]:
    """Exercises of ``00_start_here``.

    The solutions use the notebook's names: ``tx`` (the invoice lines),
    ``as_of_date`` (the reference date) and ``pd``.

    Parameters
    ----------
    transactions : pandas.DataFrame
        Invoice lines of the dataset.
    as_of : pandas.Timestamp
        Reference date of the notebook.

    Returns
    -------
    dict of str to Exercise
        ``active_accounts`` (how many accounts bought in the 12 months to ``as_of``)
        and ``best_month`` (the month with the highest net sales).
    """
    tx = transactions[transactions["date"] <= as_of]
    start, end = window(as_of, months=12)
    last12 = tx[(tx["date"] > start) & (tx["date"] <= end)]
    active = int(last12["account_id"].nunique())
    months = tx.groupby(tx["date"].dt.to_period("M"))["amount"]
    by_amount = months.sum()
    best = by_amount.idxmax()
    worst = by_amount.idxmin()
    most_lines = months.size().idxmax()
    positive_only = (
        tx[tx["amount"] > 0].groupby(tx["date"].dt.to_period("M"))["amount"].sum().idxmax()
    )
    calendar_year = int(tx.loc[tx["date"].dt.year == as_of.year, "account_id"].nunique())

    active_accounts = Exercise(
        key="active_accounts",
        question=(
            "How many **different accounts** bought something in the 12 months up to the "
            "reference date `as_of_date` (after the same day one year earlier, up to and "
            "including `as_of_date`)?"
        ),
        expected=active,
        hint_text=(
            "Keep the lines with `date > as_of_date - 12 months` and `date <= as_of_date` "
            "(`pd.DateOffset(months=12)`), then count the distinct values of `account_id` "
            "(`.nunique()`)."
        ),
        solution_code=(
            "start = as_of_date - pd.DateOffset(months=12)\n"
            "last12 = tx[(tx['date'] > start) & (tx['date'] <= as_of_date)]\n"
            "answer = last12['account_id'].nunique()"
        ),
        mistakes=(
            (
                lambda a: a == len(last12),
                "you counted invoice lines; count distinct accounts with .nunique().",
            ),
            (
                lambda a: a == tx["account_id"].nunique(),
                "you counted every account in the whole history; keep only the last 12 months.",
            ),
            (
                lambda a: a == calendar_year and calendar_year != active,
                "you took the calendar year; the window is the 12 months ending at as_of.",
            ),
            (
                lambda a: (
                    a == len(last12.drop_duplicates("invoice_id"))
                    if "invoice_id" in last12
                    else False
                ),
                "you counted invoices; count distinct accounts.",
            ),
        ),
    )
    best_month = Exercise(
        key="best_month",
        question=(
            "Which **month** had the highest net sales (sum of `amount`, credit notes included)? "
            "Answer as text like `'2025-03'`."
        ),
        expected=best,
        hint_text=(
            "Group the lines by month (`tx['date'].dt.to_period('M')`), sum `amount`, "
            "and take the label of the largest value (`.idxmax()`)."
        ),
        solution_code=(
            "by_month = tx[tx['date'] <= as_of_date].groupby(tx['date'].dt.to_period('M'))['amount'].sum()\n"
            "answer = str(by_month.idxmax())"
        ),
        mistakes=(
            (
                lambda a: a == worst,
                "that is the weakest month: you took the minimum (or sorted ascending).",
            ),
            (
                lambda a: a == most_lines and most_lines != best,
                "that month has the most lines, not the highest sales: sum amount instead of counting.",
            ),
            (
                lambda a: a == positive_only and positive_only != best,
                "you left out the credit notes; net sales include the negative lines.",
            ),
        ),
        normalise=_month,
    )
    return {"active_accounts": active_accounts, "best_month": best_month}


#: The five accounts of the "classify by hand" exercise (revenue in k EUR).
ABC_HAND_TABLE = pd.DataFrame(
    {
        "account_id": ["Nordlicht", "Ostwerk", "Südbau", "Westpack", "Mittelholz"],
        "revenue": [500, 250, 150, 60, 40],
    }
)


def _classes_answer(value) -> dict[str, str]:
    """A dict account -> class from a dict, or from a list/str in table order."""
    names = list(ABC_HAND_TABLE["account_id"])
    if isinstance(value, dict):
        return {str(k): str(v).strip().upper() for k, v in value.items()}
    if isinstance(value, str):
        value = [c for c in value if not c.isspace() and c not in ",;"]
    items = list(value)
    if len(items) != len(names):
        raise ValueError(f"give one class for each of the {len(names)} accounts")
    return {n: str(v).strip().upper() for n, v in zip(names, items, strict=True)}


def _a_share(classified: pd.DataFrame, a: float) -> float:
    """Share of the positive total that the A accounts make with A cut-off ``a``."""
    positive = classified[classified["value"] > 0]
    before = positive["cumulative_share"] - positive["share"]
    return float(positive.loc[before < a, "share"].sum())


def abc_xyz_exercises(classified: pd.DataFrame, moves: pd.DataFrame) -> dict[str, Exercise]:
    """Exercises of ``02_abc_xyz``.

    The solutions use the notebook's names: ``hand_table`` (:data:`ABC_HAND_TABLE`),
    ``classified`` (:func:`kamlib.abc_xyz`), ``moves`` (``Migration.moves``) and ``pd``.

    Parameters
    ----------
    classified : pandas.DataFrame
        The current classification.
    moves : pandas.DataFrame
        ``kamlib.migration(...).moves`` for the same settings.

    Returns
    -------
    dict of str to Exercise
        ``classify_by_hand``, ``cutoff_for_half`` and ``fell_from_a``.
    """
    names = list(ABC_HAND_TABLE["account_id"])
    right = dict(zip(names, ["A", "A", "A", "B", "C"], strict=True))
    at_most = dict(zip(names, ["A", "A", "B", "C", "C"], strict=True))  # "cumulative ≤ 80 %"
    ascending = dict(zip(names, ["C", "B", "A", "A", "A"], strict=True))

    def wrong_ones(answer: dict) -> str:
        wrong = [n for n in names if answer.get(n) != right[n]]
        return (
            f"look again at {', '.join(wrong)}. Sort by revenue, add up the shares, "
            "and ask for each account: how much do the accounts *before* it make?"
        )

    classify_by_hand = Exercise(
        key="classify_by_hand",
        question=(
            "Classify the five accounts of `hand_table` (revenue in k EUR, 1,000 in all) into "
            "A, B and C with the cut-offs 80 % and 95 %, by hand. Answer as a dict, e.g. "
            "`{'Nordlicht': 'A', ...}`, or as a string in table order, e.g. `'ABBCC'`."
        ),
        expected=right,
        hint_text=(
            "Shares: 50 %, 25 %, 15 %, 6 %, 4 %. The share of the accounts before each one: "
            "0 %, 50 %, 75 %, 90 %, 96 %. An account is A while the ones before it make less "
            "than 80 %, B while they make less than 95 %."
        ),
        solution_code=(
            "shares = hand_table['revenue'] / hand_table['revenue'].sum()\n"
            "before = shares.cumsum() - shares\n"
            "classes = pd.cut(before, [-1, 0.8, 0.95, 2], right=False, labels=['A', 'B', 'C'])\n"
            "answer = dict(zip(hand_table['account_id'], classes.astype(str)))"
        ),
        mistakes=(
            (
                lambda a: a == at_most,
                "you used 'cumulative share ≤ 80 %'. Here the account that crosses a cut-off "
                "stays in the upper class: Südbau starts at 75 %, below 80 %, so it is A; "
                "Westpack starts at 90 %, so it is B.",
            ),
            (
                lambda a: a == ascending,
                "you ranked from the smallest up; ABC starts with the largest.",
            ),
            (lambda a: set(a) != set(names), f"name each account once: {', '.join(names)}."),
            (lambda a: True, wrong_ones),
        ),
        normalise=_classes_answer,
    )

    def a_share_text(a: float) -> str:
        share = _a_share(classified, a)
        n = int(((classified["cumulative_share"] - classified["share"]) < a).sum())
        direction = "lower" if share > 0.55 else "raise"
        return (
            f"with an A cut-off of {a:.0%} the {n} A accounts make {share:.0%} of the total; "
            f"aim for 45–55 %: {direction} the cut-off."
        )

    cutoff_for_half = Exercise(
        key="cutoff_for_half",
        question=(
            "Key accounts usually make about half of sales. Choose an A cut-off (a fraction, "
            "e.g. 0.6) so that the A accounts make **between 45 % and 55 %** of the total."
        ),
        expected=next(
            (a / 100 for a in range(30, 91) if 0.45 <= _a_share(classified, a / 100) <= 0.55), 0.5
        ),
        hint_text=(
            "The A accounts make the share of all accounts whose predecessors make less than the "
            "cut-off. Try a few values with `kamlib.abc_classes(tx, as_of=as_of_date, "
            "cutoffs=(a, 0.95))` and add up `share` where `abc == 'A'`."
        ),
        solution_code=(
            "before = classified['cumulative_share'] - classified['share']\n"
            "a_share = {a: classified.loc[before < a, 'share'].sum() for a in (0.4, 0.45, 0.5, 0.55)}\n"
            "answer = min(a_share, key=lambda a: abs(a_share[a] - 0.5))"
        ),
        mistakes=(
            (lambda a: float(a) > 1, "give the cut-off as a fraction: 0.5 for 50 %."),
            (lambda a: float(a) <= 0, "the cut-off must be above 0."),
            (lambda a: True, a_share_text),
        ),
        accept=lambda a: 0 < float(a) <= 1 and 0.45 <= _a_share(classified, float(a)) <= 0.55,
    )

    was_a = moves["abc_before"] == "A"
    fell = int((was_a & (moves["abc_now"] != "A")).sum())
    still_buying = int((was_a & moves["abc_now"].isin(["B", "C"])).sum())
    all_fallers = int(moves["abc_fell"].sum())
    stayed = int((was_a & (moves["abc_now"] == "A")).sum())
    risers = int(((moves["abc_now"] == "A") & (moves["abc_before"] != "A")).sum())
    fell_from_a = Exercise(
        key="fell_from_a",
        question=(
            "Read the ABC migration table: how many accounts were **A in the previous window and "
            "are not A now** (they are B or C now, or stopped buying)?"
        ),
        expected=fell,
        hint_text=(
            "Take the row 'A' (the previous window) and add every column except 'A': B, C and "
            "'—' (did not buy in the current window)."
        ),
        solution_code=(
            "was_a = moves['abc_before'] == 'A'\nanswer = int((was_a & (moves['abc_now'] != 'A')).sum())"
        ),
        mistakes=(
            (
                lambda a: a == still_buying and still_buying != fell,
                "you left out the A accounts that stopped buying: the '—' column counts too.",
            ),
            (
                lambda a: a == all_fallers and all_fallers != fell,
                "that counts every faller, B→C included; the question is only about A accounts.",
            ),
            (
                lambda a: a == stayed and stayed != fell,
                "that is the diagonal: the accounts that stayed A.",
            ),
            (
                lambda a: a == risers and risers != fell,
                "that is the column 'A' without its diagonal: the accounts that *became* A. "
                "Read the row 'A' instead: where did the A accounts of before go?",
            ),
        ),
    )
    return {
        "classify_by_hand": classify_by_hand,
        "cutoff_for_half": cutoff_for_half,
        "fell_from_a": fell_from_a,
    }


# --- 01_account_identification ----------------------------------------------------------

#: Four key accounts described by hand, for the "which type is it?" exercise. Profit is
#: in k EUR (the four make 1,000 together); the median annual sales of all accounts are 20 M.
TYPE_HAND_TABLE = pd.DataFrame(
    {
        "account_id": ["Bergmann", "Lumenwerk", "Kastor", "Neoplast"],
        "margin": [150.0, 40.0, 90.0, 720.0],
        "revenue": [600.0, 200.0, 400.0, 2_900.0],
        "tenure_years": [6.0, 4.0, 9.0, 1.2],
        "is_prestige": [True, True, False, False],
        "complaints": [0, 1, 4, 0],
        "service_events": [0, 0, 2, 0],
        "is_test_partner": [False, False, False, False],
        "is_new_buyer": [False, False, False, True],
        "growth": [0.02, -0.05, 0.01, float("nan")],
        "annual_sales": [80e6, 15e6, 30e6, 45e6],
    }
)
_TYPE_MEDIAN_SALES = 20e6


def _hand_types() -> dict[str, str]:
    from kamlib.account_types import assign_types

    # the other accounts of the company set the median of annual sales to 20 M
    others = pd.DataFrame(
        {
            "account_id": [f"other{i}" for i in range(5)],
            "revenue": 0.0,
            "margin": 0.0,
            "tenure_years": 5.0,
            "is_new_buyer": False,
            "growth": 0.0,
            "annual_sales": [_TYPE_MEDIAN_SALES] * 5,
        }
    )
    table = pd.concat([TYPE_HAND_TABLE, others], ignore_index=True)
    typed = assign_types(table, accounts=list(TYPE_HAND_TABLE["account_id"]))
    return dict(zip(typed["account_id"], typed["type"], strict=True))


def _types_answer(value) -> dict[str, str]:
    names = list(TYPE_HAND_TABLE["account_id"])
    if isinstance(value, dict):
        return {str(k): str(v).strip().lower() for k, v in value.items()}
    items = list(value) if not isinstance(value, str) else [value]
    if len(items) != len(names):
        raise ValueError(f"give one type for each of the {len(names)} accounts")
    return {n: str(v).strip().lower() for n, v in zip(names, items, strict=True)}


def _weights_answer(value) -> dict[str, float]:
    from kamlib.identification import _weights

    return _weights(value)


def identification_exercises(dependence: pd.DataFrame) -> dict[str, Exercise]:
    """Exercises of ``01_account_identification``.

    The solutions use the notebook's names: ``kamlib``, ``features`` (the features
    table), ``dependence`` (:func:`kamlib.criterion_dependence`) and ``type_table``
    (:data:`TYPE_HAND_TABLE`).

    Parameters
    ----------
    dependence : pandas.DataFrame
        :func:`kamlib.criterion_dependence` for the notebook's weights and rule.

    Returns
    -------
    dict of str to Exercise
        ``payment_weights``, ``which_type`` and ``only_because_of``.
    """

    def payment_share(w: dict) -> float:
        return w["payment"] / sum(w.values())

    def stronger(w: dict) -> str | None:
        """The criterion with more weight than payment (the largest), or None."""
        top = max(sorted(w), key=lambda c: w[c])
        return top if w[top] > w["payment"] else None

    def payment_text(w: dict) -> str:
        top = stronger(w)
        return (
            f"payment has {payment_share(w):.0%} of the weight, {top} has more "
            f"({w[top] / sum(w.values()):.0%}). Criteria you leave out keep their default weight: "
            "raise payment, or lower the others."
        )

    payment_weights = Exercise(
        key="payment_weights",
        question=(
            "A company short of cash values **payment discipline** above everything else. Give "
            "weights (a dict such as `{'payment': 10, 'revenue': 25}`) under which `payment` has "
            "the largest weight (no criterion more) and at least 25 % of the total. Criteria you leave out keep their "
            "default weight (`kamlib.DEFAULT_WEIGHTS`)."
        ),
        expected={"payment": 40.0},
        hint_text=(
            "The defaults add up to 100 and revenue has 25. If you only give payment, its share is "
            "payment ÷ (payment + 90). Or lower revenue and margin as well."
        ),
        solution_code="answer = {'payment': 40, 'revenue': 15, 'margin': 15}",
        mistakes=(
            (lambda w: w["payment"] == 0, "you switched payment off (weight 0)."),
            (
                lambda w: stronger(w) is None,
                lambda w: (
                    f"payment is the largest weight, but only {payment_share(w):.0%} of the total; "
                    "it needs at least 25 %."
                ),
            ),
            (lambda w: True, payment_text),
        ),
        normalise=_weights_answer,
        accept=lambda w: stronger(w) is None and payment_share(w) >= 0.25 - 1e-9,
    )

    right = _hand_types()
    names = list(TYPE_HAND_TABLE["account_id"])

    def wrong_types(answer: dict) -> str:
        wrong = [n for n in names if answer.get(n) != right[n]]
        return (
            f"look again at {', '.join(wrong)}. Check the rules in order — mainstay, "
            "image maker, expert, prospect — and take the first that holds."
        )

    which_type = Exercise(
        key="which_type",
        question=(
            "`type_table` describes four key accounts (profit in k EUR: they make 1,000 together; "
            "the median annual sales of all accounts are 20 M EUR). Using the rules of "
            "`kamlib.KEY_ACCOUNT_TYPES` with their defaults, give each account's type as a dict, "
            "e.g. `{'Bergmann': 'expert', ...}`."
        ),
        expected=right,
        hint_text=(
            "Profit shares: 15 %, 4 %, 9 %, 72 %. Mainstay needs 10 % and 3 years; image maker a "
            "prestige flag; expert 3 or more complaints and service events; prospect new, growing "
            "and at least the median annual sales. The first rule that holds gives the type."
        ),
        solution_code=(
            "answer = {'Bergmann': 'mainstay', 'Lumenwerk': 'image maker', "
            "'Kastor': 'expert', 'Neoplast': 'prospect'}"
        ),
        mistakes=(
            (
                lambda a: a.get("Bergmann") == "image maker",
                "Bergmann is a prestige name, but the rules are checked in order and mainstay "
                "comes first: 15 % of the profit and 6 years with us.",
            ),
            (
                lambda a: a.get("Neoplast") == "mainstay",
                "Neoplast brings 72 % of the profit, but it has bought from us for 1.2 years only: "
                "a mainstay needs a long relationship (3 years).",
            ),
            (lambda a: set(a) != set(names), f"name each account once: {', '.join(names)}."),
            (lambda a: True, wrong_types),
        ),
        normalise=_types_answer,
    )

    only = dependence.loc[dependence["n_needed"] == 1]
    single = dict(zip(only["account_id"], only["only_because_of"], strict=True))
    needs = dict(zip(dependence["account_id"], dependence["needs"], strict=True))

    def dependence_text(answer) -> str:
        if answer not in needs:
            return (
                f"{answer!r} is not on the key-account list; pick one of `dependence`'s accounts."
            )
        if not needs[answer]:
            return f"{answer} stays on the list whichever single criterion you switch off."
        return (
            f"{answer} drops out without any of {needs[answer]}: more than one criterion holds it "
            "on the list."
        )

    only_because_of = Exercise(
        key="only_because_of",
        question=(
            "Name a key account that is on the list **only because of one criterion**: it drops out "
            "when that one criterion is switched off (weight 0), and stays when any other one is. "
            "Give its account id (or `None` if there is no such account)."
        ),
        expected=next(iter(single), None),
        hint_text=(
            "`dependence` has, per key account, the criteria whose removal drops it (`needs`) and "
            "how many there are (`n_needed`). You want `n_needed == 1`."
        ),
        solution_code=(
            "one = dependence[dependence['n_needed'] == 1]\n"
            "answer = one['account_id'].iloc[0] if len(one) else None"
        ),
        mistakes=((lambda a: True, dependence_text),),
        normalise=lambda a: a if a is None else str(a).strip(),
        accept=lambda a: a in single if single else a is None,
    )
    return {
        "payment_weights": payment_weights,
        "which_type": which_type,
        "only_because_of": only_because_of,
    }


# --- 03_dossier -------------------------------------------------------------------------

#: A decision-making unit described by hand, for the "which role is missing?" exercise.
DMU_HAND_TABLE = pd.DataFrame(
    {
        "name": ["Eva Roth", "Karl Stein", "Mia Lange", "Otto Brandt", "Ida Vogel"],
        "job_title": [
            "Managing Director",
            "Purchasing Manager",
            "Line Supervisor",
            "Head of Quality",
            "Production Planner",
        ],
        "role": ["decision_maker", "buyer", "user", "blocker", "influencer"],
        "influence": [5, 3, 2, 4, 3],
        "attitude": [0, 1, 2, -2, 1],
    }
)


def dossier_exercises(dossier) -> dict[str, Exercise]:
    """Exercises of ``03_dossier``, for the dossier the notebook shows.

    The solutions use the notebook's names: ``dossier`` (:func:`kamlib.build_dossier`),
    ``dmu_table`` (:data:`DMU_HAND_TABLE`) and ``kamlib``.

    Returns
    -------
    dict of str to Exercise
        ``missing_role``, ``half_year_total`` and ``first_signal``.
    """
    from kamlib.dossier import DOSSIER_SIGNALS
    from kamlib.schema import CONTACT_ROLES

    missing_role = Exercise(
        key="missing_role",
        question=(
            "`dmu_table` is the decision-making unit of a customer before a price negotiation. "
            "Which **role** is missing — the one you would most want to find before the meeting? "
            f"Answer with one of {', '.join(CONTACT_ROLES)}."
        ),
        expected="champion",
        hint_text=(
            "Go through the roles: who decides, who buys, who uses the product, who influences, "
            "who opposes. Who would speak for us when we are not in the room?"
        ),
        solution_code=(
            "answer = sorted(set(kamlib.schema.CONTACT_ROLES) - set(dmu_table['role']))[0]"
        ),
        mistakes=(
            (
                lambda a: a == "blocker",
                "there is a blocker: Otto Brandt (influence 4, attitude -2). That is why the "
                "missing role matters so much.",
            ),
            (
                lambda a: a in set(DMU_HAND_TABLE["role"]),
                lambda a: f"{a} is in the table already; look for the role nobody has.",
            ),
            (
                lambda a: a not in CONTACT_ROLES,
                f"the roles of the data model are {', '.join(CONTACT_ROLES)}.",
            ),
        ),
        normalise=lambda a: str(a).strip().lower().replace(" ", "_"),
    )

    table = dossier.half_years
    last_complete = table.iloc[-2]
    unit = dossier.quantity_unit
    expected_total = float(last_complete["total_quantity"])
    current = float(table.iloc[-1]["total_quantity"])
    amount = float(last_complete["total_amount"])
    groups = [
        c
        for c in table.columns
        if c not in ("half_year", "total_quantity", "total_amount", "complete")
    ]
    group_values = {float(last_complete[g]) for g in groups}
    half_year_total = Exercise(
        key="half_year_total",
        question=(
            f"Read the half-year consumption table: how many {unit} did the customer take in "
            f"the **last complete half-year** ({last_complete['half_year']}), all product groups together?"
        ),
        expected=expected_total,
        hint_text=(
            "The last row is the current half-year, still running (`complete` is False); the row "
            f"above it is the last complete one. Its `total_quantity` is in {unit}."
        ),
        solution_code=(
            "complete = dossier.half_years[dossier.half_years['complete']]\n"
            "answer = complete['total_quantity'].iloc[-1]"
        ),
        mistakes=(
            (
                lambda a: abs(a - current) <= 0.5 and current != expected_total,
                "that is the current half-year, which is not over yet.",
            ),
            (
                lambda a: abs(a - amount) <= 0.5 and amount != expected_total,
                f"that is the amount in {dossier.currency}; the question asks for {unit}.",
            ),
            (
                lambda a: any(abs(a - g) <= 0.5 for g in group_values) and a != expected_total,
                "that is one product group; add all groups (or read `total_quantity`).",
            ),
        ),
        rtol=1e-6,
    )

    signals = dossier.signals
    fired = signals[signals["fired"]]
    first = fired["signal"].iloc[0] if len(fired) else None
    order = list(DOSSIER_SIGNALS["signal"])

    def signal_text(a) -> str:
        if a not in order:
            return f"the signals are: {', '.join(order)}."
        if a not in set(fired["signal"]):
            return f"{a} did not fire for this account; look at the rows where `fired` is True."
        return f"{a} fired, but {first} comes before it in `kamlib.DOSSIER_SIGNALS`."

    first_signal = Exercise(
        key="first_signal",
        question=(
            "Look at the dossier's signals. Which signal needs action **first**? Signals that "
            "fired are ranked by the order of `kamlib.DOSSIER_SIGNALS` (money first, then sales, "
            "tenders, people, contact, satisfaction). Answer with its name, or `None` if none fired."
        ),
        expected=first,
        hint_text="Keep the rows where `fired` is True; the first of them is the answer.",
        solution_code=(
            "fired = dossier.signals[dossier.signals['fired']]\n"
            "answer = fired['signal'].iloc[0] if len(fired) else None"
        ),
        mistakes=((lambda a: a is not None, signal_text),),
        normalise=lambda a: None if a is None else str(a).strip().lower(),
        accept=lambda a: a == first,
    )
    return {
        "missing_role": missing_role,
        "half_year_total": half_year_total,
        "first_signal": first_signal,
    }


#: Three lost accounts described by hand, for ranking them for win-back (notebook 04), with
#: the reference date of the exercise. Reasons as in :data:`kamlib.WIN_BACK_APPROACHES`.
WIN_BACK_HAND_AS_OF = pd.Timestamp("2026-09-30")
WIN_BACK_HAND_TABLE = pd.DataFrame(
    {
        "account_id": ["Nordbau", "Rheinpack", "Alpenholz"],
        "last_purchase": pd.to_datetime(["2024-09-30", "2026-01-30", "2025-10-02"]),
        "lost_on": pd.to_datetime(["2025-03-30", "2026-07-30", "2026-03-31"]),
        "revenue_lost": [240_000.0, 90_000.0, 40_000.0],
        "reason": ["customer_closed", "price", "relationship"],
        "reason_source": ["interactions: loss recorded"] * 3,
        "still_lost": [True, True, True],
    }
)


def _fraction(value) -> float:
    """A share from 0.05, '5%' or '0.05'."""
    if isinstance(value, str):
        text = value.strip()
        if text.endswith("%"):
            return float(text[:-1].replace(",", ".")) / 100
        return float(text.replace(",", "."))
    return float(value)


def _names(value) -> list[str]:
    if isinstance(value, str):
        value = [v for v in value.replace(";", ",").split(",")]
    return [str(v).strip() for v in value]


def loss_exercises(back_test, dynamics: pd.DataFrame) -> dict[str, Exercise]:
    """Exercises of ``04_loss_analysis``, for the data the notebook runs on.

    The solutions use the notebook's names: ``back`` (:func:`kamlib.back_test`),
    ``dynamics`` (:func:`kamlib.loss_dynamics`), ``win_back_hand``
    (:data:`WIN_BACK_HAND_TABLE`) and ``kamlib``.

    Parameters
    ----------
    back_test : kamlib.BackTest
        The notebook's back-test of the inactivity rule.
    dynamics : pandas.DataFrame
        The notebook's loss dynamics (group ``all``).

    Returns
    -------
    dict of str to Exercise
        ``pick_days``, ``churn_rate`` and ``rank_win_back``.
    """
    from kamlib.loss import win_back_list

    summary = back_test.summary
    judged = summary[summary["declared"] > 0]
    shares = judged["false_alarm_share"]
    # a limit some settings meet and others do not: the middle setting's share, rounded up to 5 %
    middle = float(shares.iloc[len(shares) // 2]) if len(shares) else 0.0
    limit = min(1.0, float(np.ceil(middle * 20) / 20)) if len(shares) else 0.1
    meets = judged[shares <= limit + 1e-12]
    best = float(meets["setting"].iloc[0]) if len(meets) else None
    setting_share = dict(zip(judged["setting"].astype(float), shares, strict=True))
    settings = set(summary["setting"].astype(float))

    def share_text(a) -> str:
        return (
            f"with {a:g} the false-alarm share is {setting_share[a]:.0%}, above the "
            f"{limit:.0%} your team agreed to."
        )

    pick_days = Exercise(
        key="pick_days",
        question=(
            "Your sales team agrees to work through a list of lost accounts on which up to "
            f"**{limit:.0%}** turn out to buy again within a year (false alarms), as long as it "
            "hears of every loss as early as possible. Using the back-test table, which number of "
            "days `D` do you choose? Answer with a number from the `setting` column, or `None` if "
            "no setting qualifies."
        ),
        expected=best,
        hint_text=(
            f"Keep the settings whose `false_alarm_share` is at most {limit:.2f}; of those, the "
            "shortest one hears of a loss earliest."
        ),
        solution_code=(
            f"ok = back.summary[back.summary['false_alarm_share'] <= {limit!r}]\n"
            "answer = ok['setting'].min() if len(ok) else None"
        ),
        mistakes=(
            (
                lambda a: a is not None and a not in settings,
                "choose one of the settings of the table.",
            ),
            (lambda a: a in setting_share and setting_share[a] > limit + 1e-12, share_text),
            (
                lambda a: best is not None and a is not None and a > best,
                "that setting meets the limit, but a shorter one does too: every month of waiting "
                "is a month the competitor works on the account.",
            ),
        ),
        normalise=lambda a: None if a is None else float(a),
        accept=lambda a: a == best,
    )

    rows = dynamics[(~dynamics["partial"]) & (dynamics["active_at_start"] > 0)]
    if "group" in rows:
        rows = rows[rows["group"] == rows["group"].iloc[0]] if len(rows) else rows
    row = rows.iloc[-1] if len(rows) else None
    churned = "churned" if "churned" in rows else "lost"
    expected_rate = float(row[churned] / row["active_at_start"]) if row is not None else None
    period = row["period"] if row is not None else "—"
    wrong_base = (
        float(row[churned] / (row["active_at_start"] - row[churned]))
        if row is not None and row["active_at_start"] > row[churned]
        else None
    )
    net = (
        float((row[churned] - row["returned"]) / row["active_at_start"])
        if row is not None
        else None
    )
    all_lost = (
        float(row["lost"] / row["active_at_start"])
        if row is not None and row["lost"] != row[churned]
        else None
    )
    churn_rate = Exercise(
        key="churn_rate",
        question=(
            f"Compute the **churn rate of {period}** by hand from the dynamics table: the accounts "
            "active at the start of the period that were lost in it (`churned`) divided by the "
            "accounts active at its start. Give a fraction (0.05 for 5 %)."
        ),
        expected=expected_rate,
        hint_text=f"Find the row of {period}; divide its `{churned}` by its `active_at_start`.",
        solution_code=(
            f"row = dynamics[dynamics['period'] == {period!r}].iloc[0]\n"
            f"answer = row[{churned!r}] / row['active_at_start']"
        ),
        mistakes=(
            (
                lambda a: (
                    expected_rate is not None and round(a, 1) == round(100 * expected_rate, 1)
                ),
                "that is the rate in percent; give it as a fraction (5 % is 0.05).",
            ),
            (
                lambda a: wrong_base is not None and abs(a - wrong_base) < 1e-9,
                "divide by the accounts active at the **start** of the period, lost ones included.",
            ),
            (
                lambda a: net is not None and net != expected_rate and abs(a - net) < 1e-9,
                "returned accounts are counted on their own; churn counts every loss.",
            ),
            (
                lambda a: all_lost is not None and abs(a - all_lost) < 1e-9,
                "`lost` also counts accounts that started buying (or came back) and were lost "
                "within the period; the rate takes only those active at its start: `churned`.",
            ),
        ),
        normalise=_fraction,
        # within 1 %, or the same figure as the table shows it (to 0.1 %)
        accept=lambda a: (
            expected_rate is not None
            and (
                abs(a - expected_rate) <= 0.01 * expected_rate
                or round(a * 100, 1) == round(expected_rate * 100, 1)
            )
        ),
    )

    ranked = win_back_list(WIN_BACK_HAND_TABLE, as_of=WIN_BACK_HAND_AS_OF)
    order = ranked["account_id"].tolist()
    by_value = WIN_BACK_HAND_TABLE.sort_values("revenue_lost", ascending=False)[
        "account_id"
    ].tolist()
    by_recency = WIN_BACK_HAND_TABLE.sort_values("lost_on", ascending=False)["account_id"].tolist()
    closed = WIN_BACK_HAND_TABLE.loc[
        WIN_BACK_HAND_TABLE["reason"] == "customer_closed", "account_id"
    ].iloc[0]
    rank_win_back = Exercise(
        key="rank_win_back",
        question=(
            "`win_back_hand` lists three lost accounts (on "
            f"{WIN_BACK_HAND_AS_OF:%d %b %Y}). Rank them for win-back, most promising first, "
            "with the kit's rule: priority = 100 × winnable × (0.6 × value + 0.4 × recency), "
            "value = share of the *other* accounts with a smaller revenue lost, recency = "
            "0.5 ** (months since the loss ÷ 12), winnable from `kamlib.WIN_BACK_APPROACHES`. "
            "Answer with the three names in order, e.g. `['A', 'B', 'C']`."
        ),
        expected=order,
        hint_text=(
            "Start with `winnable`: one reason scores 0, so that account goes last whatever it "
            "was worth. Then compare the other two: value first (0.6), recency second."
        ),
        solution_code=(
            "answer = kamlib.win_back_list(win_back_hand, as_of=kamlib.WIN_BACK_HAND_AS_OF)"
            "['account_id'].tolist()"
        ),
        mistakes=(
            (
                lambda a: sorted(a) != sorted(order),
                f"use the three names of the table: {', '.join(sorted(order))}.",
            ),
            (
                lambda a: a == by_value,
                f"that is the order of former revenue; but {closed}'s customer closed: there is "
                "nothing to win back.",
            ),
            (
                lambda a: a[0] == closed,
                f"{closed}'s customer closed (winnable 0): it goes last.",
            ),
            (
                lambda a: a == by_recency and by_recency != order,
                "that is the order of recency alone; the former value weighs more (0.6).",
            ),
        ),
        normalise=_names,
    )
    return {"pick_days": pick_days, "churn_rate": churn_rate, "rank_win_back": rank_win_back}
