"""Running the notebooks headless and rendering them as HTML reports.

A run goes into a dated folder ``<out>/<timestamp>/`` that is written in a
temporary place and moved in when complete: one HTML report per notebook
(without code, exercise cells or the injected-parameters cell; charts embedded),
the executed notebooks, ``index.html`` and ``run.json``.
"""

from __future__ import annotations

import datetime as dt
import html
import json
import os
import platform
import time
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

from kamlib.dataset import load_dataset
from kamlib.paths import project_root, resolve_output

__all__ = ["NotebookRun", "ReportRun", "notebook_parameters", "run_reports"]

#: Cells with these tags are left out of reports.
HIDDEN_TAGS = ("exercise", "report-hide", "injected-parameters", "parameters")
_PACKAGES = ("kamlib", "pandas", "numpy", "matplotlib", "seaborn", "papermill", "nbconvert")


@dataclass
class NotebookRun:
    """Outcome of one notebook in a run."""

    notebook: str
    status: str
    seconds: float
    html: str = ""
    error: str = ""


@dataclass
class ReportRun:
    """A finished run: where it is and what happened."""

    folder: Path
    dataset: str
    parameters: dict
    notebooks: list[NotebookRun] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return all(n.status == "ok" for n in self.notebooks)


def default_notebooks() -> list[Path]:
    """The kit's notebooks, in course order."""
    return sorted((project_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def notebook_parameters(path: Path) -> dict:
    """Parameters the notebook declares in its ``parameters`` cell (name to info)."""
    import papermill as pm

    return pm.inspect_notebook(str(path))


def _render_html(executed: Path, target: Path) -> None:
    import nbformat
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    nb = nbformat.read(executed, as_version=4)
    exporter = HTMLExporter(
        exclude_input=True, exclude_input_prompt=True, exclude_output_prompt=True
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags=set(HIDDEN_TAGS), enabled=True), enabled=True
    )
    body, _ = exporter.from_notebook_node(nb)
    target.write_text(body, encoding="utf-8")


def _index(run: ReportRun, started: str) -> str:
    rows = "\n".join(
        f"<tr><td><a href='{html.escape(n.html)}'>{html.escape(n.notebook)}</a></td>"
        f"<td class='{n.status}'>{n.status}</td><td>{n.seconds:.1f} s</td>"
        f"<td>{html.escape(n.error)}</td></tr>"
        for n in run.notebooks
    )
    return f"""<!doctype html><html><head><meta charset="utf-8"><title>KAM reports {started}</title>
<style>body{{font-family:sans-serif;margin:2em}}td,th{{padding:.3em .8em;text-align:left}}
.ok{{color:#1e7b34}}.failed{{color:#a4261c;font-weight:bold}}</style></head><body>
<h1>KAM reports</h1><p>Run started {html.escape(started)} on dataset <code>{html.escape(run.dataset)}</code>.</p>
<table><tr><th>report</th><th>status</th><th>time</th><th>error</th></tr>
{rows}
</table></body></html>"""


def run_reports(
    notebooks: list[Path] | None = None,
    *,
    data: str = "sample",
    out: str | os.PathLike[str] = "reports",
    parameters: dict | None = None,
    timeout: int = 600,
) -> ReportRun:
    """Run ``notebooks`` on ``data`` and render them into a new dated folder.

    The dataset is validated first (a bad one raises :class:`DatasetError` before any
    notebook starts). A parameter that a notebook does not declare raises
    ``ValueError`` listing the ones it has. A notebook that fails is kept, with its
    error visible, and marked failed; the others still run.

    Returns
    -------
    ReportRun
        The folder written and the status and duration of each notebook.
    """
    import papermill as pm

    dataset = load_dataset(data)
    notebooks = [Path(n) for n in (notebooks or default_notebooks())]
    parameters = dict(parameters or {})
    declared_by = {nb: notebook_parameters(nb) for nb in notebooks}
    for nb, declared in declared_by.items():
        unknown = sorted(set(parameters) - set(declared))
        if unknown:
            raise ValueError(
                f"{nb.name} has no parameter {', '.join(map(repr, unknown))}; "
                f"its parameters are: {', '.join(declared) or 'none'}"
            )
    root = resolve_output(out)
    root.mkdir(parents=True, exist_ok=True)
    started = dt.datetime.now().astimezone()
    stamp = started.strftime("%Y-%m-%dT%H-%M-%S")
    tmp = root / f".incomplete-{stamp}"
    tmp.mkdir()
    run = ReportRun(folder=root / stamp, dataset=str(dataset.source), parameters=parameters)
    for nb in notebooks:
        executed = tmp / "executed" / nb.name
        executed.parent.mkdir(exist_ok=True)
        params = {"data": str(dataset.source), "exports": str(tmp / "exports"), **parameters}
        params = {k: v for k, v in params.items() if k in declared_by[nb]}
        t0 = time.perf_counter()
        status, error = "ok", ""
        try:
            pm.execute_notebook(
                str(nb),
                str(executed),
                parameters=params,
                kernel_name="python3",
                progress_bar=False,
                cwd=str(nb.parent),
                execution_timeout=timeout,
            )
        except pm.PapermillExecutionError as exc:
            status, error = "failed", f"{exc.ename}: {exc.evalue}"
        seconds = time.perf_counter() - t0
        page = nb.with_suffix(".html").name
        if executed.exists():
            _render_html(executed, tmp / page)
        run.notebooks.append(NotebookRun(nb.name, status, seconds, page, error))
    (tmp / "index.html").write_text(
        _index(run, started.isoformat(timespec="seconds")), encoding="utf-8"
    )
    meta = {
        "started": started.isoformat(timespec="seconds"),
        "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
        "dataset": str(dataset.source),
        "dataset_fingerprint": dataset.fingerprint(),
        "parameters": parameters,
        "python": platform.python_version(),
        "packages": {p: version(p) for p in _PACKAGES},
        "notebooks": [asdict(n) for n in run.notebooks],
        "status": "ok" if run.ok else "failed",
    }
    (tmp / "run.json").write_text(json.dumps(meta, indent=2), encoding="utf-8")
    os.replace(tmp, run.folder)
    return run
