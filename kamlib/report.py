"""Running the notebooks headless and rendering them as dated HTML reports.

A run goes into ``<out>/<timestamp>/``, written in a hidden temporary folder
(``.incomplete-<timestamp>``) and renamed into place only when complete:

* one self-contained HTML report per notebook (no code, no exercise or
  workshop cells, no injected parameters; charts embedded; nothing loaded from
  the internet), also for a notebook that failed, with its error visible;
* ``executed/``: the executed notebooks and their logs;
* ``exports/``: the tables the notebooks exported;
* ``index.html``: what changed since the previous run of the same
  configuration, then every report with its status and duration;
* ``run.json``: parameters, dataset and its fingerprint, package versions,
  start, end, status and duration per notebook.

Notebooks run in separate processes (papermill), several at a time, each with
a time limit; each through a small wrapper (:mod:`kamlib._child`) that ends papermill
and its kernel when the run ends, is stopped, or is killed. Earlier runs are never
touched, except that ``keep`` prunes the oldest complete runs. Each run folder holds
the kit's marker ``.kam-written`` with the run's id (also in ``run.json``); only
folders carrying it are pruned, and only the temporary folders of killed runs that
carry it (with the pid and start time of their process, now gone) are removed. Links
and everything else in the output folder are left alone.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from importlib.metadata import version
from pathlib import Path

import pandas as pd
import yaml

from kamlib._files import (
    check_out_folder,
    new_run_id,
    read_marker,
    remove_kit_folder,
    remove_stale,
    write_marker,
)
from kamlib._yaml import load_yaml_file
from kamlib.dataset import load_dataset
from kamlib.paths import project_root, resolve_output
from kamlib.safe import CSP
from kamlib.validation import closest

__all__ = [
    "NotebookRun",
    "ReportConfig",
    "ReportRun",
    "default_notebooks",
    "load_report_config",
    "notebook_parameters",
    "run_reports",
]

#: Cells with these tags are left out of reports.
HIDDEN_TAGS = ("exercise", "report-hide", "injected-parameters", "parameters")
_PACKAGES = ("kamlib", "pandas", "numpy", "matplotlib", "seaborn", "papermill", "nbconvert")
_TEMPLATES = Path(__file__).parent / "templates"
_STAMP = "%Y-%m-%dT%H-%M-%S"
_WRITTEN_BY = "kam report"
#: Parameters the runner sets for every notebook: never from -p or a config.
RUNNER_PARAMETERS = {
    "data": "give the dataset with --data (or data: in the config), so that it is checked "
    "and recorded in run.json",
    "exports": "the runner writes the exports into the run's own folder",
    "interactive": "reports are drawn without the sliders",
}
#: Parameters declared as text that must hold a date (YYYY-MM-DD) or be empty.
_DATE_PARAMETERS = ("as_of",)
#: Papermill's inferred type of a parameter: whether a value fits, and what is expected.
_TYPES = {
    "int": (lambda v: isinstance(v, int) and not isinstance(v, bool), "a whole number (int)"),
    "float": (lambda v: isinstance(v, int | float) and not isinstance(v, bool), "a number (float)"),
    "bool": (lambda v: isinstance(v, bool), "true or false (bool)"),
    "str": (
        lambda v: isinstance(v, str | int | float) and not isinstance(v, bool),
        "a text (str)",
    ),
    "dict": (lambda v: isinstance(v, dict), "a mapping (dict), e.g. '{x: 0.5, y: 1.0}'"),
    "list": (lambda v: isinstance(v, list), "a list, e.g. '[a, b]'"),
}


@dataclass
class NotebookRun:
    """Outcome of one notebook in a run."""

    notebook: str
    status: str
    seconds: float
    html: str = ""
    error: str = ""
    figures: int = 0


@dataclass
class ReportRun:
    """A finished run: where it is and what happened."""

    folder: Path
    dataset: str
    parameters: dict
    notebooks: list[NotebookRun] = field(default_factory=list)
    changes: dict = field(default_factory=dict)
    seconds: float = 0.0

    @property
    def ok(self) -> bool:
        return all(n.status == "ok" for n in self.notebooks)


@dataclass(frozen=True)
class ReportConfig:
    """What ``kam report --config FILE`` reads (see ``reports.example.yaml``).

    Attributes
    ----------
    data : str
        Dataset: folder, kam.yaml file or ``sample``.
    notebooks : list of str
        Notebook names (``02_abc_xyz``) or paths; empty means all.
    parameters : dict
        Parameters for every notebook that declares them.
    notebook_parameters : dict of str to dict
        Parameters for one notebook each (by name).
    out : str
        Folder of the dated runs.
    keep : int or None
        How many complete runs to keep (the oldest are pruned).
    timeout : int
        Seconds one notebook may take before it is stopped and marked failed.
    workers : int
        Notebooks run at the same time.
    source : str
        The config file, if any (runs of the same config are compared).
    """

    data: str = "sample"
    notebooks: list[str] = field(default_factory=list)
    parameters: dict = field(default_factory=dict)
    notebook_parameters: dict = field(default_factory=dict)
    out: str = "reports"
    keep: int | None = None
    timeout: int = 600
    workers: int = 2
    source: str = ""


_CONFIG_KEYS = {
    "data",
    "notebooks",
    "parameters",
    "notebook_parameters",
    "out",
    "keep",
    "timeout",
    "workers",
}


def load_report_config(path: str | os.PathLike[str]) -> ReportConfig:
    """Read and check a report configuration file.

    Raises
    ------
    ValueError
        Naming the file and every problem found.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such configuration file")
    # the kit's one YAML reader: yes/no stay text, repeated keys and alias bombs refused,
    # size bounded; its ConfigError (a ValueError) names the file and the line
    raw = load_yaml_file(path) or {}
    problems = []
    if not isinstance(raw, dict):
        raise ValueError(f"{path}: expected settings (key: value)")
    for key in raw:
        if key not in _CONFIG_KEYS:
            near = closest(str(key), sorted(_CONFIG_KEYS))
            problems.append(
                f"unknown setting {key!r}" + (f" (did you mean {near!r}?)" if near else "")
            )
    checks = {
        "notebooks": list,
        "parameters": dict,
        "notebook_parameters": dict,
        "keep": int,
        "timeout": int,
        "workers": int,
    }
    for key, kind in checks.items():
        if key in raw and raw[key] is not None and not isinstance(raw[key], kind):
            problems.append(f"{key} must be a {kind.__name__}, got {raw[key]!r}")
    for key in ("keep", "timeout", "workers"):
        if isinstance(raw.get(key), int) and raw[key] < 1:
            problems.append(f"{key} must be at least 1, got {raw[key]}")
    if problems:
        raise ValueError(f"{path}: " + "; ".join(problems))
    base = path.parent.resolve()
    data = str(raw.get("data", "sample"))
    if data != "sample" and not Path(data).is_absolute():
        data = str(base / data)  # relative to the configuration file, not to cron's directory
    out = str(raw.get("out", "reports"))
    if not Path(out).is_absolute():
        out = str(base / out)
    return ReportConfig(
        data=data,
        notebooks=[str(n) for n in raw.get("notebooks") or []],
        parameters=dict(raw.get("parameters") or {}),
        notebook_parameters={
            str(k): dict(v or {}) for k, v in (raw.get("notebook_parameters") or {}).items()
        },
        out=out,
        keep=raw.get("keep"),
        timeout=int(raw.get("timeout", 600)),
        workers=int(raw.get("workers", 2)),
        source=str(path.resolve()),
    )


