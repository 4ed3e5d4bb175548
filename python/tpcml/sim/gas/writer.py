"""Dataset writer of the gas-TPC track simulation (:mod:`tpcml.sim.gas`): ``simulate_dataset``
generates the sources round robin, chunk by chunk, and writes ``tracks.root`` (TTree ``events``,
branches in the package docstring) in clusters declared to ROOT, and ``dataset.json``.
"""

from __future__ import annotations

import json
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

from ... import _core
from ...core import detectors
from ...core.rootio import atomic_path, provenance
from ...report import progress
from .readout import MACRO_ENERGY_KEV
from .simulator import (
    BLOB_RADIUS_MM,
    CHUNK_PRIMARIES,
    Chunk,
    TrackSimulator,
    _check_count,
    _SourceRun,
)
from .sources import SOURCE_BI214, SOURCE_TL208, SOURCE_ZERO_NU_BB, SOURCES
from .transport import MAX_STEP_MM, RANGE_FRACTION, TRACKING_CUT_KEV

# Events per TTree cluster (one uproot extend each): ~5 MB of hits before compression. Small enough
# that ImplicitMT has tens of clusters to share among threads in a file of 10^4 to 10^5 events
# (RDataFrame parallelises over clusters), large enough to compress well.
CLUSTER_EVENTS = 500


def _awkward_hits(chunk: Chunk):
    import awkward as ak

    flat = ak.zip({k: chunk.hits[k] for k in ("plane", "strip", "time", "charge")})
    return ak.unflatten(flat, chunk.nhit)


_SCALAR_TYPES = {
    "run": np.uint32,
    "event": np.uint64,
    "label": np.int32,
    "source": np.int32,
    "energy_true": np.float32,
    "energy": np.float32,
    "vertex_x": np.float32,
    "vertex_y": np.float32,
    "vertex_z": np.float32,
    "window_start": np.float32,
    "track_length_mm": np.float32,
    "track_extent_mm": np.float32,
    "blob1_fraction": np.float32,
    "blob2_fraction": np.float32,
    "n_interactions": np.int32,
    "n_xrays": np.int32,
    "n_electrons": np.float32,
    "charge_lost": np.float32,
    "n_hits": np.int32,
}


def _tree_types() -> dict:
    import awkward as ak

    types = {k: np.dtype(v) for k, v in _SCALAR_TYPES.items()}
    one = ak.zip(
        {
            "plane": np.zeros(1, np.int32),
            "strip": np.zeros(1, np.float32),
            "time": np.zeros(1, np.float32),
            "charge": np.zeros(1, np.float32),
        }
    )
    types["hit"] = ak.unflatten(one, [1]).type.content  # var * {plane, strip, time, charge}
    return types


def _tree_data(chunk: Chunk, first_event: int, run: int) -> dict:
    n = chunk.n_events
    data = {"run": np.full(n, run, np.uint32), "event": np.arange(first_event, first_event + n, dtype=np.uint64)}
    for k, v in chunk.scalars.items():
        data[k] = v.astype(_SCALAR_TYPES[k], copy=False)
    data["hit"] = _awkward_hits(chunk)
    return data


class _ClusterWriter:
    """Extends an uproot tree in clusters of exactly ``size`` entries (the last one shorter) and
    declares that size as the tree's auto-flush, so that ROOT's cluster iterator (which
    RDataFrame's ImplicitMT splits the work by) sees the baskets as they are. uproot writes
    fAutoFlush = -30,000,000 bytes and no cluster ranges, from which ROOT estimates clusters of
    ~30 MB: a 20,000-event tracks file then has 2 clusters and two threads cannot share it."""

    def __init__(self, tree, size: int) -> None:
        self.tree, self.size, self.pending = tree, int(size), None
        meta = getattr(getattr(tree, "_cascading", None), "_metadata", None)  # uproot 5 internals
        if isinstance(meta, dict) and "fAutoFlush" in meta:
            meta["fAutoFlush"] = self.size  # > 0: entries per cluster (TTree::SetAutoFlush)

    def add(self, data: dict) -> None:
        """Writes every full cluster of the pending events plus ``data``; keeps the rest pending."""
        import awkward as ak

        if self.pending is not None:
            data = {
                k: (ak.concatenate if k == "hit" else np.concatenate)([self.pending[k], v]) for k, v in data.items()
            }
        n = len(data["event"])
        full = n - n % self.size
        for a in range(0, full, self.size):
            self.tree.extend({k: v[a : a + self.size] for k, v in data.items()})
        self.pending = {k: v[full:] for k, v in data.items()} if full < n else None

    def flush(self) -> None:
        if self.pending is not None:
            self.tree.extend(self.pending)
            self.pending = None


