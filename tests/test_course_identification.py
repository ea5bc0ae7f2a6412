"""The exercises of 01_account_identification: every solution passes, typical mistakes get
their feedback, on the bundled sample and on tiny hand-made cases."""

from __future__ import annotations

import pandas as pd
import pytest

import kamlib
from kamlib.course import TYPE_HAND_TABLE, identification_exercises
from kamlib.exercises import Feedback

KEYS = ["payment_weights", "which_type", "only_because_of"]


def only(**weights) -> dict[str, float]:
    """Weights with every criterion switched off except the ones given."""
    return {c: 0 for c in kamlib.DEFAULT_WEIGHTS} | weights


# ---------------------------------------------------------------------------- the cases


def sample_case():
    ds = kamlib.load_sample()
    tx = ds.transactions
    as_of = kamlib.resolve_as_of(tx)
    features = kamlib.account_features(
        tx,
        as_of=as_of,
        accounts=ds.get("accounts"),
        products=ds.get("products"),
        invoices=ds.get("invoices"),
        interactions=ds.get("interactions"),
    ).table
    return features, kamlib.criterion_dependence(features), {}


def prestige_case():
    """Key accounts a and c (top 2); c is on the list only because of its prestige flag.

    rank scores: revenue a 1, b 2/3, c 1/3, d 0; margin a 1, b 2/3, d 1/3, c 0; prestige c.
    weights revenue 2, margin 2, prestige 3: a 4, c 3.67, b 2.67, d 0.67 → a, c.
    prestige off: a 4, b 2.67, c 0.67 → a, b (c drops); revenue off: a 2, c 3 → stays;
    margin off: a 2, c 3.67 → stays. a never drops.
    """
    features = pd.DataFrame(
        {
            "account_id": ["a", "b", "c", "d"],
            "revenue": [100.0, 60.0, 30.0, 10.0],
            "revenue_share": [0.5, 0.3, 0.15, 0.05],
            "margin": [30.0, 20.0, 5.0, 8.0],
            "is_prestige": [False, False, True, False],
        }
    )
    options = {"weights": only(revenue=2, margin=2, prestige=3), "rule": "top_n", "n": 2}
    return features, kamlib.criterion_dependence(features, **options), options


def two_criteria_case():
    """Key accounts a and e (top 2); e needs both revenue and margin, nobody needs one only.

    rank scores: revenue a 1, e 2/3, d 1/3, b 0; margin the same; prestige b.
    weights 2, 2, 2: a 4, e 2.67, b 2, d 1.33 → a, e. revenue off: a 2, b 2, e 1.33 → a, b;
    margin off: the same; prestige off: a 4, e 2.67 → a, e.
    """
    features = pd.DataFrame(
        {
            "account_id": ["a", "b", "d", "e"],
            "revenue": [100.0, 10.0, 20.0, 80.0],
            "revenue_share": [100 / 210, 10 / 210, 20 / 210, 80 / 210],
            "margin": [30.0, 2.0, 5.0, 25.0],
            "is_prestige": [False, True, False, False],
        }
    )
    options = {"weights": only(revenue=2, margin=2, prestige=2), "rule": "top_n", "n": 2}
    return features, kamlib.criterion_dependence(features, **options), options


CASES = {"sample": sample_case, "prestige": prestige_case, "two_criteria": two_criteria_case}


@pytest.fixture(scope="module", params=list(CASES))
def case(request):
    features, dependence, options = CASES[request.param]()
    return request.param, features, dependence, options, identification_exercises(dependence)


@pytest.fixture(scope="module")
def sample():
    features, dependence, options = sample_case()
    return features, dependence, options, identification_exercises(dependence)


@pytest.fixture(scope="module")
def exercises():
    """The exercises of the prestige case (the first two do not depend on `dependence`)."""
    return identification_exercises(prestige_case()[1])


