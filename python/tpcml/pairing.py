"""PLACEHOLDER of the pyfw branch: the cxx branch writes the public ``tpcml.pairing`` (one C++ pairing job).
At the merge take the cxx branch's ``tpcml.pairing`` (and adapt ``tpcml.cli._cmd_pair`` to its function)."""

import sys

from tpcml._placeholders import load

sys.modules[__name__] = load("pandax2", "tpcml._pairing_placeholder", "pairing")
