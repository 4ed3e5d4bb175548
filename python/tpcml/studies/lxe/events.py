"""The job of ``tpcml simulate <lxe detector>``: the LXe engine's events of one source, written with the file
contract (docs/event-model.md §1; trees ``events`` and ``pmt_waveforms``).

The events come from one call of ``tpcml.sim.lxe.Simulator.detector_events(source, n, seed, fiducial_only=True,
pmt_waveforms=K)`` (the agreed interface of issue 16: an object with ``.events`` and ``.pmt_waveforms``, dicts of
numpy columns; 2-d columns are fixed-length arrays per event), so that ``tpcml simulate ... -n N --seed S`` is
exactly ``detector_events(source, N, S)``; the engine draws the progress bar (its ``quiet`` option, passed when
it has one).
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["Simulated", "expected", "output_name", "poisson_count", "simulate", "write"]


@dataclass
class Simulated:
    """What :func:`simulate` made: the two trees, the interactions generated, and the expected events per
    component of the source (exposure runs)."""

    events: dict[str, np.ndarray]
    pmt_waveforms: dict[str, np.ndarray] | None
    generated: int
    expected: dict[str, float] = field(default_factory=dict)


def expected(source, exposure_t_y: float) -> dict[str, float]:
    """Expected events of ``source`` per component in ``exposure_t_y`` t*y (ArgumentError for a training set)."""
    return dict(source.expected_events(exposure_t_y))


def poisson_count(seed: int, mean: float) -> int:
    """The number of interactions of one experiment with ``mean`` expected: Poisson, from its own stream of
    ``seed`` (as :meth:`tpcml.sim.sources.Source.draw_exposure` draws it)."""
    return int(np.random.default_rng([int(seed), 3]).poisson(mean))


def simulate(sim, source, n: int, seed: int, *, pmt_waveforms: int = 0, quiet: bool = False) -> Simulated:
    """``n`` interactions of ``source`` through ``sim.detector_events`` (module docstring); the per-PMT waveforms
    of the first ``pmt_waveforms`` events."""
    call = sim.detector_events
    progress = {"quiet": quiet} if "quiet" in inspect.signature(call).parameters else {}
    out = call(source, n, seed, fiducial_only=True, pmt_waveforms=pmt_waveforms, **progress)
    waves = dict(out.pmt_waveforms) if out.pmt_waveforms is not None else None
    return Simulated(dict(out.events), waves, n)


def output_name(detector, source: str) -> str:
    """``<detector>[_<run>]_<source>.root`` (``xenon1t_sr0_er.root``)."""
    stem = detector.name + (f"_{detector.run}" if detector.run else "")
    return f"{stem}_{source}.root"


def detector_tag(detector) -> str:
    """The ``tpcml_detector`` tag of the output: the detector name, with its run configuration (``xenon1t:sr0``)."""
    return detector.name + (f":{detector.run}" if detector.run else "")


def write(
    path: Path,
    result: Simulated,
    detector,
    *,
    inputs: list[str | os.PathLike] = (),
    format: str = "ttree",
    info: Mapping | None = None,
) -> Path:
    """``result`` as the trees ``events`` (and ``pmt_waveforms``) of ``path``, atomically, with the file contract:
    ``tpcml_detector`` (name:run), ``tpcml_provenance`` (+ ``info``), and ``tpcml_expected_<component>`` parameters
    (events expected in the exposure) when the run drew an exposure."""
    from tpcml.core import rootio

    extra = {"pmt_waveforms": result.pmt_waveforms} if result.pmt_waveforms is not None else None
    prov = rootio.provenance(inputs, **json.loads(json.dumps(dict(info or {}), default=float)))
    return rootio.write_tree(
        path,
        "events",
        result.events,
        detector=detector_tag(detector),
        provenance_info=prov,
        extra_trees=extra,
        parameters={f"tpcml_expected_{k}": v for k, v in result.expected.items()},
        format=format,
    )


def summary_line(result: Simulated, path: Path, say: Callable[[str], None] = print) -> None:
    """One line: kept / generated events and where they went."""
    n = len(result.events["event"]) if result.events else 0
    frac = f" ({100.0 * n / result.generated:.1f} %)" if result.generated else ""
    waves = result.pmt_waveforms
    extra = f", {len(waves['event'])} per-PMT waveforms" if waves is not None else ""
    say(f"{n} of {result.generated} events kept (trigger, S1 and S2){frac}{extra} -> {path}")
