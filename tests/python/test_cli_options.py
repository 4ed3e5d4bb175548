"""`tpcml run/simulate` option wiring: defaults, --quick / --full and given values reach each study's
configuration object; regression tests of the option defects of issue 14, each named after its defect."""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import pytest

from tpcml import _core, cli, studies
from tpcml.core import options


def _config(argv):
    args = cli.build_parser().parse_args(argv)
    return cli.study_config(studies.get(args.study_name), args)


# ------------------------------------------------------------------------------------------------ defects
def test_run_tracks_batch_size_default_is_the_cpu_32_not_256(tmp_path):
    """`run tracks --batch-size` defaulted to 256 in argparse, so the CPU default of 32 never applied."""
    assert _config(["run", "tracks", "--out", str(tmp_path)]).batch_size == 32
    assert _config(["run", "tracks", "--out", str(tmp_path), "--quick"]).batch_size == 32
    assert _config(["run", "tracks", "--out", str(tmp_path), "--full", "--events", "10"]).batch_size == 256
    assert _config(["run", "tracks", "--out", str(tmp_path), "--batch-size", "64"]).batch_size == 64


def test_simulate_threads_0_means_all_cores_for_pandax3(tmp_path, monkeypatch):
    """`simulate --threads 0` meant all cores for pandax2 but 1 for pandax3."""
    import tpcml.sim.gas as gas

    seen = {}

    def fake(out, n, background, **kw):
        seen.update(kw)
        return {"counts": {"signal": n, "background": background}}

    monkeypatch.setattr(gas, "simulate_dataset", fake)
    assert cli.main(["simulate", "pandax3", "--out", str(tmp_path / "s"), "--events", "5", "--threads", "0"]) == 0
    assert seen["threads"] == len(os.sched_getaffinity(0))
    assert cli.main(["simulate", "pandax3", "--out", str(tmp_path / "s"), "--events", "5", "--threads", "3"]) == 0
    assert seen["threads"] == 3
    assert options.all_cores(0) == len(os.sched_getaffinity(0)) and options.all_cores(2) == 2


def test_simulate_threads_0_means_all_cores_for_pandax2(tmp_path, monkeypatch):
    """pandax2 passes 0 on: its Simulator uses every core for 0 (the same meaning as pandax3 now)."""
    import tpcml.sim.lxe as lxe

    assert lxe.Simulator("pandax2", threads=0).threads == (os.cpu_count() or 1)
    seen = {}

    class Stats:
        n_acc_total = n_acc_below_median = 1.0

    def fake(out, sizes, **kw):
        seen.update(kw)
        return Stats()

    monkeypatch.setattr(lxe, "simulate_dataset", fake)
    assert cli.main(["simulate", "pandax2", "--out", str(tmp_path / "s"), "--quick", "--threads", "0"]) == 0
    assert seen["threads"] == 0


