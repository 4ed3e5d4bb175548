"""The install path (docs/install.md): declared dependencies, the wheel build's CMake settings, plain `import ROOT`."""

from __future__ import annotations

import ast
import json
import re
import shutil
import subprocess
import sys
import textwrap
from importlib import metadata
from pathlib import Path

import pytest
import tomllib

from .conftest import REPO, run

PACKAGE = REPO / "python" / "tpcml"


def _norm(dist: str) -> str:
    return re.sub(r"[-_.]+", "-", dist).lower()


def _declared() -> tuple[set[str], dict[str, set[str]]]:
    """Distribution names of pyproject.toml: the base dependencies and each extra's."""
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]

    def names(reqs):
        return {_norm(re.match(r"[A-Za-z0-9._-]+", r).group(0)) for r in reqs}

    extras = {k: names(v) for k, v in project["optional-dependencies"].items() if k != "test"}
    return names(project["dependencies"]), extras


def _imports(path: Path) -> tuple[set[str], set[tuple[str, str]]]:
    """Top-level modules a file imports with `import`/`from` (not counting optional imports), and the
    (extra, module) pairs of its `require(extra, module)` calls."""
    tree = ast.parse(path.read_text(), str(path))
    # an import inside `try: ... except ImportError:` is optional by design (the code runs without it)
    optional = {
        id(n)
        for t in ast.walk(tree)
        if isinstance(t, ast.Try)
        and any(ast.unparse(h.type or ast.Name("")) in ("ImportError", "ModuleNotFoundError") for h in t.handlers)
        for stmt in t.body
        for n in ast.walk(stmt)
    }
    plain: set[str] = set()
    required: set[tuple[str, str]] = set()
    for node in ast.walk(tree):
        if id(node) in optional:
            continue
        if isinstance(node, ast.Import):
            plain.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            plain.add(node.module.split(".")[0])
        elif (
            isinstance(node, ast.Call)
            and getattr(node.func, "id", getattr(node.func, "attr", None)) == "require"
            and len(node.args) == 2
            and all(isinstance(a, ast.Constant) for a in node.args)
        ):
            required.add((node.args[0].value, node.args[1].value.split(".")[0]))
    return plain, required


def test_every_third_party_import_is_declared():
    """Each third-party module python/tpcml imports is a base dependency; a module of an optional extra is
    imported only through tpcml.core.extras.require, naming the extra that declares it."""
    base, extras = _declared()
    dists = metadata.packages_distributions()
    problems = []
    for path in sorted(PACKAGE.rglob("*.py")):
        plain, required = _imports(path)
        where = path.relative_to(REPO)
        for mod in sorted(plain - set(sys.stdlib_module_names) - {"tpcml", "_tpcml_root_env", "__future__"}):
            owners = {_norm(d) for d in dists.get(mod, [])}
            if not owners:
                problems.append(f"{where}: imports {mod}, which is not installed in the test environment")
            elif not owners & base:
                extra = [k for k, v in extras.items() if owners & v]
                hint = f"in extra {extra[0]}: use require({extra[0]!r}, {mod!r})" if extra else "not declared"
                problems.append(f"{where}: imports {mod} ({', '.join(sorted(owners))}) {hint}")
        for extra, mod in sorted(required):
            owners = {_norm(d) for d in dists.get(mod, [])}
            if not owners & extras.get(extra, set()):
                problems.append(f"{where}: require({extra!r}, {mod!r}) but tpcml[{extra}] does not declare {mod}")
    assert not problems, "\n".join(problems)


def test_scipy_is_a_base_dependency():
    """scipy is imported by the base package (stats, gas readout): a base dependency, not left to an extra."""
    base, _ = _declared()
    assert "scipy" in base
    assert any("scipy" in _imports(p)[0] for p in PACKAGE.rglob("*.py"))


