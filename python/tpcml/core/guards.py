"""Checks every Python door of tpcml makes before any work (docs/doors-python.md).

* :func:`refuse_overwrite`: an output path must never be one of the inputs (the same path, or the
  same file through a symbolic link, a hard link or another spelling of the path: the C++
  ``tpcml::requireDistinctOutput`` the executables and macros use);
* :func:`check_memory`: an allocation the size of a user's argument is compared with the memory
  available before it is made, and refused with the limit in the message;
* :func:`parse_int`: integers (counts, seeds) parsed exactly (``1e6`` is accepted as 1,000,000, but
  a value that is not an integer, or is out of range, is refused; a seed above 2**53 is never
  rounded through a float);
* :func:`parse_float`: a finite number.

Each raises :class:`tpcml.core.errors.ArgumentError` (exit status 2 in the ``tpcml`` command).
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from .errors import ArgumentError

__all__ = [
    "SEED_MAX",
    "available_memory",
    "check_memory",
    "parse_float",
    "parse_int",
    "refuse_overwrite",
    "u64",
]

SEED_MAX = 2**64 - 1  # seeds are uint64 in the C++ core
INT_MAX = 2**63 - 1  # sizes are int64 there


def refuse_overwrite(
    outputs: str | os.PathLike | Iterable[str | os.PathLike | None],
    inputs: Iterable[str | os.PathLike | None],
    what: str = "output",
) -> None:
    """Raises ArgumentError when any of ``outputs`` is one of ``inputs`` (None entries are skipped).

    Called before any work by every door that writes (``tpcml select --output``, ``pair``, ``raster``,
    ``simulate``, ``run``, ``plot``, the scripts in macros/), so that no input is ever destroyed.
    """
    from .. import _core  # the one same-file rule of every door, C++ executables included (AtomicFile.h)

    if isinstance(outputs, str | os.PathLike):
        outputs = [outputs]
    ins = [os.fspath(i) for i in inputs if i is not None and str(i) != ""]
    for out in outputs:
        if out is None:
            continue
        if os.path.isdir(out):
            raise ArgumentError(f"{what} '{os.fspath(out)}': is a directory; expected a file path")
        try:
            _core.require_distinct_output(os.fspath(out), ins, what)
        except _core.UsageError as err:
            raise ArgumentError(str(err)) from None


def available_memory() -> int:
    """Bytes of memory available to a new allocation (Linux: MemAvailable), or 0 when unknown: the C++
    ``tpcml::availableMemory`` the executables use."""
    from .. import _core

    return int(_core.available_memory())


def _size(n: float) -> str:
    for unit in ("B", "KiB", "MiB", "GiB", "TiB", "PiB"):
        if n < 1024 or unit == "PiB":
            return f"{n:.3g} {unit}"
        n /= 1024
    return f"{n:.3g} PiB"  # pragma: no cover


def check_memory(nbytes: float, what: str, fraction: float = 0.75) -> None:
    """Raises ArgumentError when ``nbytes`` exceeds ``fraction`` of the available memory; the message states
    the limit and ``what`` needs it (e.g. "-n 1000000000000: 10^12 pairs x 92 bytes")."""
    avail = available_memory()
    if avail <= 0:
        return
    limit = fraction * avail
    if nbytes > limit:
        raise ArgumentError(
            f"{what} needs about {_size(nbytes)} of memory; the limit is {_size(limit)} "
            f"({fraction:.0%} of the {_size(avail)} available): use a smaller value"
        )


def u64(seed: int) -> int:
    """A seed derived by arithmetic (``seed * 7 + 1``) as the uint64 the C++ core and nestpy take: reduced
    modulo 2**64 (one-to-one for seeds in [0, 2**64) when the multiplier is odd), never rounded."""
    return int(seed) % 2**64


def parse_int(text: str | int, what: str = "", minimum: int | None = None, maximum: int | None = None) -> int:
    """An exact integer from ``text`` ("12", "1e6", "1_000"); ArgumentError names ``what`` and the range."""
    what = f"{what}: " if what else ""
    if isinstance(text, bool):
        raise ArgumentError(f"{what}expected an integer, got {text!r}")
    if isinstance(text, int):
        value = text
    else:
        try:
            d = Decimal(str(text).strip().replace("_", ""))
        except InvalidOperation:
            raise ArgumentError(f"{what}expected an integer, got {text!r}") from None
        if not d.is_finite() or d != d.to_integral_value():
            raise ArgumentError(f"{what}expected an integer, got {text!r}")
        value = d  # compared as a Decimal: int() of "1e999999999" would build a billion-digit number
    if maximum is None:
        maximum = INT_MAX  # every size reaches the C++ core as a 64-bit integer
    if minimum is not None and value < minimum:
        raise ArgumentError(f"{what}expected an integer >= {minimum}, got {text}")
    if maximum is not None and value > maximum:
        bound = "2^64 - 1" if maximum == SEED_MAX else str(maximum)
        raise ArgumentError(f"{what}expected an integer <= {bound}, got {text}")
    return int(value)


def parse_float(text: str | float, what: str = "", positive: bool = False, minimum: float | None = None) -> float:
    """A finite float from ``text``; NaN and infinities are refused (ArgumentError naming ``what``)."""
    what = f"{what}: " if what else ""
    try:
        value = float(text)
    except (TypeError, ValueError):
        raise ArgumentError(f"{what}expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise ArgumentError(f"{what}expected a finite number, got {text}")
    if positive and not value > 0:
        raise ArgumentError(f"{what}expected a positive number, got {text}")
    if minimum is not None and value < minimum:
        raise ArgumentError(f"{what}expected a number >= {minimum:g}, got {text}")
    return value


def column_names(x) -> list[str] | None:
    """Column names of a named table (pandas DataFrame, awkward record array, numpy structured array, dict of
    columns), or None for a plain array or a list of arrays (which are used by position)."""
    if isinstance(x, dict):
        return [str(k) for k in x]
    dtype_names = getattr(getattr(x, "dtype", None), "names", None)
    if dtype_names:
        return list(dtype_names)
    if hasattr(x, "columns") and hasattr(x, "iloc"):  # pandas DataFrame
        return [str(c) for c in x.columns]
    if type(x).__module__.startswith("awkward"):
        return list(getattr(x, "fields", []) or []) or None
    return None


def columns_by_name(x, wanted: list[str] | None, what: str):
    """The columns ``wanted`` of a named table ``x`` as a float32 [N, k] array in that order, or None when ``x``
    is not a named table (a plain array stays positional). A named table is matched *by name*, never by
    position: UsageError lists missing names with the nearest names of ``x``; ``wanted`` None (the names are not
    known, e.g. a model without ``tpcml.inputs`` metadata) refuses the table."""
    import difflib

    import numpy as np

    from .errors import UsageError

    names = column_names(x)
    if names is None:
        return None
    if not wanted:
        raise UsageError(
            f"{what}: its input names are not known, so the columns of a named table ({', '.join(names)}) cannot "
            "be matched by name: pass a plain array in the feature order"
        )
    missing = [c for c in wanted if c not in names]
    if missing:
        hints = []
        for m in missing:
            near = difflib.get_close_matches(m, names, n=3, cutoff=0.5)
            hints.append(m + (f" (did you mean {', '.join(near)}?)" if near else ""))
        raise UsageError(
            f"{what} needs the column(s) {'; '.join(hints)} (inputs: {', '.join(wanted)}); the table has: "
            f"{', '.join(names)}"
        )
    arrays = []
    for c in wanted:
        a = np.asarray(x[c])
        if a.dtype == object or a.ndim != 1:
            raise UsageError(f"{what}: column '{c}' must hold one number per event, got shape {a.shape}")
        arrays.append(a.astype(np.float32, copy=False))
    return np.ascontiguousarray(np.stack(arrays, axis=1))
