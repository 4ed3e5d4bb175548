"""ONNX inference with tpcml's C++ engine (docs/inference.md).

One engine (``tpcml::onnx::Model`` / ``Session`` in C++) behind every door:

* numpy batches: :class:`Model` (``Model("m.onnx").score(x)``);
* RDataFrame in this process: :func:`define_score` (compiled C++ functor, one session per slot);
* whole files: :func:`score_files` (the ``tpcml-infer`` executable's function ``tpcml::onnx::scoreFiles``);
* many files on a Dask cluster: :func:`score_distributed` (distributed RDataFrame, the same
  compiled scorer loaded once per worker process).

Models exported by :func:`tpcml.ml.export.to_onnx` carry their input branch names in feature order
(metadata ``tpcml.inputs``): every function takes its columns from there when none are given.
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from tpcml.core.errors import InputError, UsageError
from tpcml.core.paths import include_dir, library_path

from .. import _core

__all__ = ["Model", "define_score", "score_distributed", "score_files", "supported_operators"]


def supported_operators() -> list[str]:
    """ONNX operator types the engine runs."""
    return list(_core.onnx_supported_operators())


class Model:
    """An ONNX model loaded by the C++ engine (float32 graphs, batch size the only free dimension).

    ``Model(path)`` or ``Model(data=bytes, name=...)``. Errors (unreadable or malformed file,
    unsupported operator, shape that cannot be resolved) are raised at load time, naming the file,
    the node and the operator.
    """

    def __init__(self, path: str | os.PathLike | None = None, *, data: bytes | None = None, name: str = ""):
        if (path is None) == (data is None):
            raise UsageError("give either a model path or data=bytes")
        if data is not None:
            self._m = _core.OnnxModel(bytes(data), name or "<bytes>")
            self.path = None
        else:
            self.path = Path(path)
            self._m = _core.OnnxModel(str(self.path))

    name = property(lambda self: self._m.name)
    inputs = property(lambda self: self._m.inputs, doc="list of {name, shape (-1: batch), event_size}")
    outputs = property(lambda self: self._m.outputs)
    batched = property(lambda self: self._m.batched)
    node_count = property(lambda self: self._m.node_count)
    step_count = property(lambda self: self._m.step_count, doc="run-time steps after folding and fusion")

    @property
    def metadata(self) -> dict[str, str]:
        return dict(self._m.metadata)

    @property
    def input_columns(self) -> list[str]:
        """Input branch names in feature order (metadata ``tpcml.inputs``), or []."""
        return list(self._m.input_columns)

    @property
    def working_point(self) -> float | None:
        """The score cut stored in the metadata (``tpcml.working_point``), or None."""
        value = self.metadata.get("tpcml.working_point")
        if value is None:
            return None
        try:
            return float(json.loads(value))
        except (ValueError, TypeError) as err:
            raise UsageError(f"model {self.name}: tpcml.working_point {value!r} is not a number") from err

    def run(self, inputs, max_batch: int = 64) -> list[np.ndarray]:
        """All outputs for a batch: ``inputs`` is an array, a list of arrays or a dict by input name
        (float32, events first), or a table of named columns (see :meth:`score`)."""
        return self._m.run(self._by_name(inputs), max_batch)

    def score(self, x, max_batch: int = 64) -> np.ndarray:
        """One score per event: the first value of the first output.

        ``x`` is a plain array (numpy or a regular awkward array; positional: its last axis in the model's
        feature order, shape checked), or a table of named columns -- what uproot and scikit-hep give: an awkward
        record array, a dict of arrays keyed by branch name (``tree.arrays(library="np")``), a pandas DataFrame,
        a numpy structured array. A table is matched *by name* to the model's inputs (``input_columns``, the
        ``tpcml.inputs`` metadata), whatever its column order (uproot returns RNTuple columns alphabetically),
        and must hold exactly those columns: missing and extra names are refused together, each with the
        nearest names (select the inputs with ``table[model.input_columns]``). Returns a numpy array.
        """
        out = self._m.run(self._by_name(x), max_batch)[0]
        if not self.batched:
            return out.reshape(-1)[:1]
        # a graph that mixes events (issue 13) may put the batch elsewhere: -1 marks where
        shape = list(self._m.outputs[0]["shape"])
        if -1 not in shape:
            raise InputError(
                f"model {self.name}: its first output {shape} has no per-event axis "
                f"({self._m.event_mixing}); use run() for its whole output"
            )
        axis = shape.index(-1)
        return np.moveaxis(out, axis, 0).reshape(out.shape[axis], -1)[:, 0]

    def _by_name(self, x):
        """``x`` as the engine's inputs: a named table becomes a float32 [N, k] array in ``tpcml.inputs`` order."""
        from tpcml.core.guards import column_names, columns_by_name

        names = column_names(x)
        if names is None and type(x).__module__.startswith("awkward"):
            import awkward as ak

            try:
                return ak.to_numpy(x)  # a regular awkward array: positional, like numpy
            except ValueError as err:
                raise UsageError(
                    f"model {self.name}: an awkward array of variable-length lists cannot be scored ({err}); give a "
                    "record array of its inputs or a regular array"
                ) from None
        tensors = [i["name"] for i in self.inputs]
        if names is None or (isinstance(x, dict) and set(tensors) <= set(names)):
            return x  # a plain array (positional, shape checked by the engine) or a dict by input tensor name
        if len(tensors) != 1:
            raise UsageError(f"model {self.name} has {len(tensors)} inputs: pass a dict by input name")
        _exactly(names, self.input_columns, f"model {self.name}")
        return columns_by_name(x, self.input_columns, f"model {self.name}")

    def __repr__(self) -> str:
        shapes = ", ".join(f"{i['name']}{tuple(i['shape'])}" for i in self.inputs)
        return f"<tpcml.inference.Model {self.name}: {shapes}, {self.node_count} nodes>"


