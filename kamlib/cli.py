"""The ``kam`` command: check a dataset, make sample data, render reports and dossiers."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

from kamlib.validation import DatasetError

__all__ = ["main"]


def _cmd_check(args: argparse.Namespace) -> int:
    from kamlib.dataset import load_dataset

    try:
        ds = load_dataset(args.dataset)
    except DatasetError as exc:
        print(exc, file=sys.stderr)
        print(
            "\nNothing was changed. Fix the points above and run `kam check` again.",
            file=sys.stderr,
        )
        return 1
    summary = ds.summary()
    present = summary[summary["present"]]
    tx = ds.transactions
    n_acc = tx["account_id"].nunique()
    print(f"Dataset {ds.name!r} ({ds.source}) is valid.")
    print(
        f"{len(tx):,} transaction line{'s' if len(tx) != 1 else ''}, "
        f"{n_acc:,} account{'s' if n_acc != 1 else ''} buying, "
        f"{tx['date'].min():%Y-%m-%d} to {tx['date'].max():%Y-%m-%d}, "
        f"net sales {tx['amount'].sum():,.2f} {ds.currency}."
    )
    print(f"\n{'table':<14}{'file':<24}{'rows':>10}  date span")
    for row in present.itertuples():
        span = (
            ""
            if row.first_date is None or str(row.first_date) == "NaT"
            else (f"{row.first_date:%Y-%m-%d} to {row.last_date:%Y-%m-%d}")
        )
        print(f"{row.table:<14}{row.file:<24}{row.rows:>10,}  {span}")
    missing = summary.loc[~summary["present"], "table"].tolist()
    if missing:
        print(
            f"\nOptional tables not given: {', '.join(missing)} (their notebook sections are skipped)."
        )
    for table, cols in ds.ignored_columns.items():
        if cols:
            print(f"Ignored columns of {table} (not in the model, not mapped): {', '.join(cols)}")
    if ds.warnings:
        n = len(ds.warnings)
        print(
            f"\nCheck {'this point' if n == 1 else f'these {n} points'} (read as said, not errors):"
        )
        for i, note in enumerate(ds.warnings, 1):
            print(f"{i}. {note}")
    return 0


def _cmd_sample(args: argparse.Namespace) -> int:
    from kamlib.sample import write_sample

    out = write_sample(
        args.out,
        accounts=args.accounts,
        years=args.years,
        seed=args.seed,
        end=args.end,
        fmt=args.format,
        replace=args.replace,
    )
    print(
        f"Wrote the sample company ({args.accounts} accounts, {args.years} years, seed {args.seed}) to {out}"
    )
    return 0


def _parse_params(items: list[str]) -> dict:
    from kamlib._yaml import load_yaml

    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise SystemExit(f"kam report: -p takes NAME=VALUE, got {item!r}")
        parsed = load_yaml(value, source=f"-p {name.strip()}") if value else ""
        if isinstance(parsed, dt.date):  # -p as_of=2026-09-30 stays the text the notebook expects
            parsed = value
        params[name.strip()] = parsed
    return params


def _cmd_report(args: argparse.Namespace) -> int:
    import signal

    from kamlib.report import ReportConfig, load_report_config, run_reports

    config = load_report_config(args.config) if args.config else ReportConfig()
    # cron and systemd stop a job with SIGTERM: end like Ctrl-C, so nothing half-written stays
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        run = run_reports(
            [Path(n) for n in args.notebooks] or config.notebooks or None,
            data=args.data or config.data,
            out=args.out or config.out,
            parameters={**config.parameters, **_parse_params(args.param)},
            per_notebook=config.notebook_parameters,
            timeout=args.timeout or config.timeout,
            workers=args.workers or config.workers,
            keep=args.keep or config.keep,
            config_source=config.source,
        )
    except DatasetError as exc:
        print(exc, file=sys.stderr)
        print("\nNo notebook was run. Check the dataset with `kam check`.", file=sys.stderr)
        return 2
    except ValueError as exc:
        print(f"kam report: {exc}", file=sys.stderr)
        return 2
    for nb in run.notebooks:
        line = f"{nb.status:>6}  {nb.seconds:6.1f} s  {nb.notebook}"
        print(line + (f"  — {nb.error}" if nb.error else ""))
    print(f"{'total':>6}  {run.seconds:6.1f} s")
    print(f"Reports: {run.folder / 'index.html'}")
    return 0 if run.ok else 1


def _cmd_dossiers(args: argparse.Namespace) -> int:
    import signal

    from kamlib.dataset import load_dataset
    from kamlib.dossier import UnknownAccountError
    from kamlib.dossier_html import write_dossiers

    try:
        dataset = load_dataset(args.data)
    except DatasetError as exc:
        print(exc, file=sys.stderr)
        print("\nNo dossier was written. Check the dataset with `kam check`.", file=sys.stderr)
        return 1
    noun = "consumption reports" if args.customer_facing else "dossiers"

    def progress(done: int, total: int) -> None:
        if done % 25 == 0 and done < total:  # at most one line per 25 pages
            print(f"{done:>6} of {total} {noun} written", flush=True)

    # cron and systemd stop a job with SIGTERM: end like Ctrl-C, so nothing half-written stays
    previous = signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        batch = write_dossiers(
            dataset,
            args.accounts,
            as_of=args.as_of,
            out=args.out or "dossiers",
            customer_facing=args.customer_facing,
            workers=args.workers,
            progress=progress,
        )
    except UnknownAccountError as exc:
        print(f"kam dossiers: {exc}", file=sys.stderr)
        return 2
    finally:
        signal.signal(signal.SIGTERM, previous)
    if args.customer_facing:
        print(
            f"{batch.count} {noun} written to {batch.folder} in {batch.seconds:.1f} s, one "
            "folder per customer: send each customer only its own folder. Internal overview "
            f"(not for customers): {batch.index}"
        )
    else:
        print(
            f"{batch.count} {noun} written to {batch.folder} in {batch.seconds:.1f} s "
            "(open index.html)"
        )
    return 0


def _cmd_anonymize(args: argparse.Namespace) -> int:
    import os

    from kamlib.anonymize import write_anonymized

    secret = args.secret or os.environ.get("KAM_SECRET", "")
    if not secret.strip():
        print(
            "kam anonymize: no secret given. Set the environment variable KAM_SECRET (better: it "
            "stays out of the shell history) or pass --secret; keep the secret, since only with "
            "it are the aliases the same next time and can results be mapped back. Make one with: "
            'python -c "import secrets; print(secrets.token_urlsafe(16))"',
            file=sys.stderr,
        )
        return 2
    try:
        out = write_anonymized(args.dataset, args.out, secret=secret)
    except DatasetError as exc:
        print(exc, file=sys.stderr)
        print("\nNothing was written. Check the dataset with `kam check`.", file=sys.stderr)
        return 1
    print(
        f"Wrote an anonymized copy of {args.dataset} to {out}; keep the secret: only with it "
        "(and the original data) can results be mapped back to real accounts, without it "
        "nothing maps back."
    )
    return 0


def _positive(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value}")
    return value


def _cmd_course(args: argparse.Namespace) -> int:
    from kamlib.workshop import copy_course

    course = copy_course(args.out, seed=args.seed, replace=args.replace)
    group = (
        f", with the company of seed {args.seed} in data/group-{args.seed}"
        if args.seed is not None
        else ""
    )
    print(f"Copied the course to {course}{group}. Open it with: kam lab {course}")
    return 0


def _cmd_lab(args: argparse.Namespace) -> int:
    import subprocess

    from kamlib.workshop import lab_command

    command = lab_command(args.course)
    command.args.extend(
        [f"--port={args.port}"] * (args.port is not None) + ["--no-browser"] * args.no_browser
    )
    if args.print_only:
        print(command)
        return 0
    return subprocess.call(command.args, cwd=command.cwd, env=command.env)


_EXIT_CODES = """\
exit codes:
  0  done
  1  problems in the data (kam check lists them) or a notebook that failed
  2  usage: bad options or -p parameters, unknown account ids, an --out that is a
     file, cannot be written or holds a folder the kit did not write

