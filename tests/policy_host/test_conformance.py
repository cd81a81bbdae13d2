"""check_policy() passes every registry policy and reports (never raises) each way a policy can break."""

from __future__ import annotations

import json
import time
from pathlib import Path

import numpy as np
import pytest

from api.cli import main
from policy_host.registry import Registry
from policy_host.remote import OpenPiRemotePolicy, RoboArenaRemotePolicy
from schemas.policy import ActionSpace, PolicyMetadata
from sim_engine.conformance import PolicyReport, Status, check_policy
from tests.policy_host.helpers import Recording, Returns, url

REGISTRY = Registry.from_file()


def statuses(report: PolicyReport) -> dict[str, Status]:
    return {c.name: c.status for c in report.checks}


@pytest.mark.parametrize("name", list(REGISTRY.entries))
def test_every_registry_policy_conforms(name: str) -> None:
    with REGISTRY.open(name) as policy:  # on the robot it drives (a learned checkpoint drives one)
        report = check_policy(policy, name=name, robot_id=REGISTRY.get(name).robots[0])
        claims = policy.metadata.deterministic
    assert report.passed, report
    found = statuses(report)
    assert set(found) == {"metadata", "reset", "episode", "shape", "dtype", "finite", "bounds", "latency",
                          "determinism"}
    assert found["determinism"] is (Status.PASS if claims else Status.SKIP)  # the built-in policies claim it
    assert report.latency is not None
    assert report.latency.calls >= 3


class Broken(Returns):
    """Declares a joint-velocity chunk of `chunk` actions; returns `output` (a callable of the call count)."""

    def __init__(self, output, chunk: int = 1, deterministic: bool = True) -> None:
        super().__init__(None, deterministic=deterministic)
        self._meta = PolicyMetadata(action_space=ActionSpace.JOINT_VELOCITY, chunk_length=chunk,
                                    deterministic=deterministic)
        self.make, self.calls = output, 0

    def infer(self, obs):
        self.calls += 1
        return self.make(self.calls)


@pytest.mark.parametrize(("policy", "failed", "says"), [
    (Broken(lambda k: np.zeros(8)), {"shape"}, "got ndarray (8,) float64; expected ndarray (1, 8)"),
    (Broken(lambda k: np.zeros((2, 8)), chunk=3), {"shape"}, "got ndarray (2, 8) float64; expected ndarray (3, 8)"),
    (Broken(lambda k: np.zeros((1, 8)).tolist()), {"shape", "dtype"}, "got list"),
    (Broken(lambda k: np.zeros((1, 8), np.float32)), {"dtype"}, "got ndarray (1, 8) float32; expected float64"),
    (Broken(lambda k: np.full((1, 8), np.nan)), {"finite", "episode"}, "contains NaN or inf"),
    (Broken(lambda k: np.r_[np.zeros(7), 2.0][None]), {"bounds"}, "gripper values in [2, 2], outside [0, 1]"),
    (Broken(lambda k: np.full((1, 8), 0.01 * k)), {"determinism"}, "call 0 with the same observation gave a"),
])
def test_broken_policies_are_reported_not_raised(policy, failed: set[str], says: str) -> None:
    report = check_policy(policy, name="broken")
    assert not report.passed
    found = statuses(report)
    assert {n for n, s in found.items() if s is Status.FAIL} == failed, report
    assert any(says in c.message for c in report.checks), report


def test_steps_above_the_arena_limits_only_warn() -> None:
    report = check_policy(Broken(lambda k: np.r_[np.full(7, 4.0), 0.0][None]))
    assert report.passed
    bounds = next(c for c in report.checks if c.name == "bounds")
    assert bounds.status is Status.WARN
    assert "joint velocity up to 4 rad/s (clipped to 2.5)" in bounds.message


def test_a_reset_that_raises_is_reported() -> None:
    class ResetRaises(Recording):
        def reset(self, seed=0):
            raise RuntimeError("no weights loaded")

    report = check_policy(ResetRaises())
    assert not report.passed
    assert report.checks[-1].name == "reset"
    assert report.checks[-1].message == "raised RuntimeError: no weights loaded"


def test_bad_metadata_and_a_non_policy_are_reported() -> None:
    bad = Recording()
    bad._meta = PolicyMetadata(action_space=ActionSpace.JOINT_VELOCITY, chunk_length=2, action_horizon=3)
    report = check_policy(bad)
    assert [(c.name, c.status) for c in report.checks] == [("metadata", Status.FAIL)]
    assert "action_horizon 3 outside 1..chunk_length 2" in report.checks[0].message
    assert not check_policy(object()).passed  # type: ignore[arg-type]


def test_latency_over_budget_fails_and_determinism_is_only_checked_when_claimed() -> None:
    class Slow(Recording):
        def infer(self, obs):
            time.sleep(0.01)
            return super().infer(obs)

    report = check_policy(Slow(cameras=(), deterministic=False), latency_budget_s=0.005)
    found = statuses(report)
    assert found["latency"] is Status.FAIL
    assert found["determinism"] is Status.SKIP
    assert check_policy(Recording(cameras=()), deterministic=False).checks[-1].status is Status.SKIP


@pytest.mark.parametrize("adapter", [OpenPiRemotePolicy, RoboArenaRemotePolicy])
def test_a_remote_policy_conforms_over_either_protocol(serve, adapter) -> None:
    protocol = "openpi" if adapter is OpenPiRemotePolicy else "roboarena"
    server = serve(lambda: Recording(chunk=4, horizon=2), protocol=protocol)
    # openpi states chunk and horizon in its metadata; RoboArena states neither and executes every action it
    # gets, so `arena policy-server` sends the horizon (2) and the entry declares chunk_length = 2
    remote = adapter(url(server), action_space="joint_velocity", chunk_length=2, deterministic=True)
    try:
        report = check_policy(remote, name="remote", latency_budget_s=0.5)
    finally:
        remote.close()
    assert report.passed, report
    assert statuses(report)["determinism"] is Status.PASS


def test_cli_check_policy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check-policy", "zero", "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["passed"] is True
    assert {c["name"] for c in report["checks"]} >= {"shape", "latency", "determinism"}
    models = tmp_path / "models.toml"
    models.write_text('[[model]]\nname = "gone"\nkind = "remote-openpi"\norganisation = "o"\nlicence = "l"\n'
                      'latency_s = 0\nparams = { url = "ws://127.0.0.1:9", action_space = "joint_velocity" }\n')
    assert main(["check-policy", "gone", "--models", str(models)]) == 1
    out = capsys.readouterr().out
    assert "FAIL  metadata    raised RemotePolicyError: remote policy at ws://127.0.0.1:9: connection refused" in out
    assert "gone: FAILED" in out
