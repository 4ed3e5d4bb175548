"""The PandaX-III track study end to end (``tpcml run tracks``): *Optimization of convolutional neural
networks for background suppression in the PandaX-III experiment* (P3-CNN) on
tpcml's simulated tracks.

simulate (0nubb vs 214Bi/208Tl gammas in the ROI, :mod:`tpcml.sim.gas`) -> rasterise in RDataFrame
(:func:`tpcml::defineTrackImage`, the C++ kernel: XZ/YZ images, 64 x 64 pixels of 3 mm, charge-centre aligned,
Sec. 3.2) -> split 70/20/10 (Sec. 3.2) -> train EfficientNet(s) with the top 1x1 convolution of n channels and a
max-pool head, optionally ResNet50 (Sec. 4.1, 4.3) with random flips, Adam 1e-3, batch 256 -> score with the
paper's protocol (Sec. 4.3: epochs within 0.001 of the best validation accuracy, the three with the smallest
validation loss, predictions averaged) -> Xi = max eps_s / sqrt(eps_b) (Sec. 4.1) -> export the best single epoch
to ONNX and score the test events inside RDataFrame with tpcml's C++ engine (checked against Keras) -> report:
example images (Fig. 5), Xi vs n (Fig. 11), eps_s vs eps_b curves, a table of Xi per model against the paper's.

CPU defaults are small (a few thousand events per class, B0 at 64 x 64, a few epochs: minutes on 2 cores); the
paper's scale (640,000 events, B4 at 128 x 128, six trainings per n) is ``--events 320000 --variant B4
--input-size 128 --repeats 6`` on a GPU (Keras 3 with the JAX backend trains the same models).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from tpcml.core.errors import InputError
from tpcml.core.rootio import atomic_path

__all__ = ["PAPER_XI", "ModelSpec", "TracksConfig", "load_images", "run_tracks"]

#: P3-CNN Table 1 (ResNet50 6.80, EfficientNetB4 9.80), Table 3 (B0 at 64: 6.66, B0 at 128: 8.39) and Sec. 4.3
#: (B4 with n = 8 top channels: average 10.32 over six trainings).
PAPER_XI = {
    "ResNet50 (128)": 6.80,
    "EfficientNetB4 (128)": 9.80,
    "EfficientNetB0 (64)": 6.66,
    "EfficientNetB0 (128)": 8.39,
    "EfficientNetB4 (128), n = 8": 10.32,
}


#: Constant input scaling inside the networks: pixels are charge fractions (each channel sums to 1 over 4096
#: pixels, ~1e-3 per hit pixel); x100 brings them to O(0.1-1) for BatchNormalization (architectures.efficientnet).
IMAGE_SCALE = 100.0
#: P3-CNN Sec. 3.2: 70 % training, 20 % validation, 10 % evaluation (part sizes rounded to the nearest event)
SPLIT = (0.7, 0.2, 0.1)


@dataclass(frozen=True)
class ModelSpec:
    """One network to train: ``kind`` efficientnet (``variant`` B0/B4, ``top_channels`` n or None for Keras'
    default 1280/1792) or resnet50."""

    kind: str = "efficientnet"
    variant: str = "B0"
    top_channels: int | None = 8

    @property
    def label(self) -> str:
        if self.kind == "resnet50":
            return "ResNet50"
        n = "default" if self.top_channels is None else str(self.top_channels)
        return f"EfficientNet{self.variant} n={n}"

    def build(self, input_size: int, bn_momentum: float | None = None):
        if self.kind == "resnet50":
            from tpcml.ml.training import resnet50

            return lambda: resnet50(input_size=input_size, input_scale=IMAGE_SCALE, bn_momentum=bn_momentum)
        from tpcml.ml.architectures import efficientnet

        return lambda: efficientnet(
            self.variant,
            input_size=input_size,
            top_channels=self.top_channels,
            input_scale=IMAGE_SCALE,
            bn_momentum=bn_momentum,
        )


@dataclass
class TracksConfig:
    out: Path
    data_dir: Path | None = None  # a directory with tracks.root instead of simulating
    events: int = 3000  # per class (signal; background the same, half 214Bi, half 208Tl)
    models: tuple[ModelSpec, ...] = (ModelSpec(top_channels=8), ModelSpec(top_channels=None))
    input_size: int = 64  # 64: the raw images; 128: x2 nearest-neighbour upscaling (P3-CNN Sec. 4.3)
    epochs: int = 4
    repeats: int = 1  # independent trainings per model (P3-CNN: 6)
    batch_size: int = 32  # CPU runs: many small steps (P3-CNN: 256 on 448,000 training images)
    bn_momentum: float | None = 0.9  # running statistics settle in a CPU run; None: Keras' 0.99 (paper scale)
    seed: int = 1
    threads: int = 2
    verbose: bool = True
    quick: bool = False  # a --quick smoke run: its report says so


def load_images(path: str | os.PathLike, upscale: int = 1, threads: int = 1) -> dict:
    """Images of every event of ``path`` (tree ``events``, hit branches of docs/event-model.md Sec. 5) made inside
    RDataFrame by the C++ rasteriser, with label, source, energy and event: numpy arrays, images [N, H, W, 3]."""
    import tpcml

    path = Path(path)
    if not path.is_file():
        raise InputError(f"{path}: no such file (expected tracks.root of `tpcml simulate pandax3`)")
    ROOT = tpcml.load_root()
    if threads > 1:
        ROOT.EnableImplicitMT(threads)
    try:
        df = ROOT.RDataFrame("events", str(path))
        have = [str(c) for c in df.GetColumnNames()]
        need = ["label", "event"]
        missing = [c for c in need if c not in have]
        if missing:
            raise InputError(f"{path}: tree 'events' lacks {', '.join(missing)}; it has {', '.join(sorted(have))}")
        det = ROOT.tpcml.DetectorConfig.load("pandax3")
        opts = ROOT.tpcml.RasterOptions.fromDetector(det, int(upscale), False)
        r = ROOT.tpcml.TrackRasteriser(opts)
        node = ROOT.tpcml.defineTrackImage(ROOT.RDF.AsRNode(df), "image", r)
        extra = [c for c in ("source", "energy") if c in have]
        cols = node.AsNumpy(["event", "label", "image_outside", "image", *extra])
    finally:
        if ROOT.IsImplicitMTEnabled():
            ROOT.DisableImplicitMT()
    side = int(r.side())
    order = np.argsort(cols["event"], kind="stable")  # ImplicitMT does not keep the entry order
    images = np.stack([np.asarray(cols["image"][i], dtype=np.float32) for i in order]).reshape(-1, side, side, 3)
    out = {"images": images, "event": cols["event"][order], "label": cols["label"][order].astype(np.int32)}
    out["outside"] = np.asarray(cols["image_outside"])[order]
    for c in extra:
        out[c] = np.asarray(cols[c])[order]
    return out


@dataclass
class ModelRun:
    spec: ModelSpec
    repeat: int
    xi: object  # XiResult of the paper protocol
    xi_best_epoch: object  # XiResult of the single epoch with the smallest validation loss
    epochs_used: list[int]
    images_per_second: float
    train_seconds: float
    history: dict
    result: object = field(repr=False, default=None)

    def row(self) -> dict:
        return {
            "model": self.spec.label,
            "repeat": self.repeat,
            "xi": self.xi.xi,
            "xi_low": self.xi.interval()[0],  # 68 % statistical interval (XiResult.interval)
            "xi_high": self.xi.interval()[1],
            "threshold": self.xi.threshold,
            "eps_s": self.xi.eps_s,
            "eps_b": self.xi.eps_b,
            "n_background_pass": self.xi.n_background_pass,
            "xi_single_epoch": self.xi_best_epoch.xi,
            "epochs_used": [e + 1 for e in self.epochs_used],
            "images_per_second": self.images_per_second,
            "train_seconds": self.train_seconds,
        }


# ---------------------------------------------------------------------------------------------------- the steps
# The study's steps (registered in tpcml.studies.pandax3): each reads and extends ``ctx.state``.
def step_simulation(ctx) -> None:
    """Simulate 0nubb and gamma tracks in the ROI (or use ``cfg.data_dir``)."""
    from tpcml.sim.gas import simulate_dataset

    cfg = ctx.config
    if cfg.input_size not in (64, 128, 256):
        raise ValueError(f"input size must be 64, 128 or 256 (P3-CNN Table 3), got {cfg.input_size}")
    if cfg.data_dir is None:
        data_dir = ctx.out / "data"
        ctx.say(f"simulating {cfg.events} 0nubb and {cfg.events} gamma events in the ROI into {data_dir}")
        simulate_dataset(data_dir, cfg.events, cfg.events, seed=cfg.seed, quiet=not cfg.verbose, threads=cfg.threads)
    else:
        data_dir = Path(cfg.data_dir)
    ctx.state["data_dir"] = data_dir


def step_rasterise(ctx) -> None:
    """Images of every event made in RDataFrame by the C++ rasteriser; the 70/20/10 split."""
    from tpcml.ml.splits import split_indices

    cfg, data_dir = ctx.config, ctx.state["data_dir"]
    t0 = time.perf_counter()
    data = load_images(data_dir / "tracks.root", upscale=cfg.input_size // 64, threads=cfg.threads)
    n = len(data["label"])
    ctx.say(
        f"rasterised {n} events in RDataFrame ({cfg.input_size} x {cfg.input_size} x 3; "
        f"{int(np.sum(data['outside']))} hits outside the windows) in {time.perf_counter() - t0:.1f} s"
    )
    if len(np.unique(data["label"])) < 2:
        raise InputError(f"{data_dir / 'tracks.root'}: needs both signal (label 1) and background (label 0) events")
    if n < 3:
        raise ValueError(f"need at least 3 events to split, got {n}")
    ctx.state["data"] = data
    ctx.state["split"] = split_indices(n, cfg.seed, SPLIT, rounding="nearest")


def step_training(ctx) -> None:
    """Every model ``cfg.repeats`` times, scored with the paper's protocol and Xi."""
    from tpcml.ml.backend import configure_tensorflow
    from tpcml.ml.training import train_classifier
    from tpcml.stats import xi
    from tpcml.studies.pandax3.protocol import paper_epochs, paper_scores

    cfg, say = ctx.config, ctx.say
    tr, va, te = ctx.state["split"]
    x, y = ctx.state["data"]["images"], ctx.state["data"]["label"]
    configure_tensorflow(cfg.threads)
    runs: list[ModelRun] = []
    for spec in cfg.models:
        for rep in range(cfg.repeats):
            say(f"training {spec.label} at {cfg.input_size} x {cfg.input_size} (training {rep + 1}/{cfg.repeats})")
            t1 = time.perf_counter()
            res = train_classifier(
                spec.build(cfg.input_size, cfg.bn_momentum),
                x[tr],
                y[tr],
                x[va],
                y[va],
                x[te],
                epochs=cfg.epochs,
                batch_size=cfg.batch_size,
                seed=cfg.seed * 100 + rep,
                say=say,
                quiet=not cfg.verbose,
            )
            used = paper_epochs(res)
            scores = paper_scores(res)
            yt = y[te].astype(bool)
            best = int(np.argmin([e.val_loss for e in res.epochs]))
            single = res.test_predictions[best]
            run = ModelRun(
                spec=spec,
                repeat=rep,
                xi=xi(scores[yt], scores[~yt]),
                xi_best_epoch=xi(single[yt], single[~yt]),
                epochs_used=used,
                images_per_second=float(np.median([e.images_per_second for e in res.epochs])),
                train_seconds=time.perf_counter() - t1,
                history=res.history(),
                result=res,
            )
            runs.append(run)
            say(
                f"  {spec.label}: Xi = {run.xi.xi:.2f} (eps_s {run.xi.eps_s:.3f}, eps_b {run.xi.eps_b:.4f}, "
                f"{run.xi.n_background_pass} background events pass) from epochs {[e + 1 for e in used]}"
            )
    ctx.state["runs"] = runs


