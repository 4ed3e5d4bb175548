"""Shared fixtures: small event files made by the tests themselves."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def run(cmd, cwd=None, env=None, timeout=300):
    """Run a command, returning CompletedProcess (text)."""
    full_env = dict(os.environ)
    full_env["PATH"] = f"{BIN}{os.pathsep}{full_env.get('PATH', '')}"
    full_env.setdefault("PYTHONWARNINGS", "ignore::UserWarning")  # ROOT's "alpha stage" banner
    if env:
        full_env.update(env)
    return subprocess.run(cmd, cwd=cwd, env=full_env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="session")
def events_file(tmp_path_factory) -> Path:
    """A small PandaX-II ER+NR file (several clusters, so ImplicitMT has work to split)."""
    from tpcml.core import detectors
    from tpcml.core.rootio import write_tree
    from tpcml.sim.lxe import ER, NR, Simulator

    sim = Simulator(detectors.load("pandax2"), threads=2)
    er = sim.raw_events(ER, 3000, seed=11)
    nr = sim.raw_events(NR, 1500, seed=12)
    cols = {k: np.concatenate([er[k], nr[k]]) for k in er}
    path = tmp_path_factory.mktemp("events") / "events.root"
    write_tree(path, "events", cols, detector="pandax2", auto_flush=500)
    return path


@pytest.fixture(scope="session")
def root_exe() -> str:
    exe = BIN / "root"
    if not exe.exists():
        exe = shutil.which("root")
    assert exe, "ROOT's `root` command is not installed in the test environment"
    return str(exe)


@pytest.fixture(scope="session")
def parity_models(tmp_path_factory) -> dict[str, Path]:
    """The ONNX parity models of tests/python/onnx_models.py, exported once per session.

    Keys "mlp4c", "xenon1t_cnn", "efficientnet_b0", "vae_encoder", "vae_decoder"; each ``<key>.onnx`` has a
    ``<key>.ref.npz`` beside it with the test inputs and the Keras outputs (``onnx_models.load_reference``).
    Skipped where TensorFlow / tf2onnx are not installed.
    """
    pytest.importorskip("tensorflow")
    pytest.importorskip("tf2onnx")
    from .onnx_models import export_parity_models

    return export_parity_models(tmp_path_factory.mktemp("onnx_parity"))
