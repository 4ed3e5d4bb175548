"""The resumable Table 2 scan (``tpcml run pandax2 --resume``): a run killed after its first model resumes from the
checkpoints and ends with the same models as an uninterrupted run of the same seed; checkpoints are written
atomically; a checkpoint of other data or options is refused, naming the difference."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("tensorflow")

from tpcml.studies import Context
from tpcml.studies.pandax2 import Sizes, checkpoint, study

TINY = Sizes(nr_after_cuts=600, er_after_cuts=400, accidental_after_cuts=1200, isolated_s1=3000, isolated_s2=3000)


class Killed(Exception):
    """What the batch system's kill is in this test: an exception out of the second training."""


def _config(out, data_dir, **kw):
    base = dict(
        out=out,
        data_dir=data_dir,
        replicas=2,
        architectures=("4A", "4C"),
        u_architectures=("4C",),
        max_epochs=15,
        patience=4,
        seed=5,
        verbose=False,
    )
    return study.StudyConfig(**(base | kw))


def _scan(cfg):
    """The data and MLP steps of the study (the scan; the later steps only read its models)."""
    ctx = Context(config=cfg, out=cfg.out, say=lambda _: None)
    study.step_data(ctx)
    study.step_mlps(ctx)
    return ctx.state["models"]


def _same(a, b):
    assert [m.label for m in a] == [m.label for m in b]
    for x, y in zip(a, b, strict=True):
        for name in ("significance", "threshold", "best_epoch", "er_efficiency", "er_ok", "selected"):
            np.testing.assert_array_equal(getattr(x, name), getattr(y, name), err_msg=f"{x.label}: {name}")
        for wx, wy in zip(x.ensemble.kernels, y.ensemble.kernels, strict=True):
            np.testing.assert_array_equal(wx, wy, err_msg=f"{x.label}: weights")
        r = x.selected
        xs = np.random.default_rng(0).uniform(0, 100, (50, len(study.FEATURES)))
        np.testing.assert_array_equal(x.ensemble.predict(xs, [r]), y.ensemble.predict(xs, [r]))


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    from tpcml.sim import lxe

    d = tmp_path_factory.mktemp("p2data") / "data"
    lxe.simulate_dataset(d, TINY, seed=5, threads=2, quiet=True)
    return d


def test_killed_scan_resumes_to_the_uninterrupted_result(data_dir, tmp_path, monkeypatch):
    reference = _scan(_config(tmp_path / "whole", data_dir))
    assert sorted(p.name for p in (tmp_path / "whole" / "checkpoints").iterdir()) == ["4A.npz", "4C.npz", "4Cu.npz"]

    out = tmp_path / "killed"
    trained = []
    real = study.train_model

    def kill_after_one(*args, **kw):
        if trained:
            raise Killed
        trained.append(args[2])
        return real(*args, **kw)

    monkeypatch.setattr(study, "train_model", kill_after_one)
    with pytest.raises(Killed):
        _scan(_config(out, data_dir))
    assert [p.name for p in (out / "checkpoints").iterdir()] == ["4A.npz"]  # no half-written file (temp + rename)

    trained.clear()
    monkeypatch.setattr(study, "train_model", lambda *a, **k: (trained.append(a[2] + a[3]), real(*a, **k))[1])
    resumed = _scan(_config(out, data_dir, resume=True))
    assert trained == ["4Cbelow_median", "4Call_nr"]  # 4A came from its checkpoint
    _same(resumed, reference)


def test_checkpoint_of_other_options_or_data_refused(data_dir, tmp_path):
    out = tmp_path / "run"
    _scan(_config(out, data_dir, architectures=("4A",), u_architectures=()))
    with pytest.raises(checkpoint.CheckpointMismatch, match=r"replicas = 2 in the checkpoint, 3 in this run"):
        _scan(_config(out, data_dir, architectures=("4A",), u_architectures=(), replicas=3, resume=True))
    with pytest.raises(checkpoint.CheckpointMismatch, match="seed = 5 in the checkpoint, 6"):
        _scan(_config(out, data_dir, architectures=("4A",), u_architectures=(), seed=6, resume=True))
    # other data: the accidentals file changed (one entry less of the same sample)
    import shutil

    import uproot

    other = tmp_path / "other"
    shutil.copytree(data_dir, other)
    acc = other / study.FILES["acc"]
    with uproot.open(acc) as f:
        cols = f["events"].arrays(library="np")
    with uproot.recreate(acc) as f:
        f["events"] = {k: v[:-1] for k, v in cols.items()}
    with pytest.raises(checkpoint.CheckpointMismatch, match=r"input files differ \(acc"):
        _scan(_config(out, other, architectures=("4A",), u_architectures=(), resume=True))
    # an unreadable checkpoint is named, not misread
    (out / "checkpoints" / "4A.npz").write_bytes(b"not a checkpoint")
    with pytest.raises(checkpoint.CheckpointMismatch, match="not a readable tpcml checkpoint"):
        _scan(_config(out, data_dir, architectures=("4A",), u_architectures=(), resume=True))
