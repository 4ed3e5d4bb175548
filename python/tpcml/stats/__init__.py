"""Statistics of a classifier's scores: the significances S (PandaX-II) and Xi (PandaX-III), their cut scans,
ROC AUC, and efficiency curves with Clopper-Pearson intervals (:mod:`tpcml.stats.metrics`)."""

from __future__ import annotations

from .metrics import (
    ONE_SIGMA_CL,
    CutScan,
    Efficiency,
    XiResult,
    best_cuts,
    clopper_pearson,
    efficiency_vs,
    roc_auc,
    scan_cut,
    significance,
    xi,
)

__all__ = [
    "ONE_SIGMA_CL",
    "CutScan",
    "Efficiency",
    "XiResult",
    "best_cuts",
    "clopper_pearson",
    "efficiency_vs",
    "roc_auc",
    "scan_cut",
    "significance",
    "xi",
]
