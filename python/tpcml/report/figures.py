"""Figures in one style: every study draws with :func:`pyplot` and writes with :func:`save` (PNG, 110 dpi,
atomically), so that every report's figures look alike and no half-written PNG is ever left behind."""

from __future__ import annotations

from pathlib import Path

__all__ = ["DPI", "pyplot", "save"]

DPI = 110


def pyplot():
    """``matplotlib.pyplot`` on the non-interactive Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save(fig, path: Path) -> Path:
    """Write ``fig`` to ``path`` as PNG (atomically), close it and return ``path``."""
    from tpcml.core.rootio import atomic_path

    with atomic_path(path) as tmp:
        fig.savefig(tmp, dpi=DPI, format="png")
    import matplotlib.pyplot as plt

    plt.close(fig)
    return Path(path)
