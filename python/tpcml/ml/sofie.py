"""TMVA SOFIE (the standalone ``sofie`` package from PyPI) as a peer of tpcml's ONNX engine.

SOFIE turns an ONNX model into a C++ header that needs only a BLAS ``sgemm_`` at run time. It is an
optional dependency (``pip install sofie``): :func:`available` says whether it is installed, and every
function that needs it raises :class:`SofieError` naming the package when it is not.

Three pieces:

* :func:`prepare` -- the pre-pass that SOFIE 0.1.0 needs to run tf2onnx exports correctly
  (../shared/ENVIRONMENT.md, "sofie"), applied to a copy of the model, never to tpcml's input:

  - every Conv/ConvTranspose/MaxPool/AveragePool gets an explicit ``pads`` attribute (SOFIE pads a Conv
    without one by 1 where the ONNX default is 0: EfficientNet then comes out silently wrong), ``auto_pad``
    resolved into pads from the inferred shapes;
  - the batch dimension of the inputs and outputs is named ``bs`` (SOFIE fixes the batch at generation only
    under the names ``bs``/``batch_size``; tf2onnx writes ``unk__N``);
  - GlobalMaxPool (unsupported) becomes ReduceMax over the spatial axes with ``keepdims = 1``;
  - a Reshape whose target shape is computed at run time (tf2onnx's Flatten: Shape -> Gather/Slice -> Concat)
    gets that shape as a constant with ``-1`` for the batch, and the dead shape chain is removed (the chain
    otherwise adds Session constructor parameters that default to 0: a segfault).

* :func:`generate` -- SOFIE code generation for a fixed batch: ``<name>.hxx`` plus the weights ``<name>.dat``.

* :class:`Runner` -- the generated header compiled into a shared library and called through ctypes, for
  parity checks and benchmarks. BLAS: scipy's bundled OpenBLAS, whose symbols carry a ``scipy_`` prefix; the
  header's ``sgemm_`` (and any other BLAS routine it declares) is renamed to ``scipy_sgemm_`` at compile time
  and the library is linked with ``-Bsymbolic`` and hidden visibility, so no other ``sgemm_`` in the process
  (numpy's bundled OpenBLAS, a system one) can interpose -- which silently corrupted ``sgemm_`` results from
  PyROOT. OpenBLAS runs on one thread (``scipy_openblas_set_num_threads(1)``).
"""

from __future__ import annotations

import ctypes
import glob
import hashlib
import importlib.util
import math
import os
import re
import subprocess
import tempfile
from pathlib import Path

import numpy as np

from tpcml.core.errors import ArgumentError, TpcmlError
from tpcml.core.extras import require

onnx = require("ml", "onnx")

__all__ = [
    "BATCH_NAME",
    "Runner",
    "SofieError",
    "available",
    "blas_library",
    "build",
    "export_header",
    "generate",
    "max_abs_diff",
    "prepare",
]

#: the batch dimension name under which SOFIE fixes the batch at generation
BATCH_NAME = "bs"

_POOL_OPS = ("Conv", "ConvTranspose", "MaxPool", "AveragePool")


class SofieError(TpcmlError):
    """SOFIE is missing, cannot handle a model, or computes it differently from the reference (``tpcml`` exits
    with status 1)."""


def available() -> bool:
    """Whether the optional ``sofie`` package is installed."""
    return importlib.util.find_spec("sofie") is not None


def _sofie():
    if not available():
        raise SofieError("the optional package 'sofie' is not installed: pip install sofie")
    try:  # optional by design: everything but SOFIE's own steps works without it
        import sofie
    except ImportError as err:
        raise SofieError(f"the optional package 'sofie' cannot be imported ({err}): pip install sofie") from err
    return sofie


# ------------------------------------------------------------------------------------------------ pre-pass


def _attr(node, name: str, default=None):
    for a in node.attribute:
        if a.name == name:
            return onnx.helper.get_attribute_value(a)
    return default


def _set_attr(node, name: str, value) -> None:
    for i, a in enumerate(node.attribute):
        if a.name == name:
            del node.attribute[i]
            break
    node.attribute.append(onnx.helper.make_attribute(name, value))