def step_export(ctx) -> None:
    """The best run's smallest-validation-loss epoch to ONNX; the test events scored in RDataFrame (C++ engine)."""
    best_run = max(ctx.state["runs"], key=lambda r: r.xi_best_epoch.xi)
    te = ctx.state["split"][2]
    ctx.state["export"] = _export_and_check(
        best_run, ctx.state["data"], te, ctx.state["data_dir"], ctx.out, ctx.config, ctx.say
    )


def results_of(ctx) -> dict:
    """Every number of the run (``results.json``), from the steps' state."""
    cfg, data = ctx.config, ctx.state["data"]
    y, te = data["label"], ctx.state["split"][2]
    return {
        "config": {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(cfg).items() if k != "models"},
        "models": [asdict(m) for m in cfg.models],
        "data": {
            "directory": str(ctx.state["data_dir"]),
            "events": len(y),
            "signal": int(y.sum()),
            "background": int((1 - y).sum()),
            "test_signal": int(y[te].sum()),
            "test_background": int((1 - y[te]).sum()),
            "hits_outside": int(np.sum(data["outside"])),
        },
        "runs": [r.row() for r in ctx.state["runs"]],
        "export": ctx.state["export"],
        "paper_xi": PAPER_XI,
        "timings_s": ctx.timings,
    }