def test_wheel_build_settings():
    """`pip install .`: no GoogleTest (BUILD_TESTING OFF), a persistent build directory outside the source
    tree; the editable developer build keeps build/<wheel tag>; an sdist build a temporary one."""
    skb = tomllib.loads((REPO / "pyproject.toml").read_text())["tool"]["scikit-build"]
    assert skb["cmake"]["define"]["BUILD_TESTING"] == "OFF"
    build_dir = Path(skb["build-dir"].format(root=REPO, wheel_tag="cp311-cp311-linux_x86_64"))
    assert build_dir.is_absolute()
    assert not build_dir.is_relative_to(REPO)
    assert str(REPO) in str(build_dir)  # one build directory per checkout
    overrides = {next(iter(o["if"].items())): o["build-dir"] for o in skb["overrides"]}
    assert overrides == {("state", "editable"): "build/{wheel_tag}", ("from-sdist", True): ""}
    setup = (REPO / "scripts" / "setup.sh").read_text()
    assert "-Ccmake.define.BUILD_TESTING=ON" in setup


@pytest.mark.slow
def test_wheel_configure_stable_paths_vendored_tomlpp(tmp_path):
    """Configure as a wheel build does (TPCML_STABLE_DEPENDENCY_PATHS) with the vendored toml++ and
    BUILD_TESTING OFF: compile commands reach ROOT and pybind11 only through the build tree's links, system
    headers are left out of the dependency files (-MMD), no GoogleTest is looked for, and nothing is written
    into the source tree."""
    cmake = shutil.which("cmake", path=str(Path(sys.executable).parent)) or shutil.which("cmake")
    ninja = shutil.which("ninja", path=str(Path(sys.executable).parent)) or shutil.which("ninja")
    if not ninja:
        pytest.skip("ninja not installed")
    git = shutil.which("git")
    before = subprocess.run([git, "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout
    build = tmp_path / "build"
    res = run(
        [
            cmake,
            "-S",
            str(REPO),
            "-B",
            str(build),
            "-G",
            "Ninja",
            f"-DPython3_EXECUTABLE={sys.executable}",
            "-DTPCML_PYTHON=ON",
            "-DBUILD_TESTING=OFF",
            "-DTPCML_STABLE_DEPENDENCY_PATHS=ON",
            "-DTPCML_USE_SYSTEM_TOMLPP=OFF",
        ]
    )
    assert res.returncode == 0, res.stdout + res.stderr
    assert "toml++ from the vendored copy (third_party/tomlplusplus, 3.3.0)" in res.stdout
    assert "GTest" not in (build / "CMakeCache.txt").read_text()
    links = {p.name: p for p in (build / "_tpcml_deps").iterdir()}
    assert {n.split("-")[0] for n in links} == {"root", "pybind11"}
    site = Path(metadata.distribution("root").locate_file("")).resolve()
    assert links[next(n for n in links if n.startswith("root-site-"))].resolve() == site
    commands = json.loads((build / "compile_commands.json").read_text())
    core = [c["command"] for c in commands if c["file"].endswith("src/core/RootIO.cxx")]
    assert core, "RootIO.cxx not in compile_commands.json"
    assert str(build / "_tpcml_deps" / "root-site-") in core[0]
    assert str(site) not in core[0]
    assert str(REPO / "third_party" / "tomlplusplus" / "include") in " ".join(c["command"] for c in commands)
    ninja_rules = (build / "CMakeFiles" / "rules.ninja").read_text()
    assert "-MMD -MT" in ninja_rules
    after = subprocess.run([git, "status", "--porcelain"], cwd=REPO, capture_output=True, text=True).stdout
    assert after == before


def test_plain_import_root_finds_tpcml():
    """After a plain `import ROOT` (no tpcml.load_root), Python access to a tpcml class loads libtpcml
    (.rootmap) and `#include "tpcml/tpcml.h"` is found; jitted code then uses the classes (core/root.py)."""
    code = textwrap.dedent("""
        import ROOT
        tau = ROOT.tpcml.DetectorConfig.load("pandax2").get("electron_lifetime", "us")
        assert ROOT.gInterpreter.Declare('#include "tpcml/tpcml.h"')
        df = ROOT.RDataFrame(4).Define("d", "tpcml::DriftDepth(2.)(float(rdfentry_))")
        print(tau, df.Min("d").GetValue())
    """)
    res = run([sys.executable, "-c", code])
    assert res.returncode == 0, res.stdout + res.stderr
    tau, depth = res.stdout.split()
    assert float(tau) > 0
    assert float(depth) == -6.0
