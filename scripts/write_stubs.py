"""Writes python/tpcml/_core.pyi, the type stubs of the private pybind11 module, from the built module.

Run it after changing a binding (``make stubs``); tests/python/test_stubs.py fails while the stub
names a different set of functions, classes or members than the module has.
"""

from __future__ import annotations

import argparse
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HEADER = (
    "# Type stubs of tpcml._core (the private pybind11 module): written by scripts/write_stubs.py\n"
    "# (pybind11-stubgen) from the built module; do not edit by hand, run `make stubs`.\n"
)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=ROOT / "python" / "tpcml" / "_core.pyi", help="stub file to write")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        cmd = [sys.executable, "-m", "pybind11_stubgen", "tpcml._core", "-o", tmp]
        subprocess.run(cmd, check=True)
        text = HEADER + (Path(tmp) / "tpcml" / "_core.pyi").read_text()
    # Constants keep their type, not their value: the events schema has one home (EventSchema.h).
    text = re.sub(r"^([A-Za-z_][A-Za-z0-9_]*): (tuple|dict|list) = .*$", r"\1: \2", text, flags=re.M)
    part = args.out.with_name(args.out.name + ".part")
    part.write_text(text)
    part.replace(args.out)
    print(f"wrote {args.out} ({len(text.splitlines())} lines)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
