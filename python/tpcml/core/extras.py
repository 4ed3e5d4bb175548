"""Optional features (the extras of ``pyproject.toml``) and the one way to import their packages.

``pip install tpcml`` (or ``pip install .`` in a checkout) gives the core: simulation, pairing, selection,
ROOT I/O, the C++ ONNX engine, plots and reports. Two extras add optional features:

* ``tpcml[ml]``: training and ONNX export (TensorFlow/Keras, tf2onnx, onnx, onnxruntime), the BDT
  (xgboost), iminuit, and WIMP signals in the simulation (wimprates);
* ``tpcml[dist]``: scoring on a Dask cluster (``tpcml.inference.score_distributed``).

Code that needs a package of an extra imports it with :func:`require`: on an installation without the
extra, the user gets a :class:`~tpcml.core.errors.MissingExtraError` saying what to install instead of a
bare ``ModuleNotFoundError``. ``tpcml info`` lists which extras are installed (:func:`status`).
"""

from __future__ import annotations

import importlib
import re
from importlib import metadata
from types import ModuleType

from .errors import MissingExtraError

__all__ = ["EXTRAS", "MissingExtraError", "install_command", "require", "status", "versions"]

#: The extras, each with what it is for (the subject of "... needs `pip install 'tpcml[ml]'`").
EXTRAS: dict[str, str] = {
    "ml": "machine learning (training, ONNX export, the BDT, WIMP signals)",
    "dist": "distributed scoring on a Dask cluster",
}


def install_command(extra: str) -> str:
    """The pip command that installs ``extra``, quoted for a POSIX shell: ``pip install 'tpcml[ml]'``."""
    return f"pip install 'tpcml[{extra}]'"


def require(extra: str, module: str) -> ModuleType:
    """Import and return ``module`` (a package of the optional extra ``extra``).

    Raises :class:`MissingExtraError` (a ``TpcmlError`` and an ``ImportError``) when it or a package it
    imports is not installed, with a message naming the module and ``pip install 'tpcml[<extra>]'``.
    Other import failures (a broken binary package) propagate unchanged.
    """
    if extra not in EXTRAS:
        raise ValueError(f"unknown tpcml extra {extra!r}: expected one of {', '.join(EXTRAS)}")
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as err:
        missing = err.name or module
        raise MissingExtraError(
            f"the Python module '{missing}' is not installed: tpcml's {EXTRAS[extra]} needs `{install_command(extra)}`"
        ) from err


def _requirements(dist: str = "tpcml") -> dict[str, list[str]]:
    """Distribution names of each extra, from tpcml's installed metadata (``Requires-Dist: x; extra == "ml"``)."""
    out: dict[str, list[str]] = {name: [] for name in EXTRAS}
    try:
        requires = metadata.requires(dist) or []
    except metadata.PackageNotFoundError:
        return out
    for req in requires:
        spec, _, marker = req.partition(";")
        extra = re.search(r"""extra\s*==\s*["']([^"']+)["']""", marker)
        name = re.match(r"\s*([A-Za-z0-9][A-Za-z0-9._-]*)", spec)
        if extra and name and extra.group(1) in out:
            out[extra.group(1)].append(name.group(1))
    return out


def versions(names) -> dict[str, str | None]:
    """Installed version of each distribution in ``names`` (None where not installed), from its metadata:
    nothing is imported."""
    out: dict[str, str | None] = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    return out


def status() -> dict[str, dict[str, object]]:
    """For each extra: ``installed`` (every package of it present), ``packages`` (name -> installed version
    or None), ``missing`` (names not installed), ``install`` (the pip command) and ``purpose``."""
    out: dict[str, dict[str, object]] = {}
    for extra, dists in _requirements().items():
        found = versions(dists)
        missing = [n for n, v in found.items() if v is None]
        out[extra] = {
            "installed": bool(dists) and not missing,
            "packages": found,
            "missing": missing,
            "install": install_command(extra),
            "purpose": EXTRAS[extra],
        }
    return out
