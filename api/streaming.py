"""Live stream messages (binary msgpack, a tagged union on "type"): a header, frames per control
step, then an end message. The same sequence is produced live by a worker and, for a finished
episode, rebuilt from its stored trajectory, so a late client sees exactly what a live one saw.

Nothing here names a policy: the header is the replay header, which never carries one in the arena.
"""

from __future__ import annotations

from typing import Literal

import msgspec
import numpy as np

from replay_format import Replay, ReplayHeader
from sim_engine.episode import EpisodeOutcome, StepFrames


class HeaderMessage(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="header"):
    episode_id: str
    header: ReplayHeader


class FramesMessage(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="frames"):
    """Frames [start_frame, start_frame + n) recorded during control step `step`; step -1 carries the
    initial state (frame 0). Arrays are raw little-endian float64, row-major: time (n), qpos (n*nq),
    qvel (n*nv), ctrl (n*nu)."""

    step: int
    start_frame: int
    n: int
    time: bytes
    qpos: bytes
    qvel: bytes
    ctrl: bytes
    action: list[float] | None
    progress: float | None


class EndMessage(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="end"):
    status: Literal["done", "failed"]
    success: bool | None = None
    progress: float | None = None
    steps: int = 0
    n_frames: int = 0
    terminated: str | None = None
    error: str | None = None


StreamMessage = HeaderMessage | FramesMessage | EndMessage
_encoder = msgspec.msgpack.Encoder(order="deterministic")  # live and rebuilt streams are byte-identical
_decoder = msgspec.msgpack.Decoder(StreamMessage)


def encode(message: StreamMessage) -> bytes:
    return _encoder.encode(message)


def decode(data: bytes) -> StreamMessage:
    return _decoder.decode(data)


def _f8(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a, dtype="<f8").tobytes()


def frames_message(f: StepFrames) -> FramesMessage:
    return FramesMessage(step=f.step, start_frame=f.start_frame, n=len(f.time), time=_f8(f.time),
                         qpos=_f8(f.qpos), qvel=_f8(f.qvel), ctrl=_f8(f.ctrl),
                         action=None if f.action is None else [float(x) for x in f.action],
                         progress=f.progress)


def end_message(outcome: EpisodeOutcome) -> EndMessage:
    return EndMessage(status="done", success=outcome.success, progress=outcome.progress, steps=outcome.steps,
                      n_frames=outcome.n_frames, terminated=outcome.terminated)


def replay_messages(episode_id: str, replay: Replay) -> list[bytes]:
    """The message sequence of a finished episode, rebuilt from its replay file."""
    h = replay.header
    live_header = msgspec.structs.replace(h, step_frames=[], metadata=_live_metadata(h.metadata))
    out = [encode(HeaderMessage(episode_id=episode_id, header=live_header))]
    fr, st = replay.frames, replay.steps
    bounds = [*h.step_frames, fr["time"].shape[0] - 1]
    out.append(encode(FramesMessage(step=-1, start_frame=0, n=1, time=_f8(fr["time"][:1]), qpos=_f8(fr["qpos"][:1]),
                                    qvel=_f8(fr["qvel"][:1]), ctrl=_f8(fr["ctrl"][:1]), action=None, progress=None)))
    for k in range(len(h.step_frames)):
        a, b = bounds[k] + 1, bounds[k + 1] + 1
        action = st["action"][k]
        progress = float(st["progress"][k])
        out.append(encode(FramesMessage(
            step=k, start_frame=a, n=b - a, time=_f8(fr["time"][a:b]), qpos=_f8(fr["qpos"][a:b]),
            qvel=_f8(fr["qvel"][a:b]), ctrl=_f8(fr["ctrl"][a:b]),
            action=None if np.isnan(action).all() else [float(x) for x in action],
            progress=None if np.isnan(progress) else progress)))
    o = h.metadata.get("outcome", {})
    out.append(encode(EndMessage(status="done", success=o.get("success"), progress=o.get("progress"),
                                 steps=o.get("steps", 0), n_frames=o.get("n_frames", 0),
                                 terminated=o.get("terminated"))))
    return out


def _live_metadata(metadata: dict) -> dict:
    """What the header said while the episode was running: everything but the outcome."""
    return {k: v for k, v in metadata.items() if k != "outcome"}