def default_notebooks() -> list[Path]:
    """The kit's notebooks, in course order."""
    return sorted((project_root() / "notebooks").glob("[0-9][0-9]_*.ipynb"))


def _resolve_notebook(spec: str | os.PathLike[str]) -> Path:
    path = Path(spec)
    if path.is_file():
        return path
    folder = project_root() / "notebooks"
    candidate = folder / (path.name if path.suffix == ".ipynb" else f"{path.name}.ipynb")
    if candidate.is_file():
        return candidate
    names = [p.stem for p in default_notebooks()]
    near = closest(path.stem, names)
    raise ValueError(
        f"no notebook {str(spec)!r}; the kit's notebooks are: {', '.join(names)}"
        + (f" (did you mean {near!r}?)" if near else "")
    )


def notebook_parameters(path: Path) -> dict:
    """Parameters the notebook declares in its ``parameters`` cell (name to info)."""
    import papermill as pm

    return pm.inspect_notebook(str(path))


def _runner_owned(parameters: dict, per_notebook: dict) -> list[str]:
    given = [*parameters, *(name for params in per_notebook.values() for name in params)]
    return [
        f"{name!r} is set by the runner, not by -p or a config: {RUNNER_PARAMETERS[name]}"
        for name in dict.fromkeys(given)
        if name in RUNNER_PARAMETERS
    ]