def _drop_attr(node, name: str) -> None:
    for i, a in enumerate(node.attribute):
        if a.name == name:
            del node.attribute[i]
            return


def _static_shapes(model) -> dict[str, list]:
    """Value name -> dims (int, or the dim_param string, or None) from ONNX shape inference with data
    propagation (which follows tf2onnx's Shape -> Gather -> Concat chains)."""
    inferred = onnx.shape_inference.infer_shapes(model, data_prop=True)
    g = inferred.graph
    shapes = {}
    for vi in [*g.input, *g.value_info, *g.output]:
        t = vi.type.tensor_type
        if t.HasField("shape"):
            shapes[vi.name] = [d.dim_value if d.HasField("dim_value") else (d.dim_param or None) for d in t.shape.dim]
    for init in g.initializer:
        shapes[init.name] = list(init.dims)
    return shapes


def _node_label(node, index: int) -> str:
    return f"node {node.name!r} ({node.op_type})" if node.name else f"node #{index} ({node.op_type})"


def _explicit_pads(model, shapes, changes: list[str]) -> None:
    for i, node in enumerate(model.graph.node):
        if node.op_type not in _POOL_OPS:
            continue
        auto_pad = _attr(node, "auto_pad", b"NOTSET")
        auto_pad = auto_pad.decode() if isinstance(auto_pad, bytes) else auto_pad
        pads = _attr(node, "pads")
        x = shapes.get(node.input[0])
        nd = len(x) - 2 if x else None
        if nd is None:
            kernel = _attr(node, "kernel_shape")
            nd = len(kernel) if kernel else None
        if nd is None:
            raise SofieError(f"{_node_label(node, i)}: the spatial rank of its input is unknown")
        if auto_pad in ("SAME_UPPER", "SAME_LOWER") and node.op_type != "ConvTranspose":
            if x is None or not all(isinstance(v, int) and v > 0 for v in x[2:]):
                raise SofieError(f"{_node_label(node, i)}: auto_pad {auto_pad} needs the input's spatial size")
            kernel = _attr(node, "kernel_shape") or list(shapes[node.input[1]][2:])
            strides = _attr(node, "strides") or [1] * nd
            dil = _attr(node, "dilations") or [1] * nd
            begin, end = [], []
            for d in range(nd):
                out = math.ceil(x[2 + d] / strides[d])
                total = max(0, (out - 1) * strides[d] + (kernel[d] - 1) * dil[d] + 1 - x[2 + d])
                small = total // 2
                begin.append(small if auto_pad == "SAME_UPPER" else total - small)
                end.append(total - begin[-1])
            pads = begin + end
        elif auto_pad in ("SAME_UPPER", "SAME_LOWER"):
            raise SofieError(f"{_node_label(node, i)}: auto_pad {auto_pad} on a ConvTranspose is not resolved here")
        elif auto_pad == "VALID" or pads is None:
            pads = [0] * (2 * nd)
        else:
            continue  # NOTSET with explicit pads: nothing to do
        _drop_attr(node, "auto_pad")
        _set_attr(node, "pads", [int(p) for p in pads])
        changes.append(f"{_node_label(node, i)}: explicit pads {list(pads)}")


def _global_max_pool(model, shapes, changes: list[str]) -> None:
    for i, node in enumerate(model.graph.node):
        if node.op_type != "GlobalMaxPool":
            continue
        x = shapes.get(node.input[0])
        if x is None:
            raise SofieError(f"{_node_label(node, i)}: the rank of its input is unknown")
        axes = list(range(2, len(x)))
        replacement = onnx.helper.make_node(
            "ReduceMax", list(node.input), list(node.output), name=node.name, axes=axes, keepdims=1
        )
        node.CopyFrom(replacement)
        changes.append(f"{_node_label(node, i)}: GlobalMaxPool -> ReduceMax(axes={axes}, keepdims=1)")


