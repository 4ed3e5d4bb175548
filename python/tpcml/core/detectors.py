"""The detector registry (``data/detectors/*.toml``), read by the C++ loader.

>>> det = tpcml.core.detectors.load("pandax2")
>>> det.get("drift_velocity")          # canonical unit of its dimension: mm/us
>>> det.get("electron_lifetime", "ms")  # or any unit of the same dimension
>>> det.parameter("g1").source          # the citation
>>> tpcml.core.detectors.load("xenon1t:sr0").run   # a run configuration (docs/detector-format.md)
"""

from __future__ import annotations

from typing import Any

from .._core import DetectorConfig, accepted_units, dimension_names, unit_factor

__all__ = [
    "DetectorConfig",
    "accepted_units",
    "as_dict",
    "available",
    "dimension_names",
    "load",
    "resolve",
    "unit_factor",
]


def load(name_or_path: str) -> DetectorConfig:
    """Load and validate a registered detector ("pandax2") or a TOML file path, optionally with a run
    configuration ("xenon1t:sr0", "path/to/file.toml:sr0"; without one the file's default_run applies).

    Raises ``tpcml.ConfigError`` naming the file, the key and the expected form (a path that exists but is
    not a regular file, e.g. a directory, is named as what it is).
    """
    import os
    import stat

    from .._core import ConfigError

    target = os.fspath(name_or_path)
    try:
        mode = os.stat(target).st_mode
    except OSError:
        mode = None
    if mode is not None and not stat.S_ISREG(mode):
        what = "a directory" if stat.S_ISDIR(mode) else "not a regular file (a FIFO, socket or device)"
        raise ConfigError(
            f"{target}: is {what}; expected a detector TOML file (docs/detector-format.md) or a registered "
            f"detector name ({', '.join(available())})"
        )
    return DetectorConfig.load(target)


def resolve(detector: str | DetectorConfig) -> DetectorConfig:
    """``detector`` itself when it is a loaded configuration, else :func:`load` of the name or path."""
    return detector if isinstance(detector, DetectorConfig) else load(detector)


def available() -> list[str]:
    """Names of the registered detectors."""
    return DetectorConfig.available()


def as_dict(detector: DetectorConfig) -> dict[str, dict[str, Any]]:
    """``{key: {"value", "unit" (canonical), "dimension", "source"}}`` for reports and provenance."""
    out = {}
    for key in detector.keys():  # noqa: SIM118 (a C++ method, not a dict)
        p = detector.parameter(key)
        out[key] = {
            "value": p.value,
            "unit": p.canonical_unit,
            "dimension": p.dimension,
            "source": p.source,
        }
    return out
