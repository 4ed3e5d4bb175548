#!/usr/bin/env python3
"""DARWIN-VAE benchmark (issue 19): the anomaly score TS per event, and pseudo-experiments per second.

    venv/bin/python bench/bench_darwin.py [--quick] [--events N] [--experiments E] [--repeat R]

* TS per event from the three exported graphs (encoder 2310 -> 256 -> 64 -> 2 x 8, decoder 8 -> 64 -> 256 -> 2310,
  classifier 2310 -> 128 -> 32 -> 1: the study's sizes, untrained weights: the arithmetic is the same) plus the
  KL / Gaussian / H_B sums:
  - tpcml: C++ inside RDataFrame (tpcml::AnomalyScore on tpcml's ONNX engine, batch 1 per event, as a
    collaboration would add the column to its tree), 1 thread, events/s; the same kernel through the NumPy door
    (_core.AnomalyScore.score), 1 thread;
  - onnxruntime: the same graphs, 1 intra-op and 1 inter-op thread, one event at a time (the same work as the
    RDataFrame column) and in batches of 256, with the sums in NumPy; events/s.
* pseudo-experiments per second: extended-Poisson q (tpcml.stats) at B = 32,700 (tpcml's background at 200 t y in
  the cS1 3-70 PE region) and 6,500 (the paper's), weighted background sample of 8,000 TS values.

Inputs are random vectors (log1p-like scale). Timings are the best of ``--repeat`` passes on a shared machine.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from _common import best_seconds, parse_options, print_table

OPTIONS = {
    "--events": (4000, 400, "events scored per pass"),
    "--experiments": (2000, 200, "pseudo-experiments per ensemble"),
    "--repeat": (2, 1, "timed passes; the best is kept (default: %(default)s)"),
}
L = 2310


def _models(tmp: Path) -> dict:
    from tpcml.studies.darwin import models

    rng = np.random.default_rng(0)
    x = rng.normal(2.0, 1.0, (64, L)).astype(np.float32)
    enc, dec, _, _ = models.build_vae(L, x)
    vae = models.Vae(enc, dec, np.zeros(L), models.BETA, [], [])
    clf = models.build_classifier(x)
    return models.export(vae, clf, tmp)


def _onnxruntime_ts(onnx: dict, x: np.ndarray, batch: int) -> np.ndarray:
    import onnxruntime as ort

    from tpcml.studies.darwin.models import HALF_LOG_2PI, P_MAX

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    s = {k: ort.InferenceSession(v, opts, providers=["CPUExecutionProvider"]) for k, v in onnx.items()}
    names = {k: v.get_inputs()[0].name for k, v in s.items()}
    out = np.empty(len(x))
    for b in range(0, len(x), batch):
        xb = x[b : b + batch]
        mu, lv = s["encoder"].run(None, {names["encoder"]: xb})
        xd = s["decoder"].run(None, {names["decoder"]: mu})[0]
        p = np.clip(s["classifier"].run(None, {names["classifier"]: xb})[0][:, 0], 0, P_MAX)
        kl = 0.5 * np.sum(mu.astype(np.float64) ** 2 + np.exp(lv) - 1 - lv, axis=1)
        nll = np.sum(0.5 * (xb - xd).astype(np.float64) ** 2 + HALF_LOG_2PI, axis=1)
        out[b : b + batch] = kl + nll - 10.0 * np.log1p(-p)
    return out


def main(argv: list[str] | None = None) -> int:
    args = parse_options(argv, __doc__, "small sizes (a smoke run)", OPTIONS)
    from tpcml.core.rootio import write_tree
    from tpcml.ml.backend import silence_tensorflow_logs

    silence_tensorflow_logs()
    from tpcml.stats import kde, pseudo
    from tpcml.studies.darwin import score

    rows = []
    with tempfile.TemporaryDirectory() as tmpdir:
        tmp = Path(tmpdir)
        onnx = _models(tmp)
        x = np.random.default_rng(1).normal(2.0, 1.0, (args.events, L)).astype(np.float32)
        path = write_tree(tmp / "x.root", "events", {"darwin_x": x})
        ROOT = score.load()
        # warm-up: loading the graphs and their plans, outside the timing
        score.define_ts(ROOT.RDF.AsRNode(ROOT.RDataFrame("events", str(path))), onnx, R=10.0).Sum("TS").GetValue()

        def rdf():
            node = score.define_ts(ROOT.RDF.AsRNode(ROOT.RDataFrame("events", str(path))), onnx, R=10.0)
            return node.Sum("TS").GetValue()

        t_rdf = best_seconds(rdf, args.repeat)
        t_ort1 = best_seconds(lambda: _onnxruntime_ts(onnx, x[: max(1, args.events // 4)], 1), args.repeat) * 4
        t_ort256 = best_seconds(lambda: _onnxruntime_ts(onnx, x, 256), args.repeat)
        from tpcml import _core

        # the same kernel through its NumPy door (tpcml::AnomalyScore::batch)
        door = _core.AnomalyScore(onnx["encoder"], onnx["decoder"], onnx["classifier"], 10.0)
        t_batch = best_seconds(lambda: door.score(x, threads=1), args.repeat)
        n = args.events
        rows += [
            (f"TS, tpcml C++ in RDataFrame, 1 thread, {n} ev", f"{n / t_rdf:,.0f} ev/s", "1.00"),
            (
                "TS, tpcml C++ batch door (_core.AnomalyScore), 1 thread",
                f"{n / t_batch:,.0f} ev/s",
                f"{t_batch / t_rdf:.2f}",
            ),
            ("TS, onnxruntime batch 1 (+NumPy sums)", f"{n / t_ort1:,.0f} ev/s", f"{t_ort1 / t_rdf:.2f}"),
            ("TS, onnxruntime batch 256 (+NumPy sums)", f"{n / t_ort256:,.0f} ev/s", f"{t_ort256 / t_rdf:.2f}"),
        ]
    rng = np.random.default_rng(2)
    ts = np.concatenate([rng.normal(0, 1, 6000), rng.normal(4, 1, 2000)])
    w = rng.uniform(0.5, 1.5, len(ts))
    t0 = time.perf_counter()
    f0 = kde.fit_background_pdf(ts, weights=w)
    t_fit = time.perf_counter() - t0
    rows.append((f"f0 KDE fit, {len(ts)} weighted TS", f"{t_fit:.2f} s", ""))
    for B in (32_700, 6_500):
        ens = pseudo.Ensemble(float(B), ts, args.experiments, background_weights=w, seed=3)
        t = best_seconds(lambda ens=ens: pseudo.extended_poisson_experiments(f0, ens), args.repeat)
        rows.append((f"q, {args.experiments} experiments x B = {B:,}", f"{args.experiments / t:,.0f} exp/s", ""))
    print_table(
        "DARWIN-VAE: anomaly score and pseudo-experiments",
        (("measured", ">22"), ("time / tpcml RDataFrame time", "")),
        rows,
        " | ",
        "last column > 1: tpcml's RDataFrame column is faster than that row on the same graphs.",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