def _constant_reshapes(model, shapes, changes: list[str]) -> None:
    initializers = {init.name for init in model.graph.initializer}
    for i, node in enumerate(model.graph.node):
        if node.op_type != "Reshape" or len(node.input) < 2 or node.input[1] in initializers:
            continue
        out = shapes.get(node.output[0])
        if not out or not all(isinstance(v, int) and v > 0 for v in out[1:]) or isinstance(out[0], int):
            continue  # only a batch-leading shape with fixed event dimensions is turned into a constant
        target = np.array([-1, *out[1:]], dtype=np.int64)
        name = f"{node.output[0]}__sofie_shape"
        model.graph.initializer.append(onnx.numpy_helper.from_array(target, name))
        node.input[1] = name
        changes.append(f"{_node_label(node, i)}: run-time target shape -> constant {target.tolist()}")


def _prune(model) -> int:
    """Removes the nodes no graph output depends on; returns how many."""
    g = model.graph
    needed = {o.name for o in g.output}
    keep = []
    for node in reversed(g.node):
        if any(o in needed for o in node.output):
            keep.append(node)
            needed.update(n for n in node.input if n)
    dead = len(g.node) - len(keep)
    if dead:
        nodes = list(reversed(keep))
        del g.node[:]
        g.node.extend(nodes)
        used = needed
        alive = [init for init in g.initializer if init.name in used]
        del g.initializer[:]
        g.initializer.extend(alive)
    return dead


def _name_batch(model, changes: list[str]) -> None:
    g = model.graph
    initializers = {init.name for init in g.initializer}
    old_names = set()
    for vi in [*g.input, *g.output]:
        if vi.name in initializers:
            continue
        dims = vi.type.tensor_type.shape.dim
        if not dims:
            continue
        if dims[0].HasField("dim_value"):
            if vi in g.input:
                continue  # a static graph: nothing to name
            continue
        if dims[0].dim_param and dims[0].dim_param != BATCH_NAME:
            old_names.add(dims[0].dim_param)
        dims[0].dim_param = BATCH_NAME
    if old_names:
        for vi in g.value_info:
            for d in vi.type.tensor_type.shape.dim:
                if d.dim_param in old_names:
                    d.dim_param = BATCH_NAME
        changes.append(f"batch dimension {', '.join(sorted(old_names))} renamed to {BATCH_NAME!r}")


def prepare(model) -> tuple[object, list[str]]:
    """The SOFIE pre-pass (module docstring) on a copy of ``model`` (an ``onnx.ModelProto`` or a path).

    Returns ``(prepared model, changes)``, ``changes`` listing what was rewritten (one line each). The prepared
    model computes the same function as the input (checked by onnxruntime in the tests)."""
    if not isinstance(model, onnx.ModelProto):
        model = onnx.load(str(model))
    m = onnx.ModelProto()
    m.CopyFrom(model)
    changes: list[str] = []
    shapes = _static_shapes(m)
    _explicit_pads(m, shapes, changes)
    _global_max_pool(m, shapes, changes)
    _constant_reshapes(m, shapes, changes)
    dead = _prune(m)
    if dead:
        changes.append(f"{dead} dead nodes removed (run-time shape chains)")
    _name_batch(m, changes)
    del m.graph.value_info[:]  # stale after the rewrites; SOFIE infers its own shapes
    return m, changes


# -------------------------------------------------------------------------------------------- generation


def _identifier(name: str) -> str:
    if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
        raise SofieError(
            f"the output name {name!r} is not a C++ identifier (SOFIE names the namespace SOFIE_<name> after it): "
            "use letters, digits and '_' only, not starting with a digit"
        )
    return name


