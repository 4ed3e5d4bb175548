#!/usr/bin/env python3
"""XENON1T CNN benchmarks (issue 18): the paper's CNN in tpcml's C++ engine against onnxruntime, and the whole
chain (events -> HitPeak image -> score) in RDataFrame.

    venv/bin/python bench/bench_xenon1t.py [--quick] [--repeat N]

The CNNs (:func:`tpcml.ml.architectures.xenon1t_cnn`, X1T-CNN Sec. IV: one convolution layer, the paper's best;
HitPeak 75x75x3 and Hit/Peak 50x100x3 inputs, random weights: the time does not depend on them) are exported to
ONNX in a subprocess so that TensorFlow stays out of the timed process.
Measured, printed as a table (figure, tpcml, onnxruntime, target, ratio, ok?):

* time per image of the C++ engine alone (``tpcml._core.onnx_benchmark``: no Python in the timed loop; batch 1 is
  the single-event path) and of onnxruntime (1 intra-op and 1 inter-op thread, one ``InferenceSession.run`` per
  batch) at batch 1 and 64, best of ``--repeat`` passes after a warm-up; target: tpcml <= onnxruntime;
* the chain in one RDataFrame event loop on 1 thread over simulated XENON1T SR0 events: the HitPeak image drawn
  by ``tpcml::defineHitPeakImage`` and scored by ``tpcml::onnx::defineScore`` (images per second; no target).

A ratio > 1 means the target is met. These machines are shared: figures vary by some 10 % from run to run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import parse_options
from bench_inference import fmt_ns, ort_ns_per_event, ort_session, verdict

REPO = Path(__file__).resolve().parents[1]
#: model key -> input shape (NHWC) of the paper's CNN: HitPeak 75x75, Hit and Peak 100 wide x 50 high
SHAPES = {"hitpeak": (75, 75, 3), "hit": (50, 100, 3)}

EXPORT = """
import sys
from tpcml.ml.architectures import xenon1t_cnn
from tpcml.ml.export import to_onnx
import keras
keras.utils.set_random_seed(7)
for key, shape in eval(sys.argv[2]).items():
    to_onnx(xenon1t_cnn(shape, n_conv=1), f"{sys.argv[1]}/xenon1t_cnn_{key}.onnx", metadata={"tpcml.inputs": ["image"]})
"""


def export_models(directory: Path) -> dict[str, Path]:
    paths = {k: directory / f"xenon1t_cnn_{k}.onnx" for k in SHAPES}
    print(f"[bench] exporting the X1T CNNs into {directory} (TensorFlow + tf2onnx)", flush=True)
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore")
    res = subprocess.run(
        [sys.executable, "-c", EXPORT, str(directory), repr(SHAPES)], env=env, capture_output=True, text=True
    )
    if res.returncode != 0 or not all(p.is_file() for p in paths.values()):
        raise SystemExit(f"bench: exporting the CNNs failed:\n{res.stderr[-3000:]}")
    return paths


def engine_rows(paths: dict[str, Path], args) -> list[tuple[str, ...]]:
    from tpcml import _core

    rows = []
    for key, path in paths.items():
        model = _core.OnnxModel(str(path))
        h, w, _ = SHAPES[key]
        for batch in (1, 64):
            n = batch * (4 if args.quick else 16) if batch > 1 else (50 if args.quick else 400)
            figure = f"X1T CNN {key} {h}x{w}x3 batch {batch}, per image"
            print(f"[bench] {figure} ({n} images, best of {args.repeat})", flush=True)
            ours = _core.onnx_benchmark(model, batch, n, args.repeat)
            theirs = ort_ns_per_event(ort_session(path), model, batch, n, args.repeat)
            ratio = theirs / ours
            rows.append((figure, fmt_ns(ours), fmt_ns(theirs), "<= onnxruntime", f"{ratio:.2f}", verdict(ratio)))
    return rows


def chain_row(paths: dict[str, Path], args) -> tuple[str, ...]:
    """Simulated SR0 ER events -> HitPeak image -> score, one RDataFrame loop on 1 thread."""
    import numpy as np

    import tpcml
    from tpcml.core import detectors
    from tpcml.inference import define_score
    from tpcml.sim import lxe, sources
    from tpcml.studies.xenon1t import study

    n = 300 if args.quick else 2000
    det = detectors.load(study.DETECTOR)
    ev = lxe.Simulator(det, threads=2).detector_events(sources.make(det, "er-background"), n, 3, quiet=True).events
    data = {c: np.asarray(ev[c]) for c in (*study.IMAGE_COLUMNS, "cS1", "cS2", "cS2_bottom")}
    for c in ("s1_pmt_area", "s2_pmt_area"):
        data[c] = np.clip(data[c], 0.0, None)  # baseline noise below 0 PE (as the study)
    data["label"] = np.zeros(len(data["cS1"]), np.int32)
    ROOT = tpcml.load_root()
    imager = ROOT.tpcml.HitPeakImager(ROOT.tpcml.DetectorConfig.load(study.DETECTOR), ROOT.tpcml.HitPeakOptions())
    with tempfile.TemporaryDirectory(prefix="tpcml-bench-x1t-") as tmp:
        path = study.write_test_events(Path(tmp) / "events.root", data, det, say=lambda m: None)
        best = float("inf")
        for _ in range(args.repeat):
            node = ROOT.tpcml.defineHitPeakImage(
                ROOT.RDF.AsRNode(ROOT.RDataFrame("events", str(path))), "image", imager
            )
            total = define_score(node, "score", paths["hitpeak"], ["image"]).Sum("score")
            t0 = time.perf_counter()
            total.GetValue()
            best = min(best, time.perf_counter() - t0)
    m = len(data["cS1"])
    return (f"RDF chain: HitPeak image + CNN score, 1 thread ({m} events)", f"{m / best:.0f} images/s", "", "", "", "")


def main(argv: list[str] | None = None) -> int:
    quick_help = "fewer images and repeats (a smoke run, < 60 s)"
    args = parse_options(argv, __doc__, quick_help, {"--repeat": (5, 2, "timed passes; the best is kept")})
    with tempfile.TemporaryDirectory(prefix="tpcml-bench-x1t-onnx-") as tmp:
        paths = export_models(Path(tmp))
        rows = engine_rows(paths, args)
        rows.append(chain_row(paths, args))
    header = ("figure", "tpcml", "onnxruntime", "target", "ratio", "ok?")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print()
    for r in [header, *rows]:
        print(" | ".join(c.ljust(w) for c, w in zip(r, widths, strict=True)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
