# tpcmlROOTWheel.cmake -- find ROOT, including the ROOT that installs from PyPI.
#
# The PyPI wheel (root==0.1a12, ROOT 6.40) ships CMake config files whose
# imported targets point at a non-existent ".../mock_site_packages/ROOT/..."
# (upstream root-project/root#22654), so a plain find_package(ROOT) fails.
# We leave the installed wheel untouched: the config directory is copied into
# the build tree with the mock prefix rewritten to the real ROOT directory,
# and find_package() is pointed at the copy. Installed ROOTs without the bug
# are used as they are.
#
# Where: ROOT_DIR or $ROOTSYS when given; else TPCML_ROOT_CONFIG_HINT (set by tpcmlConfig.cmake
# to the ROOT wheel beside a pip-installed tpcml); else the ROOT package of Python3_EXECUTABLE
# (or of the python3 on PATH).
#
# Result: ROOT_FOUND, the ROOT::* imported targets, ROOT_LIBRARY_DIR and
# TPCML_ROOT_PREFIX (the directory holding ROOT's lib/ and include/).
#
# With TPCML_STABLE_DEPENDENCY_PATHS on (set by the top-level CMakeLists for a
# `pip install .` wheel build), the patched config reaches ROOT through a
# symbolic link in the build tree (tpcml_stable_link below). pip builds every
# wheel in a fresh isolated environment, so the real ROOT path changes from one
# `pip install .` to the next; through the link, compile and link commands stay
# the same and a reused build directory rebuilds only what changed.

