"""bench/bench_xenonnt.py completes a quick run and prints its table (timings are never asserted: shared
machines)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from .conftest import run

BENCH = Path(__file__).resolve().parents[2] / "bench"


def test_bench_xenonnt_quick_run():
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    pytest.importorskip("onnxruntime")
    res = run([sys.executable, str(BENCH / "bench_xenonnt.py"), "--quick", "--events", "64"], timeout=600)
    assert res.returncode == 0, res.stdout[-2000:] + res.stderr[-2000:]
    rows = [line for line in res.stdout.splitlines() if " | " in line]
    for figure in ("CVAE decoder (ConvTranspose s3)", "issue-20 decoder (ConvTranspose s2)", "CNN (2 conv", "TS model"):
        for batch in (1, 64):
            assert any(line.startswith(f"{figure}") and f"batch {batch} " in line for line in rows), (figure, batch)