def generate(prepared, directory, name: str, batch: int) -> tuple[Path, Path]:
    """SOFIE code for ``prepared`` (a pre-passed model, :func:`prepare`) with the batch fixed at ``batch``:
    writes ``<directory>/<name>.hxx`` and the weights ``<name>.dat``; returns both paths. Raises
    :class:`SofieError` when SOFIE's parser or generator refuses the model."""
    sofie = _sofie()
    _identifier(name)
    if batch < 1:
        raise SofieError(f"batch must be >= 1, got {batch}")
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    onnx_path = directory / f"{name}.onnx"
    onnx.save(prepared, str(onnx_path))
    header = directory / f"{name}.hxx"
    try:
        rmodel = sofie.onnx.parse(str(onnx_path))
        rmodel.generate(sofie.Options.kDefault, batch)
        rmodel.output_generated(str(header))
    except Exception as err:  # SOFIE raises plain RuntimeErrors for unsupported operators and shapes
        raise SofieError(f"SOFIE cannot generate code for this model: {err}") from err
    finally:
        onnx_path.unlink(missing_ok=True)
    dat = header.with_suffix(".dat")
    if not header.is_file() or not dat.is_file():
        raise SofieError(f"SOFIE wrote no {header.name} / {dat.name} in {directory}")
    return header, dat


# ------------------------------------------------------------------------------------------------ runner


def blas_library() -> Path:
    """scipy's bundled OpenBLAS (LP64, every symbol prefixed ``scipy_``)."""
    import scipy

    libs = Path(scipy.__file__).resolve().parent.parent / "scipy.libs"
    found = [p for p in glob.glob(str(libs / "libscipy_openblas-*.so")) if "64_" not in Path(p).name]
    if not found:
        raise SofieError(f"no libscipy_openblas-*.so in {libs}: SOFIE's generated code needs a BLAS sgemm_")
    return Path(sorted(found)[0])


_DO_INFER = re.compile(r"inline void doInfer\(Session const &session,\s*([^)]*)\)\s*;")
_BLAS_DECL = re.compile(r'extern "C" void ([a-z]+_)\(')

_RUNNER = r"""
#include <time.h>
#include <algorithm>
#include <cstdint>
#include <exception>
#include <string>
extern "C" void scipy_openblas_set_num_threads(int);
{defines}
#include "{header}"
#define TPS_API extern "C" __attribute__((visibility("default")))
namespace {{
static std::string lastError;
double threadSeconds()
{{
   timespec ts;
   clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
   return double(ts.tv_sec) + 1e-9 * double(ts.tv_nsec);
}}
}}
TPS_API const char *tps_error() {{ return lastError.c_str(); }}
TPS_API void *tps_new(const char *dat)
{{
   scipy_openblas_set_num_threads(1);
   try {{ return new SOFIE_{name}::Session(dat); }}
   catch (const std::exception &e) {{ lastError = e.what(); return nullptr; }}
}}
TPS_API void tps_free(void *s) {{ delete static_cast<SOFIE_{name}::Session *>(s); }}
// one call per batch: x holds nBatch * {batch} events; outs[k] receives output k of all of them
TPS_API int tps_run(void *s, const float *x, float **outs, int64_t nBatch)
{{
   auto &session = *static_cast<SOFIE_{name}::Session *>(s);
   try {{
      for (int64_t b = 0; b < nBatch; ++b)
         SOFIE_{name}::doInfer(session, x + b * {in_batch}{out_args});
   }} catch (const std::exception &e) {{ lastError = e.what(); return 1; }}
   return 0;
}}
// best (thread-CPU, wall) seconds of `repeat` passes over nBatch batches, after one warm-up pass
TPS_API void tps_bench(void *s, const float *x, float **outs, int64_t nBatch, int repeat, double *best)
{{
   best[0] = best[1] = 1e300;
   for (int r = 0; r <= repeat; ++r) {{
      timespec w0, w1;
      clock_gettime(CLOCK_MONOTONIC, &w0);
      const double c0 = threadSeconds();
      tps_run(s, x, outs, nBatch);
      const double c = threadSeconds() - c0;
      clock_gettime(CLOCK_MONOTONIC, &w1);
      const double w = double(w1.tv_sec - w0.tv_sec) + 1e-9 * double(w1.tv_nsec - w0.tv_nsec);
      if (r > 0) {{ best[0] = std::min(best[0], c); best[1] = std::min(best[1], w); }}
   }}
}}
"""


