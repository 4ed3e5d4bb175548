"""PLACEHOLDER of the pyfw branch: the sim helper's branch moves python/tpcml/pandax3/simulation.py here.
At the merge take the sim branch's ``tpcml.sim.gas`` and delete this file."""

from tpcml.pandax3.simulation import *  # noqa: F403