def _type_problem(name: str, value, info: dict) -> str:
    """Why ``value`` does not fit the parameter declared as ``info`` ("" if it fits)."""
    kind = info.get("inferred_type_name", "None")
    if name in _DATE_PARAMETERS and kind == "str":
        if value in ("", None):
            return ""
        try:
            dt.date.fromisoformat(str(value))
            return ""
        except ValueError:
            return "a date YYYY-MM-DD (or empty for the last transaction date)"
    if kind not in _TYPES:
        return ""
    fits, expected = _TYPES[kind]
    return "" if fits(value) else expected


def _check_types(given_by: dict[Path, dict], declared_by: dict[Path, dict]) -> None:
    """Refuse values that do not fit the type a notebook declares (papermill's inference)."""
    problems = []
    for nb, params in given_by.items():
        for name in params:
            if name not in declared_by[nb]:
                continue  # given for the run, declared by another notebook
            info = declared_by[nb][name]
            expected = _type_problem(name, params[name], info)
            if expected:
                problems.append(
                    f"{nb.stem}: parameter {name!r} expects {expected} (its default is "
                    f"{info.get('default')}), got {params[name]!r}"
                )
    if problems:
        raise ValueError("; ".join(dict.fromkeys(problems)))


def _check_parameters(
    notebooks: list[Path], parameters: dict, per_notebook: dict, declared_by: dict[Path, dict]
) -> None:
    problems = _runner_owned(parameters, per_notebook)
    every = {name for declared in declared_by.values() for name in declared}
    for name in parameters:
        if name in RUNNER_PARAMETERS:
            continue
        if name not in every:
            listing = "; ".join(
                f"{nb.stem}: {', '.join(d) or 'none'}" for nb, d in declared_by.items()
            )
            problems.append(f"no notebook has a parameter {name!r} (parameters: {listing})")
    stems = {nb.stem: nb for nb in notebooks}
    for stem, params in per_notebook.items():
        nb = stems.get(Path(stem).stem)
        if nb is None:
            problems.append(
                f"parameters given for {stem!r}, which is not in this run ({', '.join(stems)})"
            )
            continue
        for name in params:
            if name not in declared_by[nb] and name not in RUNNER_PARAMETERS:
                problems.append(
                    f"{nb.name} has no parameter {name!r}; its parameters are: {', '.join(declared_by[nb])}"
                )
    if problems:
        raise ValueError("; ".join(problems))


def _count_figures(nb) -> int:
    hidden = set(HIDDEN_TAGS)
    return sum(
        1
        for cell in nb.cells
        if cell.cell_type == "code" and not hidden & set(cell.metadata.get("tags", []))
        for output in cell.get("outputs", [])
        if "image/png" in output.get("data", {}) or "image/svg+xml" in output.get("data", {})
    )


def _first_error(nb) -> str:
    for cell in nb.cells:
        for output in cell.get("outputs", []):
            if output.get("output_type") == "error":
                return f"{output.get('ename')}: {output.get('evalue')}"
    return ""