def _event_sizes(prepared, which: str) -> list[int]:
    out = []
    for vi in getattr(prepared.graph, which):
        if which == "input" and vi.name in {i.name for i in prepared.graph.initializer}:
            continue
        dims = vi.type.tensor_type.shape.dim
        rest = [d.dim_value for d in dims[1:]]
        if any(v <= 0 for v in rest):
            raise SofieError(f"{which} {vi.name!r}: every dimension but the batch must be fixed, got {dims}")
        out.append(int(np.prod(rest)) if rest else 1)
    return out


class Runner:
    """A SOFIE header compiled into a shared library, called through ctypes.

    ``Runner(header, dat, prepared, batch)``: ``prepared`` is the pre-passed model the header came from (its
    input and output sizes); ``cache`` a directory for the compiled library (keyed by a hash of the header and
    the compiler flags). :meth:`run` scores whole batches; :meth:`bench` times them in C++."""

    FLAGS = ("-O3", "-march=native", "-std=c++17", "-shared", "-fPIC", "-fvisibility=hidden", "-Wl,-Bsymbolic")

    def __init__(self, header, dat, prepared, batch: int, cache=None):
        header, dat = Path(header).resolve(), Path(dat).resolve()
        self.name = header.stem
        self.batch = int(batch)
        inputs = _event_sizes(prepared, "input")
        if len(inputs) != 1:
            raise SofieError(f"the SOFIE runner handles one-input models, this one has {len(inputs)}")
        self.in_size = inputs[0]
        self.out_sizes = _event_sizes(prepared, "output")
        text = header.read_text()
        m = _DO_INFER.search(text)
        if not m:
            raise SofieError(f"{header}: no doInfer(Session const &, ...) declaration (SOFIE version changed?)")
        params = [p.strip() for p in m.group(1).split(",")]
        if any(not p.startswith(("float const*", "float *", "float*")) for p in params):
            raise SofieError(
                f"{header}: doInfer still takes run-time shape parameters ({m.group(1)}): SOFIE could not fix "
                "every dimension at generation"
            )
        if len(params) != 1 + len(self.out_sizes):
            raise SofieError(f"{header}: doInfer takes {len(params)} tensors, expected 1 input + outputs")
        ctor = re.search(r"Session\(std::string filename =[^)]*\)", text)
        if ctor and "size_t" in ctor.group(0):
            raise SofieError(f"{header}: the Session constructor takes shape parameters ({ctor.group(0)})")
        blas = sorted(set(_BLAS_DECL.findall(text)))
        defines = "\n".join(f"#define {r} scipy_{r}" for r in blas)
        out_args = "".join(f", outs[{k}] + b * {self.batch * s}" for k, s in enumerate(self.out_sizes))
        source = _RUNNER.format(
            defines=defines,
            header=str(header),
            name=self.name,
            batch=self.batch,
            in_batch=self.batch * self.in_size,
            out_args=out_args,
        )
        lib_blas = blas_library()
        cxx = os.environ.get("CXX", "g++")
        key = hashlib.sha256((source + text + " ".join(self.FLAGS) + cxx).encode()).hexdigest()[:16]
        cache = Path(cache) if cache else Path(tempfile.gettempdir()) / "tpcml-sofie-cache"
        cache.mkdir(parents=True, exist_ok=True)
        lib = cache / f"sofie_{self.name}_{key}.so"
        if not lib.is_file():
            src = cache / f"sofie_{self.name}_{key}.cxx"
            src.write_text(source)
            tmp = lib.with_suffix(f".{os.getpid()}.tmp")
            cmd = [cxx, *self.FLAGS, str(src), "-o", str(tmp), str(lib_blas), f"-Wl,-rpath,{lib_blas.parent}"]
            res = subprocess.run(cmd, capture_output=True, text=True, check=False)
            if res.returncode != 0:
                raise SofieError(f"compiling SOFIE's {header.name} failed ({' '.join(cmd)}):\n{res.stderr[-3000:]}")
            os.replace(tmp, lib)
        self._lib = ctypes.CDLL(str(lib), mode=ctypes.RTLD_LOCAL)
        fp = ctypes.POINTER(ctypes.c_float)
        self._lib.tps_new.restype = ctypes.c_void_p
        self._lib.tps_new.argtypes = [ctypes.c_char_p]
        self._lib.tps_free.argtypes = [ctypes.c_void_p]
        self._lib.tps_error.restype = ctypes.c_char_p
        self._lib.tps_run.restype = ctypes.c_int
        self._lib.tps_run.argtypes = [ctypes.c_void_p, fp, ctypes.POINTER(fp), ctypes.c_int64]
        self._lib.tps_bench.argtypes = [
            ctypes.c_void_p,
            fp,
            ctypes.POINTER(fp),
            ctypes.c_int64,
            ctypes.c_int,
            ctypes.POINTER(ctypes.c_double),
        ]
        self._session = self._lib.tps_new(str(dat).encode())
        if not self._session:
            raise SofieError(f"SOFIE session for {header.name}: {self._lib.tps_error().decode()}")

    def __del__(self):
        session, lib = getattr(self, "_session", None), getattr(self, "_lib", None)
        if session and lib is not None:
            lib.tps_free(session)

    def _buffers(self, x: np.ndarray):
        x = np.ascontiguousarray(x, dtype=np.float32)
        n = x.shape[0]
        if n % self.batch or x.size != n * self.in_size:
            raise SofieError(
                f"input of shape {x.shape}: expected a multiple of the batch {self.batch} events of "
                f"{self.in_size} values each"
            )
        outs = [np.empty((n, s), np.float32) for s in self.out_sizes]
        fp = ctypes.POINTER(ctypes.c_float)
        ptrs = (fp * len(outs))(*[o.ctypes.data_as(fp) for o in outs])
        return x, outs, ptrs, n // self.batch

    def run(self, x: np.ndarray) -> list[np.ndarray]:
        """Outputs (each ``[n, event size]``) of the generated code on ``x`` (``n`` events, ``n`` a multiple of
        the batch)."""
        x, outs, ptrs, n_batch = self._buffers(x)
        fp = ctypes.POINTER(ctypes.c_float)
        if self._lib.tps_run(self._session, x.ctypes.data_as(fp), ptrs, n_batch) != 0:
            raise SofieError(f"SOFIE inference failed: {self._lib.tps_error().decode()}")
        return outs

    def bench(self, x: np.ndarray, repeat: int) -> tuple[float, float]:
        """Best (thread-CPU, wall) ns per event of ``repeat`` timed passes over ``x``, after a warm-up pass."""
        x, _outs, ptrs, n_batch = self._buffers(x)  # _outs: kept alive while the pointers are used
        best = (ctypes.c_double * 2)()
        fp = ctypes.POINTER(ctypes.c_float)
        self._lib.tps_bench(self._session, x.ctypes.data_as(fp), ptrs, n_batch, int(repeat), best)
        n = x.shape[0]
        return best[0] / n * 1e9, best[1] / n * 1e9


