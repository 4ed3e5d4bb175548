"""Make tpcml's C++ library and headers known to ROOT in this Python environment.

Installed with tpcml and run at interpreter start-up by ``tpcml-root-env.pth``
(so it must stay tiny and import nothing heavy). It prepends tpcml's library
directory to ``ROOT_LIBRARY_PATH`` and its include directory to
``ROOT_INCLUDE_PATH`` (and ``LD_LIBRARY_PATH``, for ``R__LOAD_LIBRARY``).
ROOT reads both when it starts, so ``root -l -b -q
macro.C`` with ``R__LOAD_LIBRARY(libtpcml)``, PyROOT and jitted RDataFrame
strings find tpcml without any manual environment setup. The venv's ``root``
command is itself a Python entry point, so it passes the variables on to
``root.exe``.
"""

import os as _os


def _prepend(var, path):
    parts = [p for p in _os.environ.get(var, "").split(_os.pathsep) if p]
    if path not in parts:
        _os.environ[var] = _os.pathsep.join([path, *parts])


def _setup():
    pkg = _os.path.join(_os.path.dirname(_os.path.abspath(__file__)), "tpcml")
    lib, inc = _os.path.join(pkg, "lib"), _os.path.join(pkg, "include")
    if _os.path.isdir(lib) and _os.path.isdir(inc):
        _prepend("ROOT_LIBRARY_PATH", lib)
        _prepend("ROOT_INCLUDE_PATH", inc)
        # cling's `#pragma cling load` (R__LOAD_LIBRARY) searches LD_LIBRARY_PATH only,
        # and skips paths with a component starting with "." (root-project/root#9697).
        # Child processes (the venv's `root` runs root.exe as one) inherit it.
        _prepend("LD_LIBRARY_PATH", lib)


_setup()
