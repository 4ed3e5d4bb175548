"""PandaX-III track classification (P3-CNN): Xi on hand-made scores, the paper's epoch-selection protocol, a small
EfficientNet-B0 that learns the simulated tracks end to end (tpcml run tracks: simulate, rasterise in RDataFrame,
train, score, export, C++ inference), and the CLI commands."""

from __future__ import annotations

import json

import numpy as np
import pytest

from tpcml.ml import training
from tpcml.ml.splits import split_indices
from tpcml.stats import xi
from tpcml.studies.pandax3 import protocol
from tpcml.studies.pandax3.study import SPLIT

from .conftest import run


def test_xi_on_hand_made_scores():
    # 10 signal, 100 background; cut at 0.9 keeps 6 signal and 1 background: 0.6 / sqrt(0.01) = 6.0,
    # the best of all cuts (cut 0.95: 3 signal, 1 background -> 3.0; cut 0.5: 10 signal, 11 background -> 3.0)
    s = np.array([0.3, 0.4, 0.5, 0.6, 0.9, 0.91, 0.92, 0.95, 0.96, 0.97])
    b = np.concatenate([np.linspace(0.0, 0.49, 90), np.linspace(0.5, 0.85, 9), [0.93]])
    r = xi(s, b)
    assert r.xi == pytest.approx(6.0)
    assert r.threshold == pytest.approx(0.9)
    assert (r.eps_s, r.eps_b, r.n_background_pass) == (pytest.approx(0.6), pytest.approx(0.01), 1)
    # cuts passing no background are not counted (eps_b = 0 would make Xi infinite)
    assert np.isfinite(xi([0.99], [0.1, 0.2]).xi)
    with pytest.raises(ValueError, match="min_background must be in"):
        xi(s, b, min_background=0)
    with pytest.raises(ValueError, match="finite"):
        xi([np.nan], b)


def test_paper_protocol_picks_the_epochs():
    recs = [
        training.EpochRecord(epoch=i + 1, loss=0.0, val_loss=vl, val_accuracy=va, seconds=1.0, images_per_second=1.0)
        for i, (va, vl) in enumerate(
            [(0.80, 0.50), (0.9005, 0.40), (0.9010, 0.45), (0.8999, 0.30), (0.9002, 0.41), (0.85, 0.20)]
        )
        # best accuracy 0.9010; within 0.001: epochs 2, 3, 5 (0.8999 is 0.0011 below): the three smallest losses
    ]
    res = training.TrainingResult(
        name="m", epochs=recs, test_predictions=np.arange(6.0)[:, None] * np.ones((6, 2)), weights=[]
    )
    assert protocol.paper_epochs(res) == [1, 2, 4]
    np.testing.assert_allclose(protocol.paper_scores(res), [(1 + 2 + 4) / 3] * 2)


def test_split_is_70_20_10():
    tr, va, te = split_indices(1000, seed=3, fractions=SPLIT, rounding="nearest")
    assert (len(tr), len(va), len(te)) == (700, 200, 100)
    assert len(np.unique(np.concatenate([tr, va, te]))) == 1000


def test_split_indices_rounding_keeps_each_study_split():
    """One split_indices for both studies: PandaX-III rounds the part sizes to the nearest event, PandaX-II
    floors them. The events are drawn by scikit-learn's train_test_split (training against the rest, then
    validation against test, both with random_state = seed): the same draw as calling it directly."""
    from sklearn.model_selection import train_test_split

    n, seed = 1003, 7
    tr, va, te = split_indices(n, seed, SPLIT, rounding="nearest")
    a, b = round(0.7 * n), round(0.2 * n)
    want_tr, rest = train_test_split(np.arange(n), train_size=a, test_size=n - a, random_state=seed)
    want_va, want_te = train_test_split(rest, train_size=b, test_size=len(rest) - b, random_state=seed)
    np.testing.assert_array_equal(tr, np.sort(want_tr))
    np.testing.assert_array_equal(va, np.sort(want_va))
    np.testing.assert_array_equal(te, np.sort(want_te))
    assert len(np.unique(np.concatenate([tr, va, te]))) == n
    tr2, va2, _ = split_indices(n, seed, (0.8, 0.1, 0.1))
    assert (len(tr2), len(va2)) == (int(0.8 * n), int(0.1 * n))
    # an empty part (train_test_split refuses one) is returned empty; the same seed gives the same split
    assert [len(p) for p in split_indices(1, seed, SPLIT, rounding="nearest")] == [1, 0, 0]
    for x, y in zip(split_indices(n, seed), split_indices(n, seed), strict=True):
        np.testing.assert_array_equal(x, y)
    with pytest.raises(ValueError, match="rounding"):
        split_indices(n, seed, SPLIT, rounding="up")


