"""The `arena` command line: one configuration path (`--models`, else ARENA_MODELS, else the packaged registry;
ARENA_MAX_STEPS for `episode`) read by every command, and every error one line on stderr with a non-zero exit,
never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

from api.cli import _parser, main
from policy_host.registry import DEFAULT_PATH
from replay_format import decode_replay
from tests.policy_host.helpers import ROOT, stop_policy_server

ONLY_HERE = """
[[model]]
name = "only-here"
kind = "zero"
organisation = "test"
licence = "MIT"
latency_s = 0.0
"""
INSTRUCTION = "pick up the red cube"


@pytest.fixture
def arena_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """ARENA_MODELS set to a registry holding only `only-here` (a policy the packaged registry lacks)."""
    models = tmp_path / "models.toml"
    models.write_text(ONLY_HERE)
    monkeypatch.setenv("ARENA_MODELS", str(models))
    return models


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """`arena argv...` in this process: (exit code, stdout, stderr)."""
    try:
        code = main(list(argv))
    except SystemExit as exc:  # argparse and load_settings exit with their message
        code = exc.code if isinstance(exc.code, int) else 1
        if isinstance(exc.code, str):
            print(exc.code, file=sys.stderr)
    out, err = capsys.readouterr()
    return code, out, err


def commands_with_models() -> set[str]:
    sub = next(a for a in _parser()._actions if isinstance(a, argparse._SubParsersAction))
    return {name for name, p in sub.choices.items() if any("--models" in a.option_strings for a in p._actions)}


# ---- one configuration path --------------------------------------------------------------------------

def test_every_command_that_loads_the_registry_is_covered_here() -> None:
    assert commands_with_models() == {"episode", "models", "check-policy", "policy-server", "eval"}


def test_models_lists_the_arena_models_registry_and_models_overrides(arena_models, capsys) -> None:
    code, out, _ = run(capsys, "models")
    assert code == 0
    assert "only-here" in out
    assert "scripted-expert" not in out
    code, out, _ = run(capsys, "models", "--models", str(DEFAULT_PATH))  # the flag wins over the variable
    assert code == 0
    assert "scripted-expert" in out
    assert "only-here" not in out


def test_episode_reads_arena_models_and_arena_max_steps(arena_models, tmp_path, monkeypatch, capsys) -> None:
    monkeypatch.setenv("ARENA_MAX_STEPS", "3")
    out_file = tmp_path / "ep.vlar"
    code, out, err = run(capsys, "episode", "--policy", "only-here", "--instruction", INSTRUCTION, "-o", str(out_file))
    assert code == 0, err
    assert len(decode_replay(out_file.read_bytes()).header.step_frames) == 3
    code, _, err = run(capsys, "episode", "--policy", "scripted-expert", "--instruction", INSTRUCTION,
                       "-o", str(out_file))
    assert (code, err) == (2, "error: unknown policy 'scripted-expert'\n")  # not in ARENA_MODELS' registry


def test_check_policy_reads_arena_models(arena_models, capsys) -> None:
    code, out, err = run(capsys, "check-policy", "only-here", "--calls", "1")
    assert code == 0, err
    assert "only-here: passed" in out
    code, _, err = run(capsys, "check-policy", "random")  # packaged, but not in ARENA_MODELS' registry
    assert (code, err) == (2, "error: unknown policy 'random'\n")


def test_eval_reads_arena_models(arena_models, tmp_path, capsys) -> None:
    report = tmp_path / "report"
    code, _, err = run(capsys, "eval", "--policy", "only-here", "--episodes", "1", "--families", "pick",
                       "--max-steps", "2", "--out", str(report))
    assert code == 0, err
    assert "only-here" in report.with_suffix(".md").read_text()


def test_eval_runs_in_a_robot_scene_cell(tmp_path, capsys) -> None:
    report = tmp_path / "report"
    code, out, err = run(capsys, "eval", "--policy", "zero", "--robot", "widowx", "--scene", "warehouse",
                         "--episodes", "1", "--families", "pick,place", "--max-steps", "2", "--out", str(report))
    assert code == 0, err
    assert "skipping place: the warehouse scene has no bowl" in out
    saved = json.loads(report.with_suffix(".json").read_text())
    assert (saved["robot"], saved["scene"]) == ("widowx", "warehouse")
    assert [f["family"] for f in saved["families"]] == ["pick"]
    assert "Robot `widowx`, scene `warehouse`" in report.with_suffix(".md").read_text()


def test_eval_refuses_a_robot_the_policy_does_not_drive(arena_models, tmp_path, capsys) -> None:
    args = ("--episodes", "1", "--families", "pick", "--out", str(tmp_path / "r"))
    code, _, err = run(capsys, "eval", "--policy", "only-here", "--robot", "widowx", *args)
    assert (code, err) == (2, "error: --robot: only-here drives ['franka'], not 'widowx'\n")
    code, _, err = run(capsys, "eval", "--policy", "zero", "--scene", "moon", *args, "--models", str(DEFAULT_PATH))
    assert code == 2
    assert "moon" in err
    assert not (tmp_path / "r.json").exists()


def test_policy_server_reads_arena_models(arena_models) -> None:
    proc = subprocess.Popen([sys.executable, "-m", "api.cli", "policy-server", "--policy", "only-here", "--port", "0"],
                            cwd=ROOT, env=os.environ.copy(), stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                            text=True)
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().startswith("serving only-here (openpi) on ws://127.0.0.1:")
    finally:
        stop_policy_server(proc)


# ---- errors: one line, non-zero, no traceback --------------------------------------------------------

def test_inspect_of_a_missing_file_is_one_line_in_a_real_process(tmp_path: Path) -> None:
    done = subprocess.run([sys.executable, "-m", "api.cli", "inspect", "missing.vlar"], cwd=tmp_path,
                          env={**os.environ, "PYTHONPATH": str(ROOT)}, capture_output=True, text=True, timeout=60)
    assert done.returncode == 1
    assert done.stderr == "error: missing.vlar: No such file or directory\n"
    assert done.stdout == ""


def _garbage(tmp_path: Path) -> list[str]:
    (tmp_path / "garbage.vlar").write_bytes(b"not a replay at all" * 10)
    return ["inspect", str(tmp_path / "garbage.vlar")]


def _truncated(tmp_path: Path) -> list[str]:
    whole = tmp_path / "whole.vlar"
    assert main(["episode", "--policy", "zero", "--instruction", INSTRUCTION, "--max-steps", "2", "-o", str(whole),
                 "--models", str(DEFAULT_PATH)]) == 0
    (tmp_path / "cut.vlar").write_bytes(whole.read_bytes()[:-40])
    return ["inspect", str(tmp_path / "cut.vlar")]


def _bad_registry(tmp_path: Path) -> list[str]:
    (tmp_path / "bad.toml").write_text("[[model]\nname = ")
    return ["models", "--models", str(tmp_path / "bad.toml")]


CASES = {
    "inspect a folder": (lambda t: ["inspect", str(t)], 1, "Is a directory"),
    "inspect a corrupt file": (_garbage, 2, "error: bad magic: not a .vlar replay file"),
    "inspect a truncated file": (_truncated, 2, "error: "),
    "a registry that is not TOML": (_bad_registry, 2, "error: models: cannot load registry"),
    "a missing registry": (lambda t: ["models", "--models", str(t / "none.toml")], 2, "No such file or directory"),
    "an unknown policy": (lambda t: ["check-policy", "nobody"], 2, "error: unknown policy 'nobody'"),
    "an unwritable output": (lambda t: ["episode", "--policy", "zero", "--instruction", INSTRUCTION,
                                        "--max-steps", "1", "-o", str(t / "no" / "x.vlar")], 1,
                             "No such file or directory"),
    "a missing argument": (lambda t: ["episode"], 2, "arena episode: error: the following arguments are required"),
    "a bad number": (lambda t: ["inspect", "x", "--every", "many"], 2, "invalid int value: 'many'"),
}


@pytest.mark.parametrize("case", CASES)
def test_every_cli_error_is_one_line_and_a_nonzero_exit(tmp_path, capsys, case) -> None:
    make, want_code, says = CASES[case]
    argv = make(tmp_path)
    capsys.readouterr()
    code, _, err = run(capsys, *argv)
    assert code == want_code
    assert err.count("\n") == 1, err
    assert says in err
    assert "Traceback" not in err


def test_a_bad_arena_setting_is_one_line(monkeypatch, capsys) -> None:
    monkeypatch.setenv("ARENA_MAX_STEPS", "lots")
    code, _, err = run(capsys, "models")
    assert code == 1
    assert err.startswith("invalid ARENA_* setting")
    assert err.count("\n") == 1


def test_a_policy_server_on_a_taken_port_is_one_line(capsys) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        code, _, err = run(capsys, "policy-server", "--policy", "zero", "--port", str(taken.getsockname()[1]))
    assert code == 1
    assert err.startswith("error: ")
    assert "address already in use" in err.lower()
    assert err.count("\n") == 1


def test_an_unexpected_error_is_one_line_and_debug_shows_its_traceback(monkeypatch, capsys) -> None:
    def broken(args: argparse.Namespace) -> int:
        raise RuntimeError("boom\non two lines")

    monkeypatch.setattr("api.cli.cmd_inspect", broken)
    code, _, err = run(capsys, "inspect", "x.vlar")
    assert code == 1
    assert err == "error: unexpected RuntimeError: boom on two lines (arena --debug ... shows the traceback)\n"
    with pytest.raises(RuntimeError, match="boom"):
        main(["--debug", "inspect", "x.vlar"])
