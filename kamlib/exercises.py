"""Workshop exercises: a check with specific feedback, a hint and a solution.

In a notebook::

    ex = exercises["busiest_month"]      # built by kamlib.course for this dataset
    ex                                   # shows the question
    answer = ___                         # the learner replaces ___ with code
    ex.check(answer)                     # "not attempted", "correct" or what is wrong
    ex.hint()
    ex.solution()

``___`` is a placeholder that lets starter code run: any arithmetic, attribute,
call or indexing on it gives ``___`` again, and checking it reads as "not
attempted" rather than as an error. Checks return a :class:`Feedback` object
(rendered in the notebook) and never print.
"""

from __future__ import annotations

import html
import math
import numbers
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from kamlib.safe import escape_markdown

__all__ = ["Exercise", "Feedback", "NotAttempted", "___"]


class NotAttempted:
    """The ``___`` placeholder: starter code runs, checks say "not attempted"."""

    _instance: NotAttempted | None = None

    def __new__(cls) -> NotAttempted:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "___"

    def _self(self, *args: Any, **kwargs: Any) -> NotAttempted:
        return self

    __add__ = __radd__ = __sub__ = __rsub__ = __mul__ = __rmul__ = _self
    __truediv__ = __rtruediv__ = __floordiv__ = __rfloordiv__ = _self
    __mod__ = __rmod__ = __pow__ = __rpow__ = __divmod__ = __rdivmod__ = _self
    __matmul__ = __rmatmul__ = __and__ = __rand__ = __or__ = __ror__ = __invert__ = _self
    __lt__ = __le__ = __gt__ = __ge__ = __eq__ = __ne__ = _self
    __neg__ = __pos__ = __abs__ = __round__ = __call__ = __getitem__ = _self
    __hash__ = object.__hash__

    def __getattr__(self, name: str) -> NotAttempted:
        if name.startswith("__"):
            raise AttributeError(name)
        return self

    def __bool__(self) -> bool:
        return False

    def __iter__(self):
        return iter(())

    def __len__(self) -> int:
        return 0


#: The placeholder learners replace with their answer.
___ = NotAttempted()


def _contains_placeholder(value: Any) -> bool:
    if isinstance(value, NotAttempted):
        return True
    if isinstance(value, list | tuple | set | frozenset):
        return any(isinstance(v, NotAttempted) for v in value)
    if isinstance(value, dict):
        return any(isinstance(v, NotAttempted) for v in value.values())
    return False


_STYLE = {
    "correct": ("#e7f5ea", "#1e7b34", "✔ Correct"),
    "incorrect": ("#fdecea", "#a4261c", "✘ Not yet"),
    "not attempted": ("#f2f2f2", "#555555", "… Not attempted"),
}


@dataclass(frozen=True)
class Feedback:
    """The result of checking an answer.

    Attributes
    ----------
    exercise : str
        Key of the exercise.
    status : {"correct", "incorrect", "not attempted"}
    message : str
        What is right or wrong, as specific as the check can be.
    """

    exercise: str
    status: str
    message: str

    def __bool__(self) -> bool:
        return self.status == "correct"

    def __str__(self) -> str:
        return f"{_STYLE[self.status][2]}: {self.message}"

    def _repr_html_(self) -> str:
        bg, fg, label = _STYLE[self.status]
        return (
            f'<div style="background:{bg};color:{fg};padding:.5em .8em;border-left:4px solid {fg}">'
            f"<b>{label}</b> — {html.escape(self.message)}</div>"
        )


@dataclass(frozen=True)
class Text:
    """A hint, solution or question, shown as Markdown in a notebook."""

    title: str
    body: str
    code: bool = False
    fold: bool = True

    def __str__(self) -> str:
        return f"{self.title}\n{self.body}"

    def _repr_markdown_(self) -> str:
        """The title in bold, the body as Markdown with any data in it escaped.

        Questions and hints quote the dataset (account names, months), so the body goes
        through :func:`kamlib.safe.escape_markdown`; code is fenced with more backticks
        than it holds in a row, so no text can close the fence.
        """
        if self.code:
            longest = max((len(run) for run in re.findall(r"`+", self.body)), default=0)
            fence = "`" * max(3, longest + 1)
            body = f"{fence}python\n{self.body}\n{fence}"
        else:
            body = escape_markdown(self.body)
        return f"**{escape_markdown(self.title)}**\n\n{body}"

    def _repr_html_(self) -> str | None:
        """Folded: a learner opens it on purpose, even after "Run all"."""
        if not self.fold:
            return None
        body = html.escape(self.body)
        body = f"<pre>{body}</pre>" if self.code else f"<p>{body}</p>"
        return f"<details><summary><b>{html.escape(self.title)}</b> (click to open)</summary>{body}</details>"