@pytest.fixture(scope="module")
def tiny_tracks(tmp_path_factory):
    pytest.importorskip("tensorflow")
    from tpcml.studies.pandax3.study import ModelSpec, TracksConfig, run_tracks

    out = tmp_path_factory.mktemp("tracks")
    cfg = TracksConfig(out=out, events=1000, models=(ModelSpec(top_channels=8),), epochs=5, seed=5, verbose=False)
    return out, run_tracks(cfg)


def test_small_efficientnet_learns_the_tracks(tiny_tracks):
    """B0 at 64 x 64 with n = 8 on 1,400 training images: clearly better than chance on the held-out tracks."""
    from tpcml.stats.metrics import roc_auc

    out, res = tiny_tracks
    r = res["runs"][0]
    assert r["xi"] > 1.0  # chance: eps_s = eps_b gives Xi = sqrt(eps) <= 1 (100 test background events: coarse)
    assert 1 <= len(r["epochs_used"]) <= 3
    saved = json.loads((out / "results.json").read_text())
    assert saved["data"]["events"] == 2000
    assert saved["data"]["test_signal"] + saved["data"]["test_background"] == 200
    import uproot

    with uproot.open(res["export"]["scored_file"]) as f:
        cols = f["events"].arrays(["label", "score"], library="np")
    assert roc_auc(cols["score"], cols["label"]) > 0.6


def test_export_runs_in_the_cpp_engine_like_onnxruntime(tiny_tracks):
    ort = pytest.importorskip("onnxruntime")
    import uproot

    from tpcml import _core

    out, res = tiny_tracks
    e = res["export"]
    assert e["max_abs_diff_engine_keras"] < 1e-5
    with uproot.open(out / "test_images.root") as f:
        x = f["events"]["image"].array(library="np").reshape(-1, 64, 64, 3)[:32].astype(np.float32)
    sess = ort.InferenceSession(e["path"], providers=["CPUExecutionProvider"])
    ref = sess.run(None, {sess.get_inputs()[0].name: x})[0]
    ours = _core.OnnxModel(e["path"]).run(x, 16)[0]
    np.testing.assert_allclose(ours, ref, atol=1e-5, rtol=1e-4)


def test_report_and_plots(tiny_tracks):
    out, _ = tiny_tracks
    report = (out / "report.md").read_text()
    for item in ("Xi per model", "fig5_images.png", "fig11_xi.png", "roc.png", "C++ engine"):
        assert item in report
    for png in ("fig5_images.png", "fig11_xi.png", "roc.png"):
        assert (out / png).stat().st_size > 10_000


