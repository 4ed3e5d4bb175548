"""Writing and inspecting ROOT files from Python.

Files are written under a hidden temporary name and renamed when complete, so a
failed job never leaves a half-written file. Every file tpcml writes carries two
``TNamed`` objects (docs/event-model.md §1): ``tpcml_detector`` (the detector name)
and ``tpcml_provenance`` (JSON made by the C++ ``tpcml::provenanceJson``, the one schema of
C++ and Python: ``tpcml_version``, ``command_line``, ``created_utc``, ``host``, ``inputs``, then
the writer's own keys such as ``seed``); scored files add ``tpcml_model`` (path, sha256).
Trees are written as a TTree (``format="ttree"``, the default) or an RNTuple (``"rntuple"``). A column is a 1-d
numpy array (one value per entry) or a 2-d ``(entries, k)`` array (a fixed-length array of k values per entry: a
TTree leaf ``name[k]/F``, an RNTuple field ``std::array<float, k>``; RDataFrame reads both as ``RVec<float>``,
uproot and :func:`read_columns` (kind ``"floats[]"``) as an ``(entries, k)`` array).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from .. import _core
from .errors import InputError, UsageError

__all__ = [
    "FORMATS",
    "atomic_path",
    "check_chain",
    "check_columns",
    "check_format",
    "describe_tree",
    "list_trees",
    "read_columns",
    "read_parameter",
    "read_provenance",
    "require_file",
    "snapshot_options",
    "write_metadata",
    "write_tree",
]

list_trees = _core.list_trees
describe_tree = _core.describe_tree


@contextlib.contextmanager
def atomic_path(final: str | os.PathLike) -> Iterator[Path]:
    """Yield a temporary path beside ``final``; rename onto ``final`` only on success.

    Uses the C++ ``tpcml::AtomicOutput`` (the batch executables' mechanism): a missing
    or unwritable directory raises ``tpcml.UsageError`` before any work is done.
    """
    out = _core.AtomicOutput(os.fspath(final))
    try:
        yield Path(out.temp_path)
        out.commit()
    finally:
        if not out.committed:
            out.discard()


FORMATS = ("ttree", "rntuple")


def provenance(inputs: Sequence[str | os.PathLike] = (), **extra) -> dict:
    """The ``tpcml_provenance`` object: the C++ schema (``tpcml._core.provenance_json``) with this process's
    command line and ``inputs``, then ``extra`` keys (JSON-serialisable values)."""
    info = json.loads(_core.provenance_json(list(sys.argv), [os.fspath(p) for p in inputs]))
    info.update(extra)
    return info


def check_format(format: str) -> str:
    """``format`` when it is one of :data:`FORMATS`; else a UsageError naming it and the accepted ones."""
    if format not in FORMATS:
        raise UsageError(f"format {format!r}: expected 'ttree' (a TTree, the default) or 'rntuple' (an RNTuple)")
    return format


def snapshot_options(format: str = "ttree"):
    """``ROOT.RDF.RSnapshotOptions`` writing ``format`` ("ttree" or "rntuple"), not lazy (PyROOT writers)."""
    from .root import load_root

    ROOT = load_root()
    opts = ROOT.RDF.RSnapshotOptions()
    opts.fLazy = False
    kinds = ROOT.RDF.ESnapshotOutputFormat
    opts.fOutputFormat = kinds.kRNTuple if check_format(format) == "rntuple" else kinds.kTTree
    return opts


def write_metadata(
    path: str | os.PathLike,
    detector: str | None = None,
    inputs: Sequence[str | os.PathLike] = (),
    model: str | os.PathLike | None = None,
    carry_from: Sequence[str | os.PathLike | None] = (),
    **extra,
) -> None:
    """Add the file contract's objects to an already written ROOT file (C++ ``tpcml::writeOutputMetadata``):
    ``tpcml_detector``, ``tpcml_provenance`` (:func:`provenance` of ``inputs`` and ``extra``), ``tpcml_model``
    (path + sha256 + ONNX metadata) when ``model`` is given, and the first ``tpcml_nr_median`` of
    ``carry_from``."""
    model_json = ""
    if model is not None:
        # the metadata through tpcml's own ONNX reader: a base install has no onnx package (tpcml[ml])
        model_json = _core.model_json(os.fspath(model), dict(_core.OnnxModel(os.fspath(model)).metadata))
    _core.write_output_metadata(
        os.fspath(path),
        detector or "",
        json.dumps(provenance(inputs, **extra), sort_keys=True),
        model_json,
        [os.fspath(p) for p in carry_from if p is not None],
    )


def write_tree(
    path: str | os.PathLike,
    tree: str,
    columns: Mapping[str, np.ndarray],
    detector: str | None = None,
    provenance_info: Mapping | None = None,
    auto_flush: int = 0,
    extra_trees: Mapping[str, Mapping[str, np.ndarray]] | None = None,
    parameters: Mapping[str, float] | None = None,
    finish: Callable[[Path], None] | None = None,
    format: str = "ttree",
) -> Path:
    """Write numpy columns as TTree ``tree`` in ``path`` (atomically), with provenance.

    A column is 1-d (one value per entry) or 2-d ``(entries, k)``: a fixed-length array of k values per entry
    (module docstring); every column of a tree has the same number of entries (its first dimension).

    ``auto_flush`` > 0 sets the cluster size (entries), so that ImplicitMT can
    parallelise over several clusters when the file is read back. ``extra_trees`` are
    written to the same file; ``parameters`` become ``TParameter<double>`` objects;
    ``finish(tmp_path)`` may add more objects before the file is renamed into place. ``format``: "ttree"
    (default) or "rntuple" (every tree written as an RNTuple of the same fields).
    """
    check_format(format)
    trees = {tree: columns, **(extra_trees or {})}
    for name, cols in trees.items():
        lengths = {k: len(v) for k, v in cols.items()}
        if len(set(lengths.values())) > 1:
            raise ValueError(f"columns of tree {name!r} differ in their number of entries: {lengths}")
    info = dict(provenance_info or provenance())
    named = {"tpcml_detector": detector or "", "tpcml_provenance": json.dumps(info, sort_keys=True)}
    final = Path(path)
    with atomic_path(final) as tmp:
        _core.write_tree_file(
            str(tmp),
            {name: {k: np.asarray(v) for k, v in cols.items()} for name, cols in trees.items()},
            named,
            {k: float(v) for k, v in (parameters or {}).items()},
            int(auto_flush),
            format,
        )
        if finish is not None:
            finish(tmp)
    return final


def read_parameter(path: str | os.PathLike, key: str) -> float | None:
    """Value of a ``TParameter<double>`` stored in a tpcml file, or None (C++ ``tpcml::readParameter``)."""
    value = _core.read_parameter(os.fspath(path), key, float("nan"))
    return None if value != value else value


def read_provenance(path: str | os.PathLike) -> tuple[str | None, dict]:
    """(detector name, provenance dict) stored in a tpcml file; (None, {}) when absent."""
    import uproot

    require_file(path)
    try:
        with uproot.open(path) as f:
            det = str(f["tpcml_detector"].member("fTitle")) if "tpcml_detector" in f else None
            prov = json.loads(str(f["tpcml_provenance"].member("fTitle"))) if "tpcml_provenance" in f else {}
    except Exception as exc:  # not a ROOT file, truncated, or a provenance that is not JSON
        raise InputError(f"{path}: not a readable ROOT file ({type(exc).__name__}: {exc})") from None
    return det or None, prov


# ------------------------------------------------------------------------------------- reading events (uproot)
FLOAT_TYPES = ("float", "double", "Float_t", "Double_t", "Float32_t", "Double32_t")
INT_TYPES = (
    "bool", "char", "short", "int", "long", "long long", "unsigned char", "unsigned short", "unsigned int",
    "unsigned long", "unsigned long long", "Bool_t", "Char_t", "UChar_t", "Short_t", "UShort_t", "Int_t", "UInt_t",
    "Long_t", "ULong_t", "Long64_t", "ULong64_t", "std::int8_t", "std::uint8_t", "std::int16_t", "std::uint16_t",
    "std::int32_t", "std::uint32_t", "std::int64_t", "std::uint64_t", "int8_t", "uint8_t", "int16_t", "uint16_t",
    "int32_t", "uint32_t", "int64_t", "uint64_t",
)  # fmt: skip
ACCEPTED = {
    "float": "a float or double scalar per entry (read as float32)",
    "int": "an integer scalar per entry (read as int64)",
    "number": "a float, double or integer scalar per entry (read as float32)",
    "floats": "an array of float or double per entry (std::vector, RVec or C array; read as float32)",
    "ints": "an array of integers per entry (std::vector, RVec or C array; read as int64)",
    "floats[]": "a fixed-length array of float or double per entry (TTree x[k], RNTuple std::array; read as a "
    "2-d float32 array, entries x k)",
}


def _did_you_mean(name: str, names) -> str:
    import difflib

    near = difflib.get_close_matches(name, sorted(names), n=3, cutoff=0.5)
    return f" (did you mean {', '.join(near)}?)" if near else ""


def _element_type(typename: str) -> tuple[str, bool]:
    """(element type, is an array per entry) of a TTree branch or RNTuple field type name."""
    t = typename.strip()
    for prefix in ("std::vector<", "vector<", "ROOT::VecOps::RVec<", "ROOT::RVec<", "RVec<"):
        if t.startswith(prefix) and t.endswith(">"):
            return t[len(prefix) : -1].strip(), True
    if t.endswith("]") and "[" in t:  # C array, e.g. "float[12]" or "float[n]"
        return t[: t.index("[")].strip(), True
    if t.startswith("std::array<") and t.endswith(">") and "," in t:  # RNTuple fixed-length array
        return t[len("std::array<") : t.rindex(",")].strip(), True
    return t, False


def _fixed_length(typename: str) -> int | None:
    """k of a fixed-length array type (``float[k]``, ``std::array<float,k>``); None for anything else."""
    t = typename.strip()
    text = t[t.rindex(",") + 1 : -1] if t.startswith("std::array<") else t[t.index("[") + 1 : -1] if "[" in t else ""
    return int(text) if text.strip().isdigit() else None


def require_file(path: str | os.PathLike, what: str = "a ROOT file") -> Path:
    """``path`` as a Path when it is a readable regular file; else InputError saying what it is (a directory, a
    FIFO, missing, unreadable) and what is expected. Checked before ROOT opens it (a FIFO would block)."""
    import stat

    p = Path(path)
    try:
        mode = os.stat(p).st_mode
    except FileNotFoundError:
        raise InputError(f"{p}: no such file; expected {what}") from None
    except OSError as err:
        raise InputError(f"{p}: cannot read ({err.strerror}); expected {what}") from None
    if stat.S_ISDIR(mode):
        raise InputError(f"{p}: is a directory; expected {what}")
    if not stat.S_ISREG(mode):
        raise InputError(f"{p}: is not a regular file (a FIFO, socket or device); expected {what}")
    if not os.access(p, os.R_OK):
        raise InputError(f"{p}: permission denied; expected a readable file")
    return p


def open_events(path: str | os.PathLike, tree: str = "events"):
    """(uproot file, TTree or RNTuple ``tree``); InputError names the file, what it is and the trees it has."""
    import uproot

    p = require_file(path)
    try:
        f = uproot.open(p)
    except Exception as exc:  # uproot raises several types for files that are not ROOT files
        raise InputError(f"{p}: not a readable ROOT file ({type(exc).__name__}: {exc})") from None
    try:
        kinds = {k.split(";")[0]: c for k, c in f.classnames().items()}
        tree_classes = ("TTree", "TNtuple", "ROOT::RNTuple", "ROOT::Experimental::RNTuple")
        trees = sorted(k for k, c in kinds.items() if c in tree_classes)
        if tree not in trees:
            other = f" ('{tree}' is a {kinds[tree]})" if tree in kinds else ""
            raise InputError(
                f"{p}: no tree or RNTuple '{tree}'{other}{_did_you_mean(tree, trees)}; "
                f"it has: {', '.join(trees) or 'none'}"
            )
        return f, f[tree]
    except InputError:
        f.close()
        raise
    except Exception as exc:
        f.close()
        raise InputError(f"{p}: cannot read '{tree}' ({type(exc).__name__}: {exc})") from None


def _check_columns(path, tree: str, t, columns: Mapping[str, str], optional: Mapping[str, str] | None) -> dict:
    have = list(t.keys())
    missing = [c for c in columns if c not in have]
    if missing:
        hints = "; ".join(f"'{m}'{_did_you_mean(m, have)}" for m in missing)
        raise InputError(f"{path}: '{tree}' lacks the column(s) {hints}; it has: {', '.join(sorted(have))}")
    want = {**columns, **{c: k for c, k in (optional or {}).items() if c in have}}
    for name, kind in want.items():
        typename = str(getattr(t[name], "typename", "?"))
        elem, is_array = _element_type(typename)
        floats = ("float", "floats", "floats[]")
        ok_elem = FLOAT_TYPES if kind in floats else FLOAT_TYPES + INT_TYPES if kind == "number" else INT_TYPES
        array_kind = kind.endswith(("s", "[]"))
        if elem not in ok_elem or is_array != array_kind or (kind == "floats[]" and _fixed_length(typename) is None):
            raise InputError(f"{path}: column '{name}' of '{tree}' is {typename}; expected {ACCEPTED[kind]}")
    return want


def check_columns(path: str | os.PathLike, tree: str, columns: Mapping[str, str] | list[str]) -> str:
    """The checks of :func:`read_columns` (file, tree or RNTuple, names, types) without reading the data;
    returns "TTree" or "RNTuple"."""
    if not isinstance(columns, Mapping):
        columns = {c: "float" for c in columns}
    f, t = open_events(path, tree)
    with f:
        _check_columns(path, tree, t, columns, None)
        return "RNTuple" if "RNTuple" in type(t).__name__ else "TTree"


def check_chain(paths, tree: str, columns: Mapping[str, str] | list[str]) -> None:
    """:func:`check_columns` for every file of one RDataFrame chain, and one kind for all of them: a chain of
    TTrees and RNTuples together crashes ROOT (segmentation violation), so it is refused naming both kinds."""
    kinds = {str(p): check_columns(p, tree, columns) for p in paths}
    if len(set(kinds.values())) > 1:
        first = {k: next(p for p, v in kinds.items() if v == k) for k in sorted(set(kinds.values()))}
        raise InputError(
            f"'{tree}' is a TTree in {first['TTree']} but an RNTuple in {first['RNTuple']}: give files of one kind "
            "(convert with uproot or ROOT), ROOT cannot read both in one chain"
        )


def read_columns(
    path: str | os.PathLike,
    tree: str,
    columns: Mapping[str, str] | list[str],
    optional: Mapping[str, str] | None = None,
    entry_stop: int | None = None,
) -> dict[str, np.ndarray]:
    """Columns of the TTree or RNTuple ``tree`` of ``path`` as numpy arrays, TTree and RNTuple alike.

    ``columns`` maps each needed column to its kind: "float" (float or double scalar, returned as
    float32), "int" (any integer scalar, returned as int64), "number" (float, double or integer, returned
    as float32), "floats" / "ints" (an array per entry: returned as a numpy object array of float32 /
    int64 arrays), "floats[]" (a fixed-length array per entry: returned as a 2-d float32 array, entries x k).
    A list means every column is "float".
    ``optional`` columns are read when present. InputError names the file, the tree, the column, its
    type and what is accepted; missing columns come with the nearest names.
    """
    if not isinstance(columns, Mapping):
        columns = {c: "float" for c in columns}
    f, t = open_events(path, tree)
    with f:
        want = _check_columns(path, tree, t, columns, optional)
        try:
            arrays = t.arrays(list(want), library="np", entry_stop=entry_stop)
        except Exception as exc:  # corrupted baskets or pages
            raise InputError(f"{path}: cannot read the columns of '{tree}' ({type(exc).__name__}: {exc})") from None
    out = {}
    for name, kind in want.items():
        a = arrays[name]
        dtype = np.int64 if kind.startswith("int") else np.float32
        if kind == "floats[]":
            v = np.asarray(a, dtype=dtype)  # uproot gives (entries, k) for both a TTree x[k] and an std::array
            out[name] = v if v.ndim == 2 else np.stack(list(v)) if len(v) else v.reshape(0, 0)
        elif kind.endswith("s"):
            out[name] = np.array([np.asarray(v, dtype=dtype) for v in a] + [None], dtype=object)[:-1]
        else:
            out[name] = np.asarray(a).astype(dtype, copy=False)
    return out
