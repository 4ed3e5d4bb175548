"""Position corrections of a dual-phase LXe TPC (public API; the C++ kernels of ``src/lxe``).

The same compiled classes serve C++, ROOT macros, RDataFrame strings and numpy arrays:

``ElectronLifetimeCorrection(lifetime_us)`` / ``.from_detector("pandax2")``
    Electron attachment during the drift: ``survival_probability(t)`` = exp(-t / tau) (scalar or
    array); calling it on ``(qS2, drift_time_us)`` arrays gives qS2c = qS2 exp(t / tau) (float32).
``DriftDepth(v_d)`` / ``.from_detector(...)``
    Depth below the gate, z = -v_d t (mm).
``PositionCorrections(detector)`` or ``PositionCorrections(s1_map, s2_map, lifetime_us, v_d)``
    z, qS1c and qS2c of events (``apply``), from the detector's light-collection model or from user
    maps (``RegularGrid``); P2-DNN Table 1's corrected charges (docs/event-model.md §3).
``NRMedianCurve``
    The NR median of log10(qS2c/qS1c) against qS1c (``fit``, ``from_file``, ``below``). On your own NR
    calibration: ``tpcml nr-median fit NR.root --out median.root``; the curve a command uses (``--nr-median``
    file > the one carried in its input > the detector default): :func:`tpcml.nr_median.resolve`.

Example::

    from tpcml.corrections import ElectronLifetimeCorrection
    qS2c = ElectronLifetimeCorrection.from_detector("pandax2")(qS2, drift_time)
"""

from __future__ import annotations

from ._core import DriftDepth, ElectronLifetimeCorrection, NRMedianCurve, PositionCorrections, RegularGrid

__all__ = ["DriftDepth", "ElectronLifetimeCorrection", "NRMedianCurve", "PositionCorrections", "RegularGrid"]
