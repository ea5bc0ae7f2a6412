"""Tests of kamlib.exercises (placeholder, checks, feedback) and the course exercises."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import kamlib
from kamlib import Exercise, Feedback, ___, start_here_exercises
from kamlib.exercises import NotAttempted, Text

# ---------------------------------------------------------------- the ___ placeholder


@pytest.mark.parametrize(
    "make",
    [
        lambda: ___ + 1,
        lambda: 1 + ___,
        lambda: ___ - 2,
        lambda: 2 - ___,
        lambda: ___ * 3,
        lambda: 3 * ___,
        lambda: ___ / 4,
        lambda: 4 / ___,
        lambda: ___ // 5,
        lambda: 5 // ___,
        lambda: ___ % 6,
        lambda: ___**2,
        lambda: -___,
        lambda: +___,
        lambda: abs(___),
        lambda: round(___),
        lambda: round(___, 2),
        lambda: ___.nunique(),
        lambda: ___.groupby("month")["amount"].sum().idxmax(),
        lambda: ___["amount"],
        lambda: ___[0:3],
        lambda: ___(1, key="x"),
        lambda: ___.some.chain,
        lambda: (___ + 1) * 2 - ___.sum() / 3,
    ],
)
def test_placeholder_operations_give_placeholder(make):
    assert make() is ___


@pytest.mark.parametrize("make", [lambda: 2**___, lambda: 7 % ___, lambda: divmod(___, 2)])
def test_placeholder_reflected_operations(make):
    assert make() is ___


def test_placeholder_is_falsy_and_a_singleton():
    assert bool(___) is False
    assert not ___
    assert NotAttempted() is ___
    assert repr(___) == "___"
    assert len(___) == 0
    assert list(___) == []
    with pytest.raises(AttributeError):
        ___.__wrapped__  # noqa: B018 - dunder lookups must not be swallowed


@pytest.fixture
def forty_two() -> Exercise:
    return Exercise(
        key="forty_two",
        question="What is **six times seven**?",
        expected=42,
        hint_text="Multiply 6 by 7 with `*`.",
        solution_code="answer = 6 * 7 if 1 < 2 else 0",
        mistakes=(
            (lambda a: a == 41, "off by one: one too few."),
            (lambda a: a == 43, "off by one: one too many."),
            (lambda a: a == 13, "you added instead of multiplying."),
        ),
    )


@pytest.mark.parametrize(
    "answer", [___, ___ + 1, [___], [1, ___], (___,), {___}, {"a": ___}, ___.sum()]
)
def test_placeholder_answer_is_not_attempted(forty_two, answer):
    feedback = forty_two.check(answer)
    assert isinstance(feedback, Feedback)
    assert feedback.status == "not attempted"
    assert not feedback
    assert "___" in feedback.message
    assert "Not attempted" in str(feedback)


# ---------------------------------------------------------------- checks


@pytest.mark.parametrize("answer", [42, 42.0, np.int64(42), np.float64(42.0), 42 * (1 + 1e-9)])
def test_correct_number(forty_two, answer):
    feedback = forty_two.check(answer)
    assert feedback.status == "correct"
    assert feedback
    assert bool(feedback) is True
    assert feedback.exercise == "forty_two"
    assert "42" in feedback.message


@pytest.mark.parametrize(
    ("answer", "message"),
    [
        (41, "off by one: one too few."),
        (np.int64(41), "off by one: one too few."),
        (43.0, "off by one: one too many."),
        (13, "you added instead of multiplying."),
    ],
)
def test_listed_mistake_gets_its_feedback(forty_two, answer, message):
    feedback = forty_two.check(answer)
    assert feedback.status == "incorrect"
    assert not feedback
    assert feedback.message == message


@pytest.mark.parametrize("answer", ["six times seven", [42], None, {"x": 1}])
def test_wrong_type_says_a_number_is_expected(forty_two, answer):
    feedback = forty_two.check(answer)
    assert feedback.status == "incorrect"
    assert "number" in feedback.message
    assert type(answer).__name__ in feedback.message


def test_other_wrong_number_is_generic(forty_two):
    feedback = forty_two.check(7)
    assert feedback.status == "incorrect"
    assert "7" in feedback.message
    assert "hint" in feedback.message
    assert "off by one" not in feedback.message


def test_wrong_numpy_integer_is_not_called_a_wrong_type(forty_two):
    feedback = forty_two.check(np.int64(7))
    assert feedback.status == "incorrect"
    assert "you gave a" not in feedback.message


def test_numeric_tolerance(forty_two):
    assert forty_two.check(42 * (1 + 1e-7)).status == "correct"
    assert forty_two.check(42.01).status == "incorrect"
    loose = Exercise("loose", "q", 100.0, "h", "answer = 100", rtol=0.01)
    assert loose.check(100.9).status == "correct"
    assert loose.check(99.1).status == "correct"
    assert loose.check(101.5).status == "incorrect"


def test_string_ignores_case_and_outer_whitespace():
    ex = Exercise("name", "q", "Svobodová s.r.o.", "h", "answer = 'Svobodová s.r.o.'")
    assert ex.check("  svobodová S.R.O.\n").status == "correct"
    assert ex.check("Svobodova s.r.o.").status == "incorrect"
    assert ex.check("Svobodová  s.r.o.").status == "incorrect"
    assert ex.check(5).status == "incorrect"


def test_set_answers():
    ex = Exercise("top3", "q", {"A1", "B2", "C3"}, "h", "answer = {'A1', 'B2', 'C3'}")
    assert ex.check({"C3", "A1", "B2"}).status == "correct"
    assert ex.check(["B2", "C3", "A1", "A1"]).status == "correct"
    assert ex.check(pd.Series(["A1", "B2", "C3"])).status == "correct"
    assert ex.check({"A1", "B2"}).status == "incorrect"
    assert ex.check({"A1", "B2", "C3", "D4"}).status == "incorrect"
    assert ex.check(5).status == "incorrect"  # not iterable: no exception


def test_dataframe_answers():
    expected = pd.DataFrame({"month": ["2025-01", "2025-02"], "amount": [100.0, 250.5]})
    ex = Exercise("table", "q", expected, "h", "answer = ...")
    other_index = pd.DataFrame(
        {"month": ["2025-01", "2025-02"], "amount": [100, 250.5]}, index=[7, 9]
    )
    assert ex.check(other_index).status == "correct"
    assert ex.check(expected.copy()).status == "correct"
    assert ex.check(expected.assign(amount=[100.0, 250.6])).status == "incorrect"
    assert ex.check(expected.iloc[:1]).status == "incorrect"
    assert ex.check(expected.rename(columns={"amount": "sales"})).status == "incorrect"
    feedback = ex.check(5)
    assert feedback.status == "incorrect"
    assert "DataFrame" in feedback.message


def test_normalise_is_applied():
    ex = Exercise("n", "q", 42, "Type digits.", "answer = 42", normalise=int)
    assert ex.check("42").status == "correct"
    assert ex.check(" 42 ").status == "correct"


@pytest.mark.parametrize(
    ("answer", "error"), [("forty-two", "invalid literal"), ([4, 2], "argument must be")]
)
def test_normalise_that_raises_is_incorrect_not_an_error(answer, error):
    ex = Exercise("n", "q", 42, "Type digits.", "answer = 42", normalise=int)
    feedback = ex.check(answer)
    assert feedback.status == "incorrect"
    assert f"could not read your answer {answer!r}" in feedback.message
    assert error in feedback.message
    assert "Type digits." in feedback.message


# ---------------------------------------------------------------- display


def test_hint_and_solution_render_folded(forty_two):
    hint, solution = forty_two.hint(), forty_two.solution()
    assert isinstance(hint, Text)
    assert hint._repr_markdown_() == "**Hint**\n\nMultiply 6 by 7 with `*`."
    assert solution._repr_markdown_() == (
        "**Solution**\n\n```python\nanswer = 6 * 7 if 1 < 2 else 0\n```"
    )
    hint_html = hint._repr_html_()
    assert hint_html.startswith("<details>")
    assert hint_html.endswith("</details>")
    assert "<summary>" in hint_html
    assert "Multiply 6 by 7" in hint_html
    solution_html = solution._repr_html_()
    assert solution_html.startswith("<details>")
    assert "<pre>answer = 6 * 7 if 1 &lt; 2 else 0</pre>" in solution_html
    assert "1 < 2" not in solution_html


def test_question_is_not_folded(forty_two):
    question = forty_two.show()
    assert question._repr_html_() is None
    assert "What is **six times seven**?" in question._repr_markdown_()
    assert "forty_two" in question._repr_markdown_()
    assert forty_two._repr_markdown_() == question._repr_markdown_()


def test_feedback_html_escapes_the_answer():
    ex = Exercise("name", "q", "Svobodová", "h", "answer = 'Svobodová'")
    feedback = ex.check("<script>alert(1)</script>")
    assert feedback.status == "incorrect"
    assert "<script>" in feedback.message
    rendered = feedback._repr_html_()
    assert "<script>" not in rendered
    assert "&lt;script&gt;" in rendered


@pytest.mark.parametrize(
    ("status", "label"),
    [("correct", "Correct"), ("incorrect", "Not yet"), ("not attempted", "Not attempted")],
)
def test_feedback_rendering(status, label):
    feedback = Feedback("k", status, "a <b>bold</b> & claim")
    assert bool(feedback) is (status == "correct")
    assert str(feedback).endswith(f"{label}: a <b>bold</b> & claim")
    rendered = feedback._repr_html_()
    assert label in rendered
    assert "a &lt;b&gt;bold&lt;/b&gt; &amp; claim" in rendered


# ---------------------------------------------------------------- course: 00_start_here

AS_OF = pd.Timestamp("2025-06-30")

# invoice_id, date, account, amount. Window (2024-06-30, 2025-06-30]:
#   accounts A, B, C -> 3 active; 8 lines; 6 invoices; 4 accounts in all; 2 in calendar 2025.
# Net by month (to AS_OF): 2024-05 180 (best), 2024-06 50, 2024-09 100, 2024-10 30,
#   2025-02 100 (3 lines: most lines), 2025-03 250 - 120 = 130 (best without credit notes),
#   2025-06 20 (weakest). 2025-07 (1000) is after AS_OF and must be ignored.
LINES = [
    ("R01", "2024-05-10", "D", 180.0),
    ("R02", "2024-06-30", "D", 50.0),  # the day the window starts: outside
    ("R03", "2024-09-15", "A", 100.0),
    ("R04", "2024-10-08", "C", 30.0),
    ("R05", "2025-02-10", "A", 30.0),
    ("R05", "2025-02-10", "A", 30.0),
    ("R05", "2025-02-10", "A", 40.0),
    ("R06", "2025-03-03", "B", 250.0),
    ("R07", "2025-03-20", "B", -120.0),  # credit note
    ("R08", "2025-06-30", "B", 20.0),  # AS_OF itself: inside
    ("R09", "2025-07-05", "A", 1000.0),  # after AS_OF
]


@pytest.fixture
def tx() -> pd.DataFrame:
    frame = pd.DataFrame(LINES, columns=["invoice_id", "date", "account_id", "amount"])
    frame["date"] = pd.to_datetime(frame["date"])
    frame["product_id"] = "P1"
    frame["quantity"] = np.sign(frame["amount"]) * 10
    return frame


@pytest.fixture
def exercises(tx) -> dict[str, Exercise]:
    return start_here_exercises(tx, as_of=AS_OF)


def run_solution(ex: Exercise, tx: pd.DataFrame, as_of: pd.Timestamp):
    namespace = {"tx": tx, "as_of_date": as_of, "pd": pd}
    exec(ex.solution_code, namespace)
    return namespace["answer"]


def test_course_expected_values(exercises):
    assert set(exercises) == {"active_accounts", "best_month"}
    assert exercises["active_accounts"].expected == 3
    assert exercises["best_month"].expected == pd.Period("2024-05", "M")


def test_course_does_not_modify_transactions(tx):
    before = tx.copy()
    exercises = start_here_exercises(tx, as_of=AS_OF)
    for ex in exercises.values():
        run_solution(ex, tx, AS_OF)
    pd.testing.assert_frame_equal(tx, before)


@pytest.mark.parametrize("key", ["active_accounts", "best_month"])
def test_course_solutions_are_correct(exercises, tx, key):
    ex = exercises[key]
    answer = run_solution(ex, tx, AS_OF)
    feedback = ex.check(answer)
    assert feedback.status == "correct", feedback.message


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        (8, "invoice lines"),
        (4, "every account"),
        (2, "calendar year"),
        (6, "counted invoices"),
    ],
)
def test_active_accounts_typical_mistakes(exercises, answer, phrase):
    feedback = exercises["active_accounts"].check(answer)
    assert feedback.status == "incorrect"
    assert phrase in feedback.message


@pytest.mark.parametrize(
    ("answer", "phrase"),
    [
        ("2025-06", "weakest"),
        ("2025-02", "most lines"),
        ("2025-03", "credit notes"),
        (pd.Period("2025-03", "M"), "credit notes"),
        (pd.Timestamp("2025-02-28"), "most lines"),
    ],
)
def test_best_month_typical_mistakes(exercises, answer, phrase):
    feedback = exercises["best_month"].check(answer)
    assert feedback.status == "incorrect"
    assert phrase in feedback.message


@pytest.mark.parametrize(
    "answer", ["2024-05", " 2024-05 ", pd.Period("2024-05", "M"), pd.Timestamp("2024-05-31")]
)
def test_best_month_accepts_month_spellings(exercises, answer):
    assert exercises["best_month"].check(answer).status == "correct"


@pytest.mark.parametrize("answer", ["2025-07", "2024-09", "not a month", 2024.5, [1, 2]])
def test_best_month_other_wrong_answers_do_not_raise(exercises, answer):
    feedback = exercises["best_month"].check(answer)
    assert feedback.status == "incorrect"
    for phrase in ("weakest", "most lines", "credit notes"):
        assert phrase not in feedback.message


@pytest.mark.parametrize("answer", [None, float("nan"), pd.NaT])
def test_best_month_missing_answer_is_incorrect_not_an_error(exercises, answer):
    assert exercises["best_month"].check(answer).status == "incorrect"


def test_start_here_exercises_placeholder(exercises):
    for ex in exercises.values():
        assert ex.check(___).status == "not attempted"
        assert ex.hint()._repr_html_().startswith("<details>")
        assert ex.show()._repr_html_() is None


# ---------------------------------------------------------------- course on real data


def _independent_answers(tx: pd.DataFrame, as_of: pd.Timestamp) -> dict:
    """The same answers, computed another way (last purchase per account, resample)."""
    upto = tx[tx["date"] <= as_of]
    start = as_of - pd.DateOffset(months=12)
    last_purchase = upto.groupby("account_id")["date"].max()
    monthly = upto.set_index("date")["amount"].resample("MS").sum()
    in_window = upto[upto["date"] > start]
    return {
        "active": int((last_purchase > start).sum()),
        "best": monthly.idxmax().to_period("M"),
        "lines": len(in_window),
        "all_accounts": int(last_purchase.size),
        "weakest": monthly.idxmin().to_period("M"),
    }


def _datasets():
    sample = kamlib.load_sample().transactions
    generated = kamlib.generate_sample(accounts=60, years=2, seed=3).tables["transactions"]
    return {"sample": sample, "generated": generated}


@pytest.fixture(scope="module")
def datasets():
    return _datasets()


@pytest.mark.parametrize("name", ["sample", "generated"])
def test_course_on_real_data(datasets, name):
    tx = datasets[name]
    assert pd.api.types.is_datetime64_any_dtype(tx["date"])
    as_of = kamlib.resolve_as_of(tx)
    exercises = start_here_exercises(tx, as_of=as_of)
    mine = _independent_answers(tx, as_of)

    active, best = exercises["active_accounts"], exercises["best_month"]
    assert active.expected == mine["active"]
    assert best.expected == mine["best"]

    for ex in (active, best):
        feedback = ex.check(run_solution(ex, tx, as_of))
        assert feedback.status == "correct", (name, ex.key, feedback.message)

    assert mine["lines"] != mine["active"]
    assert "invoice lines" in active.check(mine["lines"]).message
    if mine["all_accounts"] not in (mine["active"], mine["lines"]):
        assert "every account" in active.check(mine["all_accounts"]).message
    assert active.check(mine["active"] + 1).status == "incorrect"

    assert mine["weakest"] != mine["best"]
    assert "weakest" in best.check(str(mine["weakest"])).message