The kit replaces or deletes only folders it wrote itself (they hold its marker file
.kam-written); nothing else in an output folder is touched."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kam",
        description="Key Account Management kit.",
        epilog=_EXIT_CODES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    sub = parser.add_subparsers(dest="command", required=True)

    check = sub.add_parser("check", help="validate a dataset and summarise it")
    check.add_argument("dataset", help="dataset folder, kam.yaml file, or 'sample'")
    check.set_defaults(func=_cmd_check)

    sample = sub.add_parser("sample", help="generate a sample company")
    sample.add_argument(
        "--out",
        required=True,
        help="folder to write: new, empty, or a sample written earlier (with --replace); "
        "a folder the kit did not write, such as a real dataset, is never replaced",
    )
    sample.add_argument(
        "--replace", action="store_true", help="replace a sample written earlier into --out"
    )
    sample.add_argument("--accounts", type=int, default=300)
    sample.add_argument("--years", type=int, default=3)
    sample.add_argument("--seed", type=int, default=7)
    sample.add_argument("--end", default="2026-09-30", help="last day of the history (fixed date)")
    sample.add_argument("--format", choices=["csv", "parquet"], default="csv")
    sample.set_defaults(func=_cmd_sample)

    report = sub.add_parser("report", help="run the notebooks and render HTML reports")
    report.add_argument("notebooks", nargs="*", help="notebooks to run (default: all)")
    report.add_argument("--data", help="dataset (default: the bundled sample)")
    report.add_argument(
        "--out",
        help="folder for dated runs (default: reports, in the project folder; a relative "
        "path is taken from the working directory)",
    )
    report.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE")
    report.add_argument("--config", help="YAML file with dataset, notebooks, parameters, out, keep")
    report.add_argument("--keep", type=_positive, help="keep only the N newest runs")
    report.add_argument(
        "--timeout", type=_positive, help="seconds one notebook may take (default 600)"
    )
    report.add_argument(
        "--workers", type=_positive, help="notebooks run at the same time (default 2)"
    )
    report.set_defaults(func=_cmd_report)

    dossiers = sub.add_parser(
        "dossiers",
        help="write one HTML dossier per account, and an index",
        description="Write one self-contained HTML page per account (charts embedded, print-friendly) "
        "and an index.html linking them into <out>/<as-of date>/. Customer reports "
        "(--customer-facing) go into <out>/<as-of date>-customer/, one folder per customer "
        "(K10127/K10127.html) holding nothing about anyone else, to be sent as it is; the "
        "overview internal-index.html beside them lists every customer and is not for "
        "customers. The folder appears only when complete and replaces an earlier batch for "
        "the same date (only one written by kam dossiers, marked by its .kam-written file); "
        "batches for other dates and anything else in <out> are kept.",
    )
    dossiers.add_argument("--data", default="sample", help="dataset (default: the bundled sample)")
    dossiers.add_argument(
        "--accounts",
        default="key",
        help="'key' (the key accounts found by the identification, the default), 'all', "
        "or account ids separated by commas (K10127,K10004)",
    )
    dossiers.add_argument(
        "--out",
        help="parent folder (default: dossiers, in the project folder; a relative path is "
        "taken from the working directory); the pages go into its subfolder named after the "
        "as-of date, e.g. dossiers/2026-09-28/",
    )
    dossiers.add_argument(
        "--as-of", dest="as_of", help="reference date YYYY-MM-DD (default: the last transaction)"
    )
    dossiers.add_argument(
        "--customer-facing",
        action="store_true",
        help="write the customer's consumption report instead: nothing internal (no margin, "
        "contacts, competitors, signals or classes), one folder per customer",
    )
    dossiers.add_argument(
        "--workers", type=_positive, default=2, help="processes drawing the pages (default 2)"
    )
    dossiers.set_defaults(func=_cmd_dossiers)

    anonymize = sub.add_parser(
        "anonymize",
        help="write an anonymized copy of a dataset for a training room",
        description="Write a copy of DATASET in which account, contact and product names and "
        "ids are consistent pseudonyms, notes and comments are removed, amounts and quantities "
        "are scaled by secret factors and dates moved back by whole four-year blocks, so that "
        "ABC-XYZ classes, key accounts and loss findings come out the same. Everything is "
        "derived from the secret (--secret or KAM_SECRET): the same secret gives the same "
        "aliases. What it protects and what not: docs/anonymize.md.",
    )
    anonymize.add_argument("dataset", help="dataset folder, kam.yaml file, or 'sample'")
    anonymize.add_argument(
        "--out",
        required=True,
        help="folder to write: new, empty, or an earlier anonymized copy (replaced)",
    )
    anonymize.add_argument(
        "--secret",
        help="at least 12 characters (default: the environment variable KAM_SECRET, which "
        "stays out of the shell history)",
    )
    anonymize.set_defaults(func=_cmd_anonymize)

    course = sub.add_parser(
        "course", help="copy the course for one learner or group (a company per seed)"
    )
    course.add_argument("--out", required=True, help="folder to create, e.g. ~/kam-course")
    course.add_argument(
        "--seed", type=int, help="also write the sample company of this seed into data/group-SEED"
    )
    course.add_argument(
        "--replace", action="store_true", help="overwrite the notebooks of an earlier copy"
    )
    course.set_defaults(func=_cmd_course)

    lab = sub.add_parser("lab", help="open JupyterLab on the course (start at 00_start_here)")
    lab.add_argument(
        "course", nargs="?", help="a folder made by `kam course` (default: the kit's notebooks)"
    )
    lab.add_argument(
        "--print", dest="print_only", action="store_true", help="print the command, do not run it"
    )
    lab.add_argument("--port", type=int, help="port for JupyterLab (default: its own, 8888)")
    lab.add_argument(
        "--no-browser", action="store_true", help="do not open a browser (a server, a hub)"
    )
    lab.set_defaults(func=_cmd_lab)
    return parser


