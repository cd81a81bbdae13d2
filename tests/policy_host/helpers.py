"""Policies for probing the remote protocol and check_policy, and a way to start `arena policy-server` as a
real subprocess. Shared by tests/policy_host and tests/api (fixtures in tests/policy_host/conftest.py)."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from policy_host.server import PolicyServer
from schemas.policy import ActionSpace, CameraSpec, Observation, PolicyMetadata

ROOT = Path(__file__).resolve().parents[2]
# openpi-client 0.1.2 calls websockets' connect() without `with`, which websockets >= 17.1 deprecates.
OPENPI_CLIENT_WARNING = "ignore:connect\\(\\) must be used as a context manager:DeprecationWarning"
HOME = np.array([0.0, -0.259, 0.0, -2.4322, 0.0, 0.6032, 0.0])  # the Franka's home joint angles
DROID_CAMERAS = (CameraSpec(key="observation/exterior_image_1_left"), CameraSpec(key="observation/wrist_image_left"))


class Recording:
    """A joint-velocity policy that keeps every observation it is given and every reset seed."""

    def __init__(self, cameras: tuple[CameraSpec, ...] = DROID_CAMERAS, chunk: int = 4, horizon: int | None = None,
                 deterministic: bool = True) -> None:
        self._meta = PolicyMetadata(action_space=ActionSpace.JOINT_VELOCITY, chunk_length=chunk,
                                    action_horizon=horizon, cameras=cameras, deterministic=deterministic)
        self.seen: list[Observation] = []
        self.seeds: list[int] = []
        self.rng = np.random.default_rng(0)

    @property
    def metadata(self) -> PolicyMetadata:
        return self._meta

    def reset(self, seed: int = 0) -> None:
        self.seeds.append(seed)
        self.rng = np.random.default_rng(seed)

    def infer(self, obs: Observation) -> np.ndarray:
        self.seen.append(obs)
        chunk = self.rng.uniform(-0.2, 0.2, (self._meta.chunk_length, 8))
        chunk[:, 7] = 0.0
        return chunk


class Returns(Recording):
    """Returns a fixed output, whatever it is (for malformed-output tests)."""

    def __init__(self, output: object, **kwargs: object) -> None:
        super().__init__(cameras=(), chunk=1, **kwargs)  # type: ignore[arg-type]
        self.output = output

    def infer(self, obs: Observation) -> np.ndarray:
        self.seen.append(obs)
        return self.output  # type: ignore[return-value]


class Sleepy(Recording):
    """Takes `delay_s` of wall time per inference."""

    def __init__(self, delay_s: float) -> None:
        super().__init__(cameras=(), chunk=1)
        self.delay_s = delay_s

    def infer(self, obs: Observation) -> np.ndarray:
        time.sleep(self.delay_s)
        return super().infer(obs)


def url(server: PolicyServer) -> str:
    return f"ws://127.0.0.1:{server.port}"


def start_policy_server(models: Path, name: str, port: int = 0, protocol: str = "openpi"
                        ) -> tuple[subprocess.Popen[str], int]:
    """`arena policy-server` in a subprocess; returns it once it listens, with its port. Its stderr goes to
    policy-server.log next to `models`. Stop it with stop_policy_server()."""
    with open(models.parent / "policy-server.log", "a") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "api.cli", "policy-server", "--policy", name, "--models", str(models),
             "--port", str(port), "--protocol", protocol],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=log, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    if "serving" not in line:
        stop_policy_server(proc)
        raise AssertionError(f"policy server did not start: {(models.parent / 'policy-server.log').read_text()}")
    return proc, int(line.rsplit(":", 1)[1])


def stop_policy_server(proc: subprocess.Popen[str]) -> None:
    """SIGKILL (a crash, as far as clients can tell), then reap it and close its pipe."""
    proc.kill()
    proc.wait()
    if proc.stdout is not None:
        proc.stdout.close()


ZERO_MODELS = """
[[model]]
name = "served-zero"
kind = "zero"
organisation = "test"
licence = "MIT"
latency_s = 0.0
"""


def simulated_pose(joints: np.ndarray, robot: str = "franka") -> np.ndarray:
    """The cartesian pose the arena observes at these joint angles (a fresh simulation, not the server's FK)."""
    import mujoco

    from sim_engine.observe import proprioception
    from sim_engine.world import load_world

    world = load_world(robot, "table")
    data = mujoco.MjData(world.model)
    data.qpos[world.arm_qpos] = joints
    mujoco.mj_kinematics(world.model, data)
    return proprioception(world, data)["observation/cartesian_position"]
