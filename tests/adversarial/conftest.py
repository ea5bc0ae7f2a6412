"""Shared hostile datasets and the expensive runs made on them once per session.

Each fixture runs the real ``kam`` command once and records its result with the state
of the folder tree before and after, so that several tests can check one run: the exit
code, no traceback, nothing changed outside the command's ``--out``, safe pages.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from .hostile import (
    SECRET,
    PayloadDataset,
    Result,
    add_payloads,
    make_sample,
    run_cli,
    tree_state,
)


@dataclass
class Run:
    """One command run on a shared dataset, with the tree around it before and after."""

    result: Result
    out: Path
    before: dict
    after: dict


def _run(base: Path, out: Path, args: list, **kwargs) -> Run:
    before = tree_state(base, exclude=[out])
    result = run_cli(args, **kwargs)
    return Run(result, out, before, tree_state(base, exclude=[out]))


@pytest.fixture(scope="session")
def payload_base(tmp_path_factory) -> Path:
    """The folder holding the payload dataset and every run made on it."""
    return tmp_path_factory.mktemp("payload")


@pytest.fixture(scope="session")
def payload_data(payload_base) -> PayloadDataset:
    """A sample company (30 accounts, 3 years) with a payload in every free-text cell."""
    return add_payloads(make_sample(payload_base / "data", accounts=30))


@pytest.fixture(scope="session")
def payload_report(payload_base, payload_data) -> Run:
    """``kam report`` of every notebook on the payload dataset (the expensive run)."""
    out = payload_base / "report"
    return _run(
        payload_base, out, ["report", "--data", payload_data.folder, "--out", out], timeout=900
    )


@pytest.fixture(scope="session")
def payload_dossiers(payload_base, payload_data) -> Run:
    """``kam dossiers --accounts all`` on the payload dataset."""
    out = payload_base / "dossiers"
    args = ["dossiers", "--data", payload_data.folder, "--out", out, "--accounts", "all"]
    return _run(payload_base, out, args, timeout=600)


@pytest.fixture(scope="session")
def payload_customer(payload_base, payload_data) -> Run:
    """``kam dossiers --customer-facing --accounts all`` on the payload dataset."""
    out = payload_base / "customer"
    args = ["dossiers", "--data", payload_data.folder, "--out", out, "--accounts", "all"]
    return _run(payload_base, out, [*args, "--customer-facing"], timeout=600)


@pytest.fixture(scope="session")
def payload_anonymized(payload_base, payload_data) -> Run:
    """``kam anonymize`` of the payload dataset."""
    out = payload_base / "anonymized"
    args = ["anonymize", payload_data.folder, "--out", out, "--secret", SECRET]
    return _run(payload_base, out, args, timeout=300)


@pytest.fixture(scope="session")
def plain_sample(tmp_path_factory) -> Path:
    """A sample company without payloads (30 accounts, 2 years), for runs that are killed."""
    return make_sample(tmp_path_factory.mktemp("plain") / "data", accounts=30, years=2)