@pytest.mark.parametrize(
    ("argv", "valid"),
    [
        (["simulate", "pandax3", "--detector", "pandax2"], "valid: pandax3"),
        (["simulate", "pandax2", "--detector", "pandax3"], "valid: darwin, pandax2, xenon1t, xenonnt"),
        (["run", "quickstart", "--detector", "pandax3"], "valid: darwin, pandax2, xenon1t, xenonnt"),
    ],
)
def test_detector_pandax2_is_refused_not_rewritten_to_pandax3(tmp_path, capsys, argv, valid):
    """`--detector pandax2` was silently rewritten to pandax3; a detector a study cannot use is refused, with the
    ones it can use."""
    assert cli.main([*argv, "--out", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert "cannot use a" in err and valid in err
    assert not (tmp_path / "o").exists()


def test_positive_int_refuses_zero():
    """`_positive_int` accepted 0: every count option (the CLI's `count` type) and the trainers refuse it."""
    with pytest.raises(argparse.ArgumentTypeError, match=">= 1, got 0"):
        options.count("0")
    assert options.count("1") == 1
    from tpcml.ml.ensemble import _check_positive_int

    with pytest.raises(ValueError, match="positive integer, got 0"):
        _check_positive_int(0, "n")
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["run", "tracks", "--epochs", "0"])


# ------------------------------------------------------------------------------------------------ wiring
def test_pandax2_options_reach_study_config(tmp_path):
    from tpcml.ml.architectures import PANDAX2_MLP_LAYERS

    c = _config(["run", "accidental", "--out", str(tmp_path)])
    assert (c.architectures, c.u_architectures, c.replicas) == (("4A", "4C", "5C"), ("4C",), 10)
    assert (c.max_epochs, c.patience, c.batch_size, c.threads, c.seed) == (1500, 20, None, 2, 1)
    assert (c.quick, c.data_dir, c.sizes, c.verbose, c.out) == (False, None, None, True, tmp_path)
    q = _config(["run", "pandax2", "--out", str(tmp_path), "--quick"])
    assert (q.architectures, q.u_architectures, q.replicas, q.max_epochs, q.patience) == (("4C",), ("4C",), 4, 100, 10)
    assert q.quick and q.sizes is not None
    f = _config(["run", "accidental", "--out", str(tmp_path), "--full"])
    assert f.architectures == tuple(PANDAX2_MLP_LAYERS) and f.u_architectures == ("4C", "4E")
    assert (f.replicas, f.max_epochs, f.patience) == (100, 1500, 20)
    from .test_own_data import _user_dataset

    data = tmp_path / "data"
    _user_dataset(data, tree="ev", rename={"qS1": "s1"}, n=20)  # configure checks the files (issue 15)
    median = tmp_path / "median.root"  # configure checks the --nr-median file holds the curve
    _core.NRMedianCurve([5.0, 20.0, 40.0], [2.0, 1.8, 1.6]).write_to(str(median))
    g = _config(
        ["run", "accidental", "--out", str(tmp_path / "o"), "--quick", "--data", str(data), "--replicas", "3",
         "--architectures", "4c, 5C", "--u-architectures", "4E", "--batch-size", "128", "--max-epochs", "7",
         "--patience", "3", "--seed", "9", "--threads", "1", "-q", "--tree", "ev", "--column", "qS1=s1",
         "--nr-median", str(median)]
    )  # fmt: skip
    assert (g.replicas, g.architectures, g.u_architectures, g.batch_size) == (3, ("4C", "5C"), ("4E",), 128)
    assert (g.max_epochs, g.patience, g.seed, g.threads, g.verbose, g.data_dir) == (7, 3, 9, 1, False, data)
    assert (g.tree, g.columns, g.nr_median) == ("ev", {"qS1": "s1"}, str(median))


def test_pandax3_options_reach_tracks_config(tmp_path):
    c = _config(["run", "tracks", "--out", str(tmp_path)])
    assert (c.events, c.input_size, c.epochs, c.repeats, c.batch_size, c.bn_momentum) == (3000, 64, 4, 1, 32, 0.9)
    assert [m.label for m in c.models] == ["EfficientNetB0 n=8", "EfficientNetB0 n=default"]
    assert (c.seed, c.threads, c.verbose, c.data_dir) == (1, 2, True, None)
    q = _config(["run", "pandax3", "--out", str(tmp_path), "--quick"])
    assert (q.events, q.input_size, q.epochs, q.repeats) == (1000, 64, 5, 1)
    f = _config(["run", "tracks", "--out", str(tmp_path), "--full", "--events", "10"])
    assert (f.events, f.input_size, f.epochs, f.repeats, f.bn_momentum) == (10, 128, 30, 6, None)
    assert [m.top_channels for m in f.models] == [2, 4, 6, 8, 10, None]
    g = _config(
        ["run", "tracks", "--out", str(tmp_path), "--events", "50", "--variant", "b4", "--top-channels", "4",
         "--resnet", "--input-size", "128", "--epochs", "2", "--repeats", "3", "--seed", "5", "--threads", "1"]
    )  # fmt: skip
    assert [m.label for m in g.models] == ["EfficientNetB4 n=4", "ResNet50"]
    assert (g.events, g.input_size, g.epochs, g.repeats, g.seed, g.threads) == (50, 128, 2, 3, 5, 1)


def test_quickstart_options_reach_its_config(tmp_path):
    c = _config(["run", "quickstart", "--out", str(tmp_path)])
    all_cores = options.all_cores(0)  # --threads 0 (the default): every core, resolved when parsed
    assert (c.n_er, c.n_nr, c.detector, c.seed, c.threads, c.quiet) == (20000, 10000, "pandax2", 1, all_cores, False)
    q = _config(["run", "quickstart", "--out", str(tmp_path), "--quick"])
    assert (q.n_er, q.n_nr) == (4000, 2000)
    g = _config(
        ["run", "quickstart", "--out", str(tmp_path), "--quick", "--n-er", "7", "--detector", "xenonnt",
         "--seed", "4", "--threads", "2", "-q"]
    )  # fmt: skip
    assert (g.n_er, g.n_nr, g.detector, g.seed, g.threads, g.quiet) == (7, 2000, "xenonnt", 4, 2, True)
    assert Path(g.out) == tmp_path


def test_quick_and_full_exclude_each_other(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "tracks", "--out", str(tmp_path), "--quick", "--full"])
    assert exc.value.code == 2
    assert "--quick and --full exclude each other" in capsys.readouterr().err