def run_solution(exercise, features, dependence):
    ns = {
        "kamlib": kamlib,
        "pd": pd,
        "features": features,
        "dependence": dependence,
        "type_table": kamlib.TYPE_HAND_TABLE,
    }
    exec(exercise.solution_code, ns)
    return ns["answer"]


def assert_feedback(feedback, key: str, status: str, *parts: str) -> None:
    assert isinstance(feedback, Feedback)
    assert feedback.exercise == key
    assert feedback.status == status, feedback.message
    assert bool(feedback) is (status == "correct")
    for part in parts:
        assert part in feedback.message, feedback.message


# ---------------------------------------------------------------------------- every exercise


def test_the_three_exercises(case):
    assert list(case[-1]) == KEYS
    for key in KEYS:
        assert case[-1][key].key == key


@pytest.mark.parametrize("key", KEYS)
def test_every_solution_passes_its_check(case, key):
    _name, features, dependence, _options, ex = case
    answer = run_solution(ex[key], features, dependence)
    assert_feedback(ex[key].check(answer), key, "correct", "is right")


@pytest.mark.parametrize("key", KEYS)
def test_placeholder_reads_as_not_attempted(case, key):
    exercise = case[-1][key]
    assert_feedback(exercise.check(kamlib.___), key, "not attempted", "replace ___")


# ---------------------------------------------------------------------------- payment_weights


def test_payment_solution_by_hand(exercises):
    # defaults add up to 100; revenue 25 → 15, margin 20 → 15, payment 10 → 40:
    # total 100 - 10 - 5 + 30 = 115, payment 40/115 = 35 % and the largest
    answer = run_solution(exercises["payment_weights"], None, None)
    merged = {**kamlib.DEFAULT_WEIGHTS, **answer}
    assert sum(merged.values()) == 115
    assert max(merged, key=merged.get) == "payment"
    assert exercises["payment_weights"].check(answer)


@pytest.mark.parametrize(
    "answer",
    [
        {"payment": 31},  # 31 of 100 - 10 + 31 = 121: 25.6 %, above revenue's 25
        {"payment": 30, "revenue": 0},  # 30 of 100 - 25 - 10 + 30 = 95: 31.6 %, margin 20 next
        {"payment": 30},  # 30 of 120: exactly 25 %, above revenue's 25
    ],
)
def test_payment_right_answers(exercises, answer):
    assert_feedback(exercises["payment_weights"].check(answer), "payment_weights", "correct")


def test_payment_switched_off(exercises):
    assert_feedback(
        exercises["payment_weights"].check({"payment": 0}),
        "payment_weights",
        "incorrect",
        "you switched payment off (weight 0).",
    )


def test_payment_largest_but_under_a_quarter(exercises):
    # payment 26 beats revenue 25 but makes 26 / 116 = 22 % of the total
    feedback = exercises["payment_weights"].check({"payment": 26})
    assert_feedback(
        feedback,
        "payment_weights",
        "incorrect",
        "payment is the largest weight, but only 22% of the total; it needs at least 25 %.",
    )


def test_payment_not_the_largest(exercises):
    # payment 20 of 110 = 18 %; revenue 25 of 110 = 23 %
    feedback = exercises["payment_weights"].check({"payment": 20})
    assert_feedback(
        feedback,
        "payment_weights",
        "incorrect",
        "payment has 18% of the weight, revenue has more (23%).",
        "Criteria you leave out keep their default weight",
    )
    # margin the largest: payment 10 of 100 + 50 - 20 = 130 → 8 %, margin 50 → 38 %
    feedback = exercises["payment_weights"].check({"margin": 50})
    assert_feedback(
        feedback,
        "payment_weights",
        "incorrect",
        "payment has 8% of the weight, margin has more (38%)",
    )


