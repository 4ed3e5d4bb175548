"""tpcml exceptions (raised by the C++ core through the bindings, and by Python code).

``ConfigError`` and ``UsageError`` are ``ValueError`` and ``InputError`` an ``OSError``, so code that
catches the standard exceptions keeps working. ``ArgumentError`` (a ``UsageError``) is a bad argument
value found by a Python door before any work: the ``tpcml`` command exits with status 2 for it, and
with status 1 for every other tpcml error (docs/doors-python.md). ``MissingExtraError`` (a ``TpcmlError``
and an ``ImportError``) is a package of an optional extra that is not installed (``tpcml.core.extras``).
"""

from __future__ import annotations

from .._core import ConfigError, Error, InputError, UsageError

TpcmlError = Error


class ArgumentError(UsageError):
    """A bad argument value (an output that is an input, a count too large for memory, a seed out of range)."""


class MissingExtraError(TpcmlError, ImportError):
    """A feature needs a package of an optional extra that is not installed (``tpcml.core.extras.require``): the
    message names the package and the command that installs it, ``pip install 'tpcml[ml]'``."""


def cpp_message(err: BaseException) -> str:
    """An exception's message on one line, without the call-site prefix cppyy puts before a C++ exception
    raised through PyROOT ("void tpcml::f(...) => InputError: message", repeated per overload)."""
    return " ".join(str(err).split()).split(" => ")[-1].strip()


__all__ = [
    "ArgumentError",
    "ConfigError",
    "InputError",
    "MissingExtraError",
    "TpcmlError",
    "UsageError",
    "cpp_message",
]
