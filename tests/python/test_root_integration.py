"""tpcml inside ROOT: macros (root -l -b -q), PyROOT scripts, jitted Define, import order, uproot."""

from __future__ import annotations

import sys
import textwrap

import numpy as np
import pytest
import uproot

import tpcml

from .conftest import REPO, run

MACRO = REPO / "macros" / "lifetime_bands.C"
SCRIPT = REPO / "macros" / "lifetime_bands.py"


def _hist(path, name):
    with uproot.open(path) as f:
        return f[name].values()


def test_events_file_read_by_uproot(events_file):
    """uproot (an independent reader) reads what ROOT's Snapshot wrote, provenance included."""
    with uproot.open(events_file) as f:
        t = f["events"]
        assert t.num_entries == 4500
        a = t.arrays(["qS1", "recoil_type", "event"], library="np")
        assert a["qS1"].dtype == np.float32 and a["event"].dtype == np.uint64
        assert set(np.unique(a["recoil_type"])) == {0, 1}
        assert t["qS1"].num_baskets > 1  # several clusters
    det, prov = tpcml.core.rootio.read_provenance(events_file)
    assert det == "pandax2"
    assert prov["tpcml_version"] == tpcml.__version__  # issue 15: one provenance schema for C++ and Python


def test_macro_and_pyroot_script_agree(tmp_path, events_file, root_exe):
    out_c, out_py = tmp_path / "bands_c.root", tmp_path / "bands_py.root"
    res = run([root_exe, "-l", "-b", "-q", f'{MACRO}("{events_file}", "{out_c}")'], cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "lifetime_bands: tau = " in res.stdout
    res = run([sys.executable, str(SCRIPT), str(events_file), str(out_py), "--threads", "2"], cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    for name in ("h_er", "h_nr"):
        c, p = _hist(out_c, name), _hist(out_py, name)
        assert c.sum() > 100
        np.testing.assert_array_equal(c, p)


def test_macro_histogram_matches_numpy(tmp_path, events_file, root_exe):
    """The C++ correction in the jitted Define equals qS2 * exp(t / tau) computed independently."""
    out = tmp_path / "bands.root"
    res = run([root_exe, "-l", "-b", "-q", f'{MACRO}("{events_file}", "{out}", "pandax2", 2)'], cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    tau = tpcml.core.detectors.load("pandax2").get("electron_lifetime", "us")
    with uproot.open(events_file) as f:
        a = f["events"].arrays(["qS1", "qS2", "drift_time", "recoil_type"], library="np")
    qs2c = a["qS2"].astype(np.float64) * np.exp(a["drift_time"] / tau)
    # qS1 is an integer photon count: numpy puts x == 45 (upper edge) into the last bin, ROOT into overflow
    ok = (a["qS1"] > 0) & (a["qS1"] < 45) & (qs2c > 0) & (a["recoil_type"] == 0)
    expected, _, _ = np.histogram2d(
        a["qS1"][ok], np.log10(qs2c[ok] / a["qS1"][ok]), bins=(42, 100), range=((3, 45), (0, 3))
    )
    got = _hist(out, "h_er")
    # float32 in ROOT vs float64 here: a handful of events may sit on a bin edge
    assert np.abs(got - expected).sum() <= 4
    assert got.sum() == pytest.approx(expected.sum(), abs=2)


def test_macro_errors_are_clear(tmp_path, events_file, root_exe):
    res = run([root_exe, "-l", "-b", "-q", f'{MACRO}("{tmp_path}/absent.root", "{tmp_path}/o.root")'])
    assert res.returncode == 1  # `root -q` exits with the macro's return value
    assert "lifetime_bands: error: cannot open" in res.stderr + res.stdout
    assert not (tmp_path / "o.root").exists()
    res = run([sys.executable, str(SCRIPT), str(events_file), str(tmp_path / "o.root"), "--detector", "pandax"])
    assert res.returncode == 1 and "unknown detector 'pandax'" in res.stderr
    assert not (tmp_path / "o.root").exists()


def test_r_load_library_macro(tmp_path, root_exe):
    """R__LOAD_LIBRARY(libtpcml) in a macro, with tpcml classes in a jitted Define and Filter."""
    libdir = str(tpcml.library_dir())
    if any(part.startswith(".") for part in libdir.split("/")):
        pytest.skip(f"cling's library search skips dot-directories (root-project/root#9697): {libdir}")
    macro = tmp_path / "loadlib.C"
    macro.write_text(
        textwrap.dedent("""
        R__LOAD_LIBRARY(libtpcml)
        #include "tpcml/lxe/DriftCorrection.h"
        #include "tpcml/core/Version.h"
        int loadlib() {
           ROOT::RDataFrame df(100);
           auto d = df.Define("t", "float(rdfentry_)").Define("q", "1000.f")
                      .Define("qc", "tpcml::ElectronLifetimeCorrection(100.)(q, t)")
                      .Filter("tpcml::DriftDepth(1.5)(t) > -30.", "within 20 us");
           std::cout << "version " << tpcml::version() << " n " << *d.Count()
                     << " max " << *d.Max("qc") << std::endl;
           return 0;
        }
    """)
    )
    res = run([root_exe, "-l", "-b", "-q", str(macro)], cwd=tmp_path)
    assert res.returncode == 0, res.stdout + res.stderr
    # t < 20 us passes: 20 entries; max qc = 1000 * exp(19 / 100)
    assert f"version {tpcml.__version__} n 20 max {1000 * np.exp(0.19):.6g}"[:24] in res.stdout


@pytest.mark.parametrize("order", ["tpcml_first", "root_first"])
def test_import_order(order):
    first, second = ("tpcml", "ROOT") if order == "tpcml_first" else ("ROOT", "tpcml")
    code = textwrap.dedent(f"""
        import {first}, {second}
        import tpcml, ROOT
        R = tpcml.load_root()
        assert R is ROOT
        c = ROOT.tpcml.ElectronLifetimeCorrection(500.)
        assert abs(c(100., 500.) - 100. * 2.718281828) < 1e-3
        assert tpcml._core.ElectronLifetimeCorrection(500.).lifetime == 500.
        df = ROOT.RDataFrame(10).Define("x", "tpcml::DriftDepth(2.)(float(rdfentry_))")
        assert df.Min("x").GetValue() == -18.0
        print("ok", tpcml.__version__, ROOT.gROOT.GetVersion())
    """)
    res = run([sys.executable, "-c", code])
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.startswith("ok ")


def test_plain_import_root_autoloads_tpcml():
    """The installed .pth hook lets a plain `import ROOT` jit tpcml classes, no env vars needed."""
    code = (
        "import ROOT\n"
        "ROOT.gInterpreter.Declare('#include \"tpcml/tpcml.h\"')\n"
        "df = ROOT.RDataFrame(5).Define('q', 'tpcml::ElectronLifetimeCorrection(10.)(1.f, 0.f)')\n"
        "print(df.Sum('q').GetValue())"
    )
    res = run([sys.executable, "-c", code])
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip().endswith("5.0")


def test_implicit_mt_identical_results(events_file):
    """Scores from the jitted tpcml Define are identical with 1 and 2 threads (sorted by event id)."""
    code = textwrap.dedent(f"""
        import sys, numpy as np, tpcml
        ROOT = tpcml.load_root()
        n = int(sys.argv[1])
        if n > 1: ROOT.EnableImplicitMT(n)
        df = ROOT.RDataFrame("events", "{events_file}")
        d = df.Define("qS2c", "tpcml::ElectronLifetimeCorrection(800.)(qS2, drift_time)")
        a = d.AsNumpy(["event", "recoil_type", "qS2c"])
        order = np.lexsort((a["event"], a["recoil_type"]))
        np.save(sys.argv[2], a["qS2c"][order])
    """)
    outs = []
    for n in (1, 2):
        path = f"{events_file.parent}/mt{n}.npy"
        res = run([sys.executable, "-c", code, str(n), path])
        assert res.returncode == 0, res.stderr
        outs.append(np.load(path))
    np.testing.assert_array_equal(outs[0], outs[1])
    assert len(outs[0]) == 4500


def test_bindings_batch_equals_cxx_per_event():
    qs2 = np.array([100.0, 2000.0, 5e4], dtype=np.float32)
    t = np.array([0.0, 150.0, 300.0], dtype=np.float32)
    corr = tpcml._core.ElectronLifetimeCorrection.from_detector("pandax2")
    out = corr(qs2, t)
    np.testing.assert_allclose(out, qs2 * np.exp(t / corr.lifetime), rtol=1e-6)
    with pytest.raises(ValueError, match="differ in length"):
        corr(qs2, t[:2])


def test_pair_accidentals_macro_negative_n_is_refused_not_wrapped(tmp_path, root_exe):
    """pair_accidentals.C(n = -5) took n as unsigned: 2^64 - 5 pairs, gigabytes written (issue 13, item 7)."""
    macro = REPO / "macros" / "pair_accidentals.C"
    out = tmp_path / "acc.root"
    res = run([root_exe, "-l", "-b", "-q", f'{macro}("{tmp_path}/absent.root", "{out}", -5)'], timeout=120)
    assert res.returncode == 2, res.stdout + res.stderr
    assert "pair_accidentals: error: number of pairs n must be in [1, 1e15], got -5" in res.stderr
    assert not out.exists() and not list(tmp_path.iterdir())


def test_pair_accidentals_macro_threads_keep_entry_order(tmp_path, root_exe):
    """With threads the macro used ImplicitMT's Snapshot: events written out of order (issue 13, item 11)."""
    from tpcml.core.rootio import write_tree

    rng = np.random.default_rng(2)
    m = 300
    s1 = {k: rng.uniform(1, 40, m).astype(np.float32) for k in ("qS1", "wS1", "S1TBA", "S1LargestBCQ")}
    s1["S1NPeaks"] = rng.integers(1, 4, m).astype(np.int32)
    s2 = {k: rng.uniform(100, 900, m).astype(np.float32) for k in ("qS2", "wS2", "wtenS2", "S2TBA", "S2SY1", "S2SY2")}
    s2 |= {k: rng.uniform(-100, 100, m).astype(np.float32) for k in ("x", "y")}
    iso = write_tree(tmp_path / "iso.root", "s1", s1, detector="pandax2", extra_trees={"s2": s2})
    macro = REPO / "macros" / "pair_accidentals.C"
    got = {}
    for threads in (0, 2):
        out = tmp_path / f"acc{threads}.root"
        res = run([root_exe, "-l", "-b", "-q", f'{macro}("{iso}", "{out}", 30000, 5, {threads})'], timeout=300)
        assert res.returncode == 0, res.stdout + res.stderr
        with uproot.open(out) as f:
            got[threads] = f["events"].arrays(library="np")
    np.testing.assert_array_equal(got[2]["event"], np.arange(30000))
    for k, v in got[0].items():
        np.testing.assert_array_equal(got[2][k], v)
