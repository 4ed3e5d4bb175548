"""Detector registry: shipped files valid, unit conversion, and the loader's error cases."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

import tpcml
from tpcml.core import detectors

from .conftest import run

HEADER = '[detector]\nname = "{name}"\ntitle = "test"\nkind = "lxe_dual_phase"\n\n[parameters]\n'


def _pandax2_text() -> str:
    return Path(detectors.load("pandax2").file).read_text()


def test_registry_lists_the_five_studies():
    assert set(detectors.available()) >= {"pandax2", "pandax3", "xenon1t", "xenonnt", "darwin"}


@pytest.mark.parametrize("name", ["pandax2", "pandax3", "xenon1t", "xenonnt", "darwin"])
def test_every_value_has_unit_and_source(name):
    det = detectors.load(name)
    assert det.name == name
    assert det.references
    for key, p in detectors.as_dict(det).items():
        assert p["source"].strip(), key
        assert p["dimension"] in detectors.dimension_names()


def test_canonical_units_and_conversion():
    det = detectors.load("pandax2")
    v = det.get("drift_velocity")  # mm/us
    assert det.get("drift_velocity", "cm/us") == pytest.approx(v / 10)
    assert det.get("electron_lifetime", "ms") == pytest.approx(det.get("electron_lifetime") / 1000)
    assert det.get_int("n_pmt_top") == 55  # Tan et al., PRD 93 (2016) 122009
    assert det.get_string("pmt_layout")
    # max drift time follows from geometry and velocity
    assert det.get("max_drift_time") == pytest.approx(det.get("drift_length") / v, rel=0.1)
    with pytest.raises(tpcml.ConfigError, match="not a unit of time"):
        det.get("electron_lifetime", "mm")


def test_pandax3_readout_matches_paper():
    det = detectors.load("pandax3")
    # PandaX-III EfficientNet paper: 3 mm strips, 64 px images, 5 MHz, 512 bins, 1.87 mm/us
    assert det.get("strip_pitch") == pytest.approx(3.0)
    assert det.get_int("image_pixels") == 64
    assert det.get("sampling_frequency") == pytest.approx(5.0)
    assert det.get_int("n_time_bins") == 512
    assert det.get("drift_velocity") == pytest.approx(1.87)
    assert det.get("q_bb") == pytest.approx(2457.8)


def _write(tmp_path, name, body):
    path = tmp_path / f"{name}.toml"
    path.write_text(HEADER.format(name=name) + body)
    return path


def _pandax2_params_with(tmp_path, replace: dict[str, str], name="mydet"):
    """Copy of pandax2.toml's parameters with some lines replaced (None: removed)."""
    lines, out = _pandax2_text().split("[parameters]", 1)[1].splitlines(), []
    for line in lines:
        key = line.split("=", 1)[0].strip()
        if key in replace:
            if replace[key] is not None:
                out.append(replace[key])
        else:
            out.append(line)
    return _write(tmp_path, name, "\n".join(out) + "\n")


def test_copy_of_registry_file_is_valid(tmp_path):
    path = _pandax2_params_with(tmp_path, {})
    det = detectors.load(str(path))
    assert det.get("g1") == detectors.load("pandax2").get("g1")


def test_unknown_key_names_file_key_and_nearest(tmp_path):
    path = _pandax2_params_with(tmp_path, {"g1": 'g_1 = { value = 0.1, unit = "PE/photon", source = "x" }'})
    with pytest.raises(tpcml.ConfigError) as err:
        detectors.load(str(path))
    msg = str(err.value)
    assert str(path) in msg
    assert "parameters.g_1: unknown parameter (did you mean: g1" in msg
    assert "parameters.g1: missing; required" in msg  # removing g1 is also reported


def test_wrong_unit_lists_accepted_units(tmp_path):
    path = _pandax2_params_with(tmp_path, {"drift_field": 'drift_field = { value = 317, unit = "V/m", source = "x" }'})
    with pytest.raises(
        ValueError,
        match=r"parameters.drift_field: unit 'V/m' is not a unit of field; "
        r"expected one of: V/cm, kV/cm",
    ):
        detectors.load(str(path))


def test_out_of_range_value(tmp_path):
    # a unit slip: 317 kV/cm instead of V/cm
    path = _pandax2_params_with(
        tmp_path, {"drift_field": 'drift_field = { value = 317, unit = "kV/cm", source = "x" }'}
    )
    with pytest.raises(tpcml.ConfigError, match=r"drift_field: value 317000 V/cm is out of range"):
        detectors.load(str(path))


def test_missing_key_shows_expected_form(tmp_path):
    path = _pandax2_params_with(tmp_path, {"electron_lifetime": None})
    with pytest.raises(
        tpcml.ConfigError,
        match=r"parameters.electron_lifetime: missing; required for a detector of kind "
        r"'lxe_dual_phase'. Expected: electron_lifetime = \{ value = <number>, unit = \"us\"",
    ):
        detectors.load(str(path))


def test_missing_source_and_syntax_error(tmp_path):
    path = _pandax2_params_with(tmp_path, {"g1": 'g1 = { value = 0.1, unit = "PE/photon", source = "" }'})
    with pytest.raises(tpcml.ConfigError, match=r"parameters\.g1: missing or empty 'source'"):
        detectors.load(str(path))
    bad = tmp_path / "broken.toml"
    bad.write_text("[detector]\nname = broken\n")
    with pytest.raises(tpcml.ConfigError, match=r"broken.toml:2:\d+: TOML syntax error"):
        detectors.load(str(bad))


def test_unknown_detector_name():
    with pytest.raises(tpcml.ConfigError, match=r"unknown detector 'xenon1T'.*did you mean: xenon1t"):
        detectors.load("xenon1T")


def test_user_detector_path(tmp_path, monkeypatch):
    _pandax2_params_with(tmp_path, {}, name="mylab")
    monkeypatch.setenv("TPCML_DETECTOR_PATH", str(tmp_path))
    assert "mylab" in detectors.available()
    assert detectors.load("mylab").name == "mylab"


def test_cli_validate_exit_codes(tmp_path):
    good = _pandax2_params_with(tmp_path, {}, name="good")
    bad = _pandax2_params_with(tmp_path, {"g1": 'g1 = { value = 5, unit = "PE/photon", source = "x" }'}, name="bad")
    res = run(["tpcml", "detectors", "validate", str(good)])
    assert res.returncode == 0, res.stderr
    assert "ok" in res.stdout
    res = run(["tpcml", "detectors", "validate", str(good), str(bad)])
    assert res.returncode == 1
    assert "parameters.g1: value 5 PE/photon is out of range" in res.stderr
    res = run(["tpcml", "detectors", "show", "pandax2"])
    assert res.returncode == 0
    assert "electron_lifetime" in res.stdout and "us" in res.stdout
    assert not math.isnan(detectors.load("pandax2").get("g2"))
