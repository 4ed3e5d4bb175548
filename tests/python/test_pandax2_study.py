"""The PandaX-II accidental study end to end (tpcml run accidental) on a tiny simulated data set: the report, the
Table 2 / Table 3 analogues, the ONNX export with its metadata, the C++ engine's scores of the search run, the
user's-own-files door, and clear errors."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("tensorflow")
pytest.importorskip("xgboost")

from tpcml.core.errors import InputError
from tpcml.studies.pandax2 import Sizes, study

from .conftest import run

TINY = Sizes(nr_after_cuts=600, er_after_cuts=400, accidental_after_cuts=1200, isolated_s1=3000, isolated_s2=3000)


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    out = tmp_path_factory.mktemp("accidental")
    cfg = study.StudyConfig(
        out=out,
        replicas=3,
        architectures=("4C",),
        u_architectures=("4C",),
        max_epochs=40,
        patience=5,
        seed=3,
        sizes=TINY,
        verbose=False,
    )
    return out, study.run_study(cfg)


def test_report_tables_and_files(tiny_study):
    out, res = tiny_study
    report = (out / "report.md").read_text()
    for title in ("Table 2 analogue", "Table 3 analogue", "Separability", "fig1_bands.png", "fig4_er_efficiency.png"):
        assert title in report
    for png in ("fig1_bands.png", "fig2_significance.png", "fig3_architectures.png", "fig4_er_efficiency.png"):
        assert (out / png).stat().st_size > 10_000, png
    saved = json.loads((out / "results.json").read_text())
    labels = [r["label"] for r in saved["table2"]]
    assert labels == ["4C", "4Cu"]
    for r in saved["table2"]:
        assert r["replicas"] == 3
        assert 0 < r["S_mean"] <= np.sqrt(res["data"]["nr_test_below_median"]) + 1e-9  # S <= sqrt(n_s) (Eq. 4.1)
        assert 1 <= r["mean_best_epoch"] <= 40
    sep = saved["separability"]  # issue 17: single-feature AUCs and the 300-tree BDT at 90.7 % NR efficiency
    assert set(sep["aucs"]) == set(study.FEATURES) and all(0.5 <= a <= 1 for a in sep["aucs"].values())
    assert 0 <= sep["bdt"]["kept_fraction"] <= 1 and sep["paper_kept_fraction"] == pytest.approx(0.263, abs=1e-3)
    methods = [r["method"] for r in saved["table3"]]
    assert methods == ["BDT", "MLP 4C", "MLP 4Cu"]
    for r in saved["table3"]:
        assert r["n_acc_below_median_after"] < r["n_acc_below_median_before"]  # the cut removes accidentals
        assert 0.5 < r["nr_efficiency_below_median"] <= 1.0
        assert 0 < r["candidates_after"] <= r["candidates"]


def test_classifiers_beat_chance_and_replicas_differ(tiny_study):
    _, res = tiny_study
    n = res["data"]["nr_test_below_median"]
    chance = np.sqrt(n / 2)  # eps_s = eps_b: S = eps n / sqrt(2 eps n) <= sqrt(n / 2)
    for r in res["table2"]:
        assert r["S_mean"] > 1.2 * chance
    assert res["bdt"]["below_median"]["significance"] > 1.2 * chance
    # independent replicas, not copies: their S or their best epochs differ (S takes few values on this test set:
    # 25 NR events below the median, so equal S alone does not mean equal replicas)
    assert any(r["S_std"] > 0 or r["mean_best_epoch"] % 1 for r in res["table2"])


def test_export_metadata_and_engine_scores(tiny_study):
    import onnx

    from tpcml.ml.export import graph_inputs, read_metadata

    _, res = tiny_study
    for label, e in res["exports"].items():
        meta = read_metadata(e["path"])
        assert meta["tpcml.inputs"] == list(study.FEATURES)
        assert meta["tpcml.strategy"] == ("all_nr" if label.endswith("u") else "below_median")
        assert str(meta["tpcml.training_fingerprint"]).startswith("sha256:")
        assert float(meta["tpcml.working_point"]) == pytest.approx(
            next(r["threshold"] for r in res["table3"] if r["method"] == f"MLP {label}")
        )
        assert len(graph_inputs(onnx.load(e["path"]))) == 1
        assert e["max_abs_diff_onnx_keras"] < 1e-5
        check = res["engine_checks"][label]
        assert check["events"] == res["data"]["n_dm_candidates"]
        assert check["max_abs_diff"] < 1e-5  # C++ engine in RDataFrame == NumPy forward pass
        assert Path(e["scored_file"]).is_file()


def test_users_own_files_door(tiny_study, tmp_path):
    """--data: the same study from a directory of files (here the tiny study's own simulated data)."""
    out, _ = tiny_study
    cfg = study.StudyConfig(
        out=tmp_path / "again",
        data_dir=out / "data",
        replicas=2,
        architectures=("4A",),
        u_architectures=(),
        max_epochs=10,
        patience=3,
        verbose=False,
    )
    res = study.run_study(cfg)
    assert [r["label"] for r in res["table2"]] == ["4A"]
    assert res["data"]["directory"] == str(out / "data")


def test_missing_files_and_branches(tmp_path, tiny_study):
    with pytest.raises(InputError, match=r"missing nr_calibration\.root"):
        study.load_dataset(tmp_path)
    import uproot

    out, _ = tiny_study
    bad = tmp_path / "bad"
    bad.mkdir()
    for name in ("er_calibration.root", "accidentals.root"):
        (bad / name).write_bytes((out / "data" / name).read_bytes())
    with uproot.recreate(bad / "nr_calibration.root") as f:
        f["events"] = {"qS1": np.ones(10, np.float32), "qS2": np.ones(10, np.float32)}
    with pytest.raises(InputError, match=r"lacks the column\(s\) .*'qS1c' \(did you mean qS1.*it has: qS1, qS2"):
        study.load_dataset(bad)


def test_data_dir_of_rntuples_with_double_columns_loads_as_the_ttrees(tiny_study, tmp_path):
    """uproot 5.7's plain assignment writes RNTuples (double columns, alphabetical): --data reads them alike."""
    import uproot

    out, _ = tiny_study
    rn = tmp_path / "rn"
    rn.mkdir()
    for name in ("nr_calibration.root", "er_calibration.root", "accidentals.root"):
        with uproot.open(out / "data" / name) as f:
            cols = f["events"].arrays(library="np")
        with uproot.recreate(rn / name) as f:
            f["events"] = {k: v.astype(np.float64) if v.dtype.kind == "f" else v for k, v in sorted(cols.items())}
    ref = study.load_dataset(out / "data")
    got = study.load_dataset(rn, detector="pandax2")
    for pop in ("nr", "er"):
        for k in ("qS1", "qS2c", "S1NPeaks", "wtenS2"):
            np.testing.assert_array_equal(getattr(got, pop)[k], getattr(ref, pop)[k])
    with uproot.recreate(rn / "er_calibration.root") as f:
        other = [*study.FEATURES, "drift_time", "x", "y"]
        f["events"] = {"qS1": np.ones(5, np.int16), **{k: np.ones(5) for k in other if k != "qS1"}}
    with pytest.raises(InputError, match=r"column 'qS1' of 'events' is std::int16_t; expected a float or double"):
        study.load_dataset(rn, detector="pandax2")


def test_cli_help_and_bad_labels():
    res = run(["tpcml", "run", "accidental", "--help"])
    assert res.returncode == 0 and "--full" in res.stdout and "--data" in res.stdout
    res = run(["tpcml", "run", "accidental", "--architectures", "4C,9Z", "--out", "/nonexistent/x"])
    assert res.returncode == 2 and "9Z" in res.stderr and "4C" in res.stderr
    res = run(["tpcml", "run", "accidental", "--quick", "--full"])
    assert res.returncode == 2


def test_cli_default_architectures_hint_matches_study():
    from tpcml import cli
    from tpcml.studies.pandax2 import PROFILES

    assert PROFILES["default"]["architectures"] == study.DEFAULT_ARCHITECTURES
    run_parser = cli.build_parser()._subparsers._group_actions[0].choices["run"]
    help_text = " ".join(run_parser._subparsers._group_actions[0].choices["accidental"].format_help().split())
    assert f"(default: {','.join(study.DEFAULT_ARCHITECTURES)})" in help_text