def _render_html(nb, target: Path) -> None:
    from nbconvert import HTMLExporter
    from nbconvert.preprocessors import TagRemovePreprocessor

    exporter = HTMLExporter(
        template_name="lab",
        extra_template_paths=[str(_TEMPLATES)],
        template_file="kam_report.html.j2",
        exclude_input=True,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
    )
    exporter.register_preprocessor(
        TagRemovePreprocessor(remove_cell_tags=set(HIDDEN_TAGS), enabled=True), enabled=True
    )
    body, _ = exporter.from_notebook_node(nb)
    target.write_text(body, encoding="utf-8")


class _Children:
    """Notebook processes under way, so that an interrupted run stops them too.

    Each notebook runs in a session of its own, so stopping it kills papermill and the
    kernel papermill started. Once :meth:`stop_all` was called, no new process starts.
    """

    def __init__(self) -> None:
        self._procs: set[subprocess.Popen] = set()
        self._lock = threading.Lock()
        self._stopped = False

    def run(
        self, args: list[str], *, timeout: int, log: Path, cwd: Path
    ) -> tuple[int | None, bool]:
        with log.open("w", encoding="utf-8") as out:
            with self._lock:
                if self._stopped:
                    return None, False
                proc = subprocess.Popen(
                    args, stdout=out, stderr=subprocess.STDOUT, cwd=cwd, start_new_session=True
                )
                self._procs.add(proc)
            try:
                return proc.wait(timeout=timeout), False
            except subprocess.TimeoutExpired:
                _kill_group(proc)
                proc.wait()
                return None, True
            finally:
                with self._lock:
                    self._procs.discard(proc)

    def stop_all(self) -> None:
        with self._lock:
            self._stopped = True
            for proc in self._procs:
                _kill_group(proc)


def _kill_group(proc: subprocess.Popen) -> None:
    """Stop a notebook: its wrapper ends papermill and the kernel; then its group is killed."""
    try:
        proc.terminate()
        proc.wait(timeout=5)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        pass
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):  # already gone
        pass


def _kernel_start_failed(log: Path) -> bool:
    text = log.read_text(encoding="utf-8", errors="replace")
    return "Kernel died before replying to kernel_info" in text or "Address already in use" in text


def _execute(
    nb_path: Path, folder: Path, params: dict, timeout: int, children: _Children
) -> NotebookRun:
    import nbformat

    executed = folder / "executed" / nb_path.name
    params_file = folder / "executed" / f"{nb_path.stem}.parameters.yaml"
    params_file.write_text(yaml.safe_dump(params, allow_unicode=True), encoding="utf-8")
    args = [
        sys.executable, "-m", "kamlib._child", str(os.getpid()), "--",
        sys.executable, "-m", "papermill", str(nb_path), str(executed),
        "-f", str(params_file), "-k", "python3", "--no-progress-bar", "--cwd", str(nb_path.parent),
    ]  # fmt: skip
    t0 = time.perf_counter()
    log = folder / "executed" / f"{nb_path.stem}.log"
    for _attempt in range(3):
        code, timed_out = children.run(args, timeout=timeout, log=log, cwd=nb_path.parent)
        # kernels started by parallel processes can pick the same free port; such a kernel
        # dies before running anything, and starting it again is safe
        if code == 0 or timed_out or not _kernel_start_failed(log):
            break
    seconds = time.perf_counter() - t0
    page = nb_path.with_suffix(".html").name
    if not executed.exists():
        return NotebookRun(
            nb_path.name, "failed", seconds, "", f"did not start (see executed/{nb_path.stem}.log)"
        )
    nb = nbformat.read(executed, as_version=4)
    error, figures = _first_error(nb), _count_figures(nb)
    if timed_out:
        error = f"stopped after the time limit of {timeout} s"
    elif code != 0 and not error:
        error = f"papermill exited with {code} (see executed/{nb_path.stem}.log)"
    wanted = nb.metadata.get("kam", {}).get("min_figures", 0)
    if not error and figures < wanted:
        error = (
            f"the report has {figures} figure(s), the notebook draws at least {wanted}: a plotting "
            "backend drew nothing (is MPLBACKEND set to a non-inline backend?)"
        )
    _render_html(nb, folder / page)
    return NotebookRun(nb_path.name, "failed" if error else "ok", seconds, page, error, figures)