def test_payment_unreadable_answers(exercises):
    feedback = exercises["payment_weights"].check({"payement": 40})
    assert_feedback(feedback, "payment_weights", "incorrect", "could not read your answer")
    assert "unknown criteria in weights: 'payement'" in feedback.message
    feedback = exercises["payment_weights"].check({"payment": -40})
    assert_feedback(feedback, "payment_weights", "incorrect", "numbers of 0 or more")
    feedback = exercises["payment_weights"].check(40)
    assert_feedback(feedback, "payment_weights", "incorrect", "weights must be a dict")
    assert_feedback(
        exercises["payment_weights"].check({"payment": kamlib.___}),
        "payment_weights",
        "not attempted",
    )


def test_payment_ties_are_judged_alike(exercises):
    exercise = exercises["payment_weights"]
    # payment 35 = revenue 35: total 100 - 25 - 10 + 70 = 135 → 25.9 % each
    with_revenue = exercise.check({"payment": 35, "revenue": 35})
    # payment 35 = distributor 35, revenue and margin off: total 100 - 25 - 20 - 10 - 5 + 70
    # = 110 → 31.8 % each
    with_distributor = exercise.check({"payment": 35, "distributor": 35, "revenue": 0, "margin": 0})
    assert with_revenue.status == with_distributor.status
    assert "has more" not in with_distributor.message  # 32 % is not more than 32 %


# ---------------------------------------------------------------------------- which_type

RIGHT_TYPES = {
    # profit shares 150, 40, 90, 720 of 1,000: 15 %, 4 %, 9 %, 72 %
    "Bergmann": "mainstay",  # 15 % ≥ 10 % and 6 years (prestige too, but mainstay comes first)
    "Lumenwerk": "image maker",  # 4 %: prestige name
    "Kastor": "expert",  # 9 % < 10 %; 4 complaints + 2 service events = 6 ≥ 3
    "Neoplast": "prospect",  # 72 % but 1.2 years; new buyer, 45 M ≥ the 20 M median
}


def test_type_table_by_hand(exercises):
    assert exercises["which_type"].expected == RIGHT_TYPES
    assert TYPE_HAND_TABLE["margin"].sum() == 1000


def test_type_right_answers_in_any_spelling(exercises):
    exercise = exercises["which_type"]
    shouting = {k: f"  {v.upper()} " for k, v in RIGHT_TYPES.items()}
    assert_feedback(exercise.check(shouting), "which_type", "correct")
    in_order = ["mainstay", "image maker", "expert", "prospect"]  # the table's order
    assert_feedback(exercise.check(in_order), "which_type", "correct")


def test_type_bergmann_called_image_maker(exercises):
    answer = RIGHT_TYPES | {"Bergmann": "image maker"}
    assert_feedback(
        exercises["which_type"].check(answer),
        "which_type",
        "incorrect",
        "Bergmann is a prestige name, but the rules are checked in order and mainstay comes "
        "first: 15 % of the profit and 6 years with us.",
    )


def test_type_neoplast_called_mainstay(exercises):
    answer = RIGHT_TYPES | {"Neoplast": "mainstay"}
    assert_feedback(
        exercises["which_type"].check(answer),
        "which_type",
        "incorrect",
        "Neoplast brings 72 % of the profit, but it has bought from us for 1.2 years only",
    )


def test_type_other_mistakes(exercises):
    exercise = exercises["which_type"]
    # Kastor has 9 % of the profit: not a mainstay
    feedback = exercise.check(RIGHT_TYPES | {"Kastor": "mainstay"})
    assert_feedback(feedback, "which_type", "incorrect", "look again at Kastor.")
    assert "Bergmann" not in feedback.message and "Neoplast" not in feedback.message
    feedback = exercise.check(RIGHT_TYPES | {"Lumenwerk": "expert", "Neoplast": "unassigned"})
    assert_feedback(feedback, "which_type", "incorrect", "look again at Lumenwerk, Neoplast.")
    feedback = exercise.check({"Bergmann": "mainstay", "Kastor": "expert"})
    assert_feedback(
        feedback,
        "which_type",
        "incorrect",
        "name each account once: Bergmann, Lumenwerk, Kastor, Neoplast.",
    )
    feedback = exercise.check(["mainstay", "expert"])  # two types for four accounts
    assert_feedback(feedback, "which_type", "incorrect", "give one type for each of the 4 accounts")
    assert_feedback(
        exercise.check(RIGHT_TYPES | {"Kastor": kamlib.___}), "which_type", "not attempted"
    )