def build(model, directory, name: str, batch: int, cache=None) -> tuple[Runner, list[str]]:
    """Pre-pass, generation and compilation in one call: ``(Runner, pre-pass changes)``; the header and weights
    are left in ``directory``."""
    prepared, changes = prepare(model)
    header, dat = generate(prepared, directory, name, batch)
    return Runner(header, dat, prepared, batch, cache=cache), changes


def max_abs_diff(a: list[np.ndarray], b: list[np.ndarray]) -> float:
    """The largest |a - b| over matching outputs (flattened per event); inf when shapes differ or NaNs differ."""
    if len(a) != len(b):
        return math.inf
    worst = 0.0
    for u, v in zip(a, b, strict=True):
        u = np.asarray(u, np.float32).reshape(len(u), -1)
        v = np.asarray(v, np.float32).reshape(len(v), -1)
        if u.shape != v.shape or not np.array_equal(np.isnan(u), np.isnan(v)):
            return math.inf
        if u.size:
            worst = max(worst, float(np.nanmax(np.abs(u - v))))
    return worst


# ------------------------------------------------------------------------------------------------ export


def export_header(model_path, output, batch: int = 1, tolerance: float = 1e-4, events: int = 64, log=print) -> dict:
    """``tpcml export --sofie``: standalone SOFIE C++ for ``model_path`` as ``output`` (``<name>.hxx``) and its
    weights ``<name>.dat`` beside it, for a fixed ``batch``.

    The pre-pass (:func:`prepare`) is applied, SOFIE generates the code, and the generated code is compiled and
    run on ``events`` pseudo-random events (uniform in [0, 1), fixed seed, a whole number of batches) and
    compared with tpcml's own engine on the original model. Only when every output agrees within ``tolerance``
    x max(1, max |tpcml output|) are the files moved into place (generated under a temporary directory beside
    ``output``, then renamed): a model SOFIE would get wrong is refused with :class:`SofieError` and nothing is
    written. Returns a summary (paths, max |delta|, the pre-pass changes)."""
    from tpcml import _core

    src = Path(model_path)
    out = Path(output)
    if not src.is_file():
        raise ArgumentError(f"model {str(src)!r} is not a file (expected an ONNX model)")
    if out.suffix not in (".hxx", ".h", ".hpp"):
        raise ArgumentError(f"--output {str(out)!r}: expected a C++ header name ending in .hxx, .h or .hpp")
    dat = out.with_suffix(".dat")
    for target in (out, dat):
        if target.resolve() == src.resolve():
            raise ArgumentError(f"--output {str(out)!r} would overwrite the input model {str(src)!r} ({target})")
    if not out.parent.resolve().is_dir():
        raise ArgumentError(f"--output {str(out)!r}: directory {str(out.parent)!r} does not exist")
    name = _identifier(out.stem)
    if batch < 1 or batch > 65536:
        raise ArgumentError(f"--batch must be in [1, 65536], got {batch}")
    if not tolerance > 0:
        raise ArgumentError(f"--tolerance must be > 0, got {tolerance}")
    _sofie()  # not installed: a clear error before any work

    engine = _core.OnnxModel(str(src))  # tpcml's checks first: a corrupted file is an InputError naming it
    if not engine.batched:
        raise SofieError(f"{src}: the model has no batch dimension; SOFIE export needs a batched model")
    if engine.event_mixing:
        raise SofieError(f"{src}: {engine.event_mixing}; a fixed-batch SOFIE header would change its results")
    try:
        model = onnx.load(str(src))
    except Exception as err:  # tpcml's reader accepted it, onnx's did not
        raise SofieError(f"{src}: the onnx package cannot read it: {err}") from err
    prepared, changes = prepare(model)

    work = Path(tempfile.mkdtemp(prefix=".tpcml-sofie-", dir=out.parent))
    try:
        header, weights = generate(prepared, work, name, batch)
        runner = Runner(header, weights, prepared, batch, cache=work)
        n = max(batch, (events // batch) * batch)
        info = engine.inputs[0]
        x = np.random.default_rng(20261207).random((n, *info["shape"][1:]), dtype=np.float32)
        got = runner.run(x)
        want = [np.asarray(r) for r in engine.run(x)]
        worst, worst_name = 0.0, ""
        for k, (g, w) in enumerate(zip(got, want, strict=True)):
            delta = max_abs_diff([g], [w])
            scale = max(1.0, float(np.abs(w).max())) if w.size else 1.0
            if not delta <= tolerance * scale:
                oname = engine.outputs[k]["name"]
                raise SofieError(
                    f"{src}: SOFIE's generated code computes output {oname!r} differently from tpcml's engine "
                    f"(max |delta| = {delta:.3g} on {n} events, tolerance {tolerance:g} x {scale:.3g}): refused, "
                    f"{out} not written"
                )
            if delta >= worst:
                worst, worst_name = delta, engine.outputs[k]["name"]
        del runner
        os.replace(weights, dat)  # the weights first: a header is never left without them
        os.replace(header, out)
    finally:
        for f in work.iterdir():
            f.unlink()
        work.rmdir()
    log(f"wrote {out} and {dat} (SOFIE, batch {batch}; max |delta| vs tpcml {worst:.3g} on {worst_name!r})")
    return {"header": str(out), "weights": str(dat), "batch": batch, "max_abs_diff": worst, "changes": changes}
