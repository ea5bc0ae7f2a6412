"""Speed of key-account identification on a large company.

Run: ``python benchmarks/bench_identification.py [--accounts 13000] [--years 3] [--repeat 5]``.
Generates the company in memory (the kit's seeded generator), then times each step
of notebook 01 on it, loading excluded; prints the median of ``--repeat`` runs.
No target is set by the issue; the figures go into docs/performance.md.
"""

from __future__ import annotations

import argparse

from _timing import median_time

import kamlib
from kamlib.sample import generate_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=13_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    company = generate_sample(accounts=args.accounts, years=args.years, seed=1)
    t = company.tables
    tx = t["transactions"]
    tx = tx.assign(margin=tx["amount"] - tx["cost"])  # as the loader derives it from cost
    as_of = kamlib.resolve_as_of(tx)
    print(f"{'invoice lines':<34}{len(tx):>12,}")
    steps = {}
    steps["features"], found = median_time(
        lambda: kamlib.account_features(
            tx,
            as_of=as_of,
            accounts=t["accounts"],
            products=t["products"],
            invoices=t["invoices"],
            interactions=t["interactions"],
        ),
        args.repeat,
    )
    features = found.table
    steps["score"], scored = median_time(lambda: kamlib.score_accounts(features), args.repeat)
    steps["select (share 50 %, cap 40)"], selection = median_time(
        lambda: kamlib.select_key_accounts(scored), args.repeat
    )
    steps["stability (24 weight sets)"], _ = median_time(
        lambda: kamlib.selection_stability(features), args.repeat
    )
    steps["criterion dependence"], _ = median_time(
        lambda: kamlib.criterion_dependence(features), args.repeat
    )
    keys = selection.key_accounts["account_id"]
    steps["types"], _ = median_time(
        lambda: kamlib.assign_types(features, accounts=keys), args.repeat
    )
    steps["portfolio matrix"], _ = median_time(
        lambda: kamlib.portfolio_matrix(
            features,
            as_of=as_of,
            contacts=t["contacts"],
            competitors=t["competitors"],
            surveys=t["surveys"],
            key_accounts=keys,
        ),
        args.repeat,
    )
    print(f"{'accounts in the window':<34}{len(features):>12,}")
    for label, seconds in steps.items():
        print(f"{label:<34}{seconds:10.3f} s")
    print(f"{'all steps':<34}{sum(steps.values()):10.3f} s (median of {args.repeat})")
    print(kamlib.describe_selection(selection))


if __name__ == "__main__":
    main()
