"""Hostile datasets and the checks the adversarial suite applies to every command.

Everything here works on folders in a temporary directory and on the real ``kam``
command, run as a separate process: :func:`run_cli` (exit code, stdout, stderr),
:func:`tree_state` and :func:`changes` (what a command changed in a folder tree),
:func:`html_problems` (live script, event handlers, script URLs in a written page) and
the builders of hostile datasets (:func:`payload_dataset`, :func:`tiny_dataset`).
"""

from __future__ import annotations

import csv
import hashlib
import html.parser
import io
import os
import re
import resource
import signal
import stat
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from kamlib.schema import MODEL

#: Text a hostile user types into every free-text field.
PAYLOADS = (
    "<script>alert(1)</script>",
    "<img src=x onerror=alert(1)>",
    "<svg onload=alert(1)>",
    "[x](javascript:alert(1))",
    '=HYPERLINK("http://x")',
    "<javascript:alert(1)>",
    "![x](javascript:alert(1))",
    '" onmouseover="alert(1)',
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "<a href='javascript:alert(1)'>x</a>",
    "<iframe src=javascript:alert(1)>",
    "**bold** `code` _it_",
)
#: Text that only a payload puts into a page or file.
MARKERS = ("alert(1)", "javascript:", "onerror=", "onload=", "<script", "<svg", "HYPERLINK")
#: The dataset's `name:`; none of it may reach a page meant for a customer.
DATASET_NAME = "Hostile Holding Internal <script>alert(1)</script> [x](javascript:alert(1))"
DATASET_TOKEN = "Hostile Holding Internal"
SECRET = "s3cret-s3cret-s3cret"
TRACEBACK = "Traceback (most recent call last)"
#: A YAML alias bomb: 9 ** 9 copies of "lol" once expanded.
BOMB = "".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
        *(
            f"{c}: &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)
#: The same bomb as the items of a list (``notebooks:`` of a report configuration).
BOMB_LIST = "".join(
    [
        '  - &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]\n',
        *(
            f"  - &{c} [*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p},*{p}]\n"
            for p, c in zip("abcdefgh", "bcdefghi", strict=True)
        ),
    ]
)
#: Memory a command may take before the operating system stops it (a bomb fails, not hangs).
MEMORY_LIMIT = 2 * 1024**3

# --- running the command ----------------------------------------------------------------


@dataclass
class Result:
    """What one run of ``kam`` did."""

    args: list[str]
    code: int
    out: str
    err: str

    def __iter__(self):  # code, out, err = run_cli(...)
        return iter((self.code, self.out, self.err))

    def describe(self) -> str:
        """The command, its exit code and the end of its output (for assertion messages)."""
        return (
            f"kam {' '.join(self.args)} -> exit {self.code}\n"
            f"--- stdout (end) ---\n{self.out[-1500:]}\n--- stderr (end) ---\n{self.err[-3000:]}"
        )


def _limit_memory() -> None:  # pragma: no cover - runs in the child
    resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))


def kam_command(args: Iterable[str]) -> list[str]:
    """The command line that runs ``kam ARGS`` with this interpreter."""
    return [sys.executable, "-m", "kamlib.cli", *map(str, args)]


def run_cli(
    args: Iterable[str],
    *,
    cwd: Path | None = None,
    timeout: float = 600,
    limit_memory: bool = False,
    env: dict[str, str] | None = None,
) -> Result:
    """Run ``kam ARGS`` as a separate process and return its exit code and output.

    ``limit_memory`` caps the process at :data:`MEMORY_LIMIT` of address space, so a
    configuration that makes the kit allocate without bound fails instead of eating the
    machine; ``timeout`` bounds its time the same way (the process is killed, and
    the test fails with :class:`subprocess.TimeoutExpired`).
    """
    args = [str(a) for a in args]
    proc = subprocess.run(
        kam_command(args),
        capture_output=True,
        text=True,
        errors="replace",
        cwd=cwd,
        timeout=timeout,
        env={**os.environ, "PYTHONWARNINGS": "ignore", **(env or {})},
        preexec_fn=_limit_memory if limit_memory else None,
    )
    return Result(args, proc.returncode, proc.stdout, proc.stderr)


