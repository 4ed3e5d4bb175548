"""Progress bars of the training loops (issue 15, item 8): one bar over the batches of every
``train_classifier`` epoch, one over the epochs of ``train_ensemble``; ``quiet`` / ``verbose=False`` draw none."""

from __future__ import annotations

import io

import numpy as np
import pytest

pytest.importorskip("keras")


@pytest.fixture
def recorded_bars(monkeypatch):
    """Every bar the loops open, drawn into a StringIO at once (no terminal, no delay) and kept."""
    from tpcml.report import progress

    made = []
    original = progress.bar

    def bar(total, desc, **kw):
        out = io.StringIO()
        kw.update(file=out, delay=0, mininterval=0)
        b = original(total, desc, **kw)
        made.append((total, desc, kw.get("quiet", False), out))
        return b

    monkeypatch.setattr(progress, "bar", bar)
    return made


def test_train_classifier_shows_the_batches_of_each_epoch(recorded_bars):
    import keras

    from tpcml.ml.training import train_classifier

    rng = np.random.default_rng(1)
    x = rng.random((20, 4, 4, 1), dtype=np.float32)
    y = (rng.random(20) > 0.5).astype(np.float32)

    def build():
        inp = keras.Input((4, 4, 1))
        return keras.Model(inp, keras.layers.Dense(1, activation="sigmoid")(keras.layers.Flatten()(inp)), name="tiny")

    train_classifier(build, x, y, x[:6], y[:6], x[:6], epochs=2, batch_size=8, flips=False)
    assert [(t, d) for t, d, _, _ in recorded_bars] == [(3, "tiny epoch 1/2"), (3, "tiny epoch 2/2")]
    assert all("3/3" in out.getvalue() for *_, out in recorded_bars)
    recorded_bars.clear()
    train_classifier(build, x, y, x[:6], y[:6], x[:6], epochs=1, batch_size=8, flips=False, quiet=True)
    assert recorded_bars[0][2] is True and recorded_bars[0][3].getvalue() == ""


def test_train_ensemble_shows_its_epochs(recorded_bars):
    from tpcml.ml import ensemble

    rng = np.random.default_rng(2)
    x = rng.normal(size=(64, 3)).astype(np.float32)
    y = (x[:, 0] > 0).astype(np.float32)
    ensemble.train_ensemble(x, y, x[:16], y[:16], n_replicas=2, hidden=(4,), max_epochs=3, patience=5, verbose=True)
    (total, desc, quiet, out) = recorded_bars[0]
    assert (total, desc, quiet) == (3, "ensemble of 2", False)
    assert "3/3" in out.getvalue() and "running=" in out.getvalue()