def _exactly(names: list[str], wanted: list[str], what: str) -> None:
    """UsageError when the table columns ``names`` are not exactly ``wanted`` (in any order): the missing and the
    extra names, each with its nearest names on the other side."""
    import difflib

    if not wanted:
        return  # columns_by_name refuses a table when the names are unknown
    missing = [c for c in wanted if c not in names]
    extra = [c for c in names if c not in wanted]
    if not missing and not extra:
        return

    def near(name, pool, form):
        close = difflib.get_close_matches(name, pool, n=3, cutoff=0.5)
        return name + (form.format(", ".join(close)) if close else "")

    parts = []
    if missing:
        hints = "; ".join(near(m, extra or names, " (did you mean {}?)") for m in missing)
        parts.append(f"needs the column(s) {hints}")
    if extra:
        hints = "; ".join(near(e, missing or wanted, " (nearest input: {})") for e in extra)
        parts.append(f"does not take the column(s) {hints}")
    raise UsageError(
        f"{what} {' and '.join(parts)}; it takes exactly its inputs, by name: {', '.join(wanted)} "
        "(select them with table[model.input_columns])"
    )


def _columns_for(model_path: Path, columns: Sequence[str] | None) -> list[str]:
    cols = list(columns) if columns else Model(model_path).input_columns
    if not cols:
        raise UsageError(f"model {model_path} carries no tpcml.inputs metadata: give the input columns")
    return cols


def define_score(df, name: str, model: str | os.PathLike, columns: Sequence[str] | None = None):
    """``df`` with a column ``name`` = the model's score, computed in C++ (one session per slot;
    scores identical whatever the ImplicitMT thread count). Returns an RNode."""
    from tpcml.core.root import load_root

    ROOT = load_root()
    cols = ROOT.std.vector["std::string"]([str(c) for c in (columns or [])])
    return ROOT.tpcml.onnx.defineScore(ROOT.RDF.AsRNode(df), name, str(Path(model).resolve()), cols)


def score_files(
    files: Sequence[str | os.PathLike] | str | os.PathLike,
    model: str | os.PathLike,
    output: str | os.PathLike,
    *,
    tree: str = "events",
    columns: Sequence[str] | None = None,
    name: str = "score",
    threads: int = 1,
    format: str = "ttree",
    progress: bool = True,
    allow_detector_mismatch: bool = False,
) -> dict:
    """Writes ``output``: every entry of ``tree`` in ``files`` with the score column added, in input
    order (temporary file renamed when complete). The function ``tpcml-infer`` runs.

    ``format``: "ttree" (default) or "rntuple". ``progress``: entries done on stderr. The output carries
    tpcml_provenance, tpcml_model (path, sha256), tpcml_detector and the input's tpcml_nr_median; a file
    tagged with another detector than the model's ``tpcml.detector`` is refused (InputError naming both)
    unless ``allow_detector_mismatch``."""
    from tpcml.core.guards import refuse_overwrite

    if isinstance(files, str | os.PathLike):
        files = [files]
    refuse_overwrite(output, [*files, model])  # before any work: the output is never an input or the model
    return _core.score_files(
        [str(f) for f in files],
        tree,
        str(output),
        str(model),
        list(columns or []),
        name,
        int(threads),
        format=format,
        progress=bool(progress),
        allow_detector_mismatch=bool(allow_detector_mismatch),
        command_line=list(sys.argv),
    )


def _init_worker(include: str, library: str) -> None:
    """Runs on every distributed RDataFrame worker: make tpcml's scorer known to cling."""
    import ROOT

    ROOT.gInterpreter.AddIncludePath(include)
    if ROOT.gSystem.Load(library) < 0:
        raise ImportError(f"ROOT could not load {library}")
    ROOT.gInterpreter.Declare('#include "tpcml/onnx/Scorer.h"')


def score_distributed(
    files: Sequence[str | os.PathLike],
    model: str | os.PathLike,
    client,
    *,
    tree: str = "events",
    columns: Sequence[str] | None = None,
    name: str = "score",
    npartitions: int | None = None,
    keep: Sequence[str] = (),
) -> dict[str, np.ndarray]:
    """Scores many files with distributed RDataFrame on a Dask ``client``: each worker process loads
    the model once (``tpcml::onnx::scorerFor``) and scores its partitions in C++. Returns the score
    and the ``keep`` columns as numpy arrays (partition order)."""
    from tpcml.core.extras import require
    from tpcml.core.root import load_root

    require("dist", "dask")  # ROOT's distributed RDataFrame runs on Dask: a clear message without it
    require("dist", "distributed")

    ROOT = load_root()
    model_path = str(Path(model).resolve())
    cols = _columns_for(Path(model_path), columns)
    ROOT.RDF.Distributed.initialize(_init_worker, str(include_dir()), str(library_path()))
    df = ROOT.RDataFrame(tree, [str(f) for f in files], executor=client, npartitions=npartitions or 2)
    body = (
        f'static auto &tpcml_scorer = tpcml::onnx::scorerFor("{model_path}"); '
        f"return tpcml_scorer.score(rdfslot_, {', '.join(cols)});"
    )
    scored = df.Define(name, body)
    arrays = scored.AsNumpy([name, *keep])
    return {k: np.asarray(v) for k, v in arrays.items()}
