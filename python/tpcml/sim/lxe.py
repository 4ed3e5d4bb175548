"""PLACEHOLDER of the pyfw branch: the sim helper's branch moves python/tpcml/pandax2/simulation.py here.
At the merge take the sim branch's ``tpcml.sim.lxe`` and delete this file and ``_placeholder.py``."""

import sys

from tpcml._placeholders import load

sys.modules[__name__] = load("pandax2", "tpcml.sim._lxe_placeholder")
