#!/usr/bin/env python3
"""Benchmark: wall time of the whole Table 2 scan of pandax2-accidental-dnn.md (18 architectures x 100 trainings).

    venv/bin/python bench/bench_table2_scan.py                       # simulate, time every architecture
    venv/bin/python bench/bench_table2_scan.py --stop-epochs 184     # replica-epochs per training to assume
    venv/bin/python bench/bench_table2_scan.py --from-json ens.json  # take them from a bench_ensemble.py run

Running the full protocol (``tpcml run accidental --full``) takes hours on 2 CPU cores, so this benchmark measures
what it is made of: for every Table 2 architecture, the seconds per epoch of the vectorised ensemble
(:func:`tpcml.ml.ensemble.train_ensemble`, same data, batch and optimiser as the study) over a few epochs after a
warm-up epoch, with 100 replicas (the wide 4D, 4E, 5E and 5F with ``--wide-replicas``, scaled linearly to 100:
their cost is the replicas' arithmetic). A stopped replica leaves the stack (ensemble.py), so a training of
``E`` epochs costs ``E`` replica-epochs and the scan's wall time is

    sum over architectures of (seconds per epoch at 100 replicas) x (mean epochs a training runs),

where a training runs its best epoch plus the patience of 20. The best epoch is measured for 4C by
``bench_ensemble.py`` (``--from-json``, or ``--best-epoch``) and scaled to the other architectures by the paper's own
Table 2 "stop epoch" column (101.7-153.8 for the 32-wide networks, 26.8-50.0 for the wide ones, which learn
faster). The "u" models of ``--full`` (4Cu, 4Eu: ``--u-labels``) train on all NR instead of the NR below the
median: their epochs cost their base architecture's times the ratio of the two training sets' sizes (an epoch is
a pass over the training set), with the base architecture's epochs. Prints one row per model and the total.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

WIDE = {"4D", "4E", "5E", "5F"}  # 128- and 512-wide first layers (Table 2)
PATIENCE = 20  # pandax2-accidental-dnn.md Sec. 4
# pandax2-accidental-dnn.md Table 2, "Average stop epoch" (the epoch of the best parameters, Sec. 4)
PAPER_STOP_EPOCH = {
    "4A": 153.8, "4B": 146.1, "4C": 131.7, "4D": 50.0, "4E": 30.2, "5A": 150.8, "5B": 145.1, "5C": 124.1,
    "5D": 116.9, "5E": 46.5, "5F": 26.8, "6A": 138.6, "6B": 121.0, "6C": 107.7, "7A": 129.9, "7B": 109.7,
    "7C": 106.5, "7D": 101.7,
}  # fmt: skip


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--epochs", type=int, default=3, help="timed epochs per architecture (default: %(default)s)")
    ap.add_argument("--wide-replicas", type=int, default=10, help="replicas timed for 4D/4E/5E/5F (default: 10)")
    ap.add_argument("--best-epoch", type=float, default=None, help="4C's mean best epoch (default: measured)")
    ap.add_argument("--from-json", default=None, help="bench_ensemble.py --json output giving 4C's best epoch")
    ap.add_argument("--data", default=None, help="simulated PandaX-II directory (default: simulate one)")
    ap.add_argument("--labels", default=None, help="comma-separated subset of Table 2 labels (default: all)")
    ap.add_argument("--threads", type=int, default=2, help="TensorFlow intra-op threads (default: %(default)s)")
    ap.add_argument(
        "--u-labels", default="4C,4E", help="models also counted with the all-NR strategy (default: %(default)s)"
    )
    args = ap.parse_args(argv)

    best4c = args.best_epoch
    if best4c is None and args.from_json:
        best4c = float(json.loads(Path(args.from_json).read_text())["mean_best_epoch"])
    if best4c is None:
        best4c = 164.0  # 100 x 4C measured by bench_ensemble.py on 2 CPUs, batch 256 (docs/benchmarks.md)

    from bench_ensemble import _load

    tmp = None
    if args.data is None:
        from tpcml.sim.lxe import Sizes, simulate_dataset

        tmp = tempfile.TemporaryDirectory(prefix="tpcml-bench-table2-")
        print("[bench] simulating the default-size PandaX-II samples", flush=True)
        sizes = Sizes()
        sizes.dm_search = False
        simulate_dataset(Path(tmp.name), sizes, seed=1, threads=2, quiet=True)
        data = tmp.name
    else:
        data = args.data
    x, y = _load(data, "original")
    u_ratio = len(_load(data, "all")[0]) / len(x)  # all-NR training set / below-median training set

    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    import tensorflow as tf

    tf.config.threading.set_intra_op_parallelism_threads(args.threads)
    tf.config.threading.set_inter_op_parallelism_threads(2)
    from tpcml.ml import PANDAX2_MLP_LAYERS, ensemble
    from tpcml.ml.splits import split_indices

    labels = [s.strip().upper() for s in args.labels.split(",")] if args.labels else list(PANDAX2_MLP_LAYERS)
    unknown = [s for s in labels if s not in PANDAX2_MLP_LAYERS]
    if unknown:
        ap.error(f"unknown label(s) {', '.join(unknown)}; known: {', '.join(PANDAX2_MLP_LAYERS)}")
    tr, va, _ = split_indices(len(x), seed=1)
    rows, total = [], 0.0
    for label in labels:
        hidden = PANDAX2_MLP_LAYERS[label]
        replicas = args.wide_replicas if label in WIDE else 100
        marks: list[float] = []
        t0 = time.perf_counter()
        ensemble.train_ensemble(
            x[tr],
            y[tr],
            x[va],
            y[va],
            hidden=hidden,
            n_replicas=replicas,
            seed=1,
            max_epochs=args.epochs + 1,
            patience=10_000,  # no replica stops: every timed epoch has the whole stack
            progress_every=1,
            callback=lambda info, marks=marks: marks.append(info["elapsed_s"]),
        )
        wall = time.perf_counter() - t0
        per_epoch = (marks[-1] - marks[0]) / max(1, len(marks) - 1) * (100 / replicas)
        epochs = best4c * PAPER_STOP_EPOCH[label] / PAPER_STOP_EPOCH["4C"] + PATIENCE
        scan = per_epoch * epochs
        total += scan
        rows.append((label, "x".join(map(str, hidden)), replicas, per_epoch, epochs, scan))
        print(
            f"[bench] {label} {hidden}: {per_epoch:.2f} s/epoch at 100 replicas ({replicas} timed, {wall:.0f} s)",
            flush=True,
        )
    by_label = {r[0]: r for r in rows}
    for label in [s.strip().upper() for s in args.u_labels.split(",") if s.strip()]:
        if label not in by_label:
            ap.error(f"--u-labels: {label} is not among the timed labels ({', '.join(by_label)})")
        _, hid, rep, pe, ep, _ = by_label[label]
        rows.append((label + "u", hid, rep, pe * u_ratio, ep, pe * u_ratio * ep))
        total += pe * u_ratio * ep
    if tmp is not None:
        tmp.cleanup()

    print(f"\nTable 2 scan on {os.cpu_count()} CPUs: 100 trainings per architecture (4C best epoch {best4c:.0f})")
    print("| model | hidden layers | replicas timed | s/epoch (100 replicas) | epochs/training | est. wall time |")
    print("|---|---|---|---|---|---|")
    for label, hid, rep, pe, ep, sc in rows:
        print(f"| {label} | {hid} | {rep} | {pe:.2f} | {ep:.0f} | {sc / 60:.1f} min |")
    print(f"| all {len(rows)} (u models: x{u_ratio:.3f} training events) | | | | | {total / 3600:.2f} h |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
