"""The bad-input table of tpcml's Python doors (issue 13): every ``tpcml`` sub-command, the PyROOT scripts in
macros/*.py and Python API calls through ``python -c``. docs/doors-python.md describes what each door accepts.

Each case runs the door as a user would and checks the contract of tests/python/doors.py: the promised exit
status (0 ok, 1 bad input, 2 bad argument), a message naming the file / column / value, never a traceback,
and inputs byte-identical afterwards.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

from . import doors
from .conftest import BIN, REPO
from .doors import DoorCase

TPCML = str(BIN / "tpcml")
PY = sys.executable

STUDY_EXTRA = ("wS1", "wS2", "wtenS2", "S1TBA", "S2TBA", "S2SY1", "S2SY2", "S1NPeaks", "S1LargestBCQ")
S1 = {"qS1": "f", "wS1": "f", "S1TBA": "f", "S1NPeaks": "i", "S1LargestBCQ": "f"}
S2 = {"qS2": "f", "wS2": "f", "wtenS2": "f", "S2TBA": "f", "S2SY1": "f", "S2SY2": "f", "x": "f", "y": "f"}


def _events(n: int, seed: int) -> dict[str, np.ndarray]:
    """Events that mostly pass the P2-DNN selection (pandax2: FV 18-310 us, r < 241 mm, 3-45 PE)."""
    rng = np.random.default_rng(seed)
    q1 = rng.uniform(2.0, 50.0, n)
    q2 = rng.uniform(50.0, 12000.0, n)
    return {
        "qS1": q1.astype(np.float32),
        "qS2": q2.astype(np.float32),
        "qS1c": (q1 * 1.05).astype(np.float32),
        "qS2c": (q2 * 1.2).astype(np.float32),
        "drift_time": rng.uniform(0.0, 350.0, n).astype(np.float32),
        "x": rng.uniform(-250.0, 250.0, n).astype(np.float32),
        "y": rng.uniform(-250.0, 250.0, n).astype(np.float32),
        **{k: rng.uniform(0.1, 1.0, n).astype(np.float32) for k in STUDY_EXTRA},
        "weight": np.full(n, 1e-3, np.float32),
        "recoil_type": (np.arange(n) % 2).astype(np.int32),
        "index": np.arange(n, dtype=np.int64),
    }


def _isolated(n: int, names: dict[str, str], seed: int) -> dict[str, np.ndarray]:
    rng = np.random.default_rng(seed)
    out = {}
    for k, t in names.items():
        if t == "i":
            out[k] = rng.integers(1, 4, n).astype(np.int32)
        elif k in ("x", "y"):
            out[k] = rng.uniform(-200.0, 200.0, n).astype(np.float32)
        elif k.endswith("TBA"):
            out[k] = rng.uniform(-0.5, 0.5, n).astype(np.float32)
        else:
            out[k] = rng.uniform(1.0, 100.0, n).astype(np.float32)
    if "qS2" in out:
        out["qS2"] = rng.uniform(150.0, 5000.0, n).astype(np.float32)
    return out


def _tracks(n: int, seed: int):
    import awkward as ak

    rng = np.random.default_rng(seed)
    counts = rng.integers(5, 20, n)
    plane = [rng.integers(0, 2, c).astype(np.int32) for c in counts]
    strip = [rng.uniform(-60.0, 60.0, c).astype(np.float32) for c in counts]
    time = [rng.uniform(100.0, 110.0, c).astype(np.float32) for c in counts]
    charge = [rng.uniform(1.0, 10.0, c).astype(np.float32) for c in counts]
    return {
        "hit_plane": ak.Array(plane),
        "hit_strip": ak.Array(strip),
        "hit_time": ak.Array(time),
        "hit_charge": ak.Array(charge),
        "label": np.arange(n, dtype=np.int32) % 2,
        "event": np.arange(n, dtype=np.int64),
    }


def _model(path: Path, inputs: list[str]) -> None:
    """score = sum_i w_i x_i with distinct weights, so a column permutation changes the score."""
    import onnx
    from onnx import TensorProto, helper

    k = len(inputs)
    w = helper.make_tensor("w", TensorProto.FLOAT, [k, 1], [float(i + 1) for i in range(k)])
    graph = helper.make_graph(
        [helper.make_node("MatMul", ["x", "w"], ["score"])],
        "lin",
        [helper.make_tensor_value_info("x", TensorProto.FLOAT, ["N", k])],
        [helper.make_tensor_value_info("score", TensorProto.FLOAT, ["N", 1])],
        [w],
    )
    m = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 17)])
    m.ir_version = 8
    helper.set_model_props(m, {"tpcml.inputs": json.dumps(inputs)})
    onnx.save(m, str(path))


def build_fixtures(tmp: Path) -> None:
    """Writes every file the cases name into ``tmp`` (about 2 s)."""
    import awkward as ak
    import uproot

    from tpcml.core.rootio import write_tree

    ev = _events(4000, 1)
    write_tree(tmp / "events.root", "events", ev, detector="pandax2", auto_flush=500)  # 8 clusters
    with uproot.recreate(tmp / "events_rntuple.root") as f:  # uproot 5.7: an RNTuple of double columns
        f["events"] = {k: v if v.dtype.kind == "i" else v.astype(np.float64) for k, v in ev.items()}
    with uproot.recreate(tmp / "events_vecdouble.root") as f:
        cols = {k: v if v.dtype.kind == "i" else v.astype(np.float64) for k, v in ev.items()}
        cols["qS1"] = ak.Array([[float(v)] for v in ev["qS1"]])  # std::vector<double>
        f["events"] = cols
    with uproot.recreate(tmp / "events_int.root") as f:
        cols = {k: v if v.dtype.kind == "i" else v.astype(np.float64) for k, v in ev.items()}
        cols["qS2"] = ev["qS2"].astype(np.int32)
        f["events"] = cols
    data = (tmp / "events.root").read_bytes()
    corrupt = bytearray(data)
    for pos in range(len(data) // 4, len(data) * 3 // 4, 97):  # baskets, not the header or the keys list
        corrupt[pos] ^= 0x5A
    (tmp / "corrupt.root").write_bytes(bytes(corrupt))
    (tmp / "truncated.root").write_bytes(data[: len(data) // 2])
    (tmp / "notroot.root").write_text("this is not a ROOT file\n")
    (tmp / "adir").mkdir()
    os.mkfifo(tmp / "fifo.root")
    os.symlink(tmp / "events.root", tmp / "link.root")
    os.link(tmp / "events.root", tmp / "hardlink.root")

    # a file with the NR median TGraph (what `tpcml select --below-nr-median` reads first when it carries one)
    from tpcml import _core

    q1 = ev["qS1c"]
    curve = _core.NRMedianCurve.fit(q1, (q1 * 10 ** (2.0 - 0.01 * q1)).astype(np.float32), 3.0, 45.0, n_bins=10)
    write_tree(tmp / "with_median.root", "events", ev, detector="pandax2", finish=lambda p: curve.write_to(str(p)))

    s1, s2 = _isolated(3000, S1, 2), _isolated(3000, S2, 3)
    write_tree(tmp / "isolated.root", "s1", s1, detector="pandax2", extra_trees={"s2": s2})
    with uproot.recreate(tmp / "isolated_rntuple.root") as f:
        f["s1"] = {k: (v.astype(np.int64) if v.dtype.kind == "i" else v.astype(np.float64)) for k, v in s1.items()}
        f["s2"] = {k: v.astype(np.float64) for k, v in s2.items()}

    tr = _tracks(60, 4)
    with uproot.recreate(tmp / "tracks.root") as f:
        f.mktree(
            "events",
            {
                "hit_plane": "var * int32",
                "hit_strip": "var * float32",
                "hit_time": "var * float32",
                "hit_charge": "var * float32",
                "label": "int32",
                "event": "int64",
            },
        )
        f["events"].extend(tr)
    with uproot.recreate(tmp / "tracks_rntuple.root") as f:
        f["events"] = {
            "hit_plane": ak.values_astype(tr["hit_plane"], np.int32),  # std::vector<std::int32_t>
            **{k: tr[k] for k in ("label", "event")},
            "hit_strip": ak.values_astype(tr["hit_strip"], np.float64),
            "hit_time": ak.values_astype(tr["hit_time"], np.float64),
            "hit_charge": ak.values_astype(tr["hit_charge"], np.float64),
        }

    _model(tmp / "model.onnx", ["qS1", "qS2", "drift_time"])
    (tmp / "bad.toml").write_text("name = 'x'\n[[[\n")
    (tmp / "a_file").write_text("a file where a directory is expected\n")
    (tmp / "rndir").mkdir()  # pandax2_accidentals.py's directory, as RNTuples of doubles
    shutil.copy(tmp / "isolated_rntuple.root", tmp / "rndir" / "isolated.root")
    shutil.copy(tmp / "with_median.root", tmp / "rndir" / "nr_calibration.root")
    (tmp / "plotdir").mkdir()  # tpcml plot: the NR file (TTree + TGraph), ER and accidentals as RNTuples
    shutil.copy(tmp / "with_median.root", tmp / "plotdir" / "nr_calibration.root")
    for name in ("er_calibration.root", "accidentals.root"):
        shutil.copy(tmp / "events_rntuple.root", tmp / "plotdir" / name)
    (tmp / "baddir").mkdir()
    shutil.copytree(tmp / "plotdir", tmp / "baddir", dirs_exist_ok=True)
    (tmp / "baddir" / "nr_calibration.root").write_text("not ROOT\n")
    (tmp / "vecdir").mkdir()
    for name in ("nr_calibration.root", "er_calibration.root", "accidentals.root"):
        shutil.copy(tmp / "events_vecdouble.root", tmp / "vecdir" / name)


@pytest.fixture(scope="module")
def fixtures(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("doors_py")
    build_fixtures(tmp)
    return tmp


def tpcml(*args: str):
    return lambda d: [TPCML, *(a.replace("{d}", str(d)) for a in args)]


def script(name: str, *args: str):
    return lambda d: [PY, str(REPO / "macros" / name), *(a.replace("{d}", str(d)) for a in args)]


def api(code: str):
    """A Python API call; an exception is printed as one line "error: Type: message" with exit status 1."""
    wrapped = (
        "import sys\ntry:\n    exec(sys.argv[1])\nexcept Exception as e:\n"
        "    print(f'error: {type(e).__name__}: {e}'); sys.exit(1)"
    )
    return lambda d: [PY, "-c", wrapped, code.replace("{d}", str(d))]


TB = "Traceback"
OVERWRITE = r"refusing to overwrite an input"

CASES: list[DoorCase] = [
    # ------------------------------------------------------------------ tpcml select
    DoorCase("tpcml select", "--output equal to the input", tpcml("select", "{d}/events.root", "--output",
             "{d}/events.root"), 2, OVERWRITE, unchanged=("events.root",)),
    DoorCase("tpcml select", "--output the input through a symlink", tpcml("select", "{d}/events.root", "--output",
             "{d}/link.root"), 2, r"\(the same file\): refusing to overwrite an input", unchanged=("events.root",)),
    DoorCase("tpcml select", "--output the input through a hard link", tpcml("select", "{d}/events.root",
             "--output", "{d}/hardlink.root"), 2, OVERWRITE, unchanged=("events.root",)),
    DoorCase("tpcml select", "--output the input spelled with ./ and ..", tpcml("select", "{d}/events.root",
             "--output", "{d}/adir/../events.root"), 2, OVERWRITE, unchanged=("events.root",)),
    DoorCase("tpcml select", "--output equal to --nr-median", tpcml("select", "{d}/events.root", "--below-nr-median",
             "--nr-median", "{d}/with_median.root", "--output", "{d}/with_median.root"), 2, OVERWRITE,
             unchanged=("with_median.root",)),
    DoorCase("tpcml select", "--output a directory", tpcml("select", "{d}/events.root", "--output", "{d}/adir"), 2,
             r"is a directory"),
    DoorCase("tpcml select", "RNTuple of double columns (uproot 5.7)", tpcml("select", "{d}/events_rntuple.root",
             "--output", "{d}/out_select_rntuple.root"), 0, r"selected events written to"),
    DoorCase("tpcml select", "a TTree and an RNTuple together", tpcml("select", "{d}/events.root",
             "{d}/events_rntuple.root"), 1, r"'events' is a TTree in .*events\.root but an RNTuple in .*rntuple"),
    DoorCase("tpcml raster", "a TTree and an RNTuple together", tpcml("raster", "--input", "{d}/tracks.root",
             "{d}/tracks_rntuple.root", "--output", "{d}/r_mixed.root"), 1, r"is a TTree in .* but an RNTuple"),
    DoorCase("tpcml select", "std::vector<double> column", tpcml("select", "{d}/events_vecdouble.root"), 1,
             r"column 'qS1' of 'events' is std::vector<double>; expected a float or double scalar"),
    DoorCase("tpcml select", "int32 column", tpcml("select", "{d}/events_int.root"), 1,
             r"column 'qS2' of 'events' is std::int32_t; expected a float or double"),
    DoorCase("tpcml select", "corrupted baskets", tpcml("select", "{d}/corrupt.root"), 1,
             r"tpcml: error: .*corrupt\.root: cannot read"),
    DoorCase("tpcml select", "truncated file", tpcml("select", "{d}/truncated.root"), 1, r"truncated\.root"),
    DoorCase("tpcml select", "--nr-median file without the TGraph", tpcml("select", "{d}/events.root",
             "--below-nr-median", "--nr-median", "{d}/events.root"), 1, r"events\.root.*tpcml_nr_median"),
    DoorCase("tpcml select", "a directory as input", tpcml("select", "{d}/adir"), 1, r"adir: is a directory"),
    DoorCase("tpcml select", "a FIFO as input", tpcml("select", "{d}/fifo.root"), 1, r"fifo\.root: is not a regular"),
    DoorCase("tpcml select", "missing file", tpcml("select", "{d}/nope.root"), 1, r"nope\.root: no such file"),
    DoorCase("tpcml select", "not a ROOT file", tpcml("select", "{d}/notroot.root"), 1,
             r"notroot\.root: not a readable ROOT file"),
    DoorCase("tpcml select", "misspelt --tree", tpcml("select", "{d}/events.root", "--tree", "evnts"), 1,
             r"no tree or RNTuple 'evnts' \(did you mean events\?\)"),
    DoorCase("tpcml select", "--threads -1", tpcml("select", "{d}/events.root", "--threads", "-1"), 2,
             r"argument --threads"),
    DoorCase("tpcml select", "--threads nan", tpcml("select", "{d}/events.root", "--threads", "nan"), 2,
             r"argument --threads.*expected an integer"),
    # ------------------------------------------------------------------ tpcml pair
    DoorCase("tpcml pair", "-n 0", tpcml("pair", "--input", "{d}/isolated.root", "--output", "{d}/p.root", "-n", "0"),
             2, r"argument -n/--events: expected an integer >= 1, got 0"),
    DoorCase("tpcml pair", "-n -5", tpcml("pair", "--input", "{d}/isolated.root", "--output", "{d}/p.root", "-n=-5"),
             2, r"argument -n/--events: expected an integer >= 1"),
    DoorCase("tpcml pair", "-n 1e12 (memory)", tpcml("pair", "--input", "{d}/isolated.root", "--output",
             "{d}/p.root", "-n", "1e12"), 2, r"-n 1000000000000.*needs about .* of memory; the limit is"),
    DoorCase("tpcml pair", "-n 2.5", tpcml("pair", "--input", "{d}/isolated.root", "--output", "{d}/p.root", "-n",
             "2.5"), 2, r"expected an integer, got '2\.5'"),
    DoorCase("tpcml pair", "--seed 2**64", tpcml("pair", "--input", "{d}/isolated.root", "--output", "{d}/p.root",
             "-n", "10", "--seed", "2**64"), 2, r"argument --seed: expected an integer"),
    DoorCase("tpcml pair", "--seed 2^64+1", tpcml("pair", "--input", "{d}/isolated.root", "--output", "{d}/p.root",
             "-n", "10", "--seed", "18446744073709551617"), 2, r"argument --seed: expected an integer <= 2\^64 - 1"),
    DoorCase("tpcml pair", "--seed 2e19", tpcml("pair", "--input", "{d}/isolated.root", "--output", "{d}/p.root",
             "-n", "10", "--seed", "2e19"), 2, r"argument --seed: expected an integer <= 2\^64 - 1"),
    DoorCase("tpcml pair", "--seed 2^64-1 is exact", tpcml("pair", "--input", "{d}/isolated.root", "--output",
             "{d}/p_seedmax.root", "-n", "50", "-q", "--seed", "18446744073709551615"), 0, r"^$|n_acc"),
    DoorCase("tpcml pair", "--drift-window beyond the detector", tpcml("pair", "--input", "{d}/isolated.root",
             "--output", "{d}/p.root", "-n", "10", "--drift-window", "0,1e9"), 2,
             r"--drift-window needs 0 <= TMIN < TMAX <= 364 us"),
    DoorCase("tpcml pair", "--drift-window 0,inf", tpcml("pair", "--input", "{d}/isolated.root", "--output",
             "{d}/p.root", "-n", "10", "--drift-window", "0,inf"), 2, r"expected a finite number, got inf"),
    DoorCase("tpcml pair", "--drift-window nan,5", tpcml("pair", "--input", "{d}/isolated.root", "--output",
             "{d}/p.root", "-n", "10", "--drift-window", "nan,5"), 2, r"expected a finite number, got nan"),
    DoorCase("tpcml pair", "--output equal to --input", tpcml("pair", "--input", "{d}/isolated.root", "--output",
             "{d}/isolated.root", "-n", "10"), 2, OVERWRITE, unchanged=("isolated.root",)),
    DoorCase("tpcml pair", "--output equal to --nr-median", tpcml("pair", "--input", "{d}/isolated.root",
             "--output", "{d}/with_median.root", "--nr-median", "{d}/with_median.root", "-n", "10"), 2, OVERWRITE,
             unchanged=("with_median.root",)),
    DoorCase("tpcml pair", "RNTuple of double columns (uproot 5.7)", tpcml("pair", "--input",
             "{d}/isolated_rntuple.root", "--output", "{d}/p_rntuple.root", "-n", "100"), 0, r"pairing 100 events"),
    DoorCase("tpcml pair", "misspelt --s1-tree", tpcml("pair", "--input", "{d}/isolated.root", "--output",
             "{d}/p.root", "-n", "10", "--s1-tree", "s_1"), 1, r"no tree or RNTuple 's_1' \(did you mean s1"),
    DoorCase("tpcml pair", "events file without s1/s2", tpcml("pair", "--input", "{d}/events.root", "--output",
             "{d}/p.root", "-n", "10"), 1, r"events\.root: no tree or RNTuple 's1'"),
    DoorCase("tpcml pair", "--livetime 0", tpcml("pair", "--input", "{d}/isolated.root", "--output", "{d}/p.root",
             "-n", "10", "--livetime", "0"), 2, r"argument --livetime: expected a positive number"),
    DoorCase("tpcml pair", "--efficiency 2", tpcml("pair", "--input", "{d}/isolated.root", "--output", "{d}/p.root",
             "-n", "10", "--efficiency", "2"), 2, r"--efficiency must be in \[0, 1\], got 2"),
    DoorCase("tpcml pair", "--threads 1e9", tpcml("pair", "--input", "{d}/isolated.root", "--output", "{d}/p.root",
             "-n", "10", "--threads", "1e9"), 2, r"argument --threads: expected an integer <= 1024"),
    DoorCase("tpcml pair", "--nr-median without the TGraph", tpcml("pair", "--input", "{d}/isolated.root",
             "--output", "{d}/p.root", "-n", "10", "--nr-median", "{d}/events.root"), 1, r"tpcml_nr_median"),
    # ------------------------------------------------------------------ tpcml raster
    DoorCase("tpcml raster", "--output equal to --input", tpcml("raster", "--input", "{d}/tracks.root", "--output",
             "{d}/tracks.root"), 2, OVERWRITE, unchanged=("tracks.root",)),
    DoorCase("tpcml raster", "missing input", tpcml("raster", "--input", "{d}/nope.root", "--output",
             "{d}/r.root"), 1, r"nope\.root: no such file"),
    DoorCase("tpcml raster", "a directory as input", tpcml("raster", "--input", "{d}/adir", "--output",
             "{d}/r.root"), 1, r"adir: is a directory"),
    DoorCase("tpcml raster", "not a ROOT file", tpcml("raster", "--input", "{d}/notroot.root", "--output",
             "{d}/r.root"), 1, r"not a readable ROOT file"),
    DoorCase("tpcml raster", "an events file without hits", tpcml("raster", "--input", "{d}/events.root",
             "--output", "{d}/r.root"), 1, r"lacks the column\(s\) 'hit_plane'"),
    DoorCase("tpcml raster", "unknown --detector", tpcml("raster", "--input", "{d}/tracks.root", "--output",
             "{d}/r.root", "--detector", "pandax33"), 1, r"unknown detector 'pandax33' \(did you mean: pandax3"),
    DoorCase("tpcml raster", "TTree of tracks", tpcml("raster", "--input", "{d}/tracks.root", "--output",
             "{d}/r_tree.root"), 0, r"60 images"),
    # ------------------------------------------------------------------ tpcml inspect / detectors
    DoorCase("tpcml inspect", "a directory", tpcml("inspect", "{d}/adir"), 1, r"adir: is a directory"),
    DoorCase("tpcml inspect", "a FIFO", tpcml("inspect", "{d}/fifo.root"), 1, r"is not a regular file", timeout=30),
    DoorCase("tpcml inspect", "missing file", tpcml("inspect", "{d}/nope.root"), 1, r"nope\.root: no such file"),
    DoorCase("tpcml inspect", "a truncated file", tpcml("inspect", "{d}/truncated.root"), 1, r"truncated\.root"),
    DoorCase("tpcml inspect", "an RNTuple of doubles", tpcml("inspect", "{d}/events_rntuple.root", "--tree",
             "events"), 0, r"qS1 +double"),
    DoorCase("tpcml detectors", "validate a FIFO", tpcml("detectors", "validate", "{d}/fifo.root"), 1,
             r"fifo\.root: is not a regular file", timeout=30),
    DoorCase("tpcml detectors", "validate a directory", tpcml("detectors", "validate", "{d}/adir"), 1,
             r"adir: is a directory; expected a detector TOML file"),
    DoorCase("tpcml detectors", "validate a TOML syntax error", tpcml("detectors", "validate", "{d}/bad.toml"), 1,
             r"bad\.toml:2:.*TOML syntax error"),
    DoorCase("tpcml detectors", "show a misspelt name", tpcml("detectors", "show", "pandax"), 1,
             r"unknown detector 'pandax' \(did you mean"),
    # ------------------------------------------------------------------ tpcml simulate
    DoorCase("tpcml simulate", "--out an existing file", tpcml("simulate", "pandax3", "--out", "{d}/a_file",
             "--events", "5"), 2, r"--out '.*a_file': is a file; expected a directory", unchanged=("a_file",)),
    DoorCase("tpcml simulate", "--seed 2**64", tpcml("simulate", "pandax2", "--out", "{d}/sim", "--seed", "2**64"),
             2, r"argument --seed: expected an integer"),
    DoorCase("tpcml simulate", "--seed 2^64", tpcml("simulate", "pandax2", "--out", "{d}/sim", "--seed",
             "18446744073709551616"), 2, r"argument --seed: expected an integer <= 2\^64 - 1"),
    DoorCase("tpcml simulate", "pandax3 --events 0", tpcml("simulate", "pandax3", "--out", "{d}/sim", "--events",
             "0"), 2, r"argument -n/--events: expected an integer >= 1, got 0"),
    DoorCase("tpcml simulate", "pandax2 --accidental-events 1e12 (memory)", tpcml("simulate", "pandax2", "--out",
             "{d}/sim", "--accidental-events", "1e12"), 2, r"needs about .* of memory; the limit is"),
    DoorCase("tpcml simulate", "--wimp-mass inf", tpcml("simulate", "pandax2", "--out", "{d}/sim", "--wimp-mass",
             "inf"), 2, r"argument --wimp-mass: expected a finite number"),
    DoorCase("tpcml simulate", "xenon1t an unknown --source", tpcml("simulate", "xenon1t", "--out", "{d}/sim",
             "--source", "muon"), 2, r"--source 'muon': unknown for xenon1t; valid: background, cevns, er"),
    DoorCase("tpcml simulate", "xenon1t --source wimp without --wimp-mass", tpcml("simulate", "xenon1t", "--out",
             "{d}/sim", "--source", "wimp"), 2, r"--source wimp needs --wimp-mass"),
    DoorCase("tpcml simulate", "darwin --exposure of a training set", tpcml("simulate", "darwin", "--out", "{d}/sim",
             "--source", "nr", "--exposure", "1"), 2, r"--exposure with --source nr: .*use -n/--events"),
    DoorCase("tpcml simulate", "xenonnt --events 1e12 (memory)", tpcml("simulate", "xenonnt", "--out", "{d}/sim",
             "--source", "er", "--events", "1e12"), 2, r"needs about .* of memory; the limit is"),
    DoorCase("tpcml plot", "xenon1t event-display of a PandaX-II events file", tpcml("plot", "xenon1t",
             "event-display", "--file", "{d}/events.root", "--out", "{d}/plots"), 1,
             r"events\.root: 'events' lacks the column\(s\) 's1_area'", unchanged=("events.root",)),
    DoorCase("tpcml plot", "xenon1t bands of a missing file", tpcml("plot", "xenon1t", "bands", "--file",
             "{d}/nope.root", "--out", "{d}/plots"), 1, r"nope\.root: no such file"),
    # ------------------------------------------------------------------ tpcml run / plot
    DoorCase("tpcml run quickstart", "--n-er 0", tpcml("run", "quickstart", "--n-er", "0"), 2,
             r"argument --n-er: expected an integer >= 1, got 0"),
    DoorCase("tpcml run quickstart", "--out a file", tpcml("run", "quickstart", "--out", "{d}/a_file"), 2,
             r"is a file; expected a directory"),
    DoorCase("tpcml run accidental", "--replicas 0", tpcml("run", "accidental", "--replicas", "0"), 2,
             r"argument --replicas: expected an integer >= 1, got 0"),
    DoorCase("tpcml run accidental", "--batch-size 0", tpcml("run", "accidental", "--batch-size", "0"), 2,
             r"argument --batch-size: expected an integer >= 1, got 0"),
    DoorCase("tpcml run accidental", "--out a file", tpcml("run", "accidental", "--out", "{d}/a_file", "--data",
             "{d}/vecdir"), 2, r"--out '.*a_file': is a file; expected a directory", unchanged=("a_file",)),
    DoorCase("tpcml run accidental", "--data missing", tpcml("run", "accidental", "--out", "{d}/acc", "--data",
             "{d}/nodir"), 1, r"nodir: no such directory"),
    DoorCase("tpcml run accidental", "--data a file", tpcml("run", "accidental", "--out", "{d}/acc", "--data",
             "{d}/events.root"), 1, r"events\.root: is a file; expected a directory"),
    DoorCase("tpcml run accidental", "--data with std::vector<double> columns", tpcml("run", "accidental", "-q",
             "--out", "{d}/acc", "--data", "{d}/vecdir"), 1, r"std::vector<double>; expected a float or double",
             timeout=180),
    DoorCase("tpcml run accidental", "--replicas 1e9 (memory)", tpcml("run", "accidental", "--replicas", "1e9",
             "--out", "{d}/acc"), 2, r"--replicas 1000000000 x .* needs about .* the limit is", timeout=180),
    DoorCase("tpcml run tracks", "--top-channels 99999", tpcml("run", "tracks", "--top-channels", "99999", "--out",
             "{d}/tr"), 2, r"--top-channels: expected integers in \[1, 4096\]"),
    DoorCase("tpcml run tracks", "--events 0", tpcml("run", "tracks", "--events", "0"), 2,
             r"argument -n/--events: expected an integer >= 1, got 0"),
    DoorCase("tpcml run tracks", "--batch-size 0", tpcml("run", "tracks", "--batch-size", "0"), 2,
             r"argument --batch-size: expected an integer >= 1, got 0"),
    DoorCase("tpcml run tracks", "--out a file", tpcml("run", "tracks", "--out", "{d}/a_file"), 2,
             r"is a file; expected a directory", unchanged=("a_file",)),
    DoorCase("tpcml plot", "a missing directory", tpcml("plot", "pandax2", "{d}/nodir"), 1,
             r"nodir: no such directory"),
    DoorCase("tpcml plot", "ER and accidentals as RNTuples of doubles", tpcml("plot", "pandax2", "{d}/plotdir",
             "--out", "{d}/plots"), 0, r"plot: .*features\.png"),
    DoorCase("tpcml plot", "a non-ROOT nr_calibration.root", tpcml("plot", "pandax2", "{d}/baddir", "--out",
             "{d}/plots2"), 1, r"nr_calibration\.root: not a readable ROOT file"),
    DoorCase("tpcml plot", "--out a file", tpcml("plot", "pandax2", "{d}/vecdir", "--out", "{d}/a_file"), 2,
             r"is a file; expected a directory", unchanged=("a_file",)),
    # ------------------------------------------------------------------ macros/*.py
    DoorCase("score_events.py", "missing input", script("score_events.py", "{d}/nope.root", "{d}/model.onnx"), 1,
             r"nope\.root: no such file"),
    DoorCase("score_events.py", "a directory as model", script("score_events.py", "{d}/events.root", "{d}/adir"), 1,
             r"adir: is a directory"),
    DoorCase("score_events.py", "--threads -2", script("score_events.py", "{d}/events.root", "{d}/model.onnx",
             "--threads", "-2"), 2, r"argument --threads"),
    DoorCase("lifetime_bands.py", "output equal to input", script("lifetime_bands.py", "{d}/events.root",
             "{d}/events.root", "--detector", "pandax2"), 2, OVERWRITE, unchanged=("events.root",)),
    DoorCase("lifetime_bands.py", "std::vector<double> column", script("lifetime_bands.py",
             "{d}/events_vecdouble.root", "{d}/lb.root", "--detector", "pandax2"), 1,
             r"'qS1' of 'events' is std::vector"),
    DoorCase("lifetime_bands.py", "RNTuple of double columns (uproot 5.7)", script("lifetime_bands.py",
             "{d}/events_rntuple.root", "{d}/lb_rntuple.root", "--detector", "pandax2"), 0, r"ER 2000, NR 2000"),
    DoorCase("score_events.py", "RNTuple of double columns (uproot 5.7)", script("score_events.py",
             "{d}/events_rntuple.root", "{d}/model.onnx"), 0, r"mean score 1\d+"),
    DoorCase("pandax2_accidentals.py", "output equal to isolated.root", script("pandax2_accidentals.py", "{d}",
             "{d}/isolated.root"), 2, OVERWRITE, unchanged=("isolated.root",)),
    DoorCase("pandax2_accidentals.py", "RNTuple of double columns (uproot 5.7)", script("pandax2_accidentals.py",
             "{d}/rndir", "{d}/h_rntuple.root", "--pairs", "1000"), 0, r"expected accidentals below the NR median"),
    DoorCase("pandax2_accidentals.py", "a file as DIR", script("pandax2_accidentals.py", "{d}/events.root",
             "{d}/h.root"), 1, r"events\.root: is a file; expected a directory"),
    DoorCase("pandax2_accidentals.py", "--pairs -5", script("pandax2_accidentals.py", "{d}", "{d}/h.root",
             "--pairs=-5"), 2, r"argument --pairs: expected an integer >= 1"),
    DoorCase("pandax2_accidentals.py", "--seed 2**64", script("pandax2_accidentals.py", "{d}", "{d}/h.root",
             "--seed", "18446744073709551616"), 2, r"argument --seed: expected an integer <= 2\^64 - 1"),
    # ------------------------------------------------------------------ Python API (python -c)
    DoorCase("Model.score", "dict with columns in another order", api(
        "import numpy as np; from tpcml.inference import Model; m = Model('{d}/model.onnx'); "
        "x = {'drift_time': np.array([3.0]), 'qS2': np.array([2.0]), 'qS1': np.array([1.0])}; "
        "s = m.score(x); assert abs(s[0] - (1 + 4 + 9)) < 1e-5, s; print('score ok', s)"), 0, r"score ok"),
    DoorCase("Model.score", "dict missing a column", api(
        "import numpy as np; from tpcml.inference import Model; m = Model('{d}/model.onnx'); "
        "m.score({'qS1': np.ones(2), 'qS2': np.ones(2), 'drift_tme': np.ones(2)})"), 1,
        r"needs the column\(s\) drift_time \(did you mean drift_tme\?\)"),
    DoorCase("pair_file", "output equal to input", api(
        "from tpcml.pairing import pair as pair_file; pair_file('{d}/isolated.root', '{d}/isolated.root', 10)"),
        1, r"ArgumentError: output .* refusing to overwrite an input", unchanged=("isolated.root",)),
]  # fmt: skip

CASES.append(
    DoorCase("tpcml raster", "RNTuple of tracks", tpcml("raster", "--input", "{d}/tracks_rntuple.root", "--output",
             "{d}/r_rntuple.root"), 0, r"60 images")
)  # fmt: skip


@pytest.mark.parametrize(
    "case",
    CASES,
    ids=[c.id for c in CASES],
)
def test_door(case: DoorCase, fixtures: Path):
    doors.check(case, fixtures)
