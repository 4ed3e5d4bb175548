"""Statistics of a classifier's scores: the significances S (PandaX-II) and Xi (PandaX-III), their cut scans,
ROC AUC, and efficiency curves with Clopper-Pearson intervals (:mod:`tpcml.stats.metrics`)."""

from __future__ import annotations

from . import metrics
from .metrics import *  # noqa: F403

__all__ = list(metrics.__all__)
