"""Checkpoints of the Table 2 scan (``tpcml run pandax2 --full`` is ~3 h on 2 CPUs; ``--resume`` continues a killed
run).

Each finished (architecture, strategy) model is written to ``OUT/checkpoints/<label>.npz`` (a temporary name, then
an atomic rename, so a kill leaves either the whole file or none): the arrays of its
:class:`~tpcml.studies.pandax2.study.ModelResult` and of its trained :class:`~tpcml.ml.ensemble.EnsembleResult`
(the export step needs the selected replica's weights), and the *key* it was trained under: the input files'
hashes, the selection, inputs, split and seed (:func:`~tpcml.studies.pandax2.study.training_fingerprint`'s
components), the strategy, the layers and the training options. ``--resume`` loads a model's checkpoint instead of
training it when the key is the same, and refuses (:class:`CheckpointMismatch`, naming the differing items) when it
is not.
"""

from __future__ import annotations

import json
import os
from dataclasses import fields
from pathlib import Path

import numpy as np

__all__ = ["CheckpointMismatch", "checkpoint_path", "load", "save", "training_key"]

#: bump when the file layout changes (a checkpoint of another layout is refused, not misread)
LAYOUT = 1


class CheckpointMismatch(ValueError):
    """A checkpoint made with other data or another configuration than the run that would resume it."""


def checkpoint_path(out: Path, label: str) -> Path:
    return Path(out) / "checkpoints" / f"{label}.npz"


def training_key(data, strategy: str, hidden, cfg) -> dict:
    """Everything a model's training depends on (data, selection, split, seed, strategy, layers, options)."""
    from tpcml import __version__
    from tpcml.studies.pandax2 import selection
    from tpcml.studies.pandax2.study import FEATURES, SPLIT

    return {
        "layout": LAYOUT,
        "files": dict(sorted(data.hashes.items())),
        "selection": [c.cpp for c in selection.cuts(data.detector)],
        "nr_median": data.curve_source,
        "inputs": list(FEATURES),
        "split": list(SPLIT),
        "seed": int(cfg.seed),
        "strategy": strategy,
        "hidden": [int(h) for h in hidden],
        "replicas": int(cfg.replicas),
        "batch_size": cfg.batch_size,
        "max_epochs": int(cfg.max_epochs),
        "patience": int(cfg.patience),
        "tpcml": __version__,
    }


def _differences(found: dict, expected: dict) -> list[str]:
    out = []
    for k in sorted(set(found) | set(expected)):
        a, b = found.get(k, "<absent>"), expected.get(k, "<absent>")
        if a == b:
            continue
        if k == "files" and isinstance(a, dict) and isinstance(b, dict):
            changed = sorted(f for f in set(a) | set(b) if a.get(f) != b.get(f))
            out.append(f"input files differ ({', '.join(changed)}: other hashes)")
        else:
            out.append(f"{k} = {a!r} in the checkpoint, {b!r} in this run")
    return out


def save(out: Path, model, key: dict) -> Path:
    """Write ``model`` (a ModelResult with its ensemble) and its training ``key`` atomically; returns the path."""
    ens = model.ensemble
    arrays = {
        f"result_{f.name}": np.asarray(getattr(model, f.name))
        for f in fields(model)
        if f.name not in ("ensemble", "label", "arch", "strategy", "hidden")
    }
    scalars = {}
    for f in fields(ens):
        v = getattr(ens, f.name)
        if f.name in ("kernels", "biases"):
            arrays.update({f"ens_{f.name}_{i}": np.asarray(w) for i, w in enumerate(v)})
            scalars[f"n_{f.name}"] = len(v)
        elif isinstance(v, np.ndarray):
            arrays[f"ens_{f.name}"] = v
        else:
            scalars[f.name] = list(v) if isinstance(v, tuple) else v
    meta = {"key": key, "label": model.label, "arch": model.arch, "strategy": model.strategy, "ensemble": scalars}
    path = checkpoint_path(out, model.label)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        np.savez(fh, meta=np.array(json.dumps(meta)), **arrays)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return path


def load(out: Path, label: str, key: dict):
    """The ModelResult of ``label`` from its checkpoint, or None when there is none; CheckpointMismatch when the
    checkpoint was made under another training key (data, selection, seed, options: each difference named)."""
    from tpcml.ml.ensemble import EnsembleResult
    from tpcml.studies.pandax2.study import ModelResult

    path = checkpoint_path(out, label)
    if not path.is_file():
        return None
    try:
        with np.load(path, allow_pickle=False) as z:
            meta = json.loads(str(z["meta"]))
            arrays = {k: z[k] for k in z.files if k != "meta"}
    except (OSError, ValueError, KeyError) as err:
        raise CheckpointMismatch(
            f"{path}: not a readable tpcml checkpoint ({err}); remove it to retrain {label}"
        ) from None
    diffs = _differences(meta.get("key", {}), key)
    if diffs:
        raise CheckpointMismatch(
            f"{path}: made for other data or options than this run ({'; '.join(diffs)}); resume with the same "
            "--data/--seed/--replicas/--max-epochs/--patience/--batch-size, or run into a new --out"
        )
    sc = dict(meta["ensemble"])
    ens_kwargs = {}
    for f in fields(EnsembleResult):
        if f.name in ("kernels", "biases"):
            ens_kwargs[f.name] = [arrays[f"ens_{f.name}_{i}"] for i in range(sc.pop(f"n_{f.name}"))]
        elif f"ens_{f.name}" in arrays:
            ens_kwargs[f.name] = arrays[f"ens_{f.name}"]
        elif f.name in sc:
            ens_kwargs[f.name] = tuple(sc[f.name]) if f.name == "hidden" else sc[f.name]
    ens = EnsembleResult(**ens_kwargs)
    res = {k[len("result_") :]: v for k, v in arrays.items() if k.startswith("result_")}
    for name in ("replicas", "selected"):
        res[name] = int(res[name])
    res["wall_time_s"] = float(res["wall_time_s"])
    return ModelResult(
        label=meta["label"],
        arch=meta["arch"],
        strategy=meta["strategy"],
        hidden=tuple(key["hidden"]),
        ensemble=ens,
        **res,
    )
