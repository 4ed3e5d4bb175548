"""The job of ``tpcml simulate <lxe detector>``: the LXe engine's events of one source, in chunks with a progress
bar, written with the file contract (docs/event-model.md §1; trees ``events`` and ``pmt_waveforms``).

The events come from ``tpcml.sim.lxe.Simulator.detector_events(source, n, seed, fiducial_only=True,
pmt_waveforms=K)`` (the agreed interface of issue 16: an object with ``.events`` and ``.pmt_waveforms``, dicts of
numpy columns; 2-d columns are fixed-length arrays per event). Generation runs in chunks of :data:`CHUNK`
interactions: chunk 0 has the seed itself (so a run of at most :data:`CHUNK` events is exactly
``detector_events(source, n, seed)``), chunk k > 0 the seed ``SeedSequence([seed, k])``; ``event`` numbers are
made unique across chunks by adding the interactions generated before the chunk (in both trees alike). The
chunking does not depend on --threads.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

__all__ = ["CHUNK", "Simulated", "chunk_seed", "expected", "output_name", "simulate", "write"]

#: interactions per call of the engine (a progress step of about a second at the engine's target rate)
CHUNK = 5000


@dataclass
class Simulated:
    """What :func:`simulate` made: the two trees, the interactions generated, and the Poisson mean (exposure)."""

    events: dict[str, np.ndarray]
    pmt_waveforms: dict[str, np.ndarray] | None
    generated: int
    expected: dict[str, float] = field(default_factory=dict)  # per component of the source (exposure runs)


def chunk_seed(seed: int, k: int) -> int:
    """The engine's seed of chunk ``k``: ``seed`` for the first, then an independent stream per chunk."""
    return int(seed) if k == 0 else int(np.random.SeedSequence([int(seed), k]).generate_state(1)[0])


def expected(source, exposure_t_y: float) -> dict[str, float]:
    """Expected events of ``source`` per component in ``exposure_t_y`` t*y (ArgumentError for a training set)."""
    return dict(source.expected_events(exposure_t_y))


def poisson_count(seed: int, mean: float) -> int:
    """The number of interactions of one experiment with ``mean`` expected: Poisson, from its own stream of
    ``seed`` (as :meth:`tpcml.sim.sources.Source.draw_exposure` draws it)."""
    return int(np.random.default_rng([int(seed), 3]).poisson(mean))


def simulate(
    sim,
    source,
    n: int,
    seed: int,
    *,
    pmt_waveforms: int = 0,
    quiet: bool = False,
    chunk: int = CHUNK,
) -> Simulated:
    """``n`` interactions of ``source`` through ``sim.detector_events`` in chunks (module docstring); the per-PMT
    waveforms of the first ``pmt_waveforms`` kept events."""
    from tpcml.report.progress import bar

    parts, waves, done, k = [], [], 0, 0
    with bar(n, f"{sim.det.name} {source.name} events", unit="event", quiet=quiet) as shown:
        while done < n or k == 0:
            m = min(chunk, n - done)
            kept_so_far = sum(len(p["event"]) for p in parts)
            out = sim.detector_events(
                source, m, chunk_seed(seed, k), fiducial_only=True, pmt_waveforms=max(0, pmt_waveforms - kept_so_far)
            )
            ev = dict(out.events)
            offset = np.uint64(done)
            ev["event"] = np.asarray(ev["event"], np.uint64) + offset
            parts.append(ev)
            if out.pmt_waveforms is not None and len(out.pmt_waveforms.get("event", ())):
                pw = dict(out.pmt_waveforms)
                pw["event"] = np.asarray(pw["event"], np.uint64) + offset
                waves.append(pw)
            done += m
            k += 1
            shown.update(m)
            if m == 0:
                break
    return Simulated(_concatenate(parts), _concatenate(waves) if waves else None, n)


def _concatenate(parts: list[Mapping[str, np.ndarray]]) -> dict[str, np.ndarray]:
    return {key: np.concatenate([np.asarray(p[key]) for p in parts]) for key in parts[0]}


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