def check_result(result: Result, codes: int | Iterable[int]) -> None:
    """Assert: no traceback anywhere, and one of the documented exit ``codes``."""
    codes = {codes} if isinstance(codes, int) else set(codes)
    assert TRACEBACK not in result.err and TRACEBACK not in result.out, result.describe()
    assert result.code in codes, f"expected exit {sorted(codes)}\n{result.describe()}"


# --- what a command changed ---------------------------------------------------------------


def tree_state(root: Path, exclude: Iterable[Path] = ()) -> dict[str, tuple]:
    """Every path under ``root`` (relative) with its mode and content or link target.

    Links are recorded, never followed; paths equal to or under one of ``exclude`` are
    left out.
    """
    root = Path(root)
    skip = {os.path.abspath(p) for p in exclude}
    state: dict[str, tuple] = {}
    for here, dirs, files in os.walk(root, followlinks=False):
        for name in [*dirs, *files]:
            path = os.path.join(here, name)
            if os.path.abspath(path) in skip:
                continue
            info = os.lstat(path)
            rel = os.path.relpath(path, root)
            if stat.S_ISLNK(info.st_mode):
                state[rel] = ("link", info.st_mode, os.readlink(path))
            elif stat.S_ISREG(info.st_mode):
                with open(path, "rb") as fh:
                    digest = hashlib.sha256(fh.read()).hexdigest()
                state[rel] = ("file", info.st_mode, digest)
            else:
                state[rel] = ("other", info.st_mode, "")
        dirs[:] = [d for d in dirs if os.path.abspath(os.path.join(here, d)) not in skip]
    return state


def changes(before: dict[str, tuple], after: dict[str, tuple]) -> list[str]:
    """What differs between two :func:`tree_state` results, one line per path."""
    lines = []
    for path in sorted(before.keys() | after.keys()):
        if path not in after:
            lines.append(f"deleted: {path}")
        elif path not in before:
            lines.append(f"created: {path}")
        elif before[path] != after[path]:
            lines.append(f"changed: {path} {before[path]} -> {after[path]}")
    return lines


# --- pages ---------------------------------------------------------------------------------

_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}
_BAD_SCHEMES = ("javascript:", "vbscript:", "data:text/html")