# --- what changed since the previous run ---------------------------------------------

#: Exported tables compared between runs: file stem -> (id column, value column, label).
CHANGE_SOURCES = {
    "abc_xyz_accounts": ("account_id", "cell", "changed ABC-XYZ class"),
    "key_accounts": ("account_id", None, "key-account list"),
    "lost_accounts": ("account_id", None, "newly declared lost"),
}


def _read_export(folder: Path, stem: str) -> pd.DataFrame | None:
    path = folder / "exports" / f"{stem}.csv"
    return pd.read_csv(path, encoding="utf-8-sig", dtype=str) if path.is_file() else None


def _changes(current: Path, previous: Path | None) -> dict:
    out: dict = {"previous": previous.name if previous else None, "sections": []}
    if previous is None:
        return out
    for stem, (key, value, label) in CHANGE_SOURCES.items():
        now, before = _read_export(current, stem), _read_export(previous, stem)
        section: dict = {"table": stem, "label": label}
        if now is None or before is None:
            section["note"] = "not in both runs (no notebook of this run exports it yet)"
        elif value is not None:
            both = before[[key, value]].merge(
                now[[key, value]], on=key, suffixes=("_before", "_now")
            )
            moved = both[both[f"{value}_before"] != both[f"{value}_now"]]
            section["rows"] = moved.rename(
                columns={f"{value}_before": "before", f"{value}_now": "now"}
            ).to_dict("records")
        else:
            old, new = set(before[key]), set(now[key])
            section["entered"] = sorted(new - old)
            section["left"] = sorted(old - new)
        out["sections"].append(section)
    return out


def _changes_html(changes: dict) -> str:
    if changes.get("previous") is None:
        return "<p>This is the first run of this configuration: nothing to compare with yet.</p>"
    parts = [f"<p>Compared with the run of {html.escape(changes['previous'])}.</p>"]
    for section in changes["sections"]:
        title = html.escape(section["label"])
        if "note" in section:
            parts.append(f"<p><b>{title}:</b> {html.escape(section['note'])}.</p>")
        elif "rows" in section:
            rows = section["rows"]
            items = "".join(
                f"<tr><td>{html.escape(str(r['account_id']))}</td><td>{html.escape(str(r['before']))}</td>"
                f"<td>{html.escape(str(r['now']))}</td></tr>"
                for r in rows[:50]
            )
            more = (
                f"<p>… and {len(rows) - 50} more (run.json lists all).</p>"
                if len(rows) > 50
                else ""
            )
            parts.append(
                f"<h3>{len(rows)} account(s) {title}</h3>"
                + (
                    f"<table><tr><th>account</th><th>before</th><th>now</th></tr>{items}</table>{more}"
                    if rows
                    else ""
                )
            )
        else:
            entered = ", ".join(map(html.escape, section["entered"])) or "none"
            left = ", ".join(map(html.escape, section["left"])) or "none"
            parts.append(f"<h3>{title}</h3><p>Entered: {entered}.<br>Left: {left}.</p>")
    return "\n".join(parts)


def _index(run: ReportRun, started: str, fingerprint: str) -> str:
    rows = "\n".join(
        f"<tr><td><a href='{html.escape(n.html)}'>{html.escape(n.notebook)}</a></td>"
        f"<td class='{n.status}'>{n.status}</td><td>{n.seconds:.1f} s</td>"
        f"<td>{html.escape(n.error)}</td></tr>"
        for n in run.notebooks
    )
    params = (
        html.escape(json.dumps(run.parameters, ensure_ascii=False))
        if run.parameters
        else "defaults"
    )
    status = "all reports ok" if run.ok else "SOME REPORTS FAILED"
    return f"""<!doctype html><html><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="{html.escape(CSP)}">
<title>KAM reports {html.escape(started)}</title>
<style>body{{font-family:sans-serif;margin:2em;max-width:70em}}td,th{{padding:.3em .8em;text-align:left;vertical-align:top}}
.ok{{color:#1e7b34}}.failed{{color:#a4261c;font-weight:bold}}</style></head><body>
<h1>KAM reports — {html.escape(started)}</h1>
<p class='{"ok" if run.ok else "failed"}'>{status}</p>
<p>Dataset <code>{html.escape(run.dataset)}</code> (fingerprint <code>{fingerprint[:12]}</code>); parameters: {params}.</p>
<h2>What changed since the last run</h2>
{_changes_html(run.changes)}
<h2>Reports</h2>
<table><tr><th>report</th><th>status</th><th>time</th><th>error</th></tr>
{rows}
</table></body></html>"""


