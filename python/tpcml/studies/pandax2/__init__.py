"""PandaX-II accidental-background study (P2-DNN): simulated data, selection, pairing, plots."""

from __future__ import annotations

from tpcml.studies.pandax2 import selection
from tpcml.sim.lxe import Simulator, Sizes, simulate_dataset

__all__ = ["Simulator", "Sizes", "selection", "simulate_dataset"]
