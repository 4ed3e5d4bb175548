#!/usr/bin/env python3
"""Digitised-waveform benchmark (issue 16, item 3): ``tpcml._core.WaveformSimulator`` on XENON1T-like signals.

    venv/bin/python bench/bench_waveforms.py [--quick] [--signals N] [--repeat R]

Waveforms per second on 1 thread (``simulate_batch``, the pybind11 door: the figures include building the
numpy dicts) of
* an S1 of ~50 PE: 42 detected photons (x 1.2 for double-PE emission) on the 248 XENON1T channels (30% top),
  emission times of a 10 keV ER at 82 V/cm (``ScintillationTiming``, 25 exciton + 17 recombination photons);
* an S2 of ~5000 PE: 4167 photons (62.7% top, concentrated under the event, bottom uniform), 157 electrons with
  0.5 us longitudinal spread, each emitting for 0.6 us (approximate XENON1T-like shapes, inputs only);
in both modes: "channels" (every channel digitised, noise, ADC, ZLE) and "summed" (the fast path).
Timings are the best of ``--repeat`` passes; these machines are shared, so figures vary by ~10-30 %.
"""

from __future__ import annotations

from _common import best_seconds, parse_options, print_table

OPTIONS = {
    "--signals": (400, 40, "S2s per pass (10x as many S1s)"),
    "--repeat": (3, 1, "timed passes; the best is kept (default: %(default)s)"),
}


def _inputs(kind: str, n: int):
    import numpy as np

    from tpcml import _core

    rng = np.random.default_rng(1)
    timing = _core.ScintillationTiming()
    channels, times, counts = [], [], []
    for i in range(n):
        if kind == "S1":
            k, top_fraction = 42, 0.3
            t = timing.emission_times(False, 10.0, 82.0, n_excitons=25, n_recombined=k - 25, seed=1, index=i)
        else:
            k, top_fraction = 4167, 0.627
            electrons = rng.normal(0.0, 500.0, 157)
            t = (electrons[rng.integers(0, 157, k)] + rng.uniform(0.0, 600.0, k)).astype(np.float32)
        top = rng.random(k) < top_fraction
        c = np.where(top, np.minimum(rng.geometric(1 / 15, k) - 1, 126), 127 + rng.integers(0, 121, k))
        channels.append(c.astype(np.int32))
        times.append(t)
        counts.append(k)
    offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    return np.concatenate(channels), np.concatenate(times), offsets


def main(argv: list[str] | None = None) -> int:
    args = parse_options(argv, __doc__, "fewer signals and one pass (a smoke run)", OPTIONS)
    from tpcml import _core

    sim = _core.WaveformSimulator(_core.DetectorConfig.load("xenon1t"))
    rows = []
    for kind, n in (("S1", 10 * args.signals), ("S2", args.signals)):
        channel, time, offsets = _inputs(kind, n)
        for mode in ("channels", "summed"):
            seconds = best_seconds(
                lambda channel=channel, time=time, offsets=offsets, mode=mode: sim.simulate_batch(
                    channel, time, offsets, seed=1, threads=1, mode=mode
                ),
                args.repeat,
            )
            label = f"{kind} of {'50' if kind == 'S1' else '5000'} PE, 248 channels, mode {mode}, 1 thread"
            rows.append((label, f"{n / seconds:,.0f} waveforms/s"))
    print_table(
        "digitised waveforms (tpcml._core.WaveformSimulator.simulate_batch)",
        (("measured", ">22"),),
        rows,
        " | ",
        "per core; includes the numpy dicts of the binding.",
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