def _is_number(value: Any) -> bool:
    """A real number (Python or NumPy), not a bool and not text."""
    return isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_)


def _same(answer: Any, expected: Any, rtol: float) -> bool:
    if isinstance(expected, bool):
        return isinstance(answer, bool) and answer == expected
    if _is_number(expected):
        return _is_number(answer) and math.isclose(
            float(answer), float(expected), rel_tol=rtol, abs_tol=1e-9
        )
    if isinstance(expected, str):
        return isinstance(answer, str) and answer.strip().lower() == expected.strip().lower()
    if isinstance(expected, set | frozenset):
        try:
            return set(answer) == set(expected)
        except TypeError:
            return False
    if isinstance(expected, pd.DataFrame | pd.Series):
        try:
            pd.testing.assert_frame_equal(
                pd.DataFrame(answer).reset_index(drop=True),
                pd.DataFrame(expected).reset_index(drop=True),
                check_dtype=False,
                rtol=rtol,
            )
        except (AssertionError, TypeError, ValueError):
            return False
        return True
    try:
        return bool(answer == expected)
    except (TypeError, ValueError):
        return False


@dataclass(frozen=True)
class Exercise:
    """One exercise: a question, the expected answer and the feedback rules.

    Parameters
    ----------
    key : str
        Short identifier, e.g. ``"busiest_month"``.
    question : str
        What the learner is asked (Markdown).
    expected : Any
        The right answer, computed from the dataset the notebook runs on.
    hint_text : str
        A nudge that does not give the answer away.
    solution_code : str
        Python code whose last assignment ``answer = …`` gives the right answer.
    mistakes : tuple of (callable, str or callable)
        Typical wrong answers: a predicate on the (normalised) answer and the
        specific feedback it earns, e.g. ``(lambda a: a == lowest, "you sorted ascending")``;
        the feedback may be a function of the answer, to quote its numbers.
    normalise : callable, optional
        Applied to the answer before comparing (e.g. turn ``"2025-03"`` into a month).
    rtol : float
        Relative tolerance for numbers.
    accept : callable, optional
        For questions with more than one right answer (e.g. "a cut-off that makes
        about half of sales"): a predicate on the normalised answer; ``expected``
        is then one example of a right answer.
    """

    key: str
    question: str
    expected: Any
    hint_text: str
    solution_code: str
    mistakes: tuple[tuple[Callable[[Any], bool], str | Callable[[Any], str]], ...] = field(
        default=()
    )
    normalise: Callable[[Any], Any] | None = None
    rtol: float = 1e-6
    accept: Callable[[Any], bool] | None = None

    def check(self, answer: Any) -> Feedback:
        """Check ``answer``; returns :class:`Feedback` (truthy when correct)."""
        if _contains_placeholder(answer):
            return Feedback(
                self.key, "not attempted", "replace ___ with your answer and run the cell again."
            )
        value = answer
        if self.normalise is not None:
            try:
                value = self.normalise(answer)
            except Exception as exc:  # a learner's answer can be anything
                return Feedback(
                    self.key,
                    "incorrect",
                    f"could not read your answer {answer!r} ({exc}); {self.hint_text}",
                )
        right = _same(value, self.expected, self.rtol)
        if self.accept is not None:
            try:
                right = bool(self.accept(value))
            except Exception:  # an answer the predicate cannot judge is not right
                right = False
        if right:
            return Feedback(self.key, "correct", f"{self._shown(value)} is right.")
        for predicate, message in self.mistakes:
            try:
                hit = bool(predicate(value))
                text = message(value) if callable(message) else message
            except Exception:  # a rule that cannot judge this answer does not apply
                continue
            if hit:
                return Feedback(self.key, "incorrect", text)
        kind = type(self.expected).__name__
        if _is_number(self.expected) and not _is_number(value):
            return Feedback(
                self.key, "incorrect", f"the answer is a number; you gave a {type(value).__name__}."
            )
        return Feedback(
            self.key,
            "incorrect",
            f"{self._shown(value)} is not it (the answer is a {kind}). Try the hint.",
        )

    @staticmethod
    def _shown(value: Any) -> str:
        text = repr(value)
        return text if len(text) <= 60 else text[:57] + "…"

    def show(self) -> Text:
        """The question."""
        return Text(f"Exercise: {self.key}", self.question, fold=False)

    def _repr_markdown_(self) -> str:
        return self.show()._repr_markdown_()

    def hint(self) -> Text:
        """The hint."""
        return Text("Hint", self.hint_text)

    def solution(self) -> Text:
        """The solution code."""
        return Text("Solution", self.solution_code, code=True)
