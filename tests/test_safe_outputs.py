"""Nothing lost: the kit replaces or deletes only folders it provably wrote, children die
with their parent, and bad output folders and parameters are refused with exit 2."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from kamlib import _files, dossier_html
from kamlib import report as report_module
from kamlib.cli import main
from kamlib.sample import write_sample

KAM = Path(sys.executable).with_name("kam")
SMALL = {"accounts": 20, "years": 2, "seed": 5}


def _tree(folder: Path) -> dict[str, bytes | str]:
    """Every file and link under ``folder`` (links not followed)."""
    out: dict[str, bytes | str] = {}
    for path in sorted(folder.rglob("*")):
        rel = str(path.relative_to(folder))
        if path.is_symlink():
            out[rel] = "-> " + os.readlink(path)
        elif path.is_file():
            out[rel] = path.read_bytes()
    return out


# --- kam sample -----------------------------------------------------------------------------------


def _company_folder(tmp_path: Path) -> Path:
    real = tmp_path / "company"
    (real / "exports").mkdir(parents=True)
    (real / "kam.yaml").write_text("name: ACME real data\n")
    (real / "transactions.csv").write_text("account_id,date,amount\nA,2026-01-01,1\n")
    (real / "exports" / "report.csv").write_text("keep me")
    return real


def test_sample_never_replaces_a_real_dataset(tmp_path, capsys):
    real = _company_folder(tmp_path)
    before = _tree(real)
    with pytest.raises(ValueError) as info:
        write_sample(real, **SMALL)
    message = str(info.value)
    assert str(real) in message and "kam.yaml" in message and "transactions.csv" in message
    assert "did not write" in message and "new or empty folder" in message
    assert _tree(real) == before
    assert main(["sample", "--out", str(real), "--accounts", "20", "--years", "2"]) == 2
    assert "left alone" in capsys.readouterr().err
    assert (
        main(["sample", "--out", str(real), "--replace", "--accounts", "20", "--years", "2"]) == 2
    )
    assert _tree(real) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["company"]  # no temporary leftovers


def test_sample_replaces_its_own_folder_only_with_replace(tmp_path, capsys):
    out = write_sample(tmp_path / "s", **SMALL)
    assert _files.read_marker(out)["written_by"] == "kam sample"
    with pytest.raises(ValueError, match=r"earlier folder written by `kam sample`; give --replace"):
        write_sample(out, **SMALL)
    args = ["sample", "--out", str(out), "--accounts", "20", "--years", "2", "--seed", "6"]
    assert main(args) == 2
    assert main([*args, "--replace"]) == 0
    assert "seed 6" in (out / "kam.yaml").read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s"]


def test_sample_into_an_empty_folder_and_not_through_a_link(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    assert (write_sample(empty, **SMALL) / "kam.yaml").is_file()
    real = _company_folder(tmp_path)
    link = tmp_path / "link"
    link.symlink_to(real)
    with pytest.raises(ValueError, match="is a symbolic link"):
        write_sample(link, replace=True, **SMALL)
    assert (real / "exports" / "report.csv").read_text() == "keep me"


def test_a_copied_marker_of_another_command_does_not_count(tmp_path):
    out = tmp_path / "s"
    out.mkdir()
    (out / "kam.yaml").write_text("name: x\n")
    _files.write_marker(out, written_by="kam anonymize")
    with pytest.raises(ValueError, match="written by `kam anonymize`, which `kam sample` does not"):
        write_sample(out, replace=True, **SMALL)
    (out / _files.MARKER).write_text("written_by: kam sample\n")  # not the kit's text
    with pytest.raises(ValueError, match="did not write"):
        write_sample(out, replace=True, **SMALL)


# --- kam report: only the kit's own runs are cleaned or pruned -------------------------------------


def _foreign_things(out: Path) -> dict:
    """A folder of someone else's next to the kit's runs: the kit must not touch any of it."""
    out.mkdir(parents=True, exist_ok=True)
    elsewhere = out.parent / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "precious.txt").write_text("precious")
    (out / ".incomplete-2020-01-01T00-00-00-mine").mkdir()
    (out / ".incomplete-2020-01-01T00-00-00-mine" / "pid").write_text("999999999")
    (out / ".incomplete-2020-01-02T00-00-00-link").symlink_to(elsewhere)
    (out / "2020-01-01T00-00-00").mkdir()
    (out / "2020-01-01T00-00-00" / "run.json").write_text("{}")
    (out / "2020-01-02T00-00-00").symlink_to(elsewhere)
    (out / "notes.txt").write_text("mine")
    return {**_tree(out), **{f"elsewhere/{k}": v for k, v in _tree(elsewhere).items()}}


def test_report_leaves_everything_it_did_not_write(tmp_path):
    out = tmp_path / "runs"
    before = _foreign_things(out)
    first = report_module.run_reports(["00_start_here"], out=out, keep=1)
    second = report_module.run_reports(["00_start_here"], out=out, keep=1)
    assert first.ok and second.ok and not first.folder.exists()  # the kit's own run pruned
    after = {
        **_tree(out),
        **{f"elsewhere/{k}": v for k, v in _tree(tmp_path / "elsewhere").items()},
    }
    assert {k: v for k, v in after.items() if k in before} == before
    marker = _files.read_marker(second.folder)
    run = json.loads((second.folder / "run.json").read_text())
    assert marker["written_by"] == "kam report" and marker["run_id"] == run["run_id"]
    assert "pid" not in marker  # a finished run is not stale


def test_report_removes_the_temporary_folder_of_its_own_killed_run(tmp_path):
    stale = tmp_path / ".incomplete-2026-01-01T00-00-00-abc"
    stale.mkdir()
    (stale / "executed").mkdir()
    (stale / _files.MARKER).write_text(
        _files._MARKER_HEAD + "written_by: kam report\nrun_id: 0123\npid: 999999999\n"
    )
    alive = tmp_path / ".incomplete-2026-01-02T00-00-00-def"
    alive.mkdir()
    (alive / _files.MARKER).write_text(  # pid alive, but another process (start time differs)
        _files._MARKER_HEAD + f"written_by: kam report\nrun_id: 1\npid: {os.getpid()}\n"
        "pid_started: 1\n"
    )
    assert _files.remove_stale(tmp_path, written_by="kam report") == [stale, alive]
    assert list(tmp_path.iterdir()) == []


def test_a_pruned_run_needs_the_marker_with_its_own_run_id(tmp_path):
    run = tmp_path / "2020-01-01T00-00-00"
    run.mkdir()
    (run / "run.json").write_text(json.dumps({"run_id": "aaaa"}))
    _files.write_marker(run, written_by="kam report", run_id="bbbb")  # copied from another run
    assert report_module._complete_runs(tmp_path) == []
    _files.write_marker(run, written_by="kam report", run_id="aaaa")
    assert report_module._complete_runs(tmp_path) == [run]


# --- children die with their parent ---------------------------------------------------------------


def _processes_mentioning(text: str) -> list[int]:
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit() or int(entry.name) == os.getpid():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
            state = (entry / "stat").read_text().rpartition(")")[2].split()[0]
        except OSError:
            continue
        if text in cmdline and state != "Z":
            found.append(int(entry.name))
    return found


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                ppid = int((entry / "stat").read_text().rpartition(")")[2].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(ppid, []).append(int(entry.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in found:
                found.add(child)
                todo.append(child)
    return found


def _gone(pids: set[int], seconds: float = 10) -> set[int]:
    deadline = time.monotonic() + seconds
    alive = pids
    while alive and time.monotonic() < deadline:
        time.sleep(0.2)
        alive = {p for p in alive if Path(f"/proc/{p}").exists() and not _zombie(p)}
    return alive


def _zombie(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] == "Z"
    except OSError:
        return True


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigkill_of_kam_report_takes_papermill_and_the_kernel_along(tmp_path):
    import nbformat

    slow = tmp_path / "slow.ipynb"  # a kernel busy for a minute: it would outlive kam
    cell = nbformat.v4.new_code_cell("seconds = 60", metadata={"tags": ["parameters"]})
    notebook = nbformat.v4.new_notebook(
        cells=[cell, nbformat.v4.new_code_cell("import time\ntime.sleep(seconds)")]
    )
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nbformat.write(notebook, slow)
    out = tmp_path / "runs"
    proc = subprocess.Popen(
        [str(KAM), "report", str(slow), "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    kernels: list[int] = []
    while time.monotonic() < deadline and not kernels:
        time.sleep(0.2)
        kernels = [p for p in _descendants(proc.pid) if "ipykernel" in _cmdline(p)]
    assert kernels, "a kernel should have started"
    family = _descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _gone(family) == set()
    assert _processes_mentioning(str(out)) == []
    # a later run removes the killed run's temporary folder, and nothing else
    (out / "mine.txt").write_text("mine")
    run = report_module.run_reports([slow], out=out, parameters={"seconds": 0})
    assert sorted(p.name for p in out.iterdir()) == sorted([run.folder.name, "mine.txt"])


def _cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="needs Linux /proc")
def test_sigkill_of_kam_dossiers_takes_the_workers_along(tmp_path):
    out = tmp_path / "d"
    proc = subprocess.Popen(
        [str(KAM), "dossiers", "--accounts", "all", "--workers", "2", "--out", str(out)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    workers: set[int] = set()
    while time.monotonic() < deadline and len(workers) < 2:
        time.sleep(0.2)
        workers = {p for p in _descendants(proc.pid) if "multiprocessing" in _cmdline(p)}
    assert len(workers) >= 2, "the workers should have started"
    family = _descendants(proc.pid)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert _gone(family) == set()


# --- runner-owned and wrongly typed parameters ------------------------------------------------------


@pytest.mark.parametrize(
    "param, why",
    [
        ("data=/tmp/other", "give the dataset with --data"),
        ("exports=/tmp/x", "the runner writes the exports into the run's own folder"),
        ("interactive=true", "without the sliders"),
    ],
)
def test_runner_owned_parameters_are_refused(param, why, tmp_path, capsys):
    code = main(["report", "00_start_here", "--out", str(tmp_path / "r"), "-p", param])
    assert code == 2
    err = capsys.readouterr().err
    name = param.partition("=")[0]
    assert f"{name!r} is set by the runner, not by -p or a config" in err and why in err
    assert not (tmp_path / "r").exists()


def test_runner_owned_parameters_are_refused_in_a_config(tmp_path, capsys):
    config = tmp_path / "reports.yaml"
    config.write_text(
        "notebooks: [00_start_here]\nparameters:\n  exports: /tmp/x\n"
        "notebook_parameters:\n  00_start_here:\n    data: /tmp/other\n"
    )
    assert main(["report", "--config", str(config), "--out", str(tmp_path / "r")]) == 2
    err = capsys.readouterr().err
    assert "'exports' is set by the runner" in err and "'data' is set by the runner" in err


def test_wrongly_typed_parameters_are_refused_naming_the_type(tmp_path, capsys):
    declared = report_module.notebook_parameters(report_module._resolve_notebook("02_abc_xyz"))
    name = next(n for n, i in declared.items() if i["inferred_type_name"] == "int")
    code = main(["report", "02_abc_xyz", "--out", str(tmp_path / "r"), "-p", f"{name}=abc"])
    assert code == 2
    err = capsys.readouterr().err
    assert f"{name}" in err and "02_abc_xyz" in err and "int" in err and "'abc'" in err
    assert "Traceback" not in err and not (tmp_path / "r").exists()


def test_a_date_parameter_must_be_a_date(tmp_path, capsys):
    declared = report_module.notebook_parameters(report_module._resolve_notebook("02_abc_xyz"))
    assert "as_of" in declared
    code = main(["report", "02_abc_xyz", "--out", str(tmp_path / "r"), "-p", "as_of=notadate"])
    assert code == 2
    err = capsys.readouterr().err
    assert "as_of" in err and "02_abc_xyz" in err and "'notadate'" in err and "date" in err


# --- bad --out ----------------------------------------------------------------------------------------


def _a_file(tmp_path: Path) -> Path:
    path = tmp_path / "a-file"
    path.write_text("not a folder")
    return path


@pytest.mark.parametrize(
    "command",
    [
        ["report", "00_start_here"],
        ["dossiers", "--accounts", "K10127"],
        ["anonymize", "sample", "--secret", "a-long-enough-secret"],
    ],
)
def test_an_out_that_is_a_file_exits_2(command, tmp_path, capsys):
    path = _a_file(tmp_path)
    for out in (path, path / "below"):
        assert main([*command, "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert str(path) in err and "is a file" in err and "Traceback" not in err
    assert path.read_text() == "not a folder"


@pytest.mark.parametrize(
    "command",
    [
        ["report", "00_start_here"],
        ["dossiers", "--accounts", "K10127"],
        ["anonymize", "sample", "--secret", "a-long-enough-secret"],
        ["sample", "--accounts", "20", "--years", "2"],
    ],
)
def test_an_out_that_cannot_be_written_exits_2(command, tmp_path, capsys, monkeypatch):
    real_access = os.access
    locked = tmp_path / "locked"
    locked.mkdir()
    monkeypatch.setattr(
        os, "access", lambda p, mode, **k: Path(p) != locked and real_access(p, mode, **k)
    )
    assert main([*command, "--out", str(locked / "out")]) == 2
    err = capsys.readouterr().err
    assert f"no permission to write in {locked}" in err and "Traceback" not in err
    assert list(locked.iterdir()) == []


def test_an_os_error_while_writing_exits_2_naming_the_path(tmp_path, capsys, monkeypatch):
    def refuse(*_a, **_k):
        raise PermissionError(errno.EACCES, "Permission denied", str(tmp_path / "x"))

    monkeypatch.setattr(dossier_html, "_write_page", refuse)
    code = main(["dossiers", "--accounts", "K10127", "--workers", "1", "--out", str(tmp_path)])
    assert code == 2
    err = capsys.readouterr().err
    assert f"kam dossiers: {tmp_path / 'x'}: Permission denied; no permission: give" in err
    assert "Traceback" not in err


# --- dossier file names from hostile ids ---------------------------------------------------------------


def test_file_names_of_long_and_odd_ids_are_short_safe_and_distinct():
    ids = ["K" * 300, "K" * 301, "../../etc/passwd", "a\x01b\tc", "a\x02b\tc", "..", "K10127"]
    names = dossier_html._file_names(ids)
    assert len(set(n.lower() for n in names)) == len(ids)
    for name in names:
        assert len(name.encode()) <= 100 and "/" not in name and not name.startswith(".")
        assert name.isprintable() and name.endswith(".html")
    assert names[-1] == "K10127.html"  # a plain id keeps its plain name


def test_a_batch_with_a_300_character_id_is_written(tmp_path, make_dataset):
    from .conftest import ACCOUNTS, TRANSACTIONS

    long_id = "A" * 300
    root = make_dataset(
        {
            "transactions.csv": TRANSACTIONS.replace("A1,", f"{long_id},"),
            "accounts.csv": ACCOUNTS.replace("A1,", f"{long_id},"),
        }
    )
    batch = dossier_html.write_dossiers(root, "all", as_of=None, out=tmp_path / "d", workers=1)
    assert batch.count >= 2
    index = batch.index.read_text(encoding="utf-8")
    for page in batch.files[:-1]:
        assert page.is_file() and f'href="{page.name}"' in index


# --- the customer-facing batch ---------------------------------------------------------------------------


def test_customer_folders_hold_only_that_customer(tmp_path, capsys):
    ids = {"K10127": "Suedline GmbH", "K10004": None}
    args = ["dossiers", "--accounts", ",".join(ids), "--out", str(tmp_path), "--customer-facing"]
    assert main(args) == 0
    batch = tmp_path / "2026-09-28-customer"
    dataset_name = "Klebwerk sample"
    folders = sorted(p for p in batch.iterdir() if p.is_dir())
    assert [p.name for p in folders] == sorted(ids)
    for folder in folders:
        others = [i for i in ids if i != folder.name]
        for path in folder.rglob("*"):
            text = path.read_text(encoding="utf-8")
            assert folder.name in text and dataset_name not in text, path
            assert not any(other in text for other in others), path
    assert "Suedline GmbH" not in (batch / "K10004" / "K10004.html").read_text(encoding="utf-8")
    overview = batch / "internal-index.html"
    assert "not for customers" in overview.read_text(encoding="utf-8").lower()
    out = capsys.readouterr().out
    assert "one folder per customer" in out and str(overview) in out


def test_a_course_copy_with_its_group_company_can_be_replaced(tmp_path):
    from kamlib.workshop import copy_course

    course = copy_course(tmp_path / "c", seed=3)
    group = course / "data" / "group-3"
    assert _files.read_marker(group) == {"written_by": "kam sample"}
    copy_course(course, seed=3, replace=True)  # the group's sample is the kit's: replaced
    assert (group / "kam.yaml").is_file() and not (group / "scenario.csv").exists()


def test_a_name_too_long_for_the_file_system_exits_2(tmp_path, capsys):
    out = tmp_path / ("x" * 300)
    assert main(["dossiers", "--accounts", "K10127", "--workers", "1", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "File name too long" in err and "give a shorter --out" in err
    assert "Traceback" not in err and list(tmp_path.iterdir()) == []


def test_the_help_states_the_exit_codes_and_the_marker(capsys):
    with pytest.raises(SystemExit):
        main(["--help"])
    text = capsys.readouterr().out
    assert "exit codes:" in text and "0  done" in text
    assert "1  problems in the data" in text and "2  usage" in text and ".kam-written" in text
    with pytest.raises(SystemExit):
        main(["sample", "--help"])
    assert "--replace" in capsys.readouterr().out
