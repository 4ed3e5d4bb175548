"""PandaX-II accidental-background study (P2-DNN): simulated data, selection, pairing, plots."""

from __future__ import annotations

from ..sim.lxe import Simulator, Sizes, simulate_dataset
from . import selection

__all__ = ["Simulator", "Sizes", "selection", "simulate_dataset"]