# --- the run folder -------------------------------------------------------------------


def _config_id(
    data: str, notebooks: list[Path], parameters: dict, per_notebook: dict, source: str
) -> str:
    key = source or json.dumps(
        [data, [nb.name for nb in notebooks], parameters, per_notebook], sort_keys=True, default=str
    )
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def _run_id(folder: Path) -> str:
    """The run id in ``run.json`` of ``folder`` ("" if none, or not a regular file)."""
    path = folder / "run.json"
    try:
        if path.is_symlink() or not path.is_file():
            return ""
        return str(json.loads(path.read_text(encoding="utf-8")).get("run_id", ""))
    except (OSError, ValueError, AttributeError):
        return ""


def _complete_runs(root: Path) -> list[Path]:
    """The complete runs in ``root`` that the kit wrote: a timestamp name, a real folder
    whose marker carries the run id of its ``run.json``. Anything else is not a run."""
    runs = []
    for path in root.iterdir() if root.is_dir() else []:
        try:
            dt.datetime.strptime(path.name[:19], _STAMP)
        except ValueError:
            continue
        marker = read_marker(path)  # None for a link or a folder without the marker
        if (
            marker is not None
            and marker.get("written_by") == _WRITTEN_BY
            and marker.get("run_id")
            and marker.get("run_id") == _run_id(path)
        ):
            runs.append(path)
    return sorted(runs)


def _previous_run(root: Path, config_id: str) -> Path | None:
    for path in reversed(_complete_runs(root)):
        try:
            if (
                json.loads((path / "run.json").read_text(encoding="utf-8")).get("config_id")
                == config_id
            ):
                return path
        except (OSError, json.JSONDecodeError):
            continue
    return None


