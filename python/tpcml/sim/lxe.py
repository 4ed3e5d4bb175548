"""PLACEHOLDER of the pyfw branch: the sim helper's branch moves python/tpcml/pandax2/simulation.py here.
At the merge take the sim branch's ``tpcml.sim.lxe`` and delete this file."""

from tpcml.pandax2.simulation import *  # noqa: F403
from tpcml.pandax2.simulation import Simulator, Sizes, simulate_dataset  # noqa: F401
