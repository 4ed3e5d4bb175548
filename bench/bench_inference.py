#!/usr/bin/env python3
"""ONNX inference benchmarks: tpcml's C++ engine against onnxruntime on the parity models.

    venv/bin/python bench/bench_inference.py [--quick] [--models DIR]

The parity models of tests/python/onnx_models.py (MLP 4C, XENON1T CNN, EfficientNet-B0, ...) are exported
once into a cache directory (a temporary one unless ``--models DIR`` names one to reuse; the export runs in a
subprocess so that TensorFlow stays out of the timed process). Measured in one run and printed as a table
(figure, tpcml, onnxruntime, target, ratio, ok?):

* time per event of the C++ engine alone (``tpcml._core.onnx_benchmark``: no Python in the timed loop; batch 1
  is the single-event path ``Session::score``) and of onnxruntime (1 intra-op and 1 inter-op thread, one
  ``InferenceSession.run`` call per batch, batch 1 meaning one Python call per event), on the same pseudo-random
  inputs (the engine's LCG, reproduced here), best of ``--repeat`` passes after a warm-up pass;
* MLP 4C single event and batch 1024, XENON1T CNN 75x75x3 batch 64, EfficientNet-B0 128x128x3 batch 16;
* model load + plan time (``tpcml._core.OnnxModel(path)``) for the MLP and EfficientNet (onnxruntime column:
  ``InferenceSession`` creation, for comparison).

Targets (issue): MLP single event <= 250 ns/event; MLP batch 1024 <= onnxruntime per event; CNN batch 64 <=
onnxruntime; EfficientNet batch 16 <= 1.5 x onnxruntime; load <= 0.1 s (MLP), <= 2 s (EfficientNet).
A ratio > 1 means the target is met. These machines are shared: figures vary by some 10 % from run to run.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _common import best_seconds

REPO = Path(__file__).resolve().parents[1]
NEEDED = ("mlp4c", "xenon1t_cnn", "efficientnet_b0")

Row = tuple[str, str, str, str, str, str]  # figure, tpcml, onnxruntime, target, ratio, ok?


# ------------------------------------------------------------------------------------------------- helpers


def export_models(directory: Path) -> dict[str, Path]:
    """The parity models in `directory`, exported there first (in a subprocess, TensorFlow needed) if missing."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = {key: directory / f"{key}.onnx" for key in NEEDED}
    if all(p.is_file() for p in paths.values()):
        print(f"[bench] reusing the parity models in {directory}", flush=True)
        return paths
    print(f"[bench] exporting the parity models into {directory} (TensorFlow + tf2onnx)", flush=True)
    code = (
        "import sys; sys.path.insert(0, sys.argv[1]); "
        "from onnx_models import export_parity_models; export_parity_models(sys.argv[2])"
    )
    env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2", PYTHONWARNINGS="ignore")
    res = subprocess.run(
        [sys.executable, "-c", code, str(REPO / "tests" / "python"), str(directory)],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if res.returncode != 0 or not all(p.is_file() for p in paths.values()):
        raise SystemExit(f"bench: exporting the parity models failed:\n{res.stderr[-3000:]}")
    return paths


def lcg_inputs(n_values: int, state: int = 12345):
    """The pseudo-random floats in [0, 1) that ``_core.onnx_benchmark`` feeds the engine (same LCG, same seed),
    vectorised by jumping the generator ahead one block at a time."""
    import numpy as np

    a, c, mask = 1664525, 1013904223, 0xFFFFFFFF
    block = max(1, min(n_values, 4096))
    first = np.empty(block, np.uint64)
    jump_a, jump_c = 1, 0  # x -> jump_a * x + jump_c advances the generator by `block` steps
    for i in range(block):
        state = (state * a + c) & mask
        first[i] = state
        jump_a, jump_c = (jump_a * a) & mask, (jump_c * a + c) & mask
    out = np.empty(n_values, np.uint64)
    cur = first
    for start in range(0, n_values, block):
        stop = min(n_values, start + block)
        out[start:stop] = cur[: stop - start]
        cur = (cur * np.uint64(jump_a) + np.uint64(jump_c)) & np.uint64(mask)
    return ((out >> np.uint64(8)).astype(np.float64) / float(1 << 24)).astype(np.float32)


def ort_session(path: Path):
    import onnxruntime as ort

    so = ort.SessionOptions()
    so.intra_op_num_threads = 1
    so.inter_op_num_threads = 1
    return ort.InferenceSession(str(path), so, providers=["CPUExecutionProvider"])


def ort_ns_per_event(session, model, batch: int, n_events: int, repeat: int) -> float:
    """Best time per event (ns) of onnxruntime over `n_events` events in `session.run` calls of `batch` events."""
    info = model.inputs[0]
    x = lcg_inputs(n_events * info["event_size"]).reshape(n_events, *info["shape"][1:])
    name = session.get_inputs()[0].name
    feeds = [{name: x[i : i + batch]} for i in range(0, n_events, batch)]
    best = float("inf")
    for r in range(repeat + 1):  # the first pass warms up
        t0 = time.perf_counter()
        for feed in feeds:
            session.run(None, feed)
        elapsed = time.perf_counter() - t0
        if r > 0:
            best = min(best, elapsed)
    return best / n_events * 1e9


def fmt_ns(ns: float) -> str:
    if ns >= 1e6:
        return f"{ns / 1e6:.2f} ms"
    if ns >= 1e4:
        return f"{ns / 1e3:.1f} us"
    return f"{ns:.0f} ns"


def fmt_s(s: float) -> str:
    return f"{s * 1e3:.1f} ms" if s < 1 else f"{s:.2f} s"


def verdict(ratio: float) -> str:
    return "yes" if ratio >= 1.0 else "NO"


# ------------------------------------------------------------------------------------------------- figures


def inference_rows(paths: dict[str, Path], args) -> list[Row]:
    from tpcml import _core

    quick = args.quick
    repeat = 2 if quick else args.repeat
    rows: list[Row] = []
    # (figure, key, batch, events per pass, target factor: tpcml <= factor x onnxruntime; None: absolute ns)
    cases = [
        ("MLP 4C single event, per event", "mlp4c", 1, 2_000 if quick else 20_000, 250.0),
        ("MLP 4C batch 1024, per event", "mlp4c", 1024, 1024 * (2 if quick else 16), 1.0),
        ("XENON1T CNN 75x75x3 batch 64, per event", "xenon1t_cnn", 64, 64 * (1 if quick else 4), 1.0),
        ("EfficientNet-B0 128x128x3 batch 16, per event", "efficientnet_b0", 16, 16 * (1 if quick else 2), 1.5),
    ]
    for figure, key, batch, n_events, target in cases:
        print(f"[bench] {figure} ({n_events} events, best of {repeat})", flush=True)
        model = _core.OnnxModel(str(paths[key]))
        ours = _core.onnx_benchmark(model, batch, n_events, repeat)
        theirs = ort_ns_per_event(ort_session(paths[key]), model, batch, n_events, repeat)
        if batch == 1:
            label, ratio = f"<= {target:.0f} ns", target / ours
        else:
            label = "<= onnxruntime" if target == 1.0 else f"<= {target:g} x onnxruntime"
            ratio = target * theirs / ours
        rows.append((figure, fmt_ns(ours), fmt_ns(theirs), label, f"{ratio:.2f}", verdict(ratio)))

    for figure, key, target in [
        ("MLP 4C load + plan", "mlp4c", 0.1),
        ("EfficientNet-B0 load + plan", "efficientnet_b0", 2.0),
    ]:
        print(f"[bench] {figure}", flush=True)
        path = paths[key]
        ours = best_seconds(lambda p=path: _core.OnnxModel(str(p)), repeat)
        theirs = best_seconds(lambda p=path: ort_session(p), repeat)
        ratio = target / ours
        rows.append((figure, fmt_s(ours), fmt_s(theirs), f"<= {target:g} s", f"{ratio:.2f}", verdict(ratio)))
    return rows


def _rdf_loop_ns(ROOT, path: str, n: int, columns: list[str], model: str | None, threads: int, repeat: int) -> float:
    """Best ns/event of one RDataFrame event loop over `path`: sum of the 13 branches, or the model's score."""
    from tpcml.inference import define_score

    best = float("inf")
    for _ in range(repeat):
        if threads > 1:
            ROOT.EnableImplicitMT(threads)
        df = ROOT.RDataFrame("events", path)
        node = df.Define("value", " + ".join(columns)) if model is None else define_score(df, "value", model, columns)
        total = node.Sum("value")
        t0 = time.perf_counter()
        total.GetValue()
        best = min(best, (time.perf_counter() - t0) / n * 1e9)
        if ROOT.IsImplicitMTEnabled():
            ROOT.DisableImplicitMT()
    return best


def rdataframe_rows(paths: dict[str, Path], args) -> list[Row]:
    """RDataFrame figures: scoring 13 float branches with the MLP 4C against the same loop that only reads and
    sums the branches (overhead <= 50 %), and the 2-thread speed-up of the scoring loop (>= 1.8x)."""
    import numpy as np

    import tpcml

    ROOT = tpcml.load_root()
    n = 400_000 if args.quick else 2_000_000
    columns = [f"x{k}" for k in range(13)]
    rng = np.random.default_rng(5)
    with tempfile.TemporaryDirectory(prefix="tpcml-bench-rdf-") as tmp:
        path = str(Path(tmp) / "events.root")
        opts = ROOT.RDF.RSnapshotOptions()
        opts.fAutoFlush = 20_000  # several clusters: ImplicitMT parallelises across clusters
        ROOT.RDF.FromNumpy({c: rng.random(n, dtype=np.float32) for c in columns}).Snapshot("events", path, "", opts)
        model = str(paths["mlp4c"])
        reps = 2 if args.quick else args.repeat
        read = _rdf_loop_ns(ROOT, path, n, columns, None, 1, reps)
        scored = _rdf_loop_ns(ROOT, path, n, columns, model, 1, reps)
        scored2 = _rdf_loop_ns(ROOT, path, n, columns, model, 2, reps)
    overhead = (scored - read) / read
    speedup = scored / scored2
    return [
        (
            "RDF 1 thread: read+sum 13 branches vs + MLP 4C score (overhead)",
            fmt_ns(scored),
            fmt_ns(read),
            f"<= +50 % (got {overhead * 100:+.0f} %)",
            f"{0.5 / max(overhead, 1e-9):.2f}",
            verdict(0.5 / max(overhead, 1e-9)),
        ),
        (
            "RDF MLP 4C scoring, 2 threads vs 1 (speed-up)",
            fmt_ns(scored2),
            fmt_ns(scored),
            f">= 1.8x (got {speedup:.2f}x)",
            f"{speedup / 1.8:.2f}",
            verdict(speedup / 1.8),
        ),
    ]


# ---------------------------------------------------------------------------------------------------- main


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="fewer events and repeats (a smoke run, < 60 s)")
    ap.add_argument("--models", type=Path, help="directory caching the exported parity models (reused if present)")
    ap.add_argument("--repeat", type=int, default=5, help="timed passes; the best is kept (default: %(default)s)")
    args = ap.parse_args(argv)

    import onnxruntime as ort

    import tpcml
    from tpcml import _core

    t_start = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="tpcml-bench-onnx-") as tmp:
        paths = export_models(args.models if args.models else Path(tmp))
        rows = inference_rows(paths, args)
        rows += rdataframe_rows(paths, args)

    header: Row = ("figure", "tpcml", "reference", "target", "ratio", "ok?")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
    print(
        f"\ntpcml {tpcml.__version__} ONNX inference benchmarks (kernels: {_core.onnx_isa()}, onnxruntime "
        f"{ort.__version__} on 1 thread, {os.cpu_count()} CPUs visible{', --quick' if args.quick else ''})"
    )
    print(" | ".join(h.ljust(w) if i == 0 else h.rjust(w) for i, (h, w) in enumerate(zip(header, widths, strict=True))))
    print("-+-".join("-" * w for w in widths))
    for row in rows:
        print(
            " | ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(row, widths, strict=True)))
        )
    print("reference: onnxruntime for the engine rows; the loop compared with for the RDF rows.")
    print("ratio > 1 means the target is met (times are per event, best of the timed passes).")
    print(f"[bench] total {time.perf_counter() - t_start:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
