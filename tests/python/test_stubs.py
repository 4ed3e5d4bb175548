"""The committed type stubs of tpcml._core (python/tpcml/_core.pyi) name exactly what the module has."""

from __future__ import annotations

import ast
import inspect
from pathlib import Path

import tpcml
from tpcml import _core

STUB = Path(tpcml.__file__).with_name("_core.pyi")


def _stub_names() -> tuple[set[str], dict[str, set[str]]]:
    tree = ast.parse(STUB.read_text())
    top: set[str] = set()
    members: dict[str, set[str]] = {}
    for node in tree.body:
        if isinstance(node, ast.ClassDef):
            top.add(node.name)
            members[node.name] = {
                n.name if not isinstance(n, ast.AnnAssign) else n.target.id
                for n in node.body
                if isinstance(n, (ast.FunctionDef, ast.AnnAssign))
                and not (isinstance(n, ast.AnnAssign) and not isinstance(n.target, ast.Name))
            }
        elif isinstance(node, ast.FunctionDef):
            top.add(node.name)
        elif isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
            top.add(node.target.id)
    top.discard("__all__")
    return top, members


def _public(names) -> set[str]:
    return {n for n in names if not n.startswith("_")}


def test_stub_names_every_function_class_and_constant_of_core():
    top, _ = _stub_names()
    module = _public(dir(_core)) - {"annotations"}
    assert module - top == set(), f"in tpcml._core but not in {STUB.name}: run `make stubs`"
    assert top - module - {n for n in top if n.startswith("_")} == set(), (
        f"stale names in {STUB.name}: run `make stubs`"
    )


def test_stub_names_every_public_member_of_each_class():
    _, members = _stub_names()
    for name, cls in inspect.getmembers(_core, inspect.isclass):
        if issubclass(cls, BaseException):
            continue
        own = _public(k for k in vars(cls))
        missing = own - members.get(name, set())
        assert not missing, f"{name}: {sorted(missing)} missing in {STUB.name}: run `make stubs`"


def test_package_is_marked_typed():
    assert Path(tpcml.__file__).with_name("py.typed").is_file()


def test_write_stubs_script_writes_the_committed_names(tmp_path):
    """scripts/write_stubs.py (make stubs) runs and writes a stub naming what the committed one names."""
    import subprocess
    import sys

    script = Path(__file__).resolve().parents[2] / "scripts" / "write_stubs.py"
    out = tmp_path / "_core.pyi"
    subprocess.run([sys.executable, str(script), "--out", str(out)], check=True, capture_output=True, text=True)
    fresh = {n.name for n in ast.parse(out.read_text()).body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    committed = {n.name for n in ast.parse(STUB.read_text()).body if isinstance(n, (ast.ClassDef, ast.FunctionDef))}
    assert fresh == committed
    assert "S1LargestBCQ" not in out.read_text()  # constants keep their type, not the schema's values
    assert not out.with_name(out.name + ".part").exists()
