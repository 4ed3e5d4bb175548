"""TS in C++ inside RDataFrame: the event vector (tpcml::defineEventVector) and the anomaly score
(tpcml::defineAnomalyScore, tpcml::AnomalyScore in libtpcml on tpcml's ONNX engine), so that the TS column can be
added to any events tree. The same kernel's other doors: ``tpcml._core.AnomalyScore`` (NumPy batches) and the
``tpcml-vector`` executable (files)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def load():
    """ROOT with libtpcml (tpcml::AnomalyScore is in its dictionary)."""
    from tpcml.core.root import load_root

    return load_root()


def anomaly_score(onnx: dict, R: float = 0.0):
    """The C++ tpcml::AnomalyScore of the exported graphs (``onnx``: encoder, decoder, classifier paths), loaded once
    per process (tpcml::anomalyScoreFor)."""
    ROOT = load()
    return ROOT.tpcml.anomalyScoreFor(*(str(Path(onnx[k]).resolve()) for k in ("encoder", "decoder", "classifier")), R)


def define_ts(node, onnx: dict, R: float = 0.0, vector: str = "darwin_x", name: str = "TS", parts: bool = False):
    """Defines ``name`` (double: TS with ``R``; with ``parts``: RVec<double> {KL, -log N, H_B}) on ``node`` (an
    RDataFrame node holding the event-vector column ``vector``)."""
    ROOT = load()
    return ROOT.tpcml.defineAnomalyScore(ROOT.RDF.AsRNode(node), name, anomaly_score(onnx, R), vector, parts)


def define_vector(node, name: str = "darwin_x", detector: str = "darwin"):
    ROOT = load()
    builder = ROOT.tpcml.EventVectorBuilder(ROOT.tpcml.DetectorConfig.load(detector), ROOT.tpcml.EventVectorOptions())
    return ROOT.tpcml.defineEventVector(ROOT.RDF.AsRNode(node), name, builder)


def rdataframe_parts(path, onnx: dict, threads: int = 1, tree: str = "events") -> np.ndarray:
    """(N, 3) TS parts of every event of ``path`` (in entry order), computed in RDataFrame."""
    from tpcml.core.root import implicit_mt

    load()
    with implicit_mt(threads) as ROOT:
        df = ROOT.RDataFrame(tree, str(path))
        node = define_ts(define_vector(df), onnx, parts=True, name="ts_parts")
        cols = node.AsNumpy(["event", "ts_parts"])
    order = np.argsort(cols["event"])
    return np.stack([np.asarray(cols["ts_parts"][i], np.float64) for i in order])
