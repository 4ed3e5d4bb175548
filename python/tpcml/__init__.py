"""tpcml: ROOT-native machine-learning background suppression for rare-event TPCs.

The compiled core (C++, namespace ``tpcml``) is reached three ways: from ROOT
macros and jitted RDataFrame strings (through its ROOT dictionary), from Python
through the private module ``tpcml._core``, and from the ``tpcml-*`` batch
executables. This package holds the Python layer: detector registry access,
simulation drivers, training, export, statistics and the ``tpcml`` CLI.
"""

from __future__ import annotations

try:
    from . import _core
except ImportError as err:  # pragma: no cover - exercised only on a broken install
    raise ImportError(
        "tpcml's compiled module tpcml._core is missing or cannot be loaded "
        f"({err}). Build and install tpcml with `pip install .` (or run "
        "`make test`, which sets up the development environment)."
    ) from err

from .core.errors import ConfigError, InputError, TpcmlError, UsageError
from .core.paths import cmake_dir, data_dir, include_dir, library_dir, library_path
from .core.root import load_root

__version__ = _core.version()

__all__ = [
    "ConfigError",
    "InputError",
    "TpcmlError",
    "UsageError",
    "__version__",
    "cmake_dir",
    "data_dir",
    "include_dir",
    "library_dir",
    "library_path",
    "load_root",
]
