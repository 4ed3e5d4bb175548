"""Statistics of a classifier's scores and of the searches built on them.

* :mod:`tpcml.stats.metrics` -- the significances S (PandaX-II) and Xi (PandaX-III), their cut scans, ROC AUC, and
  efficiency curves with Clopper-Pearson intervals (re-exported here);
* :mod:`tpcml.stats.kde` -- the background pdf f0 of a 1-D test statistic (KDE, tabulated);
* :mod:`tpcml.stats.likelihood` -- the extended-Poisson q of the DARWIN anomaly search, p <-> sigma, the Pearson
  chi2 with its Wilks p-value (XENONnT study), the binned Poisson discovery q0 and the Asimov significance;
* :mod:`tpcml.stats.pseudo` -- vectorised pseudo-experiments of those statistics and the median sensitivity;
* :mod:`tpcml.stats.summary` -- per-replica summaries.

docs/statistics.md gives the formulas and their sources.
"""

from __future__ import annotations

from . import kde, likelihood, metrics, pseudo
from .metrics import *  # noqa: F403

__all__ = [*metrics.__all__, "kde", "likelihood", "pseudo"]