def run_reports(
    notebooks: list[str | os.PathLike[str]] | None = None,
    *,
    data: str = "sample",
    out: str | os.PathLike[str] = "reports",
    parameters: dict | None = None,
    per_notebook: dict | None = None,
    timeout: int = 600,
    workers: int = 2,
    keep: int | None = None,
    config_source: str = "",
) -> ReportRun:
    """Run ``notebooks`` on ``data`` and render them into a new dated folder.

    The output folder and the dataset are checked first: a bad dataset raises
    :class:`DatasetError`, an ``out`` that is a file or cannot be written ValueError,
    before any notebook starts. A parameter that no notebook of the run declares (or,
    given per notebook, that notebook does not declare), one the runner sets (``data``,
    ``exports``, ``interactive``: see :data:`RUNNER_PARAMETERS`) or a value of the wrong
    type for the notebook's declaration raises ``ValueError`` naming the parameter,
    the notebook, the type expected and the value. A notebook that fails, runs over ``timeout`` seconds or draws fewer
    figures than its ``kam.min_figures`` metadata says is kept, with its error visible,
    and marked failed; the others still run.

    Returns
    -------
    ReportRun
        The folder written, the status, duration and figure count of each notebook,
        and the changes since the previous run of the same configuration.
    """
    t_run = time.perf_counter()
    root = resolve_output(out)
    check_out_folder(root)
    dataset = load_dataset(data)
    paths = [_resolve_notebook(n) for n in (notebooks or default_notebooks())]
    parameters = dict(parameters or {})
    per_notebook = dict(per_notebook or {})
    declared_by = {nb: notebook_parameters(nb) for nb in paths}
    _check_parameters(paths, parameters, per_notebook, declared_by)
    given_by = {nb: {**parameters, **per_notebook.get(nb.stem, {})} for nb in paths}
    _check_types(given_by, declared_by)
    root.mkdir(parents=True, exist_ok=True)
    remove_stale(root, written_by=_WRITTEN_BY)
    started = dt.datetime.now().astimezone()
    stamp = started.strftime(_STAMP)
    run_id = new_run_id()
    tmp = Path(tempfile.mkdtemp(prefix=f".incomplete-{stamp}-", dir=root))
    config_id = _config_id(str(dataset.source), paths, parameters, per_notebook, config_source)
    run = ReportRun(folder=root / stamp, dataset=str(dataset.source), parameters=parameters)
    children = _Children()
    try:
        write_marker(tmp, written_by=_WRITTEN_BY, run_id=run_id, running=True)
        tmp.chmod(0o755)
        (tmp / "executed").mkdir()
        (tmp / "exports").mkdir()
        jobs = []
        for nb in paths:
            # reports leave the sliders out, so a headless run does not build them
            params = {
                # absolute: the notebooks run in their own folder, not the caller's
                "data": str(dataset.source.absolute()),
                "exports": str(tmp / "exports"),
                "interactive": False,
                **_as_declared(given_by[nb], declared_by[nb]),
            }
            jobs.append((nb, {k: v for k, v in params.items() if k in declared_by[nb]}))
        # no `with`: on an interruption it would wait for every notebook to run to its end;
        # instead the notebooks under way are killed first, queued ones never start
        pool = ThreadPoolExecutor(max_workers=max(1, workers))
        try:
            futures = [
                pool.submit(_execute, nb, tmp, params, timeout, children) for nb, params in jobs
            ]
            run.notebooks = [f.result() for f in futures]
        except BaseException:
            children.stop_all()
            pool.shutdown(wait=True, cancel_futures=True)  # threads done before tmp is removed
            raise
        pool.shutdown()
        previous = _previous_run(root, config_id)
        run.changes = _changes(tmp, previous)
        fingerprint = dataset.fingerprint()
        (tmp / "index.html").write_text(
            _index(run, started.isoformat(timespec="seconds"), fingerprint),
            encoding="utf-8",
        )
        run.seconds = time.perf_counter() - t_run
        meta = {
            "run_id": run_id,
            "config_id": config_id,
            "config": config_source,
            "started": started.isoformat(timespec="seconds"),
            "finished": dt.datetime.now().astimezone().isoformat(timespec="seconds"),
            "seconds": round(run.seconds, 2),
            "dataset": str(dataset.source),
            "dataset_fingerprint": fingerprint,
            "parameters": parameters,
            "notebook_parameters": per_notebook,
            "python": platform.python_version(),
            "packages": {p: version(p) for p in _PACKAGES},
            "notebooks": [asdict(n) for n in run.notebooks],
            "changes": run.changes,
            "status": "ok" if run.ok else "failed",
        }
        (tmp / "run.json").write_text(
            json.dumps(meta, indent=2, ensure_ascii=False), encoding="utf-8"
        )
        write_marker(tmp, written_by=_WRITTEN_BY, run_id=run_id)  # complete: no pid
        final = run.folder
        suffix = 1
        while final.exists():  # two runs in the same second
            final = root / f"{stamp}-{suffix}"
            suffix += 1
        os.replace(tmp, final)
        run.folder = final
    except BaseException:
        children.stop_all()
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if keep is not None:
        for old in _complete_runs(root)[:-keep]:
            if old != run.folder:
                remove_kit_folder(old, written_by=_WRITTEN_BY, run_id=_run_id(old))
    return run


def _as_declared(given: dict, declared: dict) -> dict:
    """Numbers given for a parameter declared as text become text (``-p account=10127``)."""
    return {
        name: str(value)
        if declared.get(name, {}).get("inferred_type_name") == "str"
        and isinstance(value, int | float)
        and not isinstance(value, bool)
        else value
        for name, value in given.items()
    }
