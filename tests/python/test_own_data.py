"""The user's own files (issue 15, "Own data"): `tpcml nr-median fit`, the one NR-median policy used by select, plot
and run, and `tpcml run accidental --data` with --tree and --column aliases, refusing bad input before TensorFlow."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from tpcml.core import detectors
from tpcml.studies.pandax2 import selection

from .conftest import run

#: the NR median the synthetic calibrations are drawn around: log10(qS2c/qS1c) = 2.6 - 0.25 ln(qS1c)
TRUTH = lambda s1: 2.6 - 0.25 * np.log(s1)  # noqa: E731
FEATURES = ("qS1", "qS2", "qS1c", "qS2c", "wS1", "wS2", "wtenS2", "S1TBA", "S2TBA", "S2SY1", "S2SY2", "S1NPeaks",
            "S1LargestBCQ")  # fmt: skip


def _events(n: int, seed: int, offset: float = 0.0, weight: float | None = None) -> dict[str, np.ndarray]:
    """``n`` events that pass the P2-DNN selection of pandax2 (inside the fiducial volume, 3-45 PE), with
    log10(qS2c/qS1c) scattered around TRUTH + offset; every column of the study's events schema."""
    rng = np.random.default_rng(seed)
    s1 = rng.uniform(3.5, 44.0, n)
    y = TRUTH(s1) + offset + rng.normal(0, 0.1, n)
    cols = {
        "qS1": s1,
        "qS1c": s1,
        "qS2": 10**y * s1,
        "qS2c": 10**y * s1,
        "drift_time": rng.uniform(50, 250, n),
        "x": rng.uniform(-150, 150, n),
        "y": rng.uniform(-150, 150, n),
        "S1NPeaks": rng.integers(1, 6, n).astype(np.int32),
    }
    # an S2 width that fits the drift time (the selection's S2 width cut, issue 17)
    cols["wtenS2"] = selection.S2WidthBand.from_detector(detectors.load("pandax2")).expected_width(cols["drift_time"])
    for k in FEATURES:
        cols.setdefault(k, rng.normal(1.0, 0.2, n))
    if weight is not None:
        cols["weight"] = np.full(n, weight)
    return {k: (v if v.dtype.kind == "i" else v.astype(np.float32)) for k, v in cols.items()}


def _write_user_file(path, tree: str, cols: dict, rename: dict | None = None) -> None:
    """A file as a user has it (uproot, no tpcml metadata), branches renamed by ``rename``."""
    import uproot

    with uproot.recreate(path) as f:
        f.mktree(tree, {(rename or {}).get(k, k): v.dtype for k, v in cols.items()})
        f[tree].extend({(rename or {}).get(k, k): v for k, v in cols.items()})


def _user_dataset(directory, tree="events", rename=None, n=400):
    directory.mkdir(exist_ok=True)
    samples = {
        "nr_calibration.root": _events(n, 1),
        "er_calibration.root": _events(n, 2, offset=0.5),
        "accidentals.root": _events(n, 3, offset=-0.4, weight=0.01),
    }
    for name, cols in samples.items():
        _write_user_file(directory / name, tree, cols, rename)
    return samples


# ------------------------------------------------------------------------------------------ tpcml nr-median fit
def test_nr_median_fit_reads_aliases_and_stores_the_curve_that_select_uses(tmp_path):
    import uproot

    from tpcml import _core

    nr = tmp_path / "nr.root"
    _write_user_file(nr, "calib", _events(6000, 5), rename={"qS1c": "s1_corr", "qS2c": "s2_corr"})
    out = tmp_path / "median.root"
    res = run(["tpcml", "nr-median", "fit", str(nr), "--out", str(out), "--tree", "calib",
               "--column", "qS1c=s1_corr", "--column", "qS2c=s2_corr", "--bins", "12"])  # fmt: skip
    assert res.returncode == 0, res.stderr
    assert "fitted on 6000 of 6000 events (12 bins)" in res.stdout and f"--nr-median {out}" in res.stdout
    curve = _core.NRMedianCurve.from_file(str(out))
    s1 = np.linspace(5, 42, 20)
    assert np.max(np.abs(curve(s1) - TRUTH(s1))) < 0.02
    with uproot.open(out) as f:
        assert str(f["tpcml_detector"].member("fTitle")) == "pandax2"
        prov = json.loads(str(f["tpcml_provenance"].member("fTitle")))
    assert prov["inputs"] == [str(nr)] and prov["nr_median"]["bins"] == 12
    assert sorted(p.name for p in tmp_path.iterdir()) == ["median.root", "nr.root"]  # no temporary left

    # select uses it: the events below the curve, counted in numpy, are the cut flow's last line
    ev = tmp_path / "events.root"
    cols = _events(3000, 6, offset=0.02)
    _write_user_file(ev, "events", cols)
    res = run(["tpcml", "select", str(ev), "--below-nr-median", "--nr-median", str(out)])
    assert res.returncode == 0, res.stderr
    assert f"NR median from {out} (--nr-median)" in res.stderr
    below = res.stdout.splitlines()[-1].split()
    assert below[:3] == ["below", "NR", "median"]
    assert int(below[4]) == int(curve.below(cols["qS1c"], cols["qS2c"]).sum())


