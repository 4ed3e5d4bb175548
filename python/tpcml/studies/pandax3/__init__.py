"""PandaX-III track study (P3-CNN): track images rasterised in RDataFrame, EfficientNet / ResNet50 training,
the paper's scoring protocol, Xi, export and report.

Registers the study ``pandax3`` (alias ``tracks``: ``tpcml run tracks``) with :mod:`tpcml.studies`;
``tpcml simulate pandax3`` is its other verb. The track simulation it runs is :mod:`tpcml.sim.gas`.
"""

from __future__ import annotations

from tpcml.studies import Paper, package_study, register

__all__ = ["PROFILES", "STUDY"]

#: the configurations of ``tpcml run pandax3``: CPU defaults (B0 at 64 x 64, 3000 events per class, 4 epochs,
#: minutes), --quick (a smoke run) and --full (the paper's scale, P3-CNN Sec. 4.3: 320,000 events per class,
#: 128 x 128, 30 epochs, six trainings, batch 256, top channels n = 2..10; a GPU); an option given wins
PROFILES = {
    "default": {
        "events": 3000,
        "input_size": 64,
        "epochs": 4,
        "repeats": 1,
        "batch_size": 32,  # CPU runs: many small steps (P3-CNN: 256 on 448,000 training images)
        "bn_momentum": 0.9,  # running statistics settle in a CPU run; None: Keras' 0.99 (paper scale)
        "top_channels": "8,default",
    },
    "quick": {
        "events": 1000,
        "input_size": 64,
        "epochs": 5,
        "repeats": 1,
        "batch_size": 32,
        "bn_momentum": 0.9,
        "top_channels": "8,default",
    },
    "full": {
        "events": 320000,
        "input_size": 128,
        "epochs": 30,
        "repeats": 6,
        "batch_size": 256,  # P3-CNN Sec. 4.3: "batch size set to be 256"
        "bn_momentum": None,
        "top_channels": "2,4,6,8,10,default",
    },
}

STUDY = register(
    package_study(
        "tpcml.studies.pandax3",
        name="pandax3",
        aliases=("tracks",),
        log_name="tracks",
        title="PandaX-III 0nubb vs gamma from track images with EfficientNet (P3-CNN)",
        paper=Paper(
            title="Optimization of convolutional neural networks for background suppression in the PandaX-III "
            "experiment",
            # authors and title from the paper's title page; journal and DOI from its publication record
            citation="S. Xia, S. Huang, K. Xu, T. Li, X. Chen, K. Han and S. Wang, Optimization of convolutional "
            "neural networks for background suppression in the PandaX-III experiment, J. Phys. G 50 (2023) 125103, "
            "doi:10.1088/1361-6471/acfe24",
            short="P3-CNN",
        ),
        description="Simulate 0nubb and gamma tracks in the ROI (or read --data DIR/tracks.root), rasterise them "
        "in RDataFrame with the C++ kernel, train EfficientNet(s) with n top-convolution channels and a max-pool "
        "head (P3-CNN Sec. 4.3; optionally ResNet50), score with the paper's protocol, measure Xi = max "
        "eps_s/sqrt(eps_b), export the best model to ONNX and score the test events with tpcml's C++ engine in "
        "RDataFrame; write report.md with example images (Fig. 5), Xi vs n (Fig. 11) and efficiency curves. CPU "
        "defaults (B0 at 64 x 64, 3000 events per class, 4 epochs) take some minutes; --full is the paper's scale "
        "(GPU).",
        profiles=PROFILES,
        profile_help={
            "quick": "a smoke run (1000 events per class, 5 epochs, a few minutes)",
            "full": "the paper's scale: 320,000 per class, 128 x 128, 30 epochs, 6 trainings, batch 256",
        },
        default_out="tpcml-tracks",
        steps=(
            ("simulation", "step_simulation"),
            ("rasterise", "step_rasterise"),
            ("training", "step_training"),
            ("export_and_inference", "step_export"),
        ),
        simulate=dict(
            help="PandaX-III 0nubb and gamma tracks (strip hits)",
            description="0nubb two-electron tracks and 214Bi/208Tl gamma backgrounds in the ROI of a 10 bar xenon "
            "TPC with X/Y strip readout (tracks.root: one entry per event, jagged hit branches; "
            "docs/event-model.md Sec. 5).",
            detector="pandax3",
            quick_help="small sizes (1000 events per class)",
        ),
    )
)
