"""Headless reports: dated runs, loud failures, scheduling config, changes between runs."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import nbformat
import pandas as pd
import pytest

import kamlib
from kamlib import report as report_module
from kamlib.cli import main
from kamlib.report import load_report_config, run_reports
from kamlib.sample import write_sample

pytestmark = pytest.mark.slow
NOTEBOOKS = kamlib.project_root() / "notebooks"
START_HERE = NOTEBOOKS / "00_start_here.ipynb"


def _tree_digest(folder: Path) -> dict[str, str]:
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _broken_copy(tmp_path: Path, code: str, name: str = "01_broken.ipynb") -> Path:
    nb = nbformat.read(START_HERE, as_version=4)
    nb.cells.insert(4, nbformat.v4.new_code_cell(code))
    path = tmp_path / name
    nbformat.write(nb, path)
    return path


@pytest.fixture(scope="module")
def full_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("reports")
    return run_reports(data="sample", out=out), out


def test_run_on_the_sample_lists_every_notebook(full_run):
    run, out = full_run
    assert run.ok, run.notebooks
    names = [p.name for p in report_module.default_notebooks()]
    assert [n.notebook for n in run.notebooks] == names
    index = (run.folder / "index.html").read_text(encoding="utf-8")
    for name in names:
        page = name.replace(".ipynb", ".html")
        assert f"href='{page}'" in index
        assert (run.folder / page).is_file() and (run.folder / "executed" / name).is_file()
    meta = json.loads((run.folder / "run.json").read_text())
    assert (
        meta["status"] == "ok" and meta["dataset_fingerprint"] == kamlib.load_sample().fingerprint()
    )
    assert set(meta["packages"]) >= {"kamlib", "pandas", "papermill"}
    assert meta["started"] <= meta["finished"]
    assert "first run of this configuration" in index
    assert [p.name for p in out.iterdir()] == [run.folder.name]  # nothing else left behind


def test_reports_are_self_contained(full_run):
    run, _out = full_run
    for page in run.folder.glob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "cdnjs" not in text and 'src="http' not in text, page.name
    abc = (run.folder / "02_abc_xyz.html").read_text(encoding="utf-8")
    assert abc.count("data:image/png;base64") >= 4
    assert "classify_by_hand" not in abc and "Explorer: move the cut-offs" not in abc


def test_failing_notebook_is_loud_and_leaves_earlier_runs_alone(full_run, tmp_path, capsys):
    earlier, out = full_run
    before = _tree_digest(earlier.folder)
    broken = _broken_copy(tmp_path, "raise RuntimeError('boom in the middle')")
    code = main(["report", str(broken), str(START_HERE), "--out", str(out)])
    assert code == 1
    printed = capsys.readouterr().out
    assert "failed" in printed and "RuntimeError: boom in the middle" in printed
    newest = max(p for p in out.iterdir() if p != earlier.folder)
    meta = json.loads((newest / "run.json").read_text())
    assert [n["status"] for n in meta["notebooks"]] == ["failed", "ok"] and meta[
        "status"
    ] == "failed"
    assert "boom in the middle" in (newest / "01_broken.html").read_text(encoding="utf-8")
    assert "SOME REPORTS FAILED" in (newest / "index.html").read_text(encoding="utf-8")
    assert _tree_digest(earlier.folder) == before


def test_time_limit_per_notebook(tmp_path):
    slow = _broken_copy(tmp_path, "import time\ntime.sleep(120)", "01_slow.ipynb")
    started = time.perf_counter()
    run = run_reports([slow], out=tmp_path / "r", timeout=20)
    assert time.perf_counter() - started < 60
    (result,) = run.notebooks
    assert result.status == "failed" and "time limit of 20 s" in result.error
    assert (run.folder / "01_slow.html").is_file()


def test_missing_figures_are_a_failure(tmp_path, monkeypatch):
    monkeypatch.setenv("MPLBACKEND", "Agg")  # a backend that draws nothing into the notebook
    run = run_reports([START_HERE], out=tmp_path)
    (result,) = run.notebooks
    assert result.status == "failed" and "figure" in result.error and result.figures == 0


def test_second_run_reports_the_changes(tmp_path):
    data = write_sample(tmp_path / "co", accounts=60, years=3, seed=5)
    config = tmp_path / "reports.yaml"
    config.write_text(
        "data: co\nout: r\nnotebooks: [01_account_identification, 02_abc_xyz]\nkeep: 2\n",
        encoding="utf-8",
    )
    assert main(["report", "--config", str(config)]) == 0
    first_keys = pd.read_csv(
        next((tmp_path / "r").iterdir()) / "exports" / "key_accounts.csv", encoding="utf-8-sig"
    )
    # next month's export: the biggest account stopped buying in the last six months
    tx = pd.read_csv(data / "transactions.csv", dtype=str)
    top = tx.assign(a=tx["amount"].astype(float)).groupby("account_id")["a"].sum().idxmax()
    keep = ~((tx["account_id"] == top) & (tx["date"] > "2026-03-31"))
    tx[keep].to_csv(data / "transactions.csv", index=False)
    assert main(["report", "--config", str(config)]) == 0
    runs = sorted(p for p in (tmp_path / "r").iterdir())
    assert len(runs) == 2
    meta = json.loads((runs[-1] / "run.json").read_text())
    assert meta["changes"]["previous"] == runs[0].name
    moved = meta["changes"]["sections"][0]["rows"]
    assert any(r["account_id"] == top and r["before"].startswith("A") for r in moved)
    index = (runs[-1] / "index.html").read_text(encoding="utf-8")
    assert "changed ABC-XYZ class" in index and top in index
    keys = meta["changes"]["sections"][1]
    assert keys["table"] == "key_accounts" and "note" not in keys  # compared
    now_keys = pd.read_csv(runs[-1] / "exports" / "key_accounts.csv", encoding="utf-8-sig")
    assert keys["entered"] == sorted(set(now_keys["account_id"]) - set(first_keys["account_id"]))
    assert keys["left"] == sorted(set(first_keys["account_id"]) - set(now_keys["account_id"]))
    assert "<h3>key-account list</h3><p>Entered: " in index
    # keep: 2 prunes the oldest
    assert main(["report", "--config", str(config)]) == 0
    assert len(list((tmp_path / "r").iterdir())) == 2 and not runs[0].exists()


def test_unknown_parameter_for_one_notebook_lists_its_parameters(tmp_path):
    with pytest.raises(
        ValueError,
        match=r"00_start_here.ipynb has no parameter 'measure'; its parameters are: data, as_of, exports",
    ):
        run_reports(
            [START_HERE], out=tmp_path, per_notebook={"00_start_here": {"measure": "margin"}}
        )
    assert list(tmp_path.iterdir()) == []


def test_unknown_notebook_name(tmp_path):
    with pytest.raises(ValueError, match=r"no notebook '02_abcxyz'.*did you mean '02_abc_xyz'"):
        run_reports(["02_abcxyz"], out=tmp_path)


def test_config_file_problems(tmp_path):
    bad = tmp_path / "r.yaml"
    bad.write_text("dataset: sample\nkeep: 0\nnotebooks: 02_abc_xyz\n", encoding="utf-8")
    with pytest.raises(ValueError) as info:
        load_report_config(bad)
    text = str(info.value)
    assert "unknown setting 'dataset'" in text and "did you mean 'data'" in text
    assert "keep must be at least 1" in text and "notebooks must be a list" in text


def test_example_config_is_valid():
    config = load_report_config(kamlib.project_root() / "reports.example.yaml")
    assert config.data == "sample" and config.keep and config.notebooks
    declared = {
        nb: report_module.notebook_parameters(report_module._resolve_notebook(nb))
        for nb in config.notebooks
    }
    for nb, params in config.notebook_parameters.items():
        assert set(params) <= set(declared[nb])


def test_interrupted_run_leaves_no_half_written_folder(tmp_path, monkeypatch):
    def interrupt(*_a, **_k):
        raise KeyboardInterrupt

    monkeypatch.setattr(report_module, "_changes", interrupt)
    with pytest.raises(KeyboardInterrupt):
        run_reports([START_HERE], out=tmp_path)
    assert list(tmp_path.iterdir()) == []


def test_sigterm_stops_the_run_cleanly(tmp_path):
    out = tmp_path / "r"
    kam = Path(sys.executable).with_name("kam")
    proc = subprocess.Popen(
        [str(kam), "report", "--out", str(out)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    deadline = time.time() + 60
    while time.time() < deadline and not list(out.glob(".incomplete-*/executed/*.ipynb")):
        time.sleep(0.2)
    assert list(out.glob(".incomplete-*")), "the run should be under way"
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(timeout=60) == 143
    assert list(out.iterdir()) == []


def test_stale_folder_of_a_killed_run_is_removed(tmp_path):
    from kamlib import _files

    stale = tmp_path / ".incomplete-2026-01-01T00-00-00-abc"
    stale.mkdir()
    (stale / _files.MARKER).write_text(  # the kit's marker, its process gone
        _files._MARKER_HEAD + "written_by: kam report\nrun_id: 1\npid: 999999999\n"
    )
    foreign = tmp_path / ".incomplete-2026-01-01T00-00-00-def"
    foreign.mkdir()
    (foreign / "pid").write_text("999999999")  # no marker: not the kit's, left alone
    run = run_reports([START_HERE], out=tmp_path)
    assert not stale.exists() and run.ok
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([run.folder.name, foreign.name])


def test_logs_have_no_progress_bars(tmp_path):
    kam = Path(sys.executable).with_name("kam")
    env = {**os.environ}
    result = subprocess.run(
        [str(kam), "report", "00_start_here", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "\r" not in result.stdout + result.stderr and "\x1b[" not in result.stdout
    assert "ok" in result.stdout and "total" in result.stdout
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_key_account_and_lost_lists_are_compared(tmp_path):
    # the notebooks of issues 5 and 7 export these tables; the comparison only reads them
    before, now = tmp_path / "before", tmp_path / "now"
    for folder, keys, lost in (
        (before, ["K1", "K2", "K3"], ["K9"]),
        (now, ["K2", "K3", "K4"], ["K9", "K7"]),
    ):
        (folder / "exports").mkdir(parents=True)
        pd.DataFrame({"account_id": keys}).to_csv(
            folder / "exports" / "key_accounts.csv", index=False
        )
        pd.DataFrame({"account_id": lost}).to_csv(
            folder / "exports" / "lost_accounts.csv", index=False
        )
    changes = report_module._changes(now, before)
    sections = {s["table"]: s for s in changes["sections"]}
    assert sections["key_accounts"]["entered"] == ["K4"] and sections["key_accounts"]["left"] == [
        "K1"
    ]
    assert (
        sections["lost_accounts"]["entered"] == ["K7"] and sections["lost_accounts"]["left"] == []
    )
    assert "not in both runs" in sections["abc_xyz_accounts"]["note"]
    page = report_module._changes_html(changes)
    assert "Entered: K4." in page and "Left: K1." in page and "Entered: K7." in page


def test_a_kernel_that_dies_at_start_is_started_again(tmp_path, monkeypatch):
    # two kernels started at once can pick the same port; the second dies before running
    real_run = report_module._Children.run
    calls = []

    def flaky(self, args, *, timeout, log, cwd):
        calls.append(1)
        if len(calls) == 1:
            log.write_text(
                "zmq.error.ZMQError: Address already in use\\nKernel died before replying to kernel_info\\n"
            )
            return 1, False
        return real_run(self, args, timeout=timeout, log=log, cwd=cwd)

    monkeypatch.setattr(report_module._Children, "run", flaky)
    run = run_reports([START_HERE], out=tmp_path)
    assert run.ok and len(calls) == 2
