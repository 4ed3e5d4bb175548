"""Bad-input table of the C++ doors (issue 13): tpcml-infer, tpcml-pair, tpcml-raster, tpcml-hitpeak, tpcml-vector,
tpcml-info, the ROOT macros in macros/*.C and the pybind11 bindings (through ``python -c``).

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
import pytest

from .conftest import BIN, REPO, run
from .doors import DoorCase, check

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
    """Small TTree and RNTuple event files, isolated-signal files, track files, models, bad files; out/ for outputs."""
    (tmp / "out").mkdir(exist_ok=True)
    import awkward as ak
    import uproot

    from tpcml.core.rootio import write_tree

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
    # LXe events for tpcml-hitpeak: fixed-length arrays (XENON1T: 248 PMTs, 200 samples), TTree and RNTuple of doubles
    lxe = _lxe_arrays(60, rng)
    write_tree(tmp / "lxe.root", "events", lxe, detector="xenon1t", auto_flush=20)
    with uproot.recreate(tmp / "lxe_rntuple.root") as f:  # uproot 5.7: an RNTuple of double arrays, no detector tag
        f["events"] = {k: v.astype(np.float64) for k, v in lxe.items()}
    bad = {k: v.copy() for k, v in lxe.items()}
    bad["s2_waveform"][7, 11] = np.nan
    write_tree(tmp / "lxe_nan.root", "events", bad, detector="xenon1t")
    bad = {k: v.copy() for k, v in lxe.items()}
    bad["s1_pmt_area"][3, 5] = -2.0
    write_tree(tmp / "lxe_negative.root", "events", bad, detector="xenon1t")
    short = {k: (v[:, :100] if k == "s1_pmt_area" else v) for k, v in lxe.items()}
    write_tree(tmp / "lxe_short.root", "events", short, detector="xenon1t")


def _lxe_arrays(n: int, rng) -> dict[str, np.ndarray]:
    """The events-tree arrays tpcml-hitpeak draws (tpcml simulate xenon1t's names and lengths)."""
    names = ("s1_waveform", "s1_waveform_top", "s1_waveform_bottom", "s2_waveform", "s2_waveform_top")
    return {
        "s1_pmt_area": rng.exponential(1.0, (n, 248)).astype(np.float32),
        "s2_pmt_area": rng.exponential(50.0, (n, 248)).astype(np.float32),
        **{k: rng.exponential(5.0, (n, 200)).astype(np.float32) for k in names},
        "s2_waveform_bottom": rng.exponential(5.0, (n, 200)).astype(np.float32),
    }


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


# ---------------------------------------------------------------------------------------- the table
def _f(name: str):
    return lambda d: str(d / name)


def _infer(*args: str | object) -> object:
    return lambda d: ["tpcml-infer", *[a(d) if callable(a) else a for a in args]]


def _cmd(exe: str, *args: str | object) -> object:
    return lambda d: [exe, *[a(d) if callable(a) else a for a in args]]


def _macro(macro: str, *args: object) -> object:
    """root -l -b -q 'macros/<macro>(args)': strings are quoted, numbers written as given."""

    def argv(d: Path) -> list[str]:
        parts = []
        for a in args:
            v = a(d) if callable(a) else a
            parts.append(f'"{v}"' if isinstance(v, str) and not v.startswith("#") else str(v).lstrip("#"))
        return [ROOT_EXE, "-l", "-b", "-q", f"{MACROS / macro}({', '.join(parts)})"]

    return argv


def _py(code: str) -> object:
    """python -c CODE with the fixtures directory as D; every exception printed as one error line."""
    wrapped = (
        "import sys, tpcml, tpcml._core as core\n"
        "D = sys.argv[1]\n"
        "try:\n" + "".join(f"    {line}\n" for line in code.splitlines()) + "except Exception as e:\n"
        "    print(f'error: {type(e).__name__}: {e}', file=sys.stderr)\n"
        "    sys.exit(2 if isinstance(e, (ValueError, TypeError)) else 1)\n"
    )
    return lambda d: [PY, "-c", wrapped, str(d)]


INFER = (_f("mlp.onnx"), "--input")
MODEL = ("--model", _f("mlp.onnx"))
PAIR5 = ("--input", _f("isolated.root"), "--output", _f("out/p.root"), "-n", "5")
SAME = r"is the input .* \(the same file\): refusing to overwrite an input"

CASES: list[DoorCase] = [
    # ------------------------------------------------------------------ tpcml-infer
    DoorCase(
        "tpcml-infer",
        "--columns=,,, (names no column)",
        _infer(*MODEL, "--input", _f("events.root"), "--output", _f("cols.root"), "--columns=,,,"),
        2,
        r"option '--columns' names no column, got ',,,'",
    ),
    DoorCase(
        "tpcml-infer",
        "--output equal to --input",
        _infer(*MODEL, "--input", _f("events.root"), "--output", _f("events.root")),
        2,
        SAME,
        unchanged=("events.root",),
    ),
    DoorCase(
        "tpcml-infer",
        "--output equal to --model",
        _infer(*MODEL, "--input", _f("events.root"), "--output", _f("mlp.onnx")),
        2,
        SAME,
        unchanged=("mlp.onnx",),
    ),
    DoorCase(
        "tpcml-infer",
        "--output a symlink to --input",
        _infer(*MODEL, "--input", _f("events.root"), "--output", _f("link.root")),
        2,
        SAME,
        unchanged=("events.root",),
    ),
    DoorCase(
        "tpcml-infer",
        "--output the input spelled ./",
        _infer("--model", "mlp.onnx", "--input", "events.root", "--output", "./events.root"),
        2,
        SAME,
        cwd=lambda d: d,
        unchanged=("events.root",),
    ),
    DoorCase(
        "tpcml-infer",
        "RNTuple of doubles (uproot 5.7)",
        _infer(*MODEL, "--input", _f("events_rntuple.root"), "--output", _f("out/infer_rntuple.root")),
        0,
        r"wrote 300 entries with column 'score'",
    ),
    DoorCase(
        "tpcml-infer",
        "RNTuple with 2 threads",
        _infer(
            *MODEL, "--input", _f("events_rntuple.root"), "--output", _f("out/infer_rntuple2.root"), "--threads", "2"
        ),
        0,
        r"wrote 300 entries",
    ),
    DoorCase(
        "tpcml-infer",
        "std::vector<double> event column",
        _infer(
            "--model", _f("mlp_vec.onnx"), "--input", _f("events_vecdouble.root"), "--output", _f("out/infer_vec.root")
        ),
        0,
        r"wrote 300 entries .*inputs: x\)",
    ),
    DoorCase(
        "tpcml-infer",
        "mixed TTree and RNTuple inputs",
        _infer(*MODEL, "--input", _f("events.root"), _f("events_rntuple.root"), "--output", _f("out/mixed.root")),
        1,
        r"'events' is a TTree in '.*events.root' but a RNTuple in '.*events_rntuple.root'",
    ),
    DoorCase(
        "tpcml-infer",
        "string column as model input",
        _infer(*MODEL, "--input", _f("events_strings.root"), "--output", _f("out/strings.root")),
        1,
        r"column 'x0' .*has type ROOT::VecOps::RVec<std::string>",
    ),
    DoorCase(
        "tpcml-infer",
        "missing input file",
        _infer(*MODEL, "--input", _f("absent.root"), "--output", _f("out/o.root")),
        1,
        r"cannot open '.*absent.root': no such file",
    ),
    DoorCase(
        "tpcml-infer",
        "directory as input",
        _infer(*MODEL, "--input", _f("adir"), "--output", _f("out/o.root")),
        1,
        r"it is a directory",
    ),
    DoorCase(
        "tpcml-infer",
        "FIFO as input",
        _infer(*MODEL, "--input", _f("fifo.root"), "--output", _f("out/o.root")),
        1,
        r"not a regular file",
        timeout=30,
    ),
    DoorCase(
        "tpcml-infer",
        "truncated ROOT file",
        _infer(*MODEL, "--input", _f("truncated.root"), "--output", _f("out/o.root")),
        1,
        r"truncated.root': not a readable ROOT file",
    ),
    DoorCase(
        "tpcml-infer",
        "--threads 1025",
        _infer(*MODEL, "--input", _f("events.root"), "--output", _f("out/o.root"), "--threads", "1025"),
        2,
        r"option '--threads' must be in \[0, 1024\], got 1025",
    ),
    DoorCase(
        "tpcml-infer",
        "--threads nan",
        _infer(*MODEL, "--input", _f("events.root"), "--output", _f("out/o.root"), "--threads", "nan"),
        2,
        r"option '--threads' expects an integer, got 'nan'",
    ),
    DoorCase(
        "tpcml-infer",
        "--name empty",
        _infer(*MODEL, "--input", _f("events.root"), "--output", _f("out/o.root"), "--name="),
        2,
        r"--name must not be empty",
    ),
    DoorCase(
        "tpcml-infer",
        "--tree misspelt",
        _infer(*MODEL, "--input", _f("events.root"), "--output", _f("out/o.root"), "--tree", "evnts"),
        1,
        r"no tree 'evnts' in '.*events.root' \(did you mean: events\?\)",
    ),
    # ------------------------------------------------------------------ tpcml-pair
    DoorCase(
        "tpcml-pair",
        "--n 0",
        _cmd("tpcml-pair", "--input", _f("isolated.root"), "--output", _f("out/p.root"), "-n", "0"),
        2,
        r"option '--events' must be an integer in \[1, 1000000000000000\], got 0",
    ),
    DoorCase(
        "tpcml-pair",
        "--n -5",
        _cmd("tpcml-pair", "--input", _f("isolated.root"), "--output", _f("out/p.root"), "-n", "-5"),
        2,
        r"option '--events' must be an integer in \[1, .*got '-5'",
    ),
    DoorCase(
        "tpcml-pair",
        "--n 1e16 beyond the limit",
        _cmd("tpcml-pair", "--input", _f("isolated.root"), "--output", _f("out/p.root"), "-n", "1e16"),
        2,
        r"option '--events' must be an integer in \[1, 1000000000000000\]",
    ),
    DoorCase(
        "tpcml-pair",
        "--n 2.5",
        _cmd("tpcml-pair", "--input", _f("isolated.root"), "--output", _f("out/p.root"), "-n", "2.5"),
        2,
        r"option '--events' must be an integer",
    ),
    DoorCase(
        "tpcml-pair",
        "--n nan",
        _cmd("tpcml-pair", "--input", _f("isolated.root"), "--output", _f("out/p.root"), "-n", "nan"),
        2,
        r"option '--events' must be an integer",
    ),
    DoorCase(
        "tpcml-pair",
        "--seed 2^64",
        _cmd(
            "tpcml-pair",
            "--input",
            _f("isolated.root"),
            "--output",
            _f("out/p.root"),
            "-n",
            "5",
            "--seed",
            "18446744073709551616",
        ),
        2,
        r"option '--seed' expects an integer in \[0, 18446744073709551615\], got '18446744073709551616'",
    ),
    DoorCase(
        "tpcml-pair",
        "--seed -1",
        _cmd("tpcml-pair", "--input", _f("isolated.root"), "--output", _f("out/p.root"), "-n", "5", "--seed", "-1"),
        2,
        r"option '--seed' expects an integer",
    ),
    DoorCase(
        "tpcml-pair",
        "--seed 2^64-1 kept exact",
        _cmd(
            "tpcml-pair",
            "--input",
            _f("isolated.root"),
            "--output",
            _f("out/p_seed.root"),
            "-n",
            "5",
            "--seed",
            "18446744073709551615",
        ),
        0,
        r"seed 18446744073709551615\)",
    ),
    DoorCase(
        "tpcml-pair",
        "--output equal to --input",
        _cmd("tpcml-pair", "--input", _f("isolated.root"), "--output", _f("isolated.root"), "-n", "5"),
        2,
        SAME,
        unchanged=("isolated.root",),
    ),
    DoorCase(
        "tpcml-pair",
        "--output a hard link of --input",
        _cmd("tpcml-pair", "--input", _f("isolated.root"), "--output", _f("isolated_hardlink.root"), "-n", "5"),
        2,
        SAME,
        unchanged=("isolated.root",),
    ),
    DoorCase(
        "tpcml-pair",
        "RNTuple of doubles",
        _cmd("tpcml-pair", "--input", _f("isolated_rntuple.root"), "--output", _f("out/p_rntuple.root"), "-n", "1000"),
        0,
        r"wrote 1000 events",
    ),
    DoorCase(
        "tpcml-pair",
        "--drift-window with trailing junk",
        _cmd(
            "tpcml-pair",
            "--input",
            _f("isolated.root"),
            "--output",
            _f("out/p.root"),
            "-n",
            "5",
            "--drift-window",
            "18,310x",
        ),
        2,
        r"--drift-window expects two finite numbers",
    ),
    DoorCase(
        "tpcml-pair",
        "--drift-window nan",
        _cmd(
            "tpcml-pair",
            "--input",
            _f("isolated.root"),
            "--output",
            _f("out/p.root"),
            "-n",
            "5",
            "--drift-window",
            "nan,310",
        ),
        2,
        r"--drift-window expects two finite",
    ),
    DoorCase(
        "tpcml-pair",
        "--livetime inf",
        _cmd(
            "tpcml-pair", "--input", _f("isolated.root"), "--output", _f("out/p.root"), "-n", "5", "--livetime", "inf"
        ),
        2,
        r"option '--livetime' expects a finite number",
    ),
    DoorCase(
        "tpcml-pair",
        "--efficiency 1.5",
        _cmd(
            "tpcml-pair",
            "--input",
            _f("isolated.root"),
            "--output",
            _f("out/p.root"),
            "-n",
            "5",
            "--efficiency",
            "1.5",
        ),
        2,
        r"option '--efficiency' must be in \[0, 1\]",
    ),
    DoorCase(
        "tpcml-pair",
        "--threads -1",
        _cmd("tpcml-pair", "--input", _f("isolated.root"), "--output", _f("out/p.root"), "-n", "5", "--threads", "-1"),
        2,
        r"option '--threads' must be in \[0, 1024\]",
    ),
    DoorCase(
        "tpcml-pair",
        "input without s1 tree",
        _cmd("tpcml-pair", "--input", _f("events.root"), "--output", _f("out/p.root"), "-n", "5"),
        1,
        r"no tree 's1' in '.*events.root'",
    ),
    DoorCase(
        "tpcml-pair",
        "FIFO as input",
        _cmd("tpcml-pair", "--input", _f("fifo.root"), "--output", _f("out/p.root"), "-n", "5"),
        1,
        r"not a regular file",
        timeout=30,
    ),
    DoorCase(
        "tpcml-pair",
        "a file tagged pandax2 paired with --detector xenon1t",
        _cmd("tpcml-pair", *PAIR5, "--detector", "xenon1t"),
        1,
        r"tagged with detector 'pandax2' \(tpcml_detector\) but the pairing runs with detector 'xenon1t'.*"
        r"--allow-detector-mismatch",
        unchanged=("isolated.root",),
    ),
    DoorCase(
        "tpcml-pair",
        "--format parquet",
        _cmd("tpcml-pair", *PAIR5, "--format", "parquet"),
        2,
        r"--format: parquet not in \{ttree,rntuple\}",
    ),
    # ------------------------------------------------------------------ tpcml-raster
    DoorCase(
        "tpcml-raster",
        "--output equal to --input",
        _cmd("tpcml-raster", "--input", _f("tracks.root"), "--output", _f("tracks.root")),
        2,
        SAME,
        unchanged=("tracks.root",),
    ),
    DoorCase(
        "tpcml-raster",
        "--output a hard link of --input",
        _cmd("tpcml-raster", "--input", _f("tracks.root"), "--output", _f("tracks_hardlink.root")),
        2,
        SAME,
        unchanged=("tracks.root",),
    ),
    DoorCase(
        "tpcml-raster",
        "RNTuple int32 planes and double hits",
        _cmd("tpcml-raster", "--input", _f("tracks_rntuple.root"), "--output", _f("out/r_rntuple.root")),
        0,
        r"wrote 200 images",
    ),
    DoorCase(
        "tpcml-raster",
        "RNTuple int64 planes (numpy default)",
        _cmd("tpcml-raster", "--input", _f("tracks_int64.root"), "--output", _f("out/r_int64.root"), "--threads", "2"),
        0,
        r"wrote 200 images",
    ),
    DoorCase(
        "tpcml-raster",
        "hit_plane = 7",
        _cmd("tpcml-raster", "--input", _f("tracks_plane7.root"), "--output", _f("out/r.root")),
        1,
        r"'.*tracks_plane7.root', tree 'events', entry 1, branch 'hit_plane', hit 2 \(plane\): plane 7",
    ),
    DoorCase(
        "tpcml-raster",
        "NaN hit time",
        _cmd("tpcml-raster", "--input", _f("tracks_nan.root"), "--output", _f("out/r.root"), "--threads", "2"),
        1,
        r"'.*tracks_nan.root', tree 'events', entry 2, branch 'hit_time', hit 0 \(time\): time nan",
    ),
    DoorCase(
        "tpcml-raster",
        "negative charge",
        _cmd("tpcml-raster", "--input", _f("tracks_negative.root"), "--output", _f("out/r.root")),
        1,
        r"entry 1, branch 'hit_charge', hit 3 \(charge\): charge -1; expected a finite charge >= 0",
    ),
    DoorCase(
        "tpcml-raster",
        "mixed TTree and RNTuple inputs",
        _cmd("tpcml-raster", "--input", _f("tracks.root"), _f("tracks_rntuple.root"), "--output", _f("out/r.root")),
        1,
        r"is a TTree in .* but a RNTuple in",
    ),
    DoorCase(
        "tpcml-raster",
        "input without hit columns",
        _cmd("tpcml-raster", "--input", _f("events.root"), "--output", _f("out/r.root")),
        1,
        r"tree 'events' in '.*events.root' lacks columns 'hit_plane'",
    ),
    DoorCase(
        "tpcml-raster",
        "--pixels 0",
        _cmd("tpcml-raster", "--input", _f("tracks.root"), "--output", _f("out/r.root"), "--pixels", "0"),
        2,
        r"option '--pixels' must be in \[2, 4096\], got 0",
    ),
    DoorCase(
        "tpcml-raster",
        "--pixels odd",
        _cmd("tpcml-raster", "--input", _f("tracks.root"), "--output", _f("out/r.root"), "--pixels", "63"),
        2,
        r"pixels per side must be even",
    ),
    DoorCase(
        "tpcml-raster",
        "--pixel-size nan",
        _cmd("tpcml-raster", "--input", _f("tracks.root"), "--output", _f("out/r.root"), "--pixel-size", "nan"),
        2,
        r"--pixel-size expects a positive number, got 'nan'",
    ),
    DoorCase(
        "tpcml-raster",
        "--pixel-size inf",
        _cmd("tpcml-raster", "--input", _f("tracks.root"), "--output", _f("out/r.root"), "--pixel-size", "inf"),
        2,
        r"pixel size must be a positive number of mm, got inf",
    ),
    DoorCase(
        "tpcml-raster",
        "--upscale 9",
        _cmd("tpcml-raster", "--input", _f("tracks.root"), "--output", _f("out/r.root"), "--upscale", "9"),
        2,
        r"option '--upscale' must be in \[1, 8\], got 9",
    ),
    DoorCase(
        "tpcml-raster",
        "--threads 1025",
        _cmd("tpcml-raster", "--input", _f("tracks.root"), "--output", _f("out/r.root"), "--threads", "1025"),
        2,
        r"option '--threads' must be in \[0, 1024\], got 1025",
    ),
    DoorCase(
        "tpcml-raster",
        "--layout unknown",
        _cmd("tpcml-raster", "--input", _f("tracks.root"), "--output", _f("out/r.root"), "--layout", "hwcn"),
        2,
        r"--layout expects nhwc or nchw, got 'hwcn'",
    ),
    # ------------------------------------------------------------------ tpcml-hitpeak
    DoorCase(
        "tpcml-hitpeak",
        "--output equal to the input",
        _cmd("tpcml-hitpeak", _f("lxe.root"), "--output", _f("lxe.root")),
        2,
        SAME,
        unchanged=("lxe.root",),
    ),
    DoorCase(
        "tpcml-hitpeak",
        "RNTuple of double arrays without tpcml_detector, --detector given",
        _cmd("tpcml-hitpeak", _f("lxe_rntuple.root"), "--output", _f("out/h_rntuple.root"), "--detector", "xenon1t"),
        0,
        r"wrote 60 images",
    ),
    DoorCase(
        "tpcml-hitpeak",
        "input without tpcml_detector and no --detector",
        _cmd("tpcml-hitpeak", _f("lxe_rntuple.root"), "--output", _f("out/h.root")),
        1,
        r"no tpcml_detector in the input\(s\); give the detector whose PMT positions the images draw",
    ),
    DoorCase(
        "tpcml-hitpeak",
        "NaN waveform sample",
        _cmd("tpcml-hitpeak", _f("lxe_nan.root"), "--output", _f("out/h.root"), "--threads", "2"),
        1,
        r"entry 7: HitPeakImager: s2_waveform\[11\] is not finite",
    ),
    DoorCase(
        "tpcml-hitpeak",
        "negative PMT area (baseline noise: drawn as no light)",
        _cmd("tpcml-hitpeak", _f("lxe_negative.root"), "--output", _f("out/h_negative.root")),
        0,
        r"wrote 60 images",
    ),
    DoorCase(
        "tpcml-hitpeak",
        "PMT array of another detector's length",
        _cmd("tpcml-hitpeak", _f("lxe_short.root"), "--output", _f("out/h.root")),
        1,
        r"s1_pmt_area has 100 values; expected 248 \(the detector's PMTs\)",
    ),
    DoorCase(
        "tpcml-hitpeak",
        "input without the array columns",
        _cmd("tpcml-hitpeak", _f("events.root"), "--output", _f("out/h.root")),
        1,
        r"tree 'events' in '.*events.root' lacks columns 's1_pmt_area'",
    ),
    DoorCase(
        "tpcml-hitpeak",
        "unknown --kind",
        _cmd("tpcml-hitpeak", _f("lxe.root"), "--output", _f("out/h.root"), "--kind", "hitpek"),
        2,
        r"unknown image kind 'hitpek'; expected one of hit, peak, hitpeak, raw.*hitpeak",
    ),
    # ------------------------------------------------------------------ tpcml-info
    DoorCase(
        "tpcml-info",
        "--json equal to --file",
        _cmd("tpcml-info", _f("events.root"), "--json", _f("events.root")),
        2,
        r"--json '.*events.root' is the input",
        unchanged=("events.root",),
    ),
    DoorCase(
        "tpcml-info",
        "--json a symlink to --file",
        _cmd("tpcml-info", _f("events.root"), "--json", _f("link.root")),
        2,
        r"--json '.*link.root' is the input",
        unchanged=("events.root",),
    ),
    DoorCase(
        "tpcml-info",
        "RNTuple of doubles",
        _cmd("tpcml-info", _f("events_rntuple.root"), "--tree", "events"),
        0,
        r"events: 300 entries, 9 columns",
    ),
    DoorCase(
        "tpcml-info",
        "FIFO as --file",
        _cmd("tpcml-info", _f("fifo.root")),
        1,
        r"cannot open '.*fifo.root': not a regular file",
        timeout=30,
    ),
    DoorCase(
        "tpcml-info",
        "--threads 1e3",
        _cmd("tpcml-info", "--threads", "1e3"),
        2,
        r"option '--threads' expects an integer, got '1e3'",
    ),
    # ------------------------------------------------------------------ macros
    DoorCase(
        "score_events.C",
        "missing input file",
        _macro("score_events.C", _f("absent.root"), _f("mlp.onnx"), _f("out/s.root")),
        1,
        r"score_events: error: cannot open '.*absent.root': no such file",
    ),
    DoorCase(
        "score_events.C",
        "output equal to input",
        _macro("score_events.C", _f("events.root"), _f("mlp.onnx"), _f("events.root")),
        2,
        r"score_events: error: --output .* is the input",
        unchanged=("events.root",),
    ),
    DoorCase(
        "score_events.C",
        "RNTuple of doubles, 2 threads",
        _macro("score_events.C", _f("events_rntuple.root"), _f("mlp.onnx"), _f("out/s_rntuple.root"), "events", "#2"),
        0,
        r"score_events: 300 entries",
    ),
    DoorCase(
        "score_events.C",
        "threads -1",
        _macro("score_events.C", _f("events.root"), _f("mlp.onnx"), _f("out/s.root"), "events", "#-1"),
        2,
        r"score_events: error: threads must be in \[0, 1024\]",
    ),
    DoorCase(
        "pair_accidentals.C",
        "n = -5",
        _macro("pair_accidentals.C", _f("isolated.root"), _f("out/a.root"), "#-5"),
        2,
        r"pair_accidentals: error: number of pairs n must be in \[1, 1e15\], got -5",
    ),
    DoorCase(
        "pair_accidentals.C",
        "output equal to input",
        _macro("pair_accidentals.C", _f("isolated.root"), _f("isolated.root"), "#10"),
        2,
        r"pair_accidentals: error: output .* is the input",
        unchanged=("isolated.root",),
    ),
    DoorCase(
        "pair_accidentals.C",
        "RNTuple of doubles, seed 2^64-1",
        _macro(
            "pair_accidentals.C",
            _f("isolated_rntuple.root"),
            _f("out/a_rntuple.root"),
            "#100",
            "#18446744073709551615ULL",
        ),
        0,
        r"pair_accidentals: 100 events from 400 S1 x 400 S2",
    ),
    DoorCase(
        "pair_accidentals.C",
        "missing input file",
        _macro("pair_accidentals.C", _f("absent.root"), _f("out/a.root"), "#10"),
        1,
        r"pair_accidentals: error: cannot open '.*absent.root'",
    ),
    DoorCase(
        "lifetime_bands.C",
        "RNTuple of doubles",
        _macro("lifetime_bands.C", _f("events_rntuple.root"), _f("out/bands.root"), "pandax2"),
        0,
        r"lifetime_bands: tau = ",
    ),
    DoorCase(
        "lifetime_bands.C",
        "output equal to input",
        _macro("lifetime_bands.C", _f("events.root"), _f("events.root")),
        2,
        r"lifetime_bands: error: output .* is the input",
        unchanged=("events.root",),
    ),
    DoorCase(
        "lifetime_bands.C",
        "threads -3",
        _macro("lifetime_bands.C", _f("events.root"), _f("out/b.root"), "pandax2", "#-3"),
        2,
        r"lifetime_bands: error: threads must be in \[0, 1024\], got -3",
    ),
    # ------------------------------------------------------------------ bindings
    DoorCase(
        "tpcml._core.score_files",
        "RNTuple after PyROOT is initialised",
        _py(
            "import ROOT\nROOT.gROOT.GetVersion()\nfrom tpcml.inference import score_files\n"
            "s = score_files([D + '/events_rntuple.root'], D + '/mlp.onnx', D + '/out/py_rntuple.root')\n"
            "print('scored', s['entries'])"
        ),
        0,
        r"scored 300",
    ),
    DoorCase(
        "tpcml._core.score_files",
        "threads 0",
        _py("core.score_files([D + '/events.root'], 'events', D + '/out/x.root', D + '/mlp.onnx', [], 'score', 0)"),
        2,
        r"error: UsageError: threads must be in \[1, 1024\], got 0",
    ),
    DoorCase(
        "tpcml._core.score_files",
        "output equal to model",
        _py("core.score_files([D + '/events.root'], 'events', D + '/mlp.onnx', D + '/mlp.onnx', [], 'score', 1)"),
        2,
        r"error: UsageError: --output .*mlp.onnx' is the input",
        unchanged=("mlp.onnx",),
    ),
    DoorCase(
        "tpcml.inference.score_files",
        "threads -1",
        _py(
            "from tpcml.inference import score_files\n"
            "score_files(D + '/events.root', D + '/mlp.onnx', D + '/out/x.root', threads=-1)"
        ),
        2,
        r"error: UsageError: threads must be in \[1, 1024\], got -1",
    ),
    DoorCase(
        "tpcml._core.TrackRasteriser.batch",
        "threads -1",
        _py(
            "import numpy as np\nr = core.TrackRasteriser(8, 3.0, 1.87)\n"
            "r.batch(np.zeros(1, np.int32), np.zeros(1, np.float32), np.zeros(1, np.float32),"
            " np.ones(1, np.float32), np.array([0, 1]), threads=-1)"
        ),
        2,
        r"error: ValueError: threads must be in \[0, 1024\] \(0: all cores\), got -1",
    ),
    DoorCase(
        "tpcml._core.AccidentalPairer.pair",
        "n = -1",
        _py(
            "from tpcml.pairing import read_isolated\ns1, s2 = read_isolated(D + '/isolated.root')\n"
            "p = core.AccidentalPairer(s1, s2, core.PositionCorrections(core.DetectorConfig.load('pandax2')),"
            " 18.0, 310.0, True, 1, 1.0)\np.pair(-1)"
        ),
        2,
        r"error: UsageError: n must be >= 0, got -1",
    ),
    DoorCase(
        "tpcml._core.require_distinct_output",
        "hard link",
        _py("core.require_distinct_output(D + '/isolated_hardlink.root', [D + '/isolated.root'], 'output')"),
        2,
        r"error: UsageError: output '.*isolated_hardlink.root' is the input '.*isolated.root'",
    ),
    DoorCase(
        "tpcml._core.TrackRasteriser.batch",
        "negative charge",
        _py(
            "import numpy as np\nr = core.TrackRasteriser(8, 3.0, 1.87)\n"
            "r.batch(np.zeros(4, np.int32), np.zeros(4, np.float32), np.zeros(4, np.float32),"
            " np.array([1, 1, -2, 1], np.float32), np.array([0, 2, 4]))"
        ),
        2,
        r"error: UsageError: event 1, track image: hit 0 \(charge\): charge -2",
    ),
    DoorCase(
        "tpcml._core.TrackRasteriser.batch",
        "offsets for 1e9 events",
        _py(
            "import numpy as np\nr = core.TrackRasteriser(64, 3.0, 1.87, 2)\n"
            "r.batch(np.zeros(1, np.int32), np.zeros(1, np.float32), np.zeros(1, np.float32), np.ones(1, np.float32),"
            " np.zeros(10**9 + 1, np.int64))"
        ),
        2,
        r"error: UsageError: the images of 1000000000 events \(offsets\) needs",
    ),
    DoorCase(
        "tpcml._core.AccidentalPairer.pair",
        "n = 1e12",
        _py(
            "from tpcml.pairing import read_isolated\ns1, s2 = read_isolated(D + '/isolated.root')\n"
            "p = core.AccidentalPairer(s1, s2, core.PositionCorrections(core.DetectorConfig.load('pandax2')),"
            " 18.0, 310.0, True, 1, 1.0)\np.pair(10**12)"
        ),
        2,
        r"error: UsageError: pairing 1000000000000 accidental events \(n\) needs .* GiB of memory",
    ),
]


def _vector(what: str, args: tuple, rc: int, message: str, **kw) -> DoorCase:
    """A tpcml-vector row (DARWIN-VAE event vectors and TS) of the table."""
    return DoorCase("tpcml-vector", what, _cmd("tpcml-vector", *args), rc, message, **kw)


CASES += [
    _vector(
        "--output equal to the input", (_f("lxe.root"), "--output", _f("lxe.root")), 2, SAME, unchanged=("lxe.root",)
    ),
    _vector(
        "event vectors of xenon1t events",
        (_f("lxe.root"), "--output", _f("out/v.root"), "--threads", "2"),
        0,
        r"event vectors of 648 values \(log1p, 127 \+ 121 PMTs of xenon1t\), 2 thread\(s\)",
    ),
    _vector(
        "NaN waveform sample",
        (_f("lxe_nan.root"), "--output", _f("out/v.root"), "--threads", "2"),
        1,
        r"entry 7: EventVectorBuilder: s2_waveform\[11\] is not finite",
    ),
    _vector(
        "input without the array columns",
        (_f("events.root"), "--output", _f("out/v.root")),
        1,
        r"tree 'events' in '.*events.root' lacks columns 's1_waveform'",
    ),
    _vector(
        "one of the three graphs",
        (_f("lxe.root"), "--output", _f("out/v.root"), "--encoder", _f("mlp.onnx")),
        2,
        r"the anomaly score needs all three graphs \(encoder, decoder, classifier\); got 1",
    ),
]


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory) -> Path:
    d = tmp_path_factory.mktemp("doors_cpp")
    build_fixtures(d)
    return d


@pytest.mark.parametrize("case", CASES, ids=[c.id for c in CASES])
def test_door(case: DoorCase, fixtures: Path) -> None:
    check(case, fixtures)


def test_bad_input_table_script_reports_observed_rows(tmp_path):
    """scripts/bad_input_table.py re-runs the door cases and writes the measured table (entry point, input, exit,
    message) that docs and notes quote."""
    out = tmp_path / "table.md"
    res = run([sys.executable, str(REPO / "scripts" / "bad_input_table.py"), "-k", "tpcml-info", "--out", str(out)])
    assert res.returncode == 0, res.stderr[-2000:]
    rows = [ln for ln in out.read_text().splitlines() if ln.startswith("| ") and "`tpcml-info`" in ln]
    assert len(rows) == sum("tpcml-info" in c.id for c in CASES) >= 3
    assert all(ln.endswith("| ok |") for ln in rows)
    assert any("| 2 |" in ln for ln in rows)
