"""Bad-input table of the C++ doors (issue 13): tpcml-infer, tpcml-pair, tpcml-raster, tpcml-info,
the ROOT macros in macros/*.C and the pybind11 bindings (through ``python -c``).

Every case runs a real command on small files made by :func:`build_fixtures` and checks the
contract of ``tests/python/doors.py``: exit status (0 ok, 1 bad input, 2 bad arguments), a message
naming what is wrong, no traceback / abort / signal death, inputs left byte-identical.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

import numpy as np

from .conftest import BIN, REPO

MACROS = REPO / "macros"
PY = sys.executable
ROOT_EXE = str(BIN / "root")
FEATURES = [f"x{k}" for k in range(4)]
N_EVENTS = 300


def _mlp(path: Path, metadata: dict[str, str]) -> None:
    from onnx import TensorProto, helper, numpy_helper

    rng = np.random.default_rng(5)
    w1 = numpy_helper.from_array(rng.normal(0, 0.5, (4, 8)).astype(np.float32), "w1")
    w2 = numpy_helper.from_array(rng.normal(0, 0.5, (8, 1)).astype(np.float32), "w2")
    nodes = [
        helper.make_node("MatMul", ["x", "w1"], ["h"], name="dense1"),
        helper.make_node("Relu", ["h"], ["r"], name="relu"),
        helper.make_node("MatMul", ["r", "w2"], ["z"], name="dense2"),
        helper.make_node("Sigmoid", ["z"], ["y"], name="out"),
    ]
    graph = helper.make_graph(
        nodes,
        "mlp4",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", 4])],
        [helper.make_tensor_value_info("y", TensorProto.FLOAT, ["N", 1])],
        [w1, w2],
    )
    model = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    for k, v in metadata.items():
        model.metadata_props.add(key=k, value=v)
    path.write_bytes(model.SerializeToString())


def _tracks(n: int, rng: np.random.Generator) -> dict[str, list[np.ndarray]]:
    cols: dict[str, list[np.ndarray]] = {"hit_plane": [], "hit_strip": [], "hit_time": [], "hit_charge": []}
    for _ in range(n):
        k = int(rng.integers(4, 30))
        cols["hit_plane"].append(rng.integers(0, 2, k).astype(np.int32))
        cols["hit_strip"].append(rng.normal(0, 20, k).astype(np.float32))
        cols["hit_time"].append(rng.normal(100, 10, k).astype(np.float32))
        cols["hit_charge"].append(rng.uniform(0.1, 5, k).astype(np.float32))
    return cols


def build_fixtures(tmp: Path) -> None:
    """Small TTree and RNTuple event files, isolated-signal files, track files, models, bad files."""
    import awkward as ak
    import uproot

    from tpcml.rootio import write_tree

    rng = np.random.default_rng(13)
    n = N_EVENTS
    feats = {f: rng.normal(0, 1, n).astype(np.float32) for f in FEATURES}
    event = np.arange(n, dtype=np.int64)
    # events for infer / score_events.C / lifetime_bands.C: float TTree, RNTuple of doubles
    physics = {
        "qS1": rng.uniform(3, 45, n).astype(np.float32),
        "qS2": rng.uniform(300, 5000, n).astype(np.float32),
        "drift_time": rng.uniform(20, 300, n).astype(np.float32),
        "recoil_type": rng.integers(0, 2, n).astype(np.int32),
    }
    write_tree(tmp / "events.root", "events", {**feats, **physics, "event": event}, detector="pandax2", auto_flush=50)
    with uproot.recreate(tmp / "events_rntuple.root") as f:  # uproot 5.7: an RNTuple of doubles
        f["events"] = {k: v.astype(np.float64) for k, v in {**feats, **physics}.items()} | {"event": event}
    with uproot.recreate(tmp / "events_vecdouble.root") as f:  # one std::vector<double> column per event
        f["events"] = {"x": ak.Array([row.astype(np.float64) for row in np.stack([feats[k] for k in FEATURES], 1)])}
    with uproot.recreate(tmp / "events_strings.root") as f:
        f["events"] = {"x0": ak.Array([["a"]] * 5), "x1": np.zeros(5), "x2": np.zeros(5), "x3": np.zeros(5)}
    _mlp(tmp / "mlp.onnx", {"tpcml.inputs": json.dumps(FEATURES), "tpcml.working_point": "0.5"})
    _mlp(tmp / "mlp_vec.onnx", {"tpcml.inputs": json.dumps(["x"])})
    # isolated S1 / S2 populations for tpcml-pair and pair_accidentals.C
    m = 400
    s1 = {
        "qS1": rng.uniform(3, 45, m).astype(np.float32),
        "wS1": rng.uniform(20, 80, m).astype(np.float32),
        "S1TBA": rng.uniform(-0.5, 0.5, m).astype(np.float32),
        "S1NPeaks": rng.integers(1, 4, m).astype(np.int32),
        "S1LargestBCQ": rng.uniform(0.1, 0.5, m).astype(np.float32),
    }
    s2 = {
        "qS2": rng.uniform(100, 5000, m).astype(np.float32),
        "wS2": rng.uniform(500, 2000, m).astype(np.float32),
        "wtenS2": rng.uniform(100, 500, m).astype(np.float32),
        "S2TBA": rng.uniform(-0.5, 0.5, m).astype(np.float32),
        "S2SY1": rng.uniform(0, 1, m).astype(np.float32),
        "S2SY2": rng.uniform(0, 1, m).astype(np.float32),
        "x": rng.uniform(-200, 200, m).astype(np.float32),
        "y": rng.uniform(-200, 200, m).astype(np.float32),
    }
    write_tree(tmp / "isolated.root", "s1", s1, detector="pandax2", extra_trees={"s2": s2})
    with uproot.recreate(tmp / "isolated_rntuple.root") as f:
        f["s1"] = {k: v.astype(np.float64) if v.dtype == np.float32 else v for k, v in s1.items()}
        f["s2"] = {k: v.astype(np.float64) for k, v in s2.items()}
    # strip-hit tracks for tpcml-raster: a TTree with several clusters, an RNTuple of doubles
    tracks = _tracks(200, rng)
    with uproot.recreate(tmp / "tracks.root") as f:
        f.mktree(
            "events",
            {
                "event": "int64",
                "hit_plane": "var * int32",
                "hit_strip": "var * float32",
                "hit_time": "var * float32",
                "hit_charge": "var * float32",
            },
        )
        for b in range(0, 200, 50):
            f["events"].extend(
                {"event": np.arange(b, b + 50)} | {k: ak.Array(v[b : b + 50]) for k, v in tracks.items()}
            )
    with uproot.recreate(tmp / "tracks_rntuple.root") as f:
        f["events"] = {"event": np.arange(200)} | {
            k: ak.values_astype(ak.Array([a.tolist() for a in v]), np.int32 if k == "hit_plane" else np.float64)
            for k, v in tracks.items()
        }
    with uproot.recreate(tmp / "tracks_int64.root") as f:  # numpy's default integers
        f["events"] = {
            k: ak.values_astype(ak.Array([a.tolist() for a in v]), np.int64 if k == "hit_plane" else np.float32)
            for k, v in tracks.items()
        }
    bad = {k: [a.copy() for a in v[:3]] for k, v in tracks.items()}
    bad["hit_plane"][1][2] = 7
    _write_tracks(tmp / "tracks_plane7.root", bad)
    bad = {k: [a.copy() for a in v[:3]] for k, v in tracks.items()}
    bad["hit_time"][2][0] = np.nan
    _write_tracks(tmp / "tracks_nan.root", bad)
    bad = {k: [a.copy() for a in v[:3]] for k, v in tracks.items()}
    bad["hit_charge"][1][3] = -1.0
    _write_tracks(tmp / "tracks_negative.root", bad)
    # unusable files
    (tmp / "junk.root").write_bytes(b"\x00" * 200)
    (tmp / "truncated.root").write_bytes((tmp / "events.root").read_bytes()[:3000])
    (tmp / "adir").mkdir()
    os.mkfifo(tmp / "fifo.root")
    (tmp / "link.root").symlink_to(tmp / "events.root")
    os.link(tmp / "isolated.root", tmp / "isolated_hardlink.root")
    os.link(tmp / "tracks.root", tmp / "tracks_hardlink.root")


def _write_tracks(path: Path, cols: dict[str, list[np.ndarray]]) -> None:
    import awkward as ak
    import uproot

    with uproot.recreate(path) as f:
        f.mktree(
            "events",
            {
                "hit_plane": "var * int32",
                "hit_strip": "var * float32",
                "hit_time": "var * float32",
                "hit_charge": "var * float32",
            },
        )
        f["events"].extend({k: ak.Array(v) for k, v in cols.items()})
