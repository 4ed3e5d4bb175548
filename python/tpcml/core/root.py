"""Make tpcml's C++ classes available to PyROOT / cling.

``tpcml.load_root()`` imports ROOT, adds tpcml's include directory to cling's
include path and loads libtpcml (with its dictionary), then returns the ROOT
module. After it, ``ROOT.tpcml.ElectronLifetimeCorrection`` works and tpcml
classes can be used in jitted RDataFrame strings. It is idempotent and safe in
either import order. In an environment where tpcml is installed, the
``tpcml-root-env.pth`` hook already points ROOT_INCLUDE_PATH / ROOT_LIBRARY_PATH
at tpcml. After a plain ``import ROOT`` (without ``load_root``), Python access such
as ``ROOT.tpcml.DetectorConfig`` loads libtpcml on first use (its ``.rootmap``) and
``ROOT.gInterpreter.Declare('#include "tpcml/tpcml.h"')`` finds the headers, but a
jitted RDataFrame string that is the first to use a tpcml class needs that
``Declare`` (or ``load_root()``): cling does not autoload classes for jitted code.
"""

from __future__ import annotations

import os
import shutil
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType

from .paths import include_dir, library_path

_loaded = False


def load_root() -> ModuleType:
    """Import ROOT with libtpcml loaded and its headers known to cling; return ROOT."""
    global _loaded
    if not shutil.which("c++") and not shutil.which("g++") and not os.environ.get("CXX"):
        # cling locates the C++ standard headers through the system compiler at start-up
        raise RuntimeError("ROOT's interpreter needs a C++ compiler on PATH (apt-get install g++)")
    with warnings.catch_warnings():
        # the PyPI wheel (root 0.1a12) warns on import that it is an alpha distribution
        warnings.filterwarnings(
            "ignore", message=r"\s*This distribution of ROOT is in alpha stage", category=UserWarning
        )
        import ROOT

    if _loaded:
        return ROOT
    inc = str(include_dir())
    # The include path must be known before the library is loaded, or autoparsing
    # of the dictionary's headers fails ("Missing FileEntry").
    ROOT.gInterpreter.AddIncludePath(inc)
    lib = str(library_path())
    if ROOT.gSystem.Load(lib) < 0:
        raise ImportError(f"ROOT could not load {lib}")
    # Declare the headers explicitly: jitted RDataFrame code does not trigger the
    # dictionary's autoparse of forward-declared classes ("incomplete type").
    if not ROOT.gInterpreter.Declare('#include "tpcml/tpcml.h"'):
        raise ImportError(f"cling could not parse tpcml headers from {inc}")
    _loaded = True
    return ROOT


@contextmanager
def implicit_mt(threads: int) -> Iterator[ModuleType]:
    """``with implicit_mt(n) as ROOT:`` ROOT (from :func:`load_root`) with ImplicitMT on ``n`` threads when
    ``n > 1`` (off for 0 or 1: callers resolve ``--threads 0`` to the core count first); on exit, also after an
    error, ImplicitMT is off again, or back on (with ROOT's default pool) when it was on before."""
    ROOT = load_root()
    was = bool(ROOT.IsImplicitMTEnabled())
    if threads > 1:
        ROOT.EnableImplicitMT(int(threads))
    elif was:
        ROOT.DisableImplicitMT()
    try:
        yield ROOT
    finally:
        if ROOT.IsImplicitMTEnabled():
            ROOT.DisableImplicitMT()
        if was:
            ROOT.EnableImplicitMT()