def simulate_dataset(
    out_dir: str | os.PathLike,
    n_signal: int,
    n_background: int | None = None,
    seed: int = 1,
    quiet: bool = False,
    threads: int = 1,
    detector: str | detectors.DetectorConfig = "pandax3",
    run: int = 0,
) -> dict:
    """Simulate ``n_signal`` 0νββ and ``n_background`` γ events in the ROI into ``out_dir``.

    ``n_background`` defaults to ``n_signal`` (1:1) and is half ²¹⁴Bi, half ²⁰⁸Tl (²¹⁴Bi gets the
    odd one), as in PX3 Sec. 3.2. Writes
    ``out_dir/tracks.root`` (TTree ``events``, see the module docstring) and ``out_dir/dataset.json``,
    both atomically, and returns the summary dict that dataset.json holds. Reproducible for a seed,
    whatever ``threads`` is.
    """
    import uproot

    n_signal = _check_count("n_signal", n_signal)
    n_background = _check_count("n_background", n_signal if n_background is None else n_background)
    if isinstance(threads, bool) or not isinstance(threads, (int, np.integer)) or threads < 1:
        raise ValueError(f"threads must be a positive integer, got {threads!r}")
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or seed < 0:
        raise ValueError(f"seed must be a non-negative integer, got {seed!r}")
    say = progress.printer("simulate pandax3", quiet)
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sim = TrackSimulator(detector)
    targets = {
        SOURCE_ZERO_NU_BB: n_signal,
        SOURCE_BI214: (n_background + 1) // 2,
        SOURCE_TL208: n_background // 2,
    }
    t_all = time.perf_counter()
    runs = {src: _SourceRun(sim, src, targets[src], int(seed)) for src in SOURCES}
    prov = provenance(seed=int(seed), n_signal=n_signal, n_background=n_background, threads=int(threads))
    named = {"tpcml_detector": sim.det.name, "tpcml_provenance": json.dumps(prov, sort_keys=True)}
    params = {"tpcml_q_bb_kev": sim.q_bb, "tpcml_roi_min_kev": sim.roi[0], "tpcml_roi_max_kev": sim.roi[1]}
    final = out / "tracks.root"
    n_written = 0
    t_write = 0.0
    with atomic_path(final) as tmp:
        _core.write_tree_file(str(tmp), {}, named, params)
        with uproot.update(tmp) as f:
            f.compression = uproot.LZ4(1)  # 4x smaller than raw, 3x faster to write than ZLIB
            tree = f.mktree("events", _tree_types(), title="PandaX-III simulated tracks (tpcml.pandax3)")
            clusters = _ClusterWriter(tree, CLUSTER_EVENTS)
            pool = ThreadPoolExecutor(max_workers=threads) if threads > 1 else None
            shown = progress.bar(sum(targets.values()), "ROI events", unit="event", quiet=quiet)
            try:
                while not all(r.done for r in runs.values()):
                    for src, r in runs.items():  # round robin over the sources, chunk by chunk
                        if r.done:
                            continue
                        take = r.next_chunk(pool, int(threads))
                        if take is not None and take.n_events:
                            t0 = time.perf_counter()
                            clusters.add(_tree_data(take, n_written, run))
                            n_written += take.n_events
                            t_write += time.perf_counter() - t0
                        eff = r.roi_efficiency or 0.0
                        shown.update(sum(x.got for x in runs.values()) - shown.n)
                        say(
                            f"{SOURCES[src]}: {r.got}/{r.target} ROI events "
                            f"({r.primaries} primaries, ROI efficiency {eff:.3g})"
                        )
                t0 = time.perf_counter()
                clusters.flush()
                t_write += time.perf_counter() - t0
            finally:
                shown.close()
                if pool is not None:
                    pool.shutdown()
    total = time.perf_counter() - t_all
    summary = _dataset_summary(sim, runs, int(seed), int(threads), final, n_written, total, t_write)
    with atomic_path(out / "dataset.json") as tmp:
        Path(tmp).write_text(json.dumps(summary, indent=2) + "\n")
    say(f"done: {n_written} events in {total:.1f} s ({summary['events_per_second'] or 0:.0f} events/s) -> {final}")
    return summary


def _dataset_summary(sim, runs, seed, threads, final, n_written, total, t_write) -> dict:
    """dataset.json: counts, generated primaries, ROI efficiency per source, timings, model settings."""
    return {
        "detector": sim.det.name,
        "seed": seed,
        "threads": threads,
        "files": {"tracks": str(final)},
        "tree": "events",
        "counts": {
            "signal": runs[SOURCE_ZERO_NU_BB].got,
            "background": runs[SOURCE_BI214].got + runs[SOURCE_TL208].got,
            **{SOURCES[s]: r.got for s, r in runs.items()},
            "total": n_written,
        },
        "generated_primaries": {SOURCES[s]: r.primaries for s, r in runs.items()},
        "generated_roi_events": {SOURCES[s]: r.roi_events for s, r in runs.items()},
        "roi_efficiency": {SOURCES[s]: r.roi_efficiency for s, r in runs.items()},
        "interacting_fraction": {
            SOURCES[s]: (r.interacting / r.primaries) if r.primaries else None for s, r in runs.items()
        },
        "roi_efficiency_definition": (
            "ROI events / generated primaries: 0nubb decays uniform in the active volume; gammas entering "
            "the active volume through its boundary (uniform isotropic flux)"
        ),
        "roi_kev": list(sim.roi),
        "timings_s": {
            "total": total,
            "write": t_write,
            **{f"simulate_{SOURCES[s]}": r.seconds for s, r in runs.items()},
            **{
                f"stage_{k}": sum(r.stage_seconds.get(k, 0.0) for r in runs.values())
                for k in ("primaries", "transport", "features", "readout")
            },
        },
        "events_per_second": n_written / total if total > 0 else None,
        "model": {
            "range_fraction": RANGE_FRACTION,
            "max_step_mm": MAX_STEP_MM,
            "tracking_cut_kev": TRACKING_CUT_KEV,
            "macro_energy_kev": MACRO_ENERGY_KEV,
            "blob_radius_mm": BLOB_RADIUS_MM,
            "chunk_primaries_max": {SOURCES[s]: CHUNK_PRIMARIES[s] for s in SOURCES},
            "compression": "LZ4(1)",
        },
    }
