"""Column aliases for the user's own files: the names tpcml expects (the events schema, docs/event-model.md) read
from branches of other names.

``--column qS1=my_s1`` (repeatable) on the command line becomes ``{"qS1": "my_s1"}``; :func:`read_aliased` reads
``my_s1`` and returns it as ``qS1``; :func:`check_aliased` runs the same checks (file, tree, branch names and
types, the nearest names of a typo) without reading any data, so a command can refuse a bad input before its
expensive imports (TensorFlow).
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Mapping

import numpy as np

from .errors import ArgumentError, InputError

__all__ = ["add_options", "alias", "aliases", "check_aliased", "read_aliased"]


def alias(text: str) -> tuple[str, str]:
    """argparse type of ``--column NAME=BRANCH``: (NAME, BRANCH)."""
    import argparse

    name, sep, branch = text.partition("=")
    name, branch = name.strip(), branch.strip()
    if not sep or not name or not branch:
        raise argparse.ArgumentTypeError(f"{text!r}: expected NAME=BRANCH, e.g. qS1=my_s1")
    return name, branch


def aliases(pairs: Iterable[tuple[str, str]] | None, known: Iterable[str], option: str = "--column") -> dict[str, str]:
    """``{NAME: BRANCH}`` from parsed ``--column`` values; ArgumentError (exit 2) for a NAME that is not one of
    ``known`` (with the nearest known names) or a NAME given twice."""
    known = list(known)
    out: dict[str, str] = {}
    for name, branch in pairs or ():
        if name not in known:
            near = difflib.get_close_matches(name, known, n=3, cutoff=0.5)
            hint = f" (did you mean {', '.join(near)}?)" if near else ""
            raise ArgumentError(
                f"{option} {name}={branch}: {name!r} is not a column tpcml reads here{hint}; known: {', '.join(known)}"
            )
        if name in out and out[name] != branch:
            raise ArgumentError(f"{option}: {name} given twice ({out[name]}, {branch})")
        out[name] = branch
    return out


def _branches(columns: Mapping[str, str], names: Mapping[str, str]) -> dict[str, str]:
    """{branch in the file: kind} for {tpcml name: kind}."""
    return {names.get(c, c): kind for c, kind in columns.items()}


def _with_alias_hint(err: InputError, names: Mapping[str, str], option: str) -> InputError:
    """The reader's message, plus how to point a tpcml name at another branch when a branch is missing."""
    text = str(err)
    if "lacks the column" not in text:
        return err
    given = ", ".join(f"{k}={v}" for k, v in names.items())
    return InputError(
        f"{text}; point a name at your branch with {option} NAME=BRANCH" + (f" (given: {given})" if given else "")
    )


def _through(reader, path, tree: str, columns: Mapping[str, str], names, option: str):
    """``reader(path, tree, {branch: kind})`` and the aliases used; a missing branch's error says how to alias."""
    names = dict(names or {})
    try:
        return reader(path, tree, _branches(columns, names)), names
    except InputError as err:
        raise _with_alias_hint(err, names, option) from None


def check_aliased(path: str | os.PathLike, tree: str, columns: Mapping[str, str], names=None, option="--column") -> str:
    """:func:`tpcml.core.rootio.check_columns` of ``columns`` ({tpcml name: kind}) read through ``names``
    ({tpcml name: branch}); InputError names the file, tree or branch with the nearest names. Returns "TTree" or
    "RNTuple". Reads no data."""
    from .rootio import check_columns

    return _through(check_columns, path, tree, columns, names, option)[0]


def read_aliased(
    path: str | os.PathLike,
    tree: str,
    columns: Mapping[str, str],
    names: Mapping[str, str] | None = None,
    option: str = "--column",
) -> dict[str, np.ndarray]:
    """:func:`tpcml.core.rootio.read_columns` of ``columns`` ({tpcml name: kind}) read through ``names``
    ({tpcml name: branch}), returned under the tpcml names."""
    from .rootio import read_columns

    arrays, names = _through(read_columns, path, tree, columns, names, option)
    return {c: arrays[names.get(c, c)] for c in columns}


def add_options(p, tree_help: str, column_help: str) -> None:
    """``--tree`` (default ``events``) and the repeatable ``--column NAME=BRANCH`` on the argparse parser ``p``."""
    from tpcml.core.options import add_tree

    add_tree(p, tree_help)  # the shared --tree NAME
    p.add_argument("--column", type=alias, action="append", metavar="NAME=BRANCH", help=column_help)
