"""Synthetic HitPeak input arrays (the eight tpcml._core.HITPEAK_COLUMNS) for the HitPeak tests and
bench/bench_hitpeak.py: one generator, so the benchmark times the inputs the tests check."""

from __future__ import annotations

import numpy as np

#: waveform samples per peak (the engine's default peak window)
SAMPLES = 200


def empty_event(n_pmt: int, n: int = 1) -> list[np.ndarray]:
    return [np.zeros((n, n_pmt), np.float32) for _ in range(2)] + [np.zeros((n, SAMPLES), np.float32) for _ in range(6)]


def random_events(n_pmt: int, n: int, seed: int = 3) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    s1 = np.where(rng.uniform(size=(n, n_pmt)) < 0.2, rng.exponential(2.0, (n, n_pmt)), 0).astype(np.float32)
    s2 = rng.exponential(80.0, (n, n_pmt)).astype(np.float32)
    t = np.arange(SAMPLES)
    s1w = (rng.uniform(5, 60, (n, 1)) * np.exp(-0.5 * ((t - 20) / 3.0) ** 2)).astype(np.float32)
    s2w = (rng.uniform(20, 400, (n, 1)) * np.exp(-0.5 * ((t - 100) / 30.0) ** 2)).astype(np.float32)
    noise = lambda: rng.normal(0, 0.3, (n, SAMPLES)).astype(np.float32)  # noqa: E731
    return [s1, s2, s1w + noise(), 0.3 * s1w, 0.7 * s1w, s2w + noise(), 0.6 * s2w, 0.4 * s2w]
