"""The ONNX developer tools of the repository's ``tools/`` folder (not part of the installed package),
imported by their tests under their own module names."""

from __future__ import annotations

import importlib.util
import sys
from types import ModuleType

from .conftest import REPO


def load_tool(name: str) -> ModuleType:
    """``tools/<name>.py`` as the module ``name`` (registered in ``sys.modules``: dataclasses need it)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "tools" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module
