"""A downstream analysis builds against the installed tpcml with find_package(tpcml), without the venv active."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import tpcml

# The recipe of docs/install.md for a project given only the interpreter (-DPython3_EXECUTABLE=...).
ASK_PYTHON = """
if(NOT tpcml_DIR AND Python3_EXECUTABLE)
  execute_process(COMMAND "${Python3_EXECUTABLE}" -c "import tpcml; print(tpcml.cmake_dir())"
                  OUTPUT_VARIABLE tpcml_DIR OUTPUT_STRIP_TRAILING_WHITESPACE COMMAND_ERROR_IS_FATAL ANY)
endif()
"""


def _clean_env() -> dict[str, str]:
    """The environment of a shell where the venv was never activated: system PATH, none of the variables
    that the venv's start-up hook (tpcml-root-env.pth) or an activate script set."""
    drop = ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "ROOTSYS", "ROOT_INCLUDE_PATH", "ROOT_LIBRARY_PATH")
    env = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith(("CMAKE_", "LD_"))}
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin"
    return env


@pytest.mark.slow
@pytest.mark.parametrize("given", ["tpcml_DIR", "Python3_EXECUTABLE"])
def test_downstream_cmake_project_without_venv(tmp_path, events_file, given):
    cmake = shutil.which("cmake", path=str(Path(sys.executable).parent)) or shutil.which("cmake")
    assert cmake, "cmake not found"
    env = _clean_env()
    assert shutil.which("python3", path=env["PATH"]) != sys.executable
    src = tmp_path / "ana"
    src.mkdir()
    (src / "CMakeLists.txt").write_text(
        textwrap.dedent("""
        cmake_minimum_required(VERSION 3.21)
        project(ana CXX)
        set(CMAKE_CXX_STANDARD 17)
        """)
        + (ASK_PYTHON if given == "Python3_EXECUTABLE" else "")
        + textwrap.dedent("""
        find_package(tpcml REQUIRED)
        add_executable(ana ana.cxx)
        target_link_libraries(ana PRIVATE tpcml::tpcml)
        """)
    )
    (src / "ana.cxx").write_text(
        textwrap.dedent("""
        #include "tpcml/core/DetectorConfig.h"
        #include "tpcml/lxe/DriftCorrection.h"
        #include "tpcml/core/RootIO.h"
        #include "tpcml/core/Version.h"
        #include <ROOT/RDataFrame.hxx>
        #include <iostream>
        int main(int argc, char **argv) {
           const auto corr = tpcml::ElectronLifetimeCorrection::fromDetector("pandax2");
           const auto s = tpcml::describeTree(argv[1], "events");
           ROOT::RDataFrame df("events", argv[1]);
           auto mean = df.Define("qS2c", corr, {"qS2", "drift_time"}).Mean("qS2c");
           std::cout << "tpcml " << tpcml::version() << " entries " << s.entries
                     << " mean " << *mean << std::endl;
           return argc == 2 ? 0 : 1;
        }
    """)
    )
    build = tmp_path / "build"
    value = str(tpcml.cmake_dir()) if given == "tpcml_DIR" else sys.executable
    steps = (
        [cmake, "-S", str(src), "-B", str(build), f"-D{given}={value}"],
        [cmake, "-S", str(src), "-B", str(build)],  # a second configure reuses the cache
        [cmake, "--build", str(build)],
        [str(build / "ana"), str(events_file)],
    )
    for cmd in steps:
        res = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
        assert res.returncode == 0, f"{cmd}:\n{res.stdout}{res.stderr}"
    assert f"tpcml {tpcml.__version__} entries 4500 mean" in res.stdout
