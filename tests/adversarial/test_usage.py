"""Usage mistakes: exit 2 with a message naming the option, before anything runs or is written."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pytest

from .hostile import BOMB_LIST, SECRET, changes, check_result, run_cli, tiny_dataset, tree_state


@dataclass(frozen=True)
class Usage:
    """A command line with a usage mistake; ``out`` is the --out it names (in the case tree)."""

    id: str
    args: Callable[[Path, Path, Path], list]  # (dataset, case folder, out) -> arguments
    says: tuple[str, ...]
    out_is_file: bool = False


def _report(*extra):
    def args(data: Path, case: Path, out: Path) -> list:
        return ["report", "00_start_here", "--data", data, "--out", out, "--timeout", 120, *extra]

    return args


def _other_dataset(data: Path, case: Path, out: Path) -> list:
    other = tiny_dataset(case / "other")
    return _report("-p", f"data={other}")(data, case, out)


def _exports_elsewhere(data: Path, case: Path, out: Path) -> list:
    return _report("-p", f"exports={case / 'elsewhere'}")(data, case, out)


def _top_n_text(data: Path, case: Path, out: Path) -> list:
    args = _report("-p", "top_n=abc")(data, case, out)
    args[1] = "01_account_identification"
    return args


def _config_bomb(data: Path, case: Path, out: Path) -> list:
    config = case / "reports.yaml"
    config.write_text(f"out: {out}\nnotebooks:\n" + BOMB_LIST, encoding="utf-8")
    return ["report", "00_start_here", "--config", config]


def _dossiers(*extra):
    def args(data: Path, case: Path, out: Path) -> list:
        return ["dossiers", "--data", data, "--out", out, *extra]

    return args


def _anonymize(data: Path, case: Path, out: Path) -> list:
    return ["anonymize", data, "--out", out, "--secret", SECRET]


USAGES = [
    Usage("report-p-data", _other_dataset, ("data",)),
    Usage("report-p-exports", _exports_elsewhere, ("exports",)),
    Usage("report-p-top-n-not-a-number", _top_n_text, ("top_n", "abc")),
    Usage("report-out-is-a-file", _report(), ("--out",), out_is_file=True),
    Usage("report-config-alias-bomb", _config_bomb, ("reports.yaml",)),
    Usage("dossiers-out-is-a-file", _dossiers("--accounts", "A1"), ("--out",), out_is_file=True),
    Usage("dossiers-unknown-account", _dossiers("--accounts", "A1,NOPE9"), ("NOPE9",)),
    Usage("anonymize-out-is-a-file", _anonymize, ("out",), out_is_file=True),
]


@pytest.mark.parametrize("usage", USAGES, ids=[u.id for u in USAGES])
def test_usage_mistake_exits_2_and_writes_nothing(tmp_path, usage):
    data = tiny_dataset(tmp_path / "data")
    out = tmp_path / "out"
    if usage.out_is_file:
        out.write_text("a file of mine, not a folder\n", encoding="utf-8")
    args = usage.args(data, tmp_path, out)
    before = tree_state(tmp_path, exclude=[] if usage.out_is_file else [out])
    result = run_cli(args, timeout=60, limit_memory=True)
    check_result(result, 2)
    missing = [s for s in usage.says if s.lower() not in result.err.lower()]
    assert missing == [], f"the message does not name {missing}\n{result.describe()}"
    after = tree_state(tmp_path, exclude=[] if usage.out_is_file else [out])
    assert changes(before, after) == []
    if not usage.out_is_file:  # no notebook ran: nothing in --out
        assert not out.exists() or list(out.iterdir()) == [], sorted(out.rglob("*"))