def test_nr_median_fit_refuses_bad_input_naming_it(tmp_path):
    nr = tmp_path / "nr.root"
    _write_user_file(nr, "calib", _events(100, 5), rename={"qS1c": "s1_corr"})
    out = tmp_path / "m.root"
    cases = [
        (["--tree", "calb"], 1, "no tree or RNTuple 'calb' (did you mean calib?)"),
        (["--tree", "calib"], 1, "lacks the column(s) 'qS1c' (did you mean"),
        (["--tree", "calib", "--column", "qS1=s1_corr"], 1, "lacks the column(s) 'qS1c'"),
        (["--tree", "calib", "--column", "qs1c=s1_corr"], 2, "'qs1c' is not a column tpcml reads here (did you mean"),
        (["--tree", "calib", "--column", "qS1c"], 2, "expected NAME=BRANCH"),
        (["--tree", "calib", "--column", "qS1c=s1_corr", "--bins", "20"], 1, "cannot fit the NR median"),
        (["--tree", "calib", "--column", "qS1c=s1_corr", "--bins", "3"], 2, "--bins 3: expected at least 4 bins"),
        (["--tree", "calib", "--column", "qS1c=s1_corr", "--bins", "99999999999"], 2, "--bins 99999999999: expected"),
        (["--tree", "calib", "--column", "qS1c=s1_corr", "--s1-range", "40", "5"], 2, "expected 0 < MIN < MAX"),
        (["--output", str(nr)], 2, "is the input"),  # --output: the same option as --out
    ]
    for extra, rc, message in cases:
        res = run(["tpcml", "nr-median", "fit", str(nr), "--out", str(out), *extra])  # a later --out wins
        assert res.returncode == rc and message in res.stderr, (extra, res.stderr)
        assert "Traceback" not in res.stderr and not out.exists()


# ------------------------------------------------------------------------------------------------ the policy
def test_nr_median_policy_explicit_then_input_then_calibration_then_detector(tmp_path):
    from tpcml import _core
    from tpcml.core.errors import InputError
    from tpcml.core.rootio import write_tree
    from tpcml.nr_median import resolve

    def curve_file(name, level):
        cols = _events(200, 9)
        c = _core.NRMedianCurve([3.0, 45.0], [level, level])
        write_tree(tmp_path / name, "events", cols, detector="pandax2", finish=lambda p: c.write_to(str(p)))
        return tmp_path / name

    explicit, carried = curve_file("explicit.root", 1.0), curve_file("carried.root", 2.0)
    plain = tmp_path / "plain.root"
    _write_user_file(plain, "events", _events(200, 9))

    got = resolve(explicit, [plain, carried])
    assert (got.source, got.curve(np.array([10.0]))[0]) == ("file", 1.0)
    got = resolve(None, [plain, carried])
    assert (got.source, got.origin, got.curve(np.array([10.0]))[0]) == ("input", str(carried), 2.0)
    got = resolve(None, [plain], calibration=("nr.root", _events(4000, 4, offset=0.1)))
    assert got.source == "calibration"
    assert np.max(np.abs(got.curve(np.linspace(5, 42, 9)) - TRUTH(np.linspace(5, 42, 9)) - 0.1)) < 0.03
    got = resolve(None, [plain], detector="pandax2")
    assert got.source == "detector" and "tpcml nr-median fit" in got.describe()
    y = got.curve(np.array([4.0, 20.0, 44.0]))  # the NR band falls with qS1c (P2-DNN Fig. 1)
    assert 1.3 < y[2] < y[1] < y[0] < 2.5
    with pytest.raises(InputError, match=r"plain\.root: no TGraph 'tpcml_nr_median'"):
        resolve(plain, [carried])
    with pytest.raises(InputError, match="is a gxe_strip_tpc: it has no NR median"):
        resolve(None, [plain], detector="pandax3")


def test_select_without_a_curve_uses_the_detector_default_and_says_so(tmp_path):
    from tpcml.nr_median import detector_default

    ev = tmp_path / "events.root"
    cols = _events(2000, 7)
    _write_user_file(ev, "events", cols)
    res = run(["tpcml", "select", str(ev), "--below-nr-median"])
    assert res.returncode == 0, res.stderr
    assert "the pandax2 detector default" in res.stderr and "tpcml nr-median fit" in res.stderr
    expected = int(detector_default("pandax2").below(cols["qS1c"], cols["qS2c"]).sum())
    assert int(res.stdout.splitlines()[-1].split()[4]) == expected