def run_tracks(cfg: TracksConfig) -> dict:
    """Run the PandaX-III study (module docstring) into ``cfg.out``; returns the results (also results.json)."""
    from tpcml import studies

    return studies.run(studies.get("pandax3"), cfg, Path(cfg.out), quiet=not cfg.verbose).results


def _export_and_check(run: ModelRun, data: dict, test: np.ndarray, data_dir: Path, out: Path, cfg, say) -> dict:
    """The run's smallest-validation-loss epoch to ONNX; the test events scored by the C++ engine in RDataFrame
    (an images file written from the test split) and compared with Keras."""
    import uproot

    from tpcml.core.rootio import write_metadata
    from tpcml.inference import score_files
    from tpcml.ml.export import to_onnx
    from tpcml.stats import xi

    res = run.result
    best = int(np.argmin([e.val_loss for e in res.epochs]))
    res.model.set_weights(res.weights[best])
    path = out / f"{run.spec.label.replace(' ', '_').replace('=', '')}.onnx"
    thr = run.xi_best_epoch.threshold
    to_onnx(
        res.model,
        path,
        metadata={
            "tpcml.inputs": ["image"],
            "tpcml.working_point": f"{thr:.9g}",
            "tpcml.strategy": "supervised",
            "tpcml.detector": "pandax3",
            "tpcml.model": run.spec.label,
            "tpcml.input_size": cfg.input_size,
        },
    )
    images = data["images"][test]
    images_file = out / "test_images.root"
    flat = images.reshape(len(images), -1)
    with atomic_path(images_file) as tmp:
        with uproot.recreate(tmp) as f:
            # mktree: a TTree (uproot's dict assignment writes RNTuple), image as a fixed-size float array
            f.mktree("events", {"event": np.uint64, "label": np.int32, "image": (np.float32, (flat.shape[1],))})
            f["events"].extend(
                {
                    "event": data["event"][test].astype(np.uint64),
                    "label": data["label"][test].astype(np.int32),
                    "image": flat,
                }
            )
        write_metadata(tmp, "pandax3", [data_dir], split="test")  # the file contract (docs/event-model.md §1)
    scored = out / "test_scored.root"
    score_files([images_file], path, scored, columns=["image"], threads=cfg.threads)
    with uproot.open(scored) as f:
        engine = f["events"]["score"].array(library="np")
    keras_scores = res.test_predictions[best]
    diff = float(np.max(np.abs(engine - keras_scores)))
    yt = data["label"][test].astype(bool)
    xi_engine = xi(engine[yt], engine[~yt])
    say(
        f"exported {run.spec.label} (epoch {best + 1}) to {path.name}; test events scored by the C++ engine in "
        f"RDataFrame: max |C++ - Keras| = {diff:.2g}, Xi = {xi_engine.xi:.2f}"
    )
    return {
        "model": run.spec.label,
        "epoch": best + 1,
        "path": str(path),
        "scored_file": str(scored),
        "max_abs_diff_engine_keras": diff,
        "xi_engine": xi_engine.xi,
    }
