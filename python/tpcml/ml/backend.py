"""The one TensorFlow set-up of every study: quiet start-up and the CPU thread pools.

Importing any module of :mod:`tpcml.ml` calls :func:`silence_tensorflow_logs` before TensorFlow is imported: its
C++ start-up lines (oneDNN, CUDA drivers not found, CPU instructions, absl's "All log messages before
absl::InitializeLog()") and its Python INFO/WARNING logs are not printed. A user's own ``TF_CPP_MIN_LOG_LEVEL``
(e.g. ``TF_CPP_MIN_LOG_LEVEL=0`` to see them all) is kept.
"""

from __future__ import annotations

import contextlib
import importlib.abc
import importlib.util
import logging
import os
import re
import sys
import tempfile

from tpcml.core.extras import require

__all__ = ["configure_tensorflow", "silence_tensorflow_logs"]


#: the start-up lines TensorFlow's C++ libraries print while they load, before they read TF_CPP_MIN_LOG_LEVEL
#: (absl INFO/WARNING lines "I0000 00:00:1796662274.858911   15956 port.cc:153] oneDNN ...", their continuation
#: and absl's notice): dropped from what ``import tensorflow`` writes to stderr; any other line is kept.
_STARTUP_LINE = re.compile(
    r"^(?:[IW]\d{4} \d\d:\d\d:\d[\d.]*\s+\d+ \S+:\d+\] |WARNING: All log messages before absl::InitializeLog"
    r"|To enable the following instructions: )"
)


@contextlib.contextmanager
def _startup_lines_dropped():
    """File descriptor 2 captured while the body runs (C++ writes bypass sys.stderr), then written back without
    TensorFlow's start-up lines."""
    try:
        sys.stderr.flush()
        saved = os.dup(2)
    except (AttributeError, OSError, ValueError):  # no usable stderr: nothing to filter
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(AttributeError, OSError, ValueError):
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            lines = tmp.read().decode(errors="replace").splitlines(keepends=True)
            kept = "".join(line for line in lines if not _STARTUP_LINE.match(line))
            if kept:
                os.write(2, kept.encode())


class _QuietTensorFlowImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` as usual, and runs its import with the start-up lines dropped (once)."""

    def find_spec(self, name, path=None, target=None):
        if name != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)
        spec = importlib.util.find_spec(name)
        if spec is not None and spec.loader is not None and hasattr(spec.loader, "exec_module"):
            run = spec.loader.exec_module

            def exec_module(module, run=run):
                with _startup_lines_dropped():
                    run(module)

            spec.loader.exec_module = exec_module
        return spec


def silence_tensorflow_logs() -> None:
    """Hide TensorFlow's start-up chatter; call before ``import tensorflow`` (environment variables are read when
    its C++ library loads). Errors still reach the user as Python exceptions. Nothing is hidden when the user set
    TF_CPP_MIN_LOG_LEVEL."""
    if "TF_CPP_MIN_LOG_LEVEL" in os.environ:
        return
    # 3: C++ INFO, WARNING and ERROR lines off ("failed call to cuInit" on every CPU-only machine is an ERROR line)
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "3"
    os.environ.setdefault("GRPC_VERBOSITY", "ERROR")
    if "tensorflow" not in sys.modules and not any(isinstance(f, _QuietTensorFlowImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietTensorFlowImport())
    logging.getLogger("tensorflow").setLevel(logging.ERROR)
    try:  # absl's Python logging, used by Keras and tf2onnx
        from absl import logging as absl_logging
    except ImportError:
        return
    absl_logging.set_verbosity(absl_logging.ERROR)


def configure_tensorflow(threads: int) -> None:
    """Silence TensorFlow's start-up chatter and use ``threads`` intra-op threads (at most 2 inter-op). Once
    TensorFlow is initialised in this process its pools cannot change: a second call keeps the first settings."""
    silence_tensorflow_logs()
    tf = require("ml", "tensorflow")

    try:
        tf.config.threading.set_intra_op_parallelism_threads(max(1, threads))
        tf.config.threading.set_inter_op_parallelism_threads(max(1, min(2, threads)))
    except RuntimeError:  # already initialised in this process: keep its settings
        pass