class _PageCheck(html.parser.HTMLParser):
    """Collects what in a page could run: script elements, handlers, script URLs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []
        self.scripts: list[str] = []
        self.csp: list[str] = []
        self.text: list[str] = []
        self._script: list[str] | None = None

    def handle_starttag(self, tag, attrs):
        line = self.getpos()[0]
        for name, value in attrs:
            name = name.lower()
            if name.startswith("on"):
                self.problems.append(f"line {line}: <{tag}> has an event handler {name}={value!r}")
            value = value or ""
            self.text.append(value)
            squeezed = re.sub(r"[\s\x00-\x1f]+", "", value).lower()
            if name in _URL_ATTRIBUTES and squeezed.startswith(_BAD_SCHEMES):
                self.problems.append(f"line {line}: <{tag} {name}={value[:80]!r}>")
        if tag == "meta":
            fields = {k.lower(): v or "" for k, v in attrs}
            if fields.get("http-equiv", "").lower() == "content-security-policy":
                self.csp.append(fields.get("content", ""))
        if tag == "script":
            self._script = []
        for forbidden in ("iframe", "object", "embed", "base"):
            if tag == forbidden:
                self.problems.append(f"line {line}: a <{tag}> element")

    def handle_startendtag(self, tag, attrs):
        self.handle_starttag(tag, attrs)
        if tag == "script":
            self.handle_endtag(tag)

    def handle_endtag(self, tag):
        if tag == "script" and self._script is not None:
            body = "".join(self._script)
            self.scripts.append(body)
            if any(marker in body for marker in MARKERS):
                self.problems.append(f"a <script> element runs a payload: {body[:120]!r}")
            self._script = None

    def handle_data(self, data):
        if self._script is not None:
            self._script.append(data)
        self.text.append(data)


def parse_page(path: Path) -> _PageCheck:
    """The parsed page ``path`` (see :func:`html_problems`)."""
    check = _PageCheck()
    check.feed(Path(path).read_text(encoding="utf-8", errors="replace"))
    check.close()
    return check


def html_problems(path: Path) -> list[str]:
    """What in the page ``path`` a payload could have made run.

    A ``<script>`` element holding a payload, any attribute named ``on…``, a URL
    attribute starting with ``javascript:``, ``vbscript:`` or ``data:text/html``, and
    ``iframe``, ``object``, ``embed`` or ``base`` elements.
    """
    return parse_page(path).problems


def page_text(path: Path) -> str:
    """The text and attribute values of a page, entities decoded (what a reader sees)."""
    return "\n".join(parse_page(path).text)


def pages(folder: Path) -> list[Path]:
    """Every ``.html`` file under ``folder``."""
    return sorted(Path(folder).rglob("*.html"))


# --- hostile datasets ------------------------------------------------------------------------


def _model_text_columns(table: str) -> list[str]:
    """The free-text columns of ``table``: strings, not ids (categories cannot carry text)."""
    return [
        c.name for c in MODEL[table].columns if c.type == "string" and not c.name.endswith("_id")
    ]


def _read_csv(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding="utf-8", newline="") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def _write_csv(path: Path, header: list[str], rows: list[list[str]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    path.write_text(buffer.getvalue(), encoding="utf-8", newline="")


@dataclass(frozen=True)
class PayloadDataset:
    """A sample company whose every free-text cell carries a payload."""

    folder: Path
    #: account id -> the account's name before the payload was added
    account_names: dict[str, str]
    contact_names: list[str]


def make_sample(folder: Path, *, accounts: int = 30, years: int = 3, seed: int = 5) -> Path:
    """Write a sample company with ``kam sample`` (the real command)."""
    result = run_cli(
        ["sample", "--out", folder, "--accounts", accounts, "--years", years, "--seed", seed],
        timeout=300,
    )
    check_result(result, 0)
    (folder / ".kam-written").unlink(missing_ok=True)  # a user's dataset: no kit marker
    return folder


def add_payloads(folder: Path) -> PayloadDataset:
    """Append a payload to every free-text cell and to the dataset's ``name:``.

    Each distinct text gets the same payload wherever it occurs (the ``i``-th distinct
    text of a column gets ``PAYLOADS[i % 5]``, a formula in front of the text, the others
    after it), so groups, keys and joins stay as they were; empty cells stay empty. Each
    third account's ``group`` becomes ``<its name's first word> Gruppe``, and
    each fourth contact's job title names the company, the person's e-mail address and a
    phone number: real-world leaks of names into other columns.
    """
    account_names: dict[str, str] = {}
    contact_names: list[str] = []
    for table in MODEL:
        path = folder / f"{table}.csv"
        if not path.is_file():
            continue
        header, rows = _read_csv(path)
        if table == "accounts":
            at_id, at_name = header.index("account_id"), header.index("name")
            account_names = {row[at_id]: row[at_name] for row in rows}
            if "group" in header:
                at_group = header.index("group")
                for row in rows[::3]:
                    row[at_group] = f"{row[at_name].split()[0]} Gruppe"
        if table == "contacts":
            contact_names = [row[header.index("name")] for row in rows]
            at_title, at_account = header.index("job_title"), header.index("account_id")
            for n, row in enumerate(rows[::4]):
                company = account_names.get(row[at_account], "X").split()[0]
                person = row[header.index("name")]
                login = person.lower().replace(" ", ".")
                row[at_title] = (
                    f"{row[at_title]} at {company}, {login}@{company.lower()}.example, "
                    f"+49 171 55{n:05d}"
                )
        for column in _model_text_columns(table):
            if column not in header:
                continue
            at = header.index(column)
            distinct: dict[str, str] = {}
            for row in rows:
                value = row[at]
                if value.strip() and value not in distinct:
                    payload = PAYLOADS[len(distinct) % len(PAYLOADS)]
                    # a formula only runs from the start of a cell
                    distinct[value] = (
                        f"{payload} {value}" if payload.startswith("=") else f"{value} {payload}"
                    )
                row[at] = distinct.get(value, value)
        _write_csv(path, header, rows)
    config = folder / "kam.yaml"
    lines = config.read_text(encoding="utf-8").splitlines()
    lines = [
        f"name: {yaml_quote(DATASET_NAME)}" if line.startswith("name:") else line for line in lines
    ]
    config.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return PayloadDataset(folder, account_names, contact_names)


def yaml_quote(text: str) -> str:
    """``text`` as a double-quoted YAML scalar."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


