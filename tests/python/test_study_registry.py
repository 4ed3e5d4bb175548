"""The study protocol and registry (tpcml.studies): a study defined here, in the test, runs through
`tpcml run toy` and appears in `tpcml run all`'s index without any other file knowing about it."""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from tpcml import cli, studies
from tpcml.report.markdown import write_page
from tpcml.report.results import finish


@dataclass
class ToyConfig:
    out: Path
    n: int
    seed: int


def _add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--n", type=int, help="how many numbers to count (default: 3; 1 with --quick)")


def _configure(args: argparse.Namespace, profile: str) -> ToyConfig:
    return ToyConfig(out=Path(args.out), n=studies.profile_value(args, "n", TOY_PROFILES, profile), seed=args.seed)


def _count(ctx) -> None:
    ctx.state["numbers"] = list(range(ctx.config.n))
    ctx.say(f"counted {ctx.config.n} numbers")


def _report(ctx) -> Path:
    path = write_page(ctx.out / "report.md", ["# toy", "", f"numbers: {ctx.state['numbers']}", ""])
    finish(ctx, {"numbers": ctx.state["numbers"], "timings_s": ctx.timings}, path)
    return path


TOY_PROFILES = {"default": {"n": 3}, "quick": {"n": 1}}

TOY = studies.Study(
    name="toy",
    aliases=("toy-alias",),
    title="a toy study with one step",
    paper=studies.Paper(title="A toy paper", citation="T. Oy, A toy paper, J. Tests 1 (2026) 1"),
    profiles=TOY_PROFILES,
    add_arguments=_add_arguments,
    configure=_configure,
    steps=(studies.Step("count", _count),),
    report=_report,
)


@pytest.fixture
def toy():
    studies.register(TOY)
    yield TOY
    studies.unregister("toy")


def test_toy_study_runs_through_tpcml_run(toy, tmp_path, capsys):
    out = tmp_path / "toy"
    assert cli.main(["run", "toy", "--out", str(out), "--n", "5", "-q"]) == 0
    assert f"report: {out / 'report.md'}" in capsys.readouterr().out
    assert "numbers: [0, 1, 2, 3, 4]" in (out / "report.md").read_text()
    results = json.loads((out / "results.json").read_text())
    assert results["numbers"] == [0, 1, 2, 3, 4]
    assert set(results["timings_s"]) == {"count", "total"}
    assert results["report"] == str(out / "report.md")
    # its alias and its --quick configuration come from the registry too
    assert cli.main(["run", "toy-alias", "--out", str(tmp_path / "q"), "--quick", "-q"]) == 0
    assert json.loads((tmp_path / "q" / "results.json").read_text())["numbers"] == [0]


def test_toy_study_appears_in_run_all_index(toy, tmp_path, capsys):
    out = tmp_path / "all"
    assert cli.main(["run", "all", "--only", "toy", "--out", str(out), "--quick", "-q"]) == 0
    assert f"index: {out / 'index.md'}" in capsys.readouterr().out
    index = (out / "index.md").read_text()
    assert "[toy/report.md](toy/report.md)" in index
    assert "A toy paper" in index
    assert json.loads((out / "toy" / "results.json").read_text())["numbers"] == [0]  # --quick reached the toy


def test_run_all_without_only_lists_every_registered_study(toy, monkeypatch, tmp_path):
    """`tpcml run all` runs every study of the registry (here each study's run is replaced by a stub that
    writes its report page, so that the test stays cheap) and links each in the index."""
    ran = []

    def fake_run(study, config, out, quiet=False):
        ran.append(study.name)
        ctx = studies.Context(config=config, out=Path(out), say=lambda m: None)
        Path(out).mkdir(parents=True, exist_ok=True)
        ctx.results["report"] = str(write_page(Path(out) / "report.md", [f"# {study.name}"]))
        return ctx

    monkeypatch.setattr(studies, "run", fake_run)
    monkeypatch.setattr(cli, "study_config", lambda st, args: None)
    out = tmp_path / "all"
    assert cli.main(["run", "all", "--out", str(out), "-q"]) == 0
    names = [s.name for s in studies.studies(runnable=True)]
    assert ran == names
    assert {"pandax2", "pandax3", "quickstart", "toy"} <= set(names)
    index = (out / "index.md").read_text()
    for name in names:
        assert f"[{name}/report.md]({name}/report.md)" in index


def test_run_all_only_an_unknown_study_is_a_usage_error(tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "all", "--only", "nosuch", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    assert "no study 'nosuch'; known:" in capsys.readouterr().err


def test_registry_discovers_the_studies_and_their_aliases():
    assert studies.get("accidental") is studies.get("pandax2")
    assert studies.get("tracks") is studies.get("pandax3")
    assert studies.get("quickstart").name == "quickstart"
    for st in studies.studies():
        assert st.runnable == bool(st.steps and st.report and st.configure), st.name
        assert st.paper is None or st.paper.title
        assert st.runnable or st.simulate or st.plot, f"{st.name}: a registration that no verb offers"
    with pytest.raises(KeyError, match="no study 'nosuch'"):
        studies.get("nosuch")


def test_register_refuses_a_taken_name_or_alias(toy):
    with pytest.raises(ValueError, match="already registered"):
        studies.register(studies.Study(**{**TOY.__dict__, "aliases": ()}))
    clash = studies.Study(**{**TOY.__dict__, "name": "other", "aliases": ("accidental",)})
    with pytest.raises(ValueError, match="taken by study 'pandax2'"):
        studies.register(clash)
    with pytest.raises(ValueError, match="'all'"):
        studies.register(studies.Study(**{**TOY.__dict__, "name": "all", "aliases": ()}))


def test_run_all_only_empty_is_a_usage_error_not_every_study(tmp_path, capsys):
    """`--only ""` ran every study (the empty string read as "no selection")."""
    with pytest.raises(SystemExit) as exc:
        cli.main(["run", "all", "--only", " , ", "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    assert "--only: expected at least one study name; known: " in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
