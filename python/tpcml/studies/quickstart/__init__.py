"""The quickstart chain (``tpcml run quickstart``): NEST events in a registry detector, the C++
electron-lifetime correction inside RDataFrame, ER/NR bands and the ER leakage below the NR median.

Registers the study ``quickstart`` with :mod:`tpcml.studies`. :func:`run` is the chain itself
(:mod:`tpcml.studies.quickstart.study`).
"""

from __future__ import annotations

from tpcml.studies import Step, Study, lazy, register

__all__ = ["PROFILES", "STUDY"]

#: the configurations of ``tpcml run quickstart``; an option given on the command line wins
PROFILES = {"default": {"n_er": 20000, "n_nr": 10000}, "quick": {"n_er": 4000, "n_nr": 2000}}

_STEPS = "tpcml.studies.quickstart.steps"

STUDY = register(
    Study(
        name="quickstart",
        title="electron-lifetime correction and ER/NR bands end to end",
        paper=None,
        description="quickstart: simulate ER/NR events with NEST in a registry detector, correct S2 for electron "
        "lifetime in C++ inside RDataFrame, measure the ER leakage below the NR median, and write plots and a "
        "report.",
        profiles=PROFILES,
        profile_help={"quick": "small sizes for a smoke run"},
        add_arguments=lazy(_STEPS, "add_arguments"),
        configure=lazy(_STEPS, "configure"),
        threads=0,
        steps=(Step("chain", lazy(_STEPS, "step_chain")),),
        report=lazy(_STEPS, "report"),
    )
)
