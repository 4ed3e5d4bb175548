"""Environment report for ``tpcml info``: versions, installed extras, CPU features, GPU visibility.

Package versions are read from installed metadata, so the report does not pay
for importing TensorFlow.
"""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from pathlib import Path

from . import _core
from .core import extras

#: Distribution names whose versions the report lists, in order.
PACKAGES = ("root", "tensorflow", "keras", "tf2onnx", "onnx", "onnxruntime", "nestpy", "numpy", "uproot")

#: CPU flags that matter for the C++ kernels and for TensorFlow.
CPU_FLAGS = ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512bw", "avx512_vnni", "avx512_bf16", "amx_tile")


def package_versions() -> dict[str, str | None]:
    return extras.versions(PACKAGES)


def cpu_info(cpuinfo: Path = Path("/proc/cpuinfo")) -> dict[str, object]:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        for line in cpuinfo.read_text().splitlines():
            key, _, value = line.partition(":")
            key = key.strip()
            if key == "model name":
                model = value.strip()
            elif key == "flags":
                flags = set(value.split())
    except OSError:
        pass
    return {
        "model": model,
        "logical_cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count(),
        "flags": [f for f in CPU_FLAGS if f in flags],
    }


def gpu_info() -> dict[str, object]:
    """Whether an NVIDIA GPU is visible to this process (driver device nodes / nvidia-smi)."""
    devices = sorted(str(p) for p in Path("/dev").glob("nvidia[0-9]*"))
    names: list[str] = []
    smi = shutil.which("nvidia-smi")
    if smi:
        try:
            res = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10, check=False)
            names = [ln.strip() for ln in res.stdout.splitlines() if ln.strip().startswith("GPU")]
        except (OSError, subprocess.TimeoutExpired):
            pass
    visible = bool(names or devices)
    cuda_env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if cuda_env is not None and cuda_env.strip() in ("", "-1"):
        visible = False
    return {"visible": visible, "gpus": names, "device_nodes": devices, "CUDA_VISIBLE_DEVICES": cuda_env}


def collect() -> dict[str, object]:
    from tpcml.core.paths import data_dir, include_dir, library_dir

    return {
        "tpcml": _core.version(),
        "tpcml_library": str(library_dir()),
        "tpcml_include": str(include_dir()),
        "tpcml_data": str(data_dir()),
        "compiler": _core.compiler_version(),
        "python": platform.python_version(),
        "packages": package_versions(),
        "extras": extras.status(),
        "cpu": cpu_info(),
        "gpu": gpu_info(),
        "detectors": _core.DetectorConfig.available(),
    }


def format_report(info: dict) -> str:
    lines = [
        f"tpcml        {info['tpcml']}",
        f"  library    {info['tpcml_library']}",
        f"  headers    {info['tpcml_include']}",
        f"  data       {info['tpcml_data']}",
        f"  compiler   {info['compiler']}",
        f"python       {info['python']}",
    ]
    for name, ver in info["packages"].items():
        lines.append(f"{name:<12} {ver or 'not installed'}")
    for name, ext in info["extras"].items():
        if ext["installed"]:
            state = "installed"
        elif ext["packages"]:
            state = f"not installed (missing {', '.join(ext['missing'])}): {ext['install']}"
        else:
            state = "unknown (no tpcml package metadata)"
        lines.append(f"{'tpcml[' + name + ']':<12} {state}: {ext['purpose']}")
    cpu = info["cpu"]
    lines.append(f"cpu          {cpu['model']} ({cpu['usable_cores']} usable / {cpu['logical_cores']} logical cores)")
    lines.append(f"  features   {' '.join(cpu['flags']) or 'none of ' + ', '.join(CPU_FLAGS)}")
    gpu = info["gpu"]
    if gpu["visible"]:
        lines.append(f"gpu          visible: {'; '.join(gpu['gpus']) or ', '.join(gpu['device_nodes'])}")
    else:
        lines.append("gpu          none visible (CPU only)")
    lines.append(f"detectors    {', '.join(info['detectors'])}")
    return "\n".join(lines)
