"""XENON1T CNN study (X1T-CNN): WIMP vs ER background from Hit / Peak / HitPeak images, end to end.

``tpcml run xenon1t`` (alias ``xenon1t:sr0``): SR0 events of a 500 GeV WIMP and of the ER background from tpcml's
LXe engine, the SR0 selection, images of the three kinds by the C++ kernel (:class:`tpcml._core.HitPeakImager`),
the paper's CNN (:func:`tpcml.ml.architectures.xenon1t_cnn`) with its protocol (Sec. IV A: stratified 3-fold
grid search scored by recall, LeakyReLU alpha and learning-rate scans, final models on a 70:30 split), the test
set scored by the exported ONNX models with tpcml's C++ engine inside RDataFrame, a (cS1, cS2) baseline and the
report. This package does not register itself: the XENON1T registration of :mod:`tpcml.studies.lxe` takes
:data:`RUN` (one registration per detector, with the simulate and plot verbs).
"""

from __future__ import annotations

from tpcml.studies import Step, lazy

__all__ = ["KINDS", "PAPER", "PROFILES", "RUN"]

#: the image kinds, each with its own model (X1T-CNN Sec. IV B, Table IV's columns)
KINDS = ("hit", "peak", "hitpeak")

#: the paper's numbers (X1T-CNN): Table IV (test set, final models), Sec. IV B (ER rejection at 50 % WIMP
#: acceptance), Sec. II (XENON1T's cS1/cS2 analysis), Tables II and III (cross-validated recall), Sec. IV A (best
#: grid point: 1 conv layer, batch 100, 50 epochs, recall 0.960), Table I (expected events in 34.2 live days)
PAPER = {
    "table4": {
        "accuracy": {"hit": 0.872, "peak": 0.889, "hitpeak": 0.904},
        "recall": {"hit": 0.934, "peak": 0.937, "hitpeak": 0.962},
        "average_precision": {"hit": 0.812, "peak": 0.831, "hitpeak": 0.848},
    },
    "er_rejection_at_50": 0.993,  # Sec. IV B
    "er_rejection_cs1_cs2": 0.998,  # Sec. II: XENON1T at 50 % NR acceptance
    "table2_recall": {0.001: 0.909, 0.01: 0.907, 0.05: 0.951, 0.1: 0.923},
    "table3_recall": {0.001: 0.953, 0.005: 0.933, 0.01: 0.667},
    "grid_best": {"n_conv": 1, "batch": 100, "epochs": 50, "recall": 0.960},
    "grid_range": (0.87, 0.96),  # Sec. IV A: "all configurations gave a recall between 87% and 96%"
    "table1": {  # Laidbax / blueice, SR0 34.2 live days in the fiducial mass (X1T-CNN Table I)
        "ER": 61.879487,
        "CNNS": 0.000901,
        "radiogenic neutrons": 0.058570,
        "accidental coincidences": 0.22,
        "wall leakage": 0.52,
        "anomalous": 0.090004,
        "WIMP 500 GeV, 1e-45 cm2": 35.029005,
    },
}

#: ``tpcml run xenon1t`` configurations. Sizes are events per class after the selection. full: the paper's
#: (X1T-CNN Sec. IV A: 10,000 WIMP + 10,000 ER training images, a separate 5,000 + 5,000 test set, the grid
#: 1-3 conv layers x 20-60 epochs x batch 100/200/300, alpha 0.001-0.1, learning rate 0.001-0.01). default: a
#: reduced grid that runs in minutes on 2 CPU cores (tpcml's choice). quick: a smoke run (seconds).
PROFILES = {
    "default": {
        "train": 1500,
        "test": 1000,
        "conv": "1,2,3",
        "epochs": "4,8",
        "batch": "100,200",
        "alphas": "0.001,0.01,0.05,0.1",
        "learning_rates": "0.001,0.005,0.01",
        "folds": 3,
        "png": 4,
    },
    "quick": {
        "train": 150,
        "test": 100,
        "conv": "1",
        "epochs": "2",
        "batch": "100",
        "alphas": "0.05",
        "learning_rates": "0.001",
        "folds": 3,
        "png": 2,
    },
    "full": {
        "train": 10000,
        "test": 5000,
        "conv": "1,2,3",
        "epochs": "20,30,40,50,60",
        "batch": "100,200,300",
        "alphas": "0.001,0.01,0.05,0.1",
        "learning_rates": "0.001,0.005,0.01",
        "folds": 3,
        "png": 8,
    },
}

_STUDY = "tpcml.studies.xenon1t.study"

#: the Study fields of ``tpcml run xenon1t`` (passed to :func:`tpcml.studies.lxe.lxe_study`)
RUN = dict(
    description="Simulate XENON1T SR0 events of a 500 GeV WIMP and of the ER background with tpcml's LXe engine, "
    "select them as SR0 (fiducial volume, cS1 3-70 PE, S2 > 200 PE), draw Hit, Peak and HitPeak images with the C++ "
    "kernel, run the X1T-CNN protocol (stratified 3-fold grid search over conv layers x epochs x batch scored by "
    "recall, LeakyReLU alpha and learning-rate scans, one final model per image kind on a 70:30 split), score the "
    "separate test set with the exported ONNX models in RDataFrame (tpcml's C++ engine), compare with a (cS1, cS2) "
    "baseline (NR-median cut, gradient-boosted trees) and write report.md (Tables I-IV, Figs. 3-17 analogues). "
    "The default (1500 + 1500 training, 1000 + 1000 test events, a reduced grid) takes minutes on 2 cores; --full "
    "is the paper's grid and sizes (GPU).",
    profiles=PROFILES,
    profile_help={
        "quick": "a smoke run (150 + 150 training, 100 + 100 test events, one grid point; under a minute)",
        "full": "the paper's sizes and grid: 10,000 + 10,000 training, 5,000 + 5,000 test, 1-3 conv x 20-60 "
        "epochs x batch 100/200/300",
    },
    default_out="tpcml-xenon1t",
    add_arguments=lazy("tpcml.studies.xenon1t.cli", "add_run_arguments"),
    configure=lazy("tpcml.studies.xenon1t.cli", "configure"),
    steps=(
        Step("simulation", lazy(_STUDY, "step_simulation")),
        Step("images", lazy(_STUDY, "step_images")),
        Step("grid_search", lazy(_STUDY, "step_grid_search")),
        Step("alpha_and_learning_rate", lazy(_STUDY, "step_scans")),
        Step("final_models", lazy(_STUDY, "step_final_models")),
        Step("onnx_in_rdataframe", lazy(_STUDY, "step_export")),
        Step("baseline", lazy(_STUDY, "step_baseline")),
    ),
    report=lazy("tpcml.studies.xenon1t.study_report", "report"),
)
