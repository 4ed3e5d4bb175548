"""TensorFlow's start-up log lines are hidden by default (issue 15, item 8), and only those lines."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

STARTUP = (
    "WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
    "I0000 00:00:1796662274.858911   15956 port.cc:153] oneDNN custom operations are on.\n"
    "I0000 00:00:1796662274.859667   15956 cudart_stub.cc:31] Could not find cuda drivers on your machine.\n"
    "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow.\n"
)


def test_startup_lines_are_dropped_and_other_lines_kept(capfd):
    from tpcml.ml import backend

    with backend._startup_lines_dropped():
        os.write(2, (STARTUP + "E0000 00:00:1.0 1 real.cc:1] a real error\nuser text\n").encode())
        print("python stderr line", file=sys.stderr)
    err = capfd.readouterr().err
    assert "oneDNN" not in err and "cuda drivers" not in err and "absl::InitializeLog" not in err
    assert "To enable the following" not in err
    assert "a real error" in err and "user text" in err and "python stderr line" in err


@pytest.mark.slow
def test_import_tensorflow_after_tpcml_ml_prints_no_startup_lines():
    """A fresh interpreter without the user's TF_CPP_MIN_LOG_LEVEL: import tpcml.ml, then TensorFlow, run an op."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_CPP")}
    code = "import tpcml.ml, tensorflow as tf; print(float((tf.constant([1.0]) * 2)[0]))"
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "2.0"
    for line in ("oneDNN", "cuda drivers", "absl::InitializeLog", "cuInit", "cpu_feature_guard"):
        assert line not in res.stderr, res.stderr