function(_tpcml_python_root_prefix out)
  set(_py "${Python3_EXECUTABLE}")
  if(NOT _py)
    find_program(_py NAMES python3 python)
  endif()
  if(_py)
    # find_spec on a top-level package does not import it (importing ROOT is slow).
    execute_process(
      COMMAND "${_py}" -c
              "import importlib.util as u, os; s = u.find_spec('ROOT'); print(os.path.dirname(s.origin) if s and s.origin else '')"
      OUTPUT_VARIABLE _dir OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
  endif()
  set(${out} "${_dir}" PARENT_SCOPE)
endfunction()

# tpcml_stable_link(<out-var> <name> <version> <real-dir>): a link
# <build>/_tpcml_deps/<name>-<version> -> <real-dir>, (re)made at every configure;
# <out-var> is the link's path. The version is part of the name so that another
# version of the dependency changes the commands and rebuilds everything.
function(tpcml_stable_link out name version real)
  set(_link "${CMAKE_BINARY_DIR}/_tpcml_deps/${name}-${version}")
  file(MAKE_DIRECTORY "${CMAKE_BINARY_DIR}/_tpcml_deps")
  file(REMOVE "${_link}")
  file(CREATE_LINK "${real}" "${_link}" SYMBOLIC)
  set(${out} "${_link}" PARENT_SCOPE)
endfunction()

macro(tpcml_find_root)
  set(_tpcml_root_components ${ARGN})
  set(_tpcml_root_cfg "")
  # A ROOT_DIR pointing at our own patched copy (from an earlier configure) is
  # re-derived from the original, so that a changed or reinstalled ROOT is seen.
  if(ROOT_DIR MATCHES "/_tpcml_root_cmake$")
    unset(ROOT_DIR CACHE)
    unset(ROOT_DIR)
  endif()
  if(NOT ROOT_DIR AND NOT DEFINED ENV{ROOTSYS})
    if(TPCML_ROOT_CONFIG_HINT AND EXISTS "${TPCML_ROOT_CONFIG_HINT}/ROOTConfig.cmake")
      # tpcmlConfig.cmake of a pip-installed tpcml: the ROOT wheel installed beside it
      set(_tpcml_root_cfg "${TPCML_ROOT_CONFIG_HINT}")
    else()
      _tpcml_python_root_prefix(_tpcml_root_pkg)
      if(_tpcml_root_pkg AND EXISTS "${_tpcml_root_pkg}/cmake/ROOTConfig.cmake")
        set(_tpcml_root_cfg "${_tpcml_root_pkg}/cmake")
      endif()
    endif()
  elseif(ROOT_DIR)
    set(_tpcml_root_cfg "${ROOT_DIR}")
    get_filename_component(_tpcml_root_pkg "${ROOT_DIR}/.." ABSOLUTE)
  endif()

  if(_tpcml_root_cfg AND EXISTS "${_tpcml_root_cfg}/ROOTConfig-targets-release.cmake")
    file(READ "${_tpcml_root_cfg}/ROOTConfig-targets-release.cmake" _tpcml_targets)
    string(FIND "${_tpcml_targets}" "/mock_site_packages/" _tpcml_mock)
    if(NOT _tpcml_mock EQUAL -1)
      get_filename_component(_tpcml_real "${_tpcml_root_cfg}/.." REALPATH)
      get_filename_component(_tpcml_site "${_tpcml_real}/.." REALPATH)
      set(_tpcml_site_ref "${_tpcml_site}")
      set(_tpcml_root_ref "${_tpcml_real}")
      if(TPCML_STABLE_DEPENDENCY_PATHS)
        file(STRINGS "${_tpcml_root_cfg}/ROOTConfig-version.cmake" _tpcml_v REGEX "set\\(PACKAGE_VERSION ")
        string(REGEX REPLACE ".*\"(.*)\".*" "\\1" _tpcml_v "${_tpcml_v}")
        tpcml_stable_link(_tpcml_site_ref root-site "${_tpcml_v}" "${_tpcml_site}")
        set(_tpcml_root_ref "${_tpcml_site_ref}/ROOT")
      endif()
      set(_tpcml_fixed "${CMAKE_BINARY_DIR}/_tpcml_root_cmake")
      file(REMOVE_RECURSE "${_tpcml_fixed}")
      file(COPY "${_tpcml_root_cfg}/" DESTINATION "${_tpcml_fixed}")
      file(GLOB _tpcml_cfg_files "${_tpcml_fixed}/ROOTConfig*.cmake")
      foreach(_f IN LISTS _tpcml_cfg_files)
        file(READ "${_f}" _txt)
        # ROOT and its sibling packages (cppyy, ...) live in the real site-packages.
        string(REPLACE "\${_IMPORT_PREFIX}/mock_site_packages/" "${_tpcml_site_ref}/" _txt "${_txt}")
        # ROOTConfig.cmake locates include/, lib/ and bin/ relative to itself.
        string(REPLACE "\${_thisdir}/../" "${_tpcml_root_ref}/" _txt "${_txt}")
        if(TPCML_STABLE_DEPENDENCY_PATHS)   # keep the link in ROOT_INCLUDE_DIRS & co.
          string(REPLACE " REALPATH)" " ABSOLUTE)" _txt "${_txt}")
        endif()
        file(WRITE "${_f}" "${_txt}")
      endforeach()
      set(ROOT_DIR "${_tpcml_fixed}" CACHE PATH "ROOT CMake config (patched copy of the PyPI wheel's)" FORCE)
      message(STATUS "tpcml: using ROOT from the PyPI wheel at ${_tpcml_real} (patched config, root-project/root#22654)")
    else()
      set(ROOT_DIR "${_tpcml_root_cfg}" CACHE PATH "ROOT CMake config" FORCE)
    endif()
  endif()

  find_package(ROOT 6.30 REQUIRED COMPONENTS ${_tpcml_root_components})
  get_filename_component(TPCML_ROOT_PREFIX "${ROOT_LIBRARY_DIR}/.." REALPATH)
  # The wheel vendors libpng & co. in site-packages/root.libs: the linker must see
  # them when it resolves ROOT's own dependencies of an executable.
  if(TPCML_STABLE_DEPENDENCY_PATHS)
    get_filename_component(_tpcml_root_libs "${ROOT_LIBRARY_DIR}/../../root.libs" ABSOLUTE)
  else()
    get_filename_component(_tpcml_root_libs "${TPCML_ROOT_PREFIX}/../root.libs" REALPATH)
  endif()
  if(EXISTS "${_tpcml_root_libs}")
    set(TPCML_ROOT_VENDORED_LIBS "${_tpcml_root_libs}")
    # Every executable linking ROOT (ours and a downstream analysis's) needs it.
    set_property(TARGET ROOT::Core APPEND PROPERTY INTERFACE_LINK_OPTIONS
                 "LINKER:-rpath-link,${_tpcml_root_libs}")
  endif()
endmacro()