# ---------------------------------------------------------------------------- only_because_of


def test_only_because_of_prestige_case_by_hand():
    _features, dependence, _options = prestige_case()
    exercise = identification_exercises(dependence)["only_because_of"]
    assert exercise.expected == "c"
    assert_feedback(exercise.check(" c "), "only_because_of", "correct")
    assert_feedback(
        exercise.check("a"),
        "only_because_of",
        "incorrect",
        "a stays on the list whichever single criterion you switch off.",
    )
    assert_feedback(
        exercise.check("b"),
        "only_because_of",
        "incorrect",
        "'b' is not on the key-account list; pick one of `dependence`'s accounts.",
    )
    assert_feedback(exercise.check(None), "only_because_of", "incorrect", "not on the key-account")


def test_only_because_of_nobody_by_hand():
    _features, dependence, _options = two_criteria_case()
    exercise = identification_exercises(dependence)["only_because_of"]
    assert exercise.expected is None
    assert_feedback(exercise.check(None), "only_because_of", "correct")
    assert_feedback(
        exercise.check("e"),
        "only_because_of",
        "incorrect",
        "e drops out without any of revenue, margin: more than one criterion holds it on the list.",
    )
    assert_feedback(exercise.check("a"), "only_because_of", "incorrect", "a stays on the list")


def test_only_because_of_on_the_sample(sample):
    features, dependence, _options, ex = sample
    exercise = ex["only_because_of"]
    answer = run_solution(exercise, features, dependence)
    single = dependence.loc[dependence["n_needed"] == 1]
    assert answer in set(single["account_id"])
    # every account that needs exactly one criterion is a right answer
    for account in single["account_id"]:
        assert_feedback(exercise.check(account), "only_because_of", "correct")
    for _, row in dependence.iterrows():
        if row["n_needed"] == 0:
            assert_feedback(
                exercise.check(row["account_id"]),
                "only_because_of",
                "incorrect",
                "stays on the list whichever single criterion",
            )
        elif row["n_needed"] > 1:
            assert_feedback(
                exercise.check(row["account_id"]),
                "only_because_of",
                "incorrect",
                f"drops out without any of {row['needs']}: more than one criterion",
            )
    outsider = next(a for a in features["account_id"] if a not in set(dependence["account_id"]))
    assert_feedback(
        exercise.check(outsider), "only_because_of", "incorrect", "is not on the key-account list"
    )


def test_the_answer_really_depends_on_one_criterion_only(case):
    """Select again with each criterion switched off: the answer drops out exactly once."""
    _name, features, dependence, options, ex = case
    answer = run_solution(ex["only_because_of"], features, dependence)
    if answer is None:
        assert (dependence["n_needed"] != 1).all()
        return
    weights = options.get("weights", kamlib.DEFAULT_WEIGHTS)
    rule = {k: v for k, v in options.items() if k != "weights"}
    dropped = []
    for criterion, weight in weights.items():
        if weight <= 0:
            continue
        scored = kamlib.score_accounts(features, weights={**weights, criterion: 0})
        keys = kamlib.select_key_accounts(scored, **rule).key_accounts["account_id"]
        if answer not in set(keys):
            dropped.append(criterion)
    base = kamlib.select_key_accounts(kamlib.score_accounts(features, weights=weights), **rule)
    assert answer in set(base.key_accounts["account_id"])
    assert len(dropped) == 1
    assert dependence.set_index("account_id").loc[answer, "only_because_of"] == dropped[0]
