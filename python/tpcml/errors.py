"""tpcml exceptions (raised by the C++ core through the bindings, and by Python code).

``ConfigError`` and ``UsageError`` are ``ValueError`` and ``InputError`` an ``OSError``, so code that
catches the standard exceptions keeps working.
"""

from __future__ import annotations

from ._core import ConfigError, Error, InputError, UsageError

TpcmlError = Error

__all__ = ["ConfigError", "InputError", "TpcmlError", "UsageError"]
