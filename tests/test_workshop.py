"""A course copy per learner (kam course) and JupyterLab opened on it (kam lab)."""

from __future__ import annotations

import sys

import nbformat
import papermill as pm
import pytest

import kamlib
from kamlib.workshop import copy_course, lab_command


def test_copy_course_copies_the_notebooks_as_committed(tmp_path):
    course = copy_course(tmp_path / "anna")
    names = sorted(p.name for p in (course / "notebooks").glob("*.ipynb"))
    assert names == sorted(p.name for p in (kamlib.project_root() / "notebooks").glob("*.ipynb"))
    assert len(names) == 5
    for path in (course / "notebooks").glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            assert cell.get("outputs", []) == []
    assert "kam lab" in (course / "kam-course.txt").read_text(encoding="utf-8")
    assert not (course / "data").exists()  # no seed: the bundled sample


def test_copy_course_with_a_seed_writes_the_groups_company(tmp_path):
    course = copy_course(tmp_path / "table-3", seed=3)
    ds = kamlib.load_dataset(course / "data" / "group-3")
    assert "seed 3" in ds.name
    assert not (course / "data" / "group-3" / "scenario.csv").exists()  # the answer key
    assert 'data = "data/group-3"' in (course / "kam-course.txt").read_text(encoding="utf-8")


def test_copy_course_refuses_a_folder_that_is_not_a_copy(tmp_path):
    (tmp_path / "thesis").mkdir()
    (tmp_path / "thesis" / "chapter1.docx").write_text("x")
    with pytest.raises(ValueError, match=r"exists and is not a course copy"):
        copy_course(tmp_path / "thesis")
    course = copy_course(tmp_path / "c")
    with pytest.raises(ValueError, match=r"already holds a course copy; give replace=True"):
        copy_course(course)
    (course / "notebooks" / "00_start_here.ipynb").write_text("edited")
    copy_course(course, replace=True)
    nbformat.read(course / "notebooks" / "00_start_here.ipynb", as_version=4)  # restored


def test_kam_home_points_kamlib_at_the_copy(tmp_path, monkeypatch):
    course = copy_course(tmp_path / "c")
    monkeypatch.setenv("KAM_HOME", str(course))
    assert kamlib.project_root() == course.resolve()
    assert kamlib.resolve_output("exports") == course.resolve() / "exports"
    monkeypatch.delenv("KAM_HOME")
    assert kamlib.project_root() != course.resolve()


def test_a_kernel_in_the_copys_notebooks_folder_finds_the_copy(tmp_path, monkeypatch):
    # JupyterLab starts a notebook's kernel in the notebook's folder: on a shared hub, with
    # no KAM_HOME, kamlib must still write into the learner's copy, not the shared kit
    course = copy_course(tmp_path / "c")
    monkeypatch.delenv("KAM_HOME", raising=False)
    monkeypatch.chdir(course / "notebooks")
    assert kamlib.project_root() == course.resolve()
    monkeypatch.chdir(tmp_path)
    assert kamlib.project_root() != course.resolve()


@pytest.mark.slow
def test_a_copied_notebook_writes_into_the_copy(tmp_path, monkeypatch):
    course = copy_course(tmp_path / "c")
    monkeypatch.setenv("KAM_HOME", str(course))  # what kam lab sets; the kernel inherits it
    monkeypatch.setenv("KAM_CACHE", str(tmp_path / "cache"))  # the sample is made there
    pm.execute_notebook(
        str(course / "notebooks" / "00_start_here.ipynb"),
        str(tmp_path / "out.ipynb"),
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    assert (course / "exports" / "monthly_sales.csv").is_file()


def test_lab_command_for_the_kit_and_for_a_copy(tmp_path):
    kit = lab_command()
    assert kit.args[:3] == [sys.executable, "-m", "jupyterlab"]
    assert kit.args[-1].endswith("00_start_here.ipynb")
    assert "KAM_HOME" not in str(kit)
    course = copy_course(tmp_path / "c")
    copy = lab_command(course)
    assert copy.env["KAM_HOME"] == str(course.resolve())
    assert f"--notebook-dir={course.resolve() / 'notebooks'}" in copy.args
    assert str(copy).startswith(f"KAM_HOME={course.resolve()} ")
    with pytest.raises(ValueError, match=r"is not a course copy .*kam course --out"):
        lab_command(tmp_path)


def test_kam_course_and_kam_lab_commands(tmp_path, capsys):
    from kamlib.cli import main

    assert main(["course", "--out", str(tmp_path / "t2"), "--seed", "2"]) == 0
    assert "data/group-2" in capsys.readouterr().out
    assert main(["lab", str(tmp_path / "t2"), "--print", "--no-browser", "--port", "9001"]) == 0
    printed = capsys.readouterr().out
    assert printed.startswith(f"KAM_HOME={(tmp_path / 't2').resolve()} ")
    assert "-m jupyterlab" in printed and "--port=9001 --no-browser" in printed
    assert main(["course", "--out", str(tmp_path / "t2")]) == 2
    assert "kam course --replace" in capsys.readouterr().err
    assert main(["lab", str(tmp_path), "--print"]) == 2
    assert "is not a course copy" in capsys.readouterr().err
