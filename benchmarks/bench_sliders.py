"""How fast the workshop sliders respond on the bundled sample.

Run: ``python benchmarks/bench_sliders.py [--repeat 5]``. Times what each slider's
callback does when a learner lets go of a slider — the same kamlib calls and the same
figures as the notebooks' ``explore`` functions, drawn with matplotlib's Agg backend
(a browser adds the transfer of one PNG) — and prints the median of ``--repeat``
moves. The target (issue 8): each responds within a second on the sample.
"""

from __future__ import annotations

import argparse

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
from _timing import median_time

import kamlib


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--data", default="sample")
    args = parser.parse_args()
    ds = kamlib.load_dataset(args.data)
    tx = ds.transactions
    as_of = kamlib.resolve_as_of(tx)

    # 01: weights -> score, select, one chart (notebook 01, "Play with the weights")
    features = kamlib.account_features(
        tx,
        as_of=as_of,
        accounts=ds.get("accounts"),
        products=ds.get("products"),
        invoices=ds.get("invoices"),
        interactions=ds.get("interactions"),
    ).table
    weights = {**kamlib.DEFAULT_WEIGHTS, "payment": 30}

    def identification():
        quick = kamlib.select_key_accounts(kamlib.score_accounts(features, weights=weights))
        kamlib.describe_selection(quick)
        kamlib.plot_score_contributions(quick.table, top=10)
        plt.gcf().canvas.draw()
        plt.close("all")

    # 02: cut-offs -> ABC-XYZ again, two matrices (notebook 02, "Explorer")
    settings = dict(first_purchase=kamlib.first_purchases(tx, as_of=as_of))

    def abc_xyz():
        quick = kamlib.abc_xyz(
            tx, as_of=as_of, abc_cutoffs=(0.7, 0.9), xyz_cutoffs={"x": 0.4, "y": 0.9}, **settings
        )
        matrix = kamlib.abc_xyz_matrix(quick)
        fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
        kamlib.plot_abc_xyz_matrix(matrix, value="accounts", ax=axes[0])
        kamlib.plot_abc_xyz_matrix(matrix, value="value_share", ax=axes[1])
        fig.canvas.draw()
        plt.close("all")

    # 04: D -> the accounts lost today (notebook 04, the rule slider)
    def loss():
        quick = kamlib.loss_status(tx, as_of=as_of, rule=kamlib.LossRule(days=120))
        quick[quick["status"] == "lost"]["revenue_lost"].sum()

    print(f"{'slider (one move)':<44}{'median':>10}")
    for name, func in [
        ("01 weights: score, select, chart", identification),
        ("02 cut-offs: classify, two matrices", abc_xyz),
        ("04 days without a purchase: status", loss),
    ]:
        seconds, _ = median_time(func, args.repeat)
        print(f"{name:<44}{seconds:>9.3f}s")


if __name__ == "__main__":
    main()
