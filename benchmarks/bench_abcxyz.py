"""Speed and memory of the ABC-XYZ analysis on ten million invoice lines.

Run: ``python benchmarks/bench_abcxyz.py [--accounts 130000] [--repeat 5]``
(smoke run: ``--accounts 2000 --repeat 1``).

Times, side by side and on the same lines, :func:`kamlib.abc_xyz.abc_xyz` with its
defaults (revenue, cv method, months, span "active") and a straightforward pandas
version of the same rules, written the way an analyst would without optimising:
``groupby().sum()`` + sort + ``cumsum`` for ABC, ``pivot_table`` (account x period)
for XYZ. Both results are checked to agree account by account before anything is
timed, so the comparison is honest.

Reported: median wall-clock of ``--repeat`` runs each (generation excluded), the
speed-up, the peak memory of one run of each analysis (tracemalloc: Python and
NumPy allocations; pyarrow buffers are not seen by it) and the peak resident set
size above the level before the run (``VmHWM``, reset per run, counts everything),
and the process max RSS (``resource.getrusage``).
Targets (issue): kamlib <= 2 s on 10 M lines, >= 3x faster than the straightforward
version, peak memory < 2 GB.
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import resource
import statistics
import time
import tracemalloc
import warnings

import numpy as np
import pandas as pd

from kamlib.abc_xyz import ClassificationWarning, abc_xyz
from kamlib.sample import generate_sample

MONTHS = 12
TARGET_SECONDS = 2.0
TARGET_SPEEDUP = 3.0
TARGET_PEAK_BYTES = 2 * 1024**3


def straightforward_abc_xyz(
    tx: pd.DataFrame,
    *,
    as_of: pd.Timestamp,
    months: int = MONTHS,
    abc_cutoffs: tuple[float, float] = (0.8, 0.95),
    x_cut: float = 0.5,
    y_cut: float = 1.0,
    min_periods: int = MONTHS // 2,
) -> pd.DataFrame:
    """The same rules as ``kamlib.abc_xyz`` (revenue, cv, month grain, active span), plainly.

    Returns one row per account that has a line in the window, largest revenue
    first: ``account_id``, ``value``, ``abc``, ``periods`` (active span), ``cv``, ``xyz``.
    """
    # whole days: as_of - months < day <= as_of (a line at 15:00 on as_of is in)
    day = pd.Timedelta(days=1)
    start = as_of - pd.DateOffset(months=months)
    lines = tx[(tx["date"] >= start + day) & (tx["date"] < as_of + day)]

    # ABC: net revenue per account, largest first (ties by id), nonpositive last and C
    abc = lines.groupby("account_id")["amount"].sum().rename("value").reset_index()
    abc["positive"] = abc["value"] > 0
    abc = abc.sort_values(["positive", "value", "account_id"], ascending=[False, False, True])
    positive = abc["value"].where(abc["positive"], 0.0)
    total = positive.sum()
    before = positive.cumsum() - positive  # value of the accounts ranked before this one
    # predecessors making exactly the cut-off (to float rounding) mean B, not A
    a_limit, b_limit = (c * total - 1e-9 * total for c in abc_cutoffs)
    abc["abc"] = np.where(before < a_limit, "A", np.where(before < b_limit, "B", "C"))
    abc.loc[~abc["positive"], "abc"] = "C"

    # XYZ: period k is (as_of - (k+1) months, as_of - k months]; period 0 ends at as_of
    edges = [as_of - pd.DateOffset(months=k) for k in range(months, -1, -1)]
    days = lines["date"].dt.floor("D")
    period = months - 1 - pd.cut(days, bins=edges, right=True, labels=False)
    lines = lines.assign(period=period.astype(int))
    per_period = lines.pivot_table(
        index="account_id", columns="period", values="amount", aggfunc="sum", fill_value=0.0
    )
    per_period = per_period.reindex(columns=range(months), fill_value=0.0).clip(lower=0)
    # active span: from the account's first period with a line in the window to period 0
    span = lines.groupby("account_id")["period"].max().reindex(per_period.index) + 1
    in_span = np.arange(months)[None, :] < span.to_numpy()[:, None]
    in_span_values = per_period.where(in_span)
    mean = in_span_values.mean(axis=1)
    cv = in_span_values.std(axis=1, ddof=0) / mean
    xyz = pd.Series(
        np.select([mean == 0, cv <= x_cut, cv <= y_cut], ["Z", "X", "Y"], "Z"),
        index=per_period.index,
    )
    xyz[span < min_periods] = "N"
    xyz_table = pd.DataFrame({"periods": span, "cv": cv.where(mean > 0), "xyz": xyz})

    return abc[["account_id", "value", "abc"]].merge(
        xyz_table, left_on="account_id", right_index=True, how="left"
    )


def run_kamlib(tx: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    with warnings.catch_warnings():
        # nonpositive accounts are announced with a warning each call; not what we time
        warnings.simplefilter("ignore", ClassificationWarning)
        return abc_xyz(tx, as_of=as_of, months=MONTHS)


def run_straightforward(tx: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    return straightforward_abc_xyz(tx, as_of=as_of, months=MONTHS)


IMPLEMENTATIONS = {"kamlib abc_xyz": run_kamlib, "straightforward pandas": run_straightforward}


def check_same(kam: pd.DataFrame, plain: pd.DataFrame) -> None:
    """Raise AssertionError unless both give the same classes per account (also under -O)."""
    k = kam.set_index("account_id").sort_index()
    p = plain.set_index("account_id").sort_index()
    if not k.index.equals(p.index):
        raise AssertionError("the two implementations classify different accounts")
    for col in ("abc", "xyz"):
        diff = k[col].to_numpy(dtype=object) != p[col].to_numpy(dtype=object)
        if diff.any():
            raise AssertionError(
                f"{col} differs for {diff.sum()} accounts, e.g. {list(k.index[diff][:5])}"
            )
    if not np.array_equal(k["periods"].to_numpy(), p["periods"].to_numpy()):
        raise AssertionError("the active spans differ")
    np.testing.assert_allclose(k["value"], p["value"], rtol=1e-9, atol=1e-6)
    np.testing.assert_allclose(k["cv"], p["cv"], rtol=1e-9, atol=1e-12, equal_nan=True)


def _status(field: str) -> int:
    """A ``kB`` field of /proc/self/status (VmRSS, VmHWM) in bytes; 0 if unavailable."""
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


_process_peak = 0  # getrusage max RSS seen before any reset of the peak


def _reset_peak_rss() -> bool:
    """Reset the peak RSS (VmHWM) of this process to its current RSS (Linux ≥ 4.0)."""
    global _process_peak
    _process_peak = max(_process_peak, _max_rss_bytes())
    try:
        with open("/proc/self/clear_refs", "w") as clear:
            clear.write("5")
        return True
    except OSError:
        return False


def _max_rss_bytes() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # kB on Linux


def measure(func, tx, as_of, repeat: int) -> dict[str, float]:
    """Peak memory of one traced run, then ``repeat`` timed runs (with the RSS peak of each)."""
    gc.collect()
    tracemalloc.start()
    func(tx, as_of)
    traced_peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    times, rss_peaks = [], []
    for _ in range(repeat):
        gc.collect()
        reset = _reset_peak_rss()
        base = _status("VmRSS")
        start = time.perf_counter()
        func(tx, as_of)
        times.append(time.perf_counter() - start)
        if reset:
            rss_peaks.append(_status("VmHWM") - base)
    return {
        "median": statistics.median(times),
        "min": min(times),
        "max": max(times),
        "traced_peak": traced_peak,
        "rss_peak": max(rss_peaks) if rss_peaks else float("nan"),
    }


def machine() -> str:
    model = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as info:
            model = next(
                (line.split(":", 1)[1].strip() for line in info if line.startswith("model name")),
                model,
            )
    except OSError:
        pass
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    try:
        import pyarrow

        arrow = f", pyarrow {pyarrow.__version__}"
    except ImportError:
        arrow = ""
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 1024**3
    return (
        f"{model}, {usable} cores usable ({os.cpu_count()} online), {memory:.0f} GB RAM; "
        f"{platform.system()} {platform.release()}\n"
        f"Python {platform.python_version()}, pandas {pd.__version__}, "
        f"NumPy {np.__version__}{arrow}"
    )


def _mb(n: float) -> str:
    return f"{n / 1024**2:,.0f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--accounts", type=int, default=130_000, help="default ≈ 10 M lines")
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5, help="timed runs per implementation")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()

    print(machine())
    start = time.perf_counter()
    company = generate_sample(accounts=args.accounts, years=args.years, seed=args.seed)
    generation = time.perf_counter() - start
    tx = company.tables["transactions"]
    as_of = company.end
    del company
    gc.collect()
    in_window = int(
        ((tx["date"] > as_of - pd.DateOffset(months=MONTHS)) & (tx["date"] <= as_of)).sum()
    )
    print(
        f"generated {len(tx):,} invoice lines ({args.accounts:,} accounts, {args.years} y) "
        f"in {generation:.1f} s; {in_window:,} lines in the {MONTHS}-month window to "
        f"{as_of.date()}; transactions {tx.memory_usage(deep=True).sum() / 1024**2:,.0f} MB; "
        f"max RSS so far {_mb(_max_rss_bytes())} MB"
    )

    start = time.perf_counter()
    kam = run_kamlib(tx, as_of)
    plain = run_straightforward(tx, as_of)
    check_same(kam, plain)
    print(
        f"results agree for all {len(kam):,} accounts (abc, xyz, span; value and cv within "
        f"1e-9) [check took {time.perf_counter() - start:.1f} s]; cells: "
        + ", ".join(f"{c} {n:,}" for c, n in kam["cell"].value_counts().sort_index().items())
    )
    del kam, plain

    results = {
        name: measure(func, tx, as_of, args.repeat) for name, func in IMPLEMENTATIONS.items()
    }

    print()
    header = (
        f"{'implementation':<24}{'median s':>10}{'min s':>8}{'max s':>8}"
        f"{'tracemalloc peak MB':>21}{'RSS peak +MB':>14}"
    )
    print(header)
    print("-" * len(header))
    for name, r in results.items():
        print(
            f"{name:<24}{r['median']:>10.3f}{r['min']:>8.3f}{r['max']:>8.3f}"
            f"{_mb(r['traced_peak']):>21}{_mb(r['rss_peak']):>14}"
        )
    kam_r, plain_r = results["kamlib abc_xyz"], results["straightforward pandas"]
    speedup = plain_r["median"] / kam_r["median"]
    print(f"\nspeed-up (median straightforward / median kamlib): {speedup:.2f}x")
    process_peak = max(_process_peak, _max_rss_bytes())
    print(f"process max RSS (getrusage, whole run incl. generation): {_mb(process_peak)} MB")
    print(f"median of {args.repeat} run(s); RSS peak = VmHWM above the RSS before the run")

    peak = max(kam_r["traced_peak"], kam_r["rss_peak"])
    checks = [
        (f"kamlib <= {TARGET_SECONDS:g} s", kam_r["median"] <= TARGET_SECONDS),
        (f"speed-up >= {TARGET_SPEEDUP:g}x", speedup >= TARGET_SPEEDUP),
        ("kamlib peak memory < 2 GB", peak < TARGET_PEAK_BYTES),
    ]
    if len(tx) < 5_000_000:
        print(f"(targets are for ~10 M lines; this run has {len(tx):,})")
    for label, ok in checks:
        print(f"target {label:<28}{'met' if ok else 'MISSED'}")


if __name__ == "__main__":
    main()