def _from_working_directory(args: argparse.Namespace) -> None:
    """A relative ``--out`` is taken from the working directory, as in any command-line tool.

    Inputs (a dataset, a config) are read in this process, where relative paths already
    mean the working directory (the loader also looks in the kit's folder, and messages
    keep the user's spelling); ``kam report`` hands the notebooks absolute paths itself.
    """
    out = getattr(args, "out", None)
    if out:
        args.out = str(Path(out).expanduser().absolute())


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    _from_working_directory(args)
    try:
        return args.func(args)
    except ValueError as exc:
        print(f"kam {args.command}: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:  # `kam check … | head`: the reader left, nothing is wrong
        sys.stderr.close()
        return 0
    except OSError as exc:  # a folder that cannot be written, a name too long, a full disk
        print(f"kam {args.command}: {_os_error_text(exc)}", file=sys.stderr)
        return 2


def _os_error_text(exc: OSError) -> str:
    """What failed, on which path, and what to do."""
    import errno

    where = exc.filename if exc.filename is not None else "a file"
    reason = exc.strerror or str(exc)
    advice = {
        errno.EACCES: "no permission: give a folder you may write in (--out), or ask for it",
        errno.EPERM: "no permission: give a folder you may write in (--out), or ask for it",
        errno.ENOTDIR: "a part of the path is a file, not a folder: give another --out",
        errno.EEXIST: "it is in the way: give another --out",
        errno.ENAMETOOLONG: "the name is too long for the file system: give a shorter --out",
        errno.ENOSPC: "the disk is full: free some space and run again",
        errno.EROFS: "the file system is read-only: give another --out",
    }.get(exc.errno, "check the path and run again")
    return f"{where}: {reason}; {advice}"


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
