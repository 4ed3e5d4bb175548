#!/usr/bin/env python3
"""Runs every bad-input case of the door tests and prints what was observed, as a Markdown table.

    venv/bin/python scripts/bad_input_table.py [--only cpp|py] [-k TEXT] [--out table.md]

The cases are the ones ``tests/python/test_doors_cpp.py`` and ``tests/python/test_doors_py.py`` check
(``tests/python/doors.py``); this script only runs them again and reports the exit status and the
first error line each entry point printed, so the table in docs and notes is measured, not typed.
A row whose exit status or message differs from the case's expectation is marked FAIL.
"""

from __future__ import annotations

import argparse
import importlib
import re
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODULES = {"cpp": "tests.python.test_doors_cpp", "py": "tests.python.test_doors_py"}


HEADER = """# Bad inputs at every door: the measured table

Every row is a case of `tests/python/test_doors_cpp.py` (C++ executables, ROOT macros, bindings) or
`tests/python/test_doors_py.py` (`tpcml` commands, PyROOT scripts, Python API), run again by
`python scripts/bad_input_table.py --out docs/bad-inputs.md`: the exit status and the first error line
each entry point printed (fixture paths shown as `…`). "ok" means the exit status and the message are the
ones the test expects, with no traceback, `terminate`, or signal death, and the inputs named in the case
byte-identical afterwards. Exit status: 0 ok, 1 bad input, 2 bad arguments. What each door accepts is in
[doors.md](doors.md) and [doors-python.md](doors-python.md).

"""


def _cell(text: str, width: int = 160) -> str:
    text = text.replace("|", "\\|").replace("`", "'")
    return text if len(text) <= width else text[: width - 1] + "…"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", choices=sorted(MODULES), help="run only one module's cases")
    parser.add_argument("-k", dest="keyword", default="", help="only the cases whose id contains TEXT")
    parser.add_argument("--out", type=Path, help="also write the table to this Markdown file")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO))
    from tests.python import doors

    rows, failures = [], 0
    for key, name in MODULES.items():
        if args.only and key != args.only:
            continue
        module = importlib.import_module(name)
        with tempfile.TemporaryDirectory(prefix=f"tpcml-doors-{key}-") as tmp:
            fixtures = Path(tmp)
            module.build_fixtures(fixtures)
            cases = [c for c in module.CASES if args.keyword in c.id]
            for n, case in enumerate(cases, 1):
                print(f"[{key} {n}/{len(cases)}] {case.id}", file=sys.stderr, flush=True)
                obs = doors.observe(case, fixtures)
                ok = obs.rc == case.rc and re.search(case.message, obs.output) is not None
                ok = ok and not any(bad in obs.output for bad in doors.FORBIDDEN)
                ok = ok and "[doors] INPUT CHANGED" not in obs.output
                failures += not ok
                message = re.sub(str(fixtures), "…", obs.message)
                rows.append((case.door, case.what, obs.rc, message, "ok" if ok else "FAIL"))
    lines = ["| # | entry point | input | exit | message | check |", "|---|---|---|---|---|---|"]
    for n, (door, what, rc, message, verdict) in enumerate(rows, 1):
        lines.append(f"| {n} | `{door}` | {_cell(what)} | {rc} | {_cell(message)} | {verdict} |")
    table = "\n".join(lines) + "\n"
    print(table)
    print(f"{len(rows)} rows, {failures} not as expected", file=sys.stderr)
    if args.out:
        tmp = args.out.with_name(args.out.name + ".tmp")
        tmp.write_text(HEADER + table)
        tmp.replace(args.out)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
