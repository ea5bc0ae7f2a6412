"""The course on other companies: every notebook runs top to bottom with its defaults on
learners' samples of other seeds (``kam sample --seed N``), and every exercise's solution
passes its check there, computed in the notebook's own kernel."""

from __future__ import annotations

import json

import nbformat
import pytest

import kamlib
from kamlib.report import default_notebooks, run_reports
from kamlib.sample import write_sample

SEEDS = [1, 2, 3]

# appended to each notebook: run every exercise's solution in the notebook's namespace
CHECK_SOLUTIONS = """
import json as _json
_status = {}
for _key, _exercise in exercises.items():
    _space = dict(globals())
    exec(_exercise.solution_code, _space)
    _status[_key] = _exercise.check(_space["answer"]).status
print("SOLUTIONS " + _json.dumps(_status))
"""


@pytest.fixture(scope="module")
def course_with_checks(tmp_path_factory):
    folder = tmp_path_factory.mktemp("course")
    paths = []
    for path in default_notebooks():
        nb = nbformat.read(path, as_version=4)
        nb.cells.append(nbformat.v4.new_code_cell(CHECK_SOLUTIONS))
        target = folder / path.name
        nbformat.write(nb, target)
        paths.append(target)
    return paths


@pytest.mark.slow
@pytest.mark.parametrize("seed", SEEDS)
def test_every_notebook_runs_and_every_solution_passes_on_another_seed(
    tmp_path, course_with_checks, seed
):
    data = write_sample(tmp_path / f"group-{seed}", seed=seed)  # what a trainer hands out
    run = run_reports(course_with_checks, data=str(data), out=tmp_path / "reports")
    failed = {n.notebook: n.error for n in run.notebooks if n.status != "ok"}
    assert not failed, failed
    assert len(run.notebooks) == len(course_with_checks) == 5
    for path in course_with_checks:
        executed = nbformat.read(run.folder / "executed" / path.name, as_version=4)
        text = "".join(o.get("text", "") for o in executed.cells[-1].outputs)
        status = json.loads(text.split("SOLUTIONS ", 1)[1])
        assert len(status) >= (2 if path.name.startswith("00") else 3), (path.name, status)
        assert set(status.values()) == {"correct"}, (path.name, seed, status)


def test_the_seeds_give_different_companies():
    firsts = {
        seed: kamlib.generate_sample(seed=seed).tables["accounts"]["name"].iloc[0] for seed in SEEDS
    }
    assert len(set(firsts.values())) == len(SEEDS)
