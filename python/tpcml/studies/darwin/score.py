"""TS in C++ inside RDataFrame: the event vector (tpcml::defineEventVector) and the anomaly score of AnomalyScore.h
(tpcml::darwin::AnomalyScore on tpcml's ONNX engine), so that the TS column can be added to any events tree."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

HEADER = Path(__file__).with_name("AnomalyScore.h")


@functools.cache
def load():
    """ROOT with libtpcml and AnomalyScore.h declared."""
    from tpcml.core.root import load_root

    ROOT = load_root()
    if not ROOT.gInterpreter.Declare(f'#include "{HEADER}"'):
        raise RuntimeError(f"cling could not compile {HEADER}")
    return ROOT


def _quote(path) -> str:
    return '"' + str(Path(path).resolve()).replace("\\", "\\\\").replace('"', '\\"') + '"'


def define_ts(node, onnx: dict, R: float = 0.0, vector: str = "darwin_x", name: str = "TS", parts: bool = False):
    """Defines ``name`` (double: TS with ``R``; with ``parts``: RVec<double> {KL, -log N, H_B}) on ``node`` (an
    RNode holding the event-vector column ``vector``)."""
    call = (
        f"tpcml::darwin::anomalyScoreFor({_quote(onnx['encoder'])}, {_quote(onnx['decoder'])}, "
        f"{_quote(onnx['classifier'])}, {float(R)!r})"
    )
    expr = f"{call}.parts(rdfslot_, {vector})" if parts else f"{call}(rdfslot_, {vector})"
    return node.Define(name, expr)


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
