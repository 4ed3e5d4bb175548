"""The tpcml exception hierarchy (issue 14): every tpcml error derives from tpcml.TpcmlError and from the
matching builtin, whether raised by C++ (through the bindings) or by Python code."""

from __future__ import annotations

import pytest

import tpcml
from tpcml import _core
from tpcml.core.errors import ArgumentError, ConfigError, InputError, TpcmlError, UsageError


def test_config_error_is_tpcml_error():
    # the defect: issubclass(tpcml.ConfigError, tpcml.TpcmlError) was False, so `except TpcmlError` missed it
    assert issubclass(tpcml.ConfigError, tpcml.TpcmlError)
    assert issubclass(ConfigError, ValueError)


def test_input_error_is_tpcml_error_and_oserror():
    assert issubclass(InputError, TpcmlError)
    assert issubclass(InputError, OSError)


def test_usage_and_argument_errors_are_tpcml_errors_and_value_errors():
    for cls in (UsageError, ArgumentError):
        assert issubclass(cls, TpcmlError)
        assert issubclass(cls, ValueError)


def test_exception_names_are_qualified():
    for cls in (_core.Error, _core.ConfigError, _core.InputError, _core.UsageError):
        assert cls.__module__ == "tpcml._core"


def test_cpp_config_error_caught_as_tpcml_error(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text("this is = not [ valid toml\n")
    with pytest.raises(TpcmlError) as info:
        _core.DetectorConfig.load(str(bad))
    assert isinstance(info.value, ConfigError | InputError)


def test_cpp_input_error_caught_as_tpcml_error_and_oserror(tmp_path):
    missing = str(tmp_path / "missing.root")
    with pytest.raises(TpcmlError) as info:
        _core.NRMedianCurve.from_file(missing)
    assert isinstance(info.value, InputError)
    assert isinstance(info.value, OSError)
    assert "missing.root" in str(info.value)


def test_cpp_usage_error_caught_as_tpcml_error_and_value_error():
    with pytest.raises(TpcmlError) as info:
        _core.accidental_count(-1.0, 1.0, 1.0, 1.0)
    assert isinstance(info.value, UsageError)
    assert isinstance(info.value, ValueError)
    assert "isolated S1 rate" in str(info.value)