def test_cli_simulate_raster_and_run_help(tmp_path):
    import uproot

    res = run(["tpcml", "simulate", "pandax3", "--out", str(tmp_path / "p3"), "--events", "40", "-q"])
    assert res.returncode == 0, res.stderr
    assert "40 0nubb and 40 gamma" in res.stdout
    res = run(
        [
            "tpcml",
            "raster",
            "--input",
            str(tmp_path / "p3" / "tracks.root"),
            "--output",
            str(tmp_path / "img.root"),
            "--upscale",
            "2",
            "--drop-hits",
        ]
    )
    assert res.returncode == 0, res.stderr
    with uproot.open(tmp_path / "img.root") as f:
        t = f["events"]
        assert t.num_entries == 80
        img = t["image"].array(library="np")
        assert len(img[0]) == 128 * 128 * 3
    res = run(["tpcml", "raster", "--input", str(tmp_path / "nope.root"), "--output", str(tmp_path / "x.root")])
    assert res.returncode == 1 and "nope.root" in res.stderr and not (tmp_path / "x.root").exists()
    for cmd in (["run", "tracks", "--help"], ["raster", "--help"], ["simulate", "pandax3", "--help"]):
        res = run(["tpcml", *cmd])
        assert res.returncode == 0, res.stderr
        assert "--out" in res.stdout or "--input" in res.stdout
    res = run(["tpcml", "run", "tracks", "--top-channels", "8,x", "--out", str(tmp_path / "t")])
    assert res.returncode == 2 and "top-channels" in res.stderr
    res = run(["tpcml", "run", "tracks", "--variant", "B7", "--out", str(tmp_path / "t")])
    assert res.returncode == 2 and "B0 or B4" in res.stderr


@pytest.mark.parametrize(
    ("spec", "top"),
    [
        (dict(kind="efficientnet", variant="B4", top_channels=8), 8),  # P3-CNN Sec. 4.3: the tuned top conv
        (dict(kind="efficientnet", variant="B4", top_channels=None), 1792),  # Keras' B4 default
        (dict(kind="resnet50"), None),  # P3-CNN Table 1 baseline
    ],
)
def test_b4_and_resnet50_build_and_score(spec, top):
    """The networks the CPU defaults do not train: built at 64 x 64 (weights=None), one sigmoid output in
    [0, 1], and for EfficientNet the top 1x1 convolution with n channels feeding the max-pool head."""
    import keras

    from tpcml.studies.pandax3.study import ModelSpec

    m = ModelSpec(**spec).build(64, 0.9)()
    x = np.random.default_rng(0).random((2, 64, 64, 3)).astype(np.float32) * 0.01
    p = np.asarray(m.predict(x, verbose=0))
    assert p.shape == (2, 1) and np.all((p >= 0) & (p <= 1))
    if top is not None:
        convs = [layer for layer in m.layers if isinstance(layer, keras.layers.Conv2D)]
        assert convs[-1].filters == top and convs[-1].kernel_size == (1, 1)
        assert any(isinstance(layer, keras.layers.GlobalMaxPooling2D) for layer in m.layers)


def test_cli_raster_keeps_input_order_with_threads(tmp_path):
    """tpcml raster --threads 2 wrote entries out of order (Snapshot under ImplicitMT); now one ordered pass."""
    import uproot

    from .test_doors_py import _tracks

    flat = tmp_path / "one_cluster.root"  # uproot writes one cluster: ImplicitMT would have nothing to split
    with uproot.recreate(flat) as f:
        f.mktree("events", {"hit_plane": "var * int32", "hit_strip": "var * float32", "hit_time": "var * float32",
                            "hit_charge": "var * float32", "label": "int32", "event": "int64"})  # fmt: skip
        f["events"].extend(_tracks(8000, 1))
    import tpcml

    ROOT = tpcml.load_root()
    opts = ROOT.RDF.RSnapshotOptions()
    opts.fAutoFlush = 500  # 16 clusters
    src = tmp_path / "tracks.root"
    ROOT.RDataFrame("events", str(flat)).Snapshot("events", str(src), "", opts)
    events = {}
    for threads in (1, 2):
        out = tmp_path / f"img{threads}.root"
        res = run(["tpcml", "raster", "--input", str(src), "--output", str(out), "--threads", str(threads)])
        assert res.returncode == 0, res.stderr
        with uproot.open(out) as f:
            events[threads] = f["events"]["event"].array(library="np")
    np.testing.assert_array_equal(events[1], np.arange(8000))
    np.testing.assert_array_equal(events[2], events[1])
