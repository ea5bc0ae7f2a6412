"""Speed of the foundation: generating and loading large sample companies.

Run: ``python benchmarks/bench_foundation.py [--accounts 13000] [--years 3]``.
Prints wall-clock seconds per step; targets live here, never in timed tests.
Target (issue 2): 1 million+ invoice lines generated in seconds.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from functools import partial
from pathlib import Path

import kamlib
from kamlib.sample import generate_sample, write_sample


def _timed(label: str, func):
    start = time.perf_counter()
    result = func()
    print(f"{label:<38}{time.perf_counter() - start:8.2f} s")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=13_000)
    parser.add_argument("--years", type=int, default=3)
    args = parser.parse_args()
    company = _timed(
        f"generate ({args.accounts} accounts, {args.years} y)",
        lambda: generate_sample(accounts=args.accounts, years=args.years, seed=1),
    )
    print(f"{'invoice lines':<38}{len(company.tables['transactions']):>10,}")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt in ("parquet", "csv"):
            out = Path(tmp) / fmt
            _timed(
                f"generate + write {fmt}",
                partial(
                    write_sample, out, accounts=args.accounts, years=args.years, seed=1, fmt=fmt
                ),
            )
            size = sum(p.stat().st_size for p in out.iterdir()) / 1e6
            print(f"{'  size on disk':<38}{size:8.1f} MB")
            _timed(f"load + validate {fmt}", partial(kamlib.load_dataset, out))
    _timed("load + validate bundled sample", kamlib.load_sample)


if __name__ == "__main__":
    main()
