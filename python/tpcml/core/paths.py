"""Where the installed C++ library, headers, CMake config and data live."""

from __future__ import annotations

from pathlib import Path

from .. import _core


def library_dir() -> Path:
    """Directory holding libtpcml.so, its ROOT dictionary (.pcm) and .rootmap."""
    return Path(_core.library_directory())


def library_path() -> Path:
    """Full path of libtpcml.so."""
    return library_dir() / "libtpcml.so"


def include_dir() -> Path:
    """Directory to add to the include path for ``#include "tpcml/..."``."""
    installed = library_dir().parent / "include"
    if (installed / "tpcml" / "tpcml.h").is_file():
        return installed
    # plain CMake build tree: headers are in the source tree
    source = Path(__file__).resolve().parents[2] / "include"
    if (source / "tpcml" / "tpcml.h").is_file():
        return source
    raise FileNotFoundError(f"tpcml headers not found beside {library_dir()} nor in {source}")


def cmake_dir() -> Path:
    """Directory to put on CMAKE_PREFIX_PATH / tpcml_DIR for ``find_package(tpcml)``."""
    return library_dir() / "cmake" / "tpcml"


def data_dir() -> Path:
    """Directory holding the detector registry (``detectors/*.toml``)."""
    return Path(_core.DetectorConfig.registry_directory()).parent
