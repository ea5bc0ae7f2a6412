"""Speed of the loss analysis on a large company.

Run: ``python benchmarks/bench_loss.py [--accounts 13000] [--years 3] [--repeat 3]``.
Generates the company in memory (the kit's seeded generator), then times each step
of the loss analysis on it, generation excluded; prints the median of ``--repeat``
runs and the peak memory of the process. No target is set by the issue; the figures
go into docs/performance.md.
"""

from __future__ import annotations

import argparse
import warnings

from _timing import median_time, peak_mb

import kamlib
from kamlib import loss
from kamlib.sample import generate_sample


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--accounts", type=int, default=13_000)
    parser.add_argument("--years", type=int, default=3)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    company = generate_sample(accounts=args.accounts, years=args.years, seed=1)
    t = company.tables
    tx = t["transactions"]
    as_of = kamlib.resolve_as_of(tx)
    segment = t["accounts"].set_index("account_id")["segment"]
    print(f"{'invoice lines':<38}{len(tx):>12,}")
    steps = {}
    events = {}
    for kind in loss.LOSS_RULES:
        steps[f"loss_events ({kind})"], events[kind] = median_time(
            lambda kind=kind: loss.loss_events(tx, as_of=as_of, rule=kind), args.repeat
        )
    steps["loss_status (inactivity)"], status = median_time(
        lambda: loss.loss_status(tx, as_of=as_of), args.repeat
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", loss.LossWarning)  # a short history judges nothing
        steps["back_test (inactivity, 6 settings)"], back = median_time(
            lambda: loss.back_test(tx, as_of=as_of, rule="inactivity"), args.repeat
        )
        steps["back_test (rhythm, 4 settings)"], _ = median_time(
            lambda: loss.back_test(tx, as_of=as_of, rule="rhythm"), args.repeat
        )
    ev = events["inactivity"]
    steps["loss_dynamics (by segment)"], _ = median_time(
        lambda: loss.loss_dynamics(ev, status, as_of=as_of, groups=segment), args.repeat
    )
    steps["loss_reasons"], reasons = median_time(
        lambda: loss.loss_reasons(
            ev,
            as_of=as_of,
            interactions=t["interactions"],
            proposals=t["proposals"],
            surveys=t["surveys"],
        ),
        args.repeat,
    )

    def survival():
        lifetimes = loss.account_lifetimes(
            status,
            ev,
            as_of=as_of,
            first_orders=t["accounts"].set_index("account_id")["first_order_date"],
        )
        lifetimes["segment"] = segment.reindex(lifetimes["account_id"]).to_numpy()
        return loss.kaplan_meier(lifetimes, by="segment")

    steps["lifetimes + kaplan_meier (by segment)"], curve = median_time(survival, args.repeat)
    steps["win_back_list"], win_back = median_time(
        lambda: loss.win_back_list(reasons, as_of=as_of, accounts=t["accounts"]), args.repeat
    )
    print(f"{'accounts with a purchase':<38}{len(status):>12,}")
    for kind, frame in events.items():
        print(f"{'  losses declared (' + kind + ')':<38}{len(frame):>12,}")
    for label, seconds in steps.items():
        print(f"{label:<38}{seconds:10.3f} s")
    print(f"{'all steps':<38}{sum(steps.values()):10.3f} s (median of {args.repeat})")
    print(f"{'peak memory (ru_maxrss)':<38}{peak_mb():10.0f} MB")
    print(loss.describe_loss_status(status))
    print(loss.describe_back_test(back))
    print(loss.describe_survival(curve))
    print(loss.describe_win_back(win_back))


if __name__ == "__main__":
    main()
