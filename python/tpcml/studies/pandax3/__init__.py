"""PandaX-III track study (PX3, papers/pandax3-efficientnet-tracks.md): simulated 0νββ and γ tracks."""

from __future__ import annotations

from .simulation import (
    SOURCE_BI214,
    SOURCE_TL208,
    SOURCE_ZERO_NU_BB,
    SOURCES,
    Chunk,
    TrackSimulator,
    csda_range_mm,
    simulate_dataset,
    source_code,
)

__all__ = [
    "SOURCES",
    "SOURCE_BI214",
    "SOURCE_TL208",
    "SOURCE_ZERO_NU_BB",
    "Chunk",
    "TrackSimulator",
    "csda_range_mm",
    "simulate_dataset",
    "source_code",
]
