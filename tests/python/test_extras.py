"""Optional extras (tpcml[ml], tpcml[dist]): a missing package says what to install; `tpcml info` lists them."""

from __future__ import annotations

import json
import sys
import textwrap
from importlib import metadata

import numpy as np
import pytest

from tpcml.core import extras
from tpcml.core.errors import MissingExtraError, TpcmlError

from .conftest import run

#: Every top-level module of an extra that tpcml imports (pyproject.toml [project.optional-dependencies]).
EXTRA_MODULES = (
    "tensorflow",
    "keras",
    "tf2onnx",
    "onnx",
    "onnxruntime",
    "xgboost",
    "iminuit",
    "wimprates",
    "dask",
    "distributed",
)

# A meta-path finder that makes the extras' modules look uninstalled: the base install, simulated.
BLOCKER = textwrap.dedent(f"""
    import importlib.abc, sys
    BLOCKED = {EXTRA_MODULES!r}
    for name in list(sys.modules):
        if name.split(".")[0] in BLOCKED:
            del sys.modules[name]
    class Blocker(importlib.abc.MetaPathFinder):
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
            return None
    sys.meta_path.insert(0, Blocker())
""")


def test_require_returns_the_module():
    import onnx

    assert extras.require("ml", "onnx") is onnx


def test_require_missing_module_names_the_extra(monkeypatch):
    monkeypatch.setitem(sys.modules, "tensorflow", None)  # import of tensorflow now fails as if not installed
    with pytest.raises(MissingExtraError) as info:
        extras.require("ml", "tensorflow")
    err = info.value
    assert isinstance(err, TpcmlError)
    assert isinstance(err, ImportError)
    assert "'tensorflow' is not installed" in str(err)
    assert "needs `pip install 'tpcml[ml]'`" in str(err)
    assert isinstance(err.__cause__, ModuleNotFoundError)


def test_require_dist_extra_message(monkeypatch):
    monkeypatch.setitem(sys.modules, "dask", None)
    with pytest.raises(
        MissingExtraError, match=r"'dask' is not installed: .*Dask.* needs `pip install 'tpcml\[dist\]'`"
    ):
        extras.require("dist", "dask")


def test_require_unknown_extra():
    with pytest.raises(ValueError, match="unknown tpcml extra 'gpu': expected one of ml, dist"):
        extras.require("gpu", "json")


def test_bdt_without_xgboost_says_what_to_install(monkeypatch):
    """A real door: the PandaX-II BDT on a base install reports the extra, not ModuleNotFoundError."""
    from tpcml.studies.pandax2.bdt import train_bdt

    monkeypatch.setitem(sys.modules, "xgboost", None)
    rng = np.random.default_rng(1)
    x = rng.normal(size=(40, 3)).astype(np.float32)
    y = (np.arange(40) % 2).astype(np.int8)
    with pytest.raises(MissingExtraError, match=r"'xgboost' is not installed.*pip install 'tpcml\[ml\]'"):
        train_bdt(x, y, x, y, x, y)


def test_base_install_imports_core_and_reports_extras():
    """With every extra's module blocked: the core modules import, each ML module raises MissingExtraError."""
    code = BLOCKER + textwrap.dedent("""
        import importlib
        import tpcml, tpcml.cli, tpcml.sim.lxe, tpcml.sim.gas, tpcml.inference, tpcml.stats.metrics, tpcml.pairing
        import tpcml.corrections, tpcml.report.figures, tpcml.studies.pandax2.bdt, tpcml.ml.ensemble
        from tpcml.core.errors import MissingExtraError
        for mod in ("tpcml.ml.architectures", "tpcml.ml.export"):
            try:
                importlib.import_module(mod)
            except MissingExtraError as err:
                print(mod, "->", err)
            else:
                print(mod, "imported without its extra")
    """)
    res = run([sys.executable, "-c", code])
    assert res.returncode == 0, res.stdout + res.stderr
    lines = res.stdout.strip().splitlines()
    assert len(lines) == 2, res.stdout
    assert lines[0].startswith("tpcml.ml.architectures -> the Python module 'keras' is not installed")
    assert lines[1].startswith("tpcml.ml.export -> the Python module 'onnx' is not installed")
    assert all(line.endswith("needs `pip install 'tpcml[ml]'`") for line in lines)


def test_score_distributed_without_dask():
    """tpcml.inference.score_distributed on an install without tpcml[dist]: the extra's message, first thing."""
    code = BLOCKER + textwrap.dedent("""
        from tpcml.inference import score_distributed
        try:
            score_distributed([], "m.onnx", client=None)
        except ImportError as err:
            print(type(err).__name__, err)
    """)
    res = run([sys.executable, "-c", code])
    assert res.returncode == 0, res.stdout + res.stderr
    assert res.stdout.strip() == (
        "MissingExtraError the Python module 'dask' is not installed: tpcml's distributed scoring on a Dask "
        "cluster needs `pip install 'tpcml[dist]'`"
    )


def test_cli_simulate_wimps_without_ml_extra(tmp_path):
    """`tpcml simulate pandax2 --wimp-mass` without wimprates: exit 1, one line naming the extra, before any
    simulation (nothing written), no traceback."""
    out = tmp_path / "px2"
    code = BLOCKER + textwrap.dedent("""
        import sys
        from tpcml.cli import main
        sys.exit(main(sys.argv[1:]))
    """)
    res = run([sys.executable, "-c", code, "simulate", "pandax2", "--quick", "--wimp-mass", "40", "--out", str(out)])
    assert res.returncode == 1, res.stdout + res.stderr
    assert "Traceback" not in res.stderr
    assert "'wimprates' is not installed" in res.stderr
    assert "needs `pip install 'tpcml[ml]'`" in res.stderr
    assert not out.exists() or not any(out.iterdir())


def test_status_lists_each_extra():
    status = extras.status()
    assert set(status) == {"ml", "dist"}
    for name, ext in status.items():
        assert ext["install"] == f"pip install 'tpcml[{name}]'"
        assert ext["packages"], f"tpcml's metadata lists no package for the extra {name}"
        # the test environment (requirements/dev.txt) has every extra
        assert ext["installed"] is True, ext["missing"]
        assert all(ext["packages"].values())
    assert "tensorflow" in status["ml"]["packages"]
    assert "dask" in status["dist"]["packages"]


def test_info_reports_a_missing_extra(monkeypatch):
    from tpcml import info

    real = metadata.version

    def version(name):
        if name == "dask":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(extras.metadata, "version", version)
    data = info.collect()
    assert data["extras"]["dist"]["installed"] is False
    assert data["extras"]["dist"]["missing"] == ["dask"]
    assert data["extras"]["ml"]["installed"] is True
    text = info.format_report(data)
    assert "tpcml[ml]    installed: machine learning" in text
    assert "tpcml[dist]  not installed (missing dask): pip install 'tpcml[dist]'" in text


def test_cli_info_lists_extras():
    res = run(["tpcml", "info", "--json"])
    assert res.returncode == 0, res.stderr
    data = json.loads(res.stdout)
    assert {k: v["installed"] for k, v in data["extras"].items()} == {"ml": True, "dist": True}
    res = run(["tpcml", "info"])
    assert res.returncode == 0, res.stderr
    assert "tpcml[ml]    installed" in res.stdout
    assert "tpcml[dist]  installed" in res.stdout
