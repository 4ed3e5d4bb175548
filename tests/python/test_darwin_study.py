"""``tpcml run darwin``: registered on the lxe darwin registration, and the quick profile end to end (simulation,
C++ vectors, VAE + classifier, ONNX export, C++ TS in RDataFrame, pseudo-experiments, report)."""

from __future__ import annotations

import json

import numpy as np
import pytest

from .conftest import run


def test_darwin_registration_is_runnable_and_keeps_its_verbs():
    from tpcml import studies

    s = studies.get("darwin")
    assert s.runnable and s.simulate is not None and s.plot is not None
    assert [step.name for step in s.steps] == ["simulation", "vectors", "training", "export", "score", "statistics"]
    assert set(s.profiles) == {"default", "quick", "full"}
    assert s.profiles["full"]["train_events"] == 20000  # DARWIN-VAE Sec. 3.3


def test_bad_exposures_are_named(tmp_path):
    r = run(["tpcml", "run", "darwin", "--quick", "--out", str(tmp_path / "o"), "--exposures", "50,abc"])
    assert r.returncode != 0 and "--exposures" in r.stderr and "'50,abc'" in r.stderr


@pytest.mark.slow
def test_quick_profile_end_to_end(tmp_path):
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    out = tmp_path / "darwin"
    r = run(["tpcml", "run", "darwin", "--quick", "--out", str(out), "-q"], timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    res = json.loads((out / "results.json").read_text())
    assert res["vector_size"] == 2310
    assert res["parity"]["max_rel_diff_ts_R10"] < 1e-4  # C++ (RDataFrame) TS vs Keras TS
    assert res["training"]["classifier_val_accuracy"][-1] > 0.6
    rates = {row["component"]: row for row in res["rates_200ty"]}
    assert {"er-background", "kr85", "pb214", "materials", "cevns", "neutrons"} <= set(rates)
    for row in rates.values():  # cuts only remove events
        assert row["before_cuts"] >= row["trigger_fv"] * 0.999 >= 0 and row["trigger_fv"] >= row["signal_region"]
    s = res["sensitivity_200ty"]
    assert s["B"] > 0 and s["S"] > 0 and np.isfinite(s["sigma"])
    assert res["R"] in [row["R"] for row in res["r_scan"]]
    assert max(row["z_gauss"] for row in res["r_scan"]) == pytest.approx(
        next(row["z_gauss"] for row in res["r_scan"] if row["R"] == res["R"])
    )
    for name in ("report.md", "fig2_ts.png", "fig3_q.png", "fig4_exposure.png", "r_scan.png", "models/encoder.onnx"):
        assert (out / name).is_file(), name


def test_bench_darwin_quick_run():
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    import sys
    from pathlib import Path

    bench = Path(__file__).resolve().parents[2] / "bench" / "bench_darwin.py"
    r = run([sys.executable, str(bench), "--events", "200", "--experiments", "50", "--repeat", "1"], timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    rows = [line for line in r.stdout.splitlines() if "|" in line]
    assert any(line.startswith("TS, tpcml C++ in RDataFrame, 1 thread, 200 ev") and "ev/s" in line for line in rows)
    assert any(line.startswith("q, 50 experiments x B = 6,500") and "exp/s" in line for line in rows)


def test_bad_cs1_window_is_named(tmp_path):
    r = run(["tpcml", "run", "darwin", "--quick", "--out", str(tmp_path / "o"), "--cs1-window", "70,3"])
    assert r.returncode != 0 and "--cs1-window" in r.stderr and "LO < HI" in r.stderr