#: The tiny dataset of tests/conftest.py, in the model's column names.
TINY_ACCOUNTS = """\
account_id,name,country,is_prestige
A1,Alpha GmbH,DE,yes
A2,Beta AG,CH,no
A3,Gamma SAS,FR,
"""
TINY_TRANSACTIONS = """\
account_id,date,amount,quantity,cost,product_id,invoice_id
A1,2025-01-15,1000.00,100,600.00,P1,R1
A1,2025-02-15,500.00,50,300.00,P1,R2
A2,2025-01-20,250.50,20,200.00,P2,R3
A3,2025-03-01,-50.00,-5,-30.00,P1,R4
"""


def tiny_dataset(
    folder: Path,
    *,
    files: dict[str, str | bytes] | None = None,
    yaml: str | bytes | None = None,
) -> Path:
    """Write a small dataset: ``files`` (name -> text or bytes) and an optional kam.yaml.

    Without ``files`` the conftest's transactions and accounts are written.
    """
    folder.mkdir(parents=True, exist_ok=True)
    if files is None:
        files = {"transactions.csv": TINY_TRANSACTIONS, "accounts.csv": TINY_ACCOUNTS}
    for name, content in files.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8", newline="")
    if isinstance(yaml, bytes):
        (folder / "kam.yaml").write_bytes(yaml)
    elif yaml is not None:
        (folder / "kam.yaml").write_text(textwrap.dedent(yaml), encoding="utf-8")
    return folder


# --- processes ---------------------------------------------------------------------------------


def slow_notebook(path: Path, *, seconds: int = 600) -> Path:
    """Write a notebook that takes ``seconds`` (a run long enough to be killed under way)."""
    import nbformat

    params = nbformat.v4.new_code_cell('data = "sample"\nexports = "exports"')
    params.metadata["tags"] = ["parameters"]
    nb = nbformat.v4.new_notebook(
        cells=[params, nbformat.v4.new_code_cell(f"import time\ntime.sleep({seconds})")],
        metadata={
            "kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}
        },
    )
    nbformat.write(nb, path)
    return path


def _stat_fields(pid: int) -> list[str] | None:
    try:
        text = Path(f"/proc/{pid}/stat").read_text(encoding="ascii", errors="replace")
    except OSError:
        return None
    return [text.split(" ", 1)[0], *text.rpartition(")")[2].split()]


def process_key(pid: int) -> tuple[int, str] | None:
    """``(pid, start time)`` of a running (not zombie) process, or None if it is gone."""
    fields = _stat_fields(pid)
    if fields is None or fields[1] in ("Z", "X"):
        return None
    return pid, fields[20]


def cmdline(pid: int) -> str:
    """The command line of process ``pid`` ("" if it is gone)."""
    try:
        raw = Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return ""
    return raw.replace(b"\0", b" ").decode("utf-8", "replace")


def descendants(pid: int) -> set[tuple[int, str]]:
    """Every living process below ``pid`` (children, their children …) as process keys."""
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            fields = _stat_fields(int(entry))
            if fields is not None:
                parents.setdefault(int(fields[2]), []).append(int(entry))
    found: set[tuple[int, str]] = set()
    todo = [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            key = process_key(child)
            if key is not None and key not in found:
                found.add(key)
                todo.append(child)
    return found


def alive(keys: Iterable[tuple[int, str]]) -> list[tuple[int, str]]:
    """Those of ``keys`` whose process still runs (same pid and start time)."""
    return [key for key in keys if process_key(key[0]) == key]


def wait_until(condition, *, seconds: float, step: float = 0.2) -> bool:
    """Poll ``condition()`` until it is true or ``seconds`` have passed; its last value."""
    deadline = time.monotonic() + seconds
    while True:
        if condition():
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(step)


def kill_keys(keys: Iterable[tuple[int, str]]) -> None:
    """SIGKILL the processes ``keys`` that still run (only those: by pid and start time)."""
    for pid, started in keys:
        if process_key(pid) == (pid, started):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
