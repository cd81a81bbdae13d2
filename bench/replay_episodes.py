"""Episodes for bench/bench_replay.py: a synthetic MuJoCo arm and real arena episodes from sim_engine.

The synthetic episode is a 7-dof hinge arm with a two-finger gripper driven by position actuators,
plus three free-joint boxes falling onto a plane (nq=30, nv=27, nu=9, action_dim=8). Control runs at
10 Hz with smooth varying targets, physics at timestep 0.002, and frames are sampled at 50 fps.
The arena episodes are the Franka in the `table` scene under the scripted and random policies
(nq=37, nv=33, nu=9, action_dim=7), the same ones web/test/support/replay_fixtures.py --set bench runs.
`arena(sleep=False)` records them with MuJoCo body sleeping switched off, as scenes were before it
(sim_engine.scene.SceneSpec.sleep), to measure what sleeping saves.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
from collections.abc import Iterator
from pathlib import Path

import mujoco
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from replay_format import ActuatorInfo, JointInfo, ReplayHeader  # noqa: E402

Episode = tuple[str, ReplayHeader, dict, dict]

FRAME_RATE, CONTROL_RATE, TIMESTEP = 50.0, 10.0, 0.002
JOINT_TYPES = {0: "free", 1: "ball", 2: "slide", 3: "hinge"}


def build_mjcf() -> str:
    """A 7-dof arm (alternating z/y hinge axes), a slide-joint gripper and three free boxes."""
    axes = ["0 0 1", "0 1 0"] * 3 + ["0 0 1"]
    links = "".join(
        f'<body name="link{i}" pos="0 0 {0.1 if i == 0 else 0.15}">'
        f'<joint name="j{i}" axis="{axis}" range="-2.5 2.5" damping="1"/>'
        f'<geom type="capsule" fromto="0 0 0 0 0 0.15" size="0.03" mass="{1.5 - 0.15 * i:.2f}"/>'
        for i, axis in enumerate(axes)
    )
    finger = (
        '<body name="f{s}" pos="{x} 0 0.02">'
        '<joint name="finger_{s}" type="slide" axis="{a} 0 0" range="0 0.04"/>'
    )
    hand = (
        '<body name="hand" pos="0 0 0.15"><geom type="box" size="0.04 0.01 0.01" mass="0.2"/>'
        + finger.format(s="l", x=0.02, a=1)
        + '<geom type="box" size="0.005 0.01 0.02" mass="0.05"/></body>'
        + finger.format(s="r", x=-0.02, a=-1)
        + '<geom type="box" size="0.005 0.01 0.02" mass="0.05"/></body></body>'
    )
    boxes = "".join(
        f'<body name="box{k}" pos="{0.35 + 0.1 * k} {0.1 * k - 0.1} {0.3 + 0.1 * k}">'
        f'<freejoint name="box{k}"/>'
        f'<geom type="box" size="0.025 0.025 0.025" mass="0.1"/></body>'
        for k in range(3)
    )
    actuators = "".join(f'<position name="a{i}" joint="j{i}" kp="200"/>' for i in range(7))
    actuators += (
        '<position name="grip_l" joint="finger_l" kp="50"/><position name="grip_r" joint="finger_r" kp="50"/>'
    )
    return (
        f'<mujoco model="bench_arm"><option timestep="{TIMESTEP}"/><worldbody>'
        f'<geom name="floor" type="plane" size="2 2 0.1"/>{links}{hand}{"</body>" * 7}{boxes}</worldbody>'
        f"<actuator>{actuators}</actuator></mujoco>"
    )


def simulate(model: mujoco.MjModel, n_steps: int, seed: int = 0) -> tuple[dict, dict, list[int]]:
    """Roll out `n_steps` control steps of smooth sinusoidal joint targets; sample frames at 50 fps."""
    data = mujoco.MjData(model)
    rng = np.random.default_rng(seed)
    phase, freq, amp = rng.uniform(0, 2 * np.pi, 8), rng.uniform(0.1, 0.5, 8), rng.uniform(0.3, 1.0, 8)
    substeps = round(1 / (FRAME_RATE * model.opt.timestep))
    rows: dict[str, list] = {"time": [], "qpos": [], "qvel": [], "ctrl": []}
    actions, step_frames = [], []
    for step in range(n_steps):
        action = amp * np.sin(2 * np.pi * freq * step / CONTROL_RATE + phase)
        action[7] = 0.02 + 0.02 * np.sign(action[7])  # gripper open/close
        data.ctrl[:] = [*action[:7], action[7], action[7]]
        actions.append(action)
        step_frames.append(len(rows["time"]))
        for _ in range(round(FRAME_RATE / CONTROL_RATE)):
            for name, values in rows.items():
                values.append(np.copy(getattr(data, name)))
            mujoco.mj_step(model, data, nstep=substeps)
    frames = {name: np.array(value, dtype=np.float64) for name, value in rows.items()}
    steps = {"action": np.array(actions), "progress": np.linspace(0.0, 1.0, n_steps)}
    return frames, steps, step_frames


def make_header(model: mujoco.MjModel, step_frames: list[int]) -> ReplayHeader:
    """The replay header of a rollout of `model`."""
    name = lambda kind, i: mujoco.mj_id2name(model, kind, i)  # noqa: E731
    joints = [
        JointInfo(
            name=name(mujoco.mjtObj.mjOBJ_JOINT, j),
            type=JOINT_TYPES[int(model.jnt_type[j])],
            qpos_adr=int(model.jnt_qposadr[j]),
            dof_adr=int(model.jnt_dofadr[j]),
        )
        for j in range(model.njnt)
    ]
    actuators = [
        ActuatorInfo(
            name=name(mujoco.mjtObj.mjOBJ_ACTUATOR, a),
            joint=name(mujoco.mjtObj.mjOBJ_JOINT, model.actuator_trnid[a, 0]),
        )
        for a in range(model.nu)
    ]
    return ReplayHeader(
        mujoco_version=mujoco.__version__,
        bundle_hash="sha256:" + hashlib.sha256(build_mjcf().encode()).hexdigest(),
        robot_id="bench_arm7",
        scene_id="three_boxes",
        nq=model.nq,
        nv=model.nv,
        nu=model.nu,
        timestep=model.opt.timestep,
        frame_rate=FRAME_RATE,
        control_rate=CONTROL_RATE,
        joints=joints,
        actuators=actuators,
        action_space="joint_pos+gripper",
        action_dim=8,
        step_frames=step_frames,
        metadata={"instruction": "push the red box to the left", "seed": 0, "task": "push"},
    )


def synthetic(n_steps: int) -> Episode:
    """The synthetic arm + boxes episode of `n_steps` control steps."""
    model = mujoco.MjModel.from_xml_string(build_mjcf())
    frames, steps, step_frames = simulate(model, n_steps)
    return f"synthetic arm + 3 boxes, {n_steps} steps", make_header(model, step_frames), frames, steps


# (policy, instruction, seed, max_steps): as BENCH_EPISODES in web/test/support/replay_fixtures.py
ARENA_EPISODES = [
    ("scripted-expert", "put the red cube in the bowl", 3, 60),
    ("scripted-slow", "put the green cube in the bowl", 4, 60),
    ("scripted-noisy", "pick up the blue cube", 5, 30),
    ("random", "pick up the red cube", 6, 40),
]


@contextlib.contextmanager
def sleeping(model: mujoco.MjModel, enabled: bool) -> Iterator[None]:
    """Switch MuJoCo body sleeping on or off in `model` (the process's cached world), then restore it."""
    bit, saved = int(mujoco.mjtEnableBit.mjENBL_SLEEP), model.opt.enableflags
    model.opt.enableflags = (saved & ~bit) | (bit if enabled else 0)
    try:
        yield
    finally:
        model.opt.enableflags = saved


def arena(sleep: bool = True) -> list[Episode]:
    """Real arena episodes (Franka, `table` scene) recorded by sim_engine, with body sleeping on (the
    scenes' default) or off."""
    from policy_host.registry import Registry
    from sim_engine.episode import EpisodeSpec, run_episode
    from sim_engine.world import load_world

    registry = Registry.from_file()
    out = []
    with sleeping(load_world("franka", "table").model, sleep):
        for policy, instruction, seed, max_steps in ARENA_EPISODES:
            spec = EpisodeSpec(robot_id="franka", scene_id="table", instruction=instruction, seed=seed,
                               max_steps=max_steps)
            result = run_episode(spec, registry.build(policy))
            label = f"arena{'' if sleep else ' (sleep off)'}: {policy}, {instruction!r}"
            out.append((label, result.header, result.frames, result.steps))
    return out
