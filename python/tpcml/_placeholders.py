"""PLACEHOLDERS of the pyfw branch: delete this file, ``sim/lxe.py``, ``sim/gas.py`` and ``pairing.py`` at the
merge (the sim branch moves the two simulation modules into tpcml.sim.lxe / tpcml.sim.gas, the cxx branch
writes tpcml.pairing). Loads python/tpcml/<old package>/<module>.py by its path: the pyfw branch moved the rest
of those packages to tpcml.studies, and the development install maps the old package names to files that no
longer exist."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path


def load(study: str, name: str, module: str = "simulation"):
    if name in sys.modules:
        return sys.modules[name]
    path = Path(__file__).resolve().parent / study / f"{module}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
