"""The public wrappers tpcml.corrections and tpcml.pairing (issue 14) and the one events schema behind them."""

from __future__ import annotations

import numpy as np
import pytest

from tpcml import _core


def test_corrections_wrapper_reexports_the_compiled_classes():
    from tpcml import corrections

    assert corrections.ElectronLifetimeCorrection is _core.ElectronLifetimeCorrection
    corr = corrections.ElectronLifetimeCorrection(500.0)
    assert corr.survival_probability(500.0) == pytest.approx(np.exp(-1.0), rel=1e-15)
    t = np.array([0.0, 250.0, 500.0])
    np.testing.assert_allclose(corr.survival_probability(t), np.exp(-t / 500.0), rtol=1e-15)
    q = corr(np.ones(3, np.float32), t.astype(np.float32))
    np.testing.assert_allclose(q, np.exp(t / 500.0), rtol=1e-6)


def test_events_schema_lists_come_from_cpp():
    from tpcml import pairing

    # the 13 features of P2-DNN Table 1, in its order (an independent expectation)
    assert pairing.FEATURES == (
        "qS1", "qS2", "qS1c", "qS2c", "wS1", "wS2", "wtenS2",
        "S1TBA", "S2TBA", "S2SY1", "S2SY2", "S1NPeaks", "S1LargestBCQ",
    )  # fmt: skip
    assert pairing.S1_BRANCHES == ["qS1", "wS1", "S1TBA", "S1NPeaks", "S1LargestBCQ"]
    assert pairing.S2_BRANCHES == ["qS2", "wS2", "wtenS2", "S2TBA", "S2SY1", "S2SY2", "x", "y"]
    assert list(pairing.EVENT_COLUMNS) == list(_core.AccidentalPairer.column_names())
    assert set(pairing.FEATURES) <= set(pairing.EVENT_COLUMNS)
    assert pairing.EVENT_DTYPES["S1NPeaks"] == np.int32
    assert pairing.EVENT_DTYPES["below_nr_median"] == np.bool_
    assert pairing.EVENT_DTYPES["event"] == np.uint64
