"""The one TensorFlow set-up of every study: quiet start-up and the CPU thread pools."""

from __future__ import annotations

import os

from tpcml.core.extras import require

__all__ = ["configure_tensorflow"]


def configure_tensorflow(threads: int) -> None:
    """Silence TensorFlow's start-up chatter and use ``threads`` intra-op threads (at most 2 inter-op). Once
    TensorFlow is initialised in this process its pools cannot change: a second call keeps the first settings."""
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    tf = require("ml", "tensorflow")

    try:
        tf.config.threading.set_intra_op_parallelism_threads(max(1, threads))
        tf.config.threading.set_inter_op_parallelism_threads(max(1, min(2, threads)))
    except RuntimeError:  # already initialised in this process: keep its settings
        pass
