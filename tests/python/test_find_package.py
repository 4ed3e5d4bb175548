"""A downstream analysis builds against the installed tpcml with find_package(tpcml)."""

from __future__ import annotations

import shutil
import sys
import textwrap

import pytest

import tpcml

from .conftest import run


@pytest.mark.slow
def test_downstream_cmake_project(tmp_path, events_file):
    cmake = shutil.which("cmake", path=str(__import__("pathlib").Path(sys.executable).parent)) or shutil.which("cmake")
    assert cmake, "cmake not found"
    src = tmp_path / "ana"
    src.mkdir()
    (src / "CMakeLists.txt").write_text(
        textwrap.dedent("""
        cmake_minimum_required(VERSION 3.21)
        project(ana CXX)
        set(CMAKE_CXX_STANDARD 17)
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
    env = {"CMAKE_PREFIX_PATH": str(tpcml.cmake_dir())}
    res = run([cmake, "-S", str(src), "-B", str(build), f"-DPython3_EXECUTABLE={sys.executable}"], env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    res = run([cmake, "--build", str(build)], env=env)
    assert res.returncode == 0, res.stdout + res.stderr
    res = run([str(build / "ana"), str(events_file)])
    assert res.returncode == 0, res.stdout + res.stderr
    assert f"tpcml {tpcml.__version__} entries 4500 mean" in res.stdout