def test_plot_uses_the_nr_median_option(tmp_path):
    from tpcml import _core

    data = tmp_path / "data"
    _user_dataset(data)
    curve = tmp_path / "median.root"
    from tpcml.core.rootio import write_tree

    c = _core.NRMedianCurve([3.0, 45.0], [1.9, 1.9])
    write_tree(curve, "events", _events(10, 1), finish=lambda p: c.write_to(str(p)))
    res = run(["tpcml", "plot", "pandax2", str(data), "--out", str(tmp_path / "png"), "--nr-median", str(curve)])
    assert res.returncode == 0, res.stderr
    assert f"NR median from {curve} (--nr-median)" in res.stderr
    res = run(["tpcml", "plot", "pandax2", str(data), "--out", str(tmp_path / "png2")])
    assert res.returncode == 0, res.stderr
    assert f"NR median fitted on the NR calibration {data / 'nr_calibration.root'}" in res.stderr
    assert sorted(p.name for p in (tmp_path / "png2").iterdir()) == ["features.png", "fig1_bands.png"]


# ------------------------------------------------------------------------------- tpcml run accidental --data
def test_run_data_help_lists_the_required_branches():
    res = run(["tpcml", "run", "accidental", "--help"])
    assert res.returncode == 0
    text = " ".join(res.stdout.split())
    for name in (*FEATURES, "drift_time", "x", "y", "weight", "--tree", "--column NAME=BRANCH", "--nr-median"):
        assert name in text, name


def test_load_dataset_reads_aliased_branches_as_the_schema_names(tmp_path):
    from tpcml.studies.pandax2 import study

    _user_dataset(tmp_path / "plain")
    _user_dataset(tmp_path / "mine", tree="t", rename={"qS1": "s1", "drift_time": "dt"})
    ref = study.load_dataset(tmp_path / "plain")
    got = study.load_dataset(tmp_path / "mine", tree="t", columns={"qS1": "s1", "drift_time": "dt"})
    for k in ("nr", "er", "acc"):
        assert set(getattr(got, k)) == set(getattr(ref, k))
        for c in getattr(ref, k):
            np.testing.assert_array_equal(getattr(got, k)[c], getattr(ref, k)[c])
    assert got.curve_source.startswith("NR median fitted on the NR calibration")


_TF_PROBE = """
import sys
from tpcml.cli import main
rc = main(sys.argv[1:])
print("RC", rc, "tensorflow" in sys.modules)
"""


@pytest.mark.parametrize(
    ("case", "extra", "message"),
    [
        ("missing file", [], "missing accidentals.root"),
        ("missing tree", ["--tree", "event"], "no tree or RNTuple 'event' (did you mean events?)"),
        ("missing branch", [], "lacks the column(s) 'drift_time' (did you mean drift_t?)"),
        ("bad alias target", ["--column", "drift_time=drift"], "lacks the column(s) 'drift' (did you mean drift_t?)"),
        (
            "nr-median file without the curve",
            ["--nr-median", "DATA/er_calibration.root"],
            "no TGraph 'tpcml_nr_median'",
        ),
    ],
)
def test_run_data_refuses_bad_input_before_tensorflow_and_leaves_no_out(tmp_path, case, extra, message):
    data = tmp_path / "data"
    _user_dataset(data, rename={"drift_time": "drift_t"} if "branch" in case or "alias" in case else None, n=60)
    if case == "missing file":
        (data / "accidentals.root").unlink()
    out = tmp_path / "out"
    extra = [e.replace("DATA", str(data)) for e in extra]
    cmd = [sys.executable, "-c", _TF_PROBE, "run", "accidental", "--data", str(data), "--out", str(out), *extra]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300, check=False)
    assert "RC 1 False" in res.stdout, res.stdout + res.stderr  # exit 1, and TensorFlow never imported
    assert message in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()


def test_run_data_failing_after_the_checks_leaves_no_empty_out(tmp_path):
    data = tmp_path / "data"
    _user_dataset(data, n=30)  # readable, but too few events to fit the NR median on (found in the data step)
    out = tmp_path / "out"
    res = run(["tpcml", "run", "accidental", "--quick", "--data", str(data), "--out", str(out)])
    assert res.returncode == 1 and "nr_calibration.root: cannot fit the NR median" in res.stderr, res.stderr
    assert not out.exists()  # the run made it, found it still empty when it failed, and removed it
    kept = tmp_path / "kept"
    kept.mkdir()
    res = run(["tpcml", "run", "accidental", "--quick", "--data", str(data), "--out", str(kept)])
    assert res.returncode == 1 and kept.is_dir()  # a directory the user made stays


def test_nr_median_fit_help_explains_the_fit_the_file_and_the_policy():
    res = run(["tpcml", "nr-median", "fit", "--help"])
    assert res.returncode == 0
    text = " ".join(res.stdout.split())
    for words in (
        "median of log10(qS2c/qS1c) against qS1c",
        "TGraph tpcml_nr_median",
        "--nr-median OUT in `tpcml select`, `tpcml plot pandax2` and `tpcml run accidental`",
        "the --nr-median file, else the one carried in its input file",
        "--column NAME=BRANCH",
        "--no-selection",
    ):
        assert words in text, words
    assert "nr-median" in run(["tpcml", "--help"]).stdout
