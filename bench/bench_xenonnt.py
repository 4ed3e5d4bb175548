#!/usr/bin/env python3
"""XENONnT nT-CVAE inference benchmarks: tpcml's C++ ONNX engine against onnxruntime on the study's networks.

    venv/bin/python bench/bench_xenonnt.py [--quick] [--repeat N]

The networks of :mod:`tpcml.studies.xenonnt.models` with random (untrained) weights -- the speed does not depend on
the weights -- are exported with ``tpcml.ml.export.to_onnx`` into a temporary directory:

* the CVAE decoder of nT-CVAE Sec. VI A: z (256) -> Dense -> 3 x 3 x 128 -> three stride-3 ``Conv2DTranspose``
  ("same") -> 81 x 81 x 3 -> crop to 75 x 75 -> sigmoid (the engine's ConvTranspose);
* issue 20's small decoder: Dense -> Reshape 9 x 9 x 32 -> three stride-2 ``Conv2DTranspose`` ("same") to
  72 x 72 x 3 (the case the issue measured at 4.8 ms per event in tpcml vs 0.13 ms in onnxruntime, batch 64);
* the CNN of Fig. 2 bottom (X1T-CNN network, two Conv + MaxPool blocks) on 75 x 75 x 3;
* the whole TS model (encoder means -> decoder, KL, CNN p: what the study scores per event).

Each at batch 1 and 64: time per event of the C++ engine alone (``tpcml._core.onnx_benchmark``, no Python in the
loop) and of onnxruntime (1 intra-op and 1 inter-op thread), on the same inputs, best of ``--repeat`` passes after
a warm-up (bench_inference.py's helpers). ratio = onnxruntime / tpcml: > 1 means tpcml is faster. Shared machines:
figures vary by some 10 % from run to run.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from _common import parse_options, print_table

sys.path.insert(0, str(Path(__file__).resolve().parent))


def small_decoder():
    """Issue 20's decoder: Dense -> Reshape 9x9x32 -> three stride-2 Conv2DTranspose ("same") to 72x72x3."""
    import keras
    from keras import layers

    z = keras.Input(shape=(16,), name="z")
    y = layers.Reshape((9, 9, 32))(layers.Dense(9 * 9 * 32, activation="relu")(z))
    y = layers.Conv2DTranspose(32, 3, strides=2, padding="same", activation="relu")(y)
    y = layers.Conv2DTranspose(16, 3, strides=2, padding="same", activation="relu")(y)
    y = layers.Conv2DTranspose(3, 3, strides=2, padding="same", activation="sigmoid")(y)
    return keras.Model(z, y, name="small_decoder")


def export_models(folder: Path) -> dict[str, Path]:
    from tpcml.ml.backend import configure_tensorflow, silence_tensorflow_logs

    silence_tensorflow_logs()
    configure_tensorflow(1)
    import keras

    from tpcml.ml.export import to_onnx
    from tpcml.studies.xenonnt import models

    keras.utils.set_random_seed(0)
    enc, dec, _ = models.paper_cvae(seed=0)
    cnn = models.cnn()
    return {
        "decoder": to_onnx(dec, folder / "decoder.onnx"),
        "small_decoder": to_onnx(small_decoder(), folder / "small_decoder.onnx"),
        "cnn": to_onnx(cnn, folder / "cnn.onnx"),
        "ts": to_onnx(models.score_model(enc, dec, cnn), folder / "ts.onnx"),
    }


def main(argv=None) -> int:
    args = parse_options(
        argv,
        __doc__,
        "a smoke run (fewer events, one pass)",
        {"--repeat": (3, 1, "timed passes (best kept)"), "--events": (256, 64, "events per pass at batch 64")},
    )
    import onnxruntime as ort

    from bench_inference import fmt_ns, ort_ns_per_event, ort_session
    from tpcml import _core

    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        paths = export_models(Path(tmp))
        cases = [
            ("CVAE decoder (ConvTranspose s3) z256 -> 75x75x3", "decoder"),
            ("issue-20 decoder (ConvTranspose s2) -> 72x72x3", "small_decoder"),
            ("CNN (2 conv + pool) 75x75x3", "cnn"),
            ("TS model (encoder, decoder, KL, CNN) 75x75x3", "ts"),
        ]
        for figure, key in cases:
            model = _core.OnnxModel(str(paths[key]))
            session = ort_session(paths[key])
            for batch in (1, 64):
                n = max(batch, args.events if batch > 1 else args.events // 4)
                print(f"[bench] {figure}, batch {batch} ({n} events, best of {args.repeat})", flush=True)
                ours = _core.onnx_benchmark(model, batch, n, args.repeat)
                theirs = ort_ns_per_event(session, model, batch, n, args.repeat)
                rows.append((f"{figure}, batch {batch}", fmt_ns(ours), fmt_ns(theirs), f"{theirs / ours:.2f}"))
    print_table(
        "XENONnT nT-CVAE networks: time per event, tpcml C++ engine vs onnxruntime (1 thread)",
        [("tpcml", ">10"), ("onnxruntime", ">12"), ("ratio ort/tpcml", ">16")],
        rows,
        " | ",
        f"(onnxruntime {ort.__version__}, {os.cpu_count()} CPUs visible{', --quick' if args.quick else ''})",
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
