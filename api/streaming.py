"""Live stream messages (binary msgpack, a tagged union on "type"): a header, frames per control
step, then an end message (and, while the episode waits for a worker, "waiting" messages that the
server sends on its own). The same sequence is produced live by a worker and, for a finished episode,
rebuilt from its stored trajectory, so a late client sees exactly what a live one saw.

Streams are always the blinded view (`api.blind`): the header hides the action space and the outcome,
frames carry states and ctrl only, and the end message says how many steps ran, not whether they
succeeded. The full record is the trajectory file and the turn view after the vote.
"""

from __future__ import annotations

from typing import Literal

import msgspec
import numpy as np

from api.blind import blind_header, failure_notice
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


class EndMessage(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="end"):
    """The episode ended: `steps` control steps and `n_frames` frames were recorded ("done"), or it
    failed ("failed", with a notice that says nothing about why)."""

    status: Literal["done", "failed"]
    steps: int = 0
    n_frames: int = 0
    error: str | None = None


class WaitingMessage(msgspec.Struct, frozen=True, kw_only=True, tag_field="type", tag="waiting"):
    """Sent by the server (not the worker) while the turn waits for workers: `ahead` is the number of
    episodes queued before this one, when the queue can tell; `eta_s`, roughly how many seconds until the
    turn starts, from the durations of other voters' recent episodes (`api.queue_estimate`: one global,
    coarsely rounded figure that says nothing about this battle's policies), when it can be estimated."""

    ahead: int | None = None
    eta_s: int | None = None


StreamMessage = HeaderMessage | FramesMessage | EndMessage | WaitingMessage
_encoder = msgspec.msgpack.Encoder(order="deterministic")  # live and rebuilt streams are byte-identical
_decoder = msgspec.msgpack.Decoder(StreamMessage)


def encode(message: StreamMessage) -> bytes:
    return _encoder.encode(message)


def decode(data: bytes) -> StreamMessage:
    return _decoder.decode(data)


def _f8(a: np.ndarray) -> bytes:
    return np.ascontiguousarray(a, dtype="<f8").tobytes()


def header_message(episode_id: str, header: ReplayHeader) -> HeaderMessage:
    return HeaderMessage(episode_id=episode_id, header=blind_header(header))


def frames_message(f: StepFrames) -> FramesMessage:
    return FramesMessage(step=f.step, start_frame=f.start_frame, n=len(f.time), time=_f8(f.time),
                         qpos=_f8(f.qpos), qvel=_f8(f.qvel), ctrl=_f8(f.ctrl))


def end_message(outcome: EpisodeOutcome) -> EndMessage:
    return EndMessage(status="done", steps=outcome.steps, n_frames=outcome.n_frames)


def failed_message() -> EndMessage:
    return EndMessage(status="failed", error=failure_notice())


def replay_messages(episode_id: str, replay: Replay) -> list[bytes]:
    """The message sequence of a finished episode, rebuilt from its replay file through the same
    encoders as the live stream (so the bytes are identical)."""
    h = replay.header
    live_header = msgspec.structs.replace(h, step_frames=[], metadata=_live_metadata(h.metadata))
    out = [encode(header_message(episode_id, live_header))]
    bounds = [*(f + 1 for f in h.step_frames), replay.n_frames]  # step k recorded frames bounds[k]..bounds[k+1]
    out.append(encode(frames_message(_slice(replay, -1, 0, 1))))
    for k in range(len(h.step_frames)):
        out.append(encode(frames_message(_slice(replay, k, bounds[k], bounds[k + 1]))))
    out.append(encode(end_message(EpisodeOutcome(**h.metadata["outcome"]))))
    return out


def _slice(replay: Replay, step: int, a: int, b: int) -> StepFrames:
    fr = replay.frames
    return StepFrames(step=step, start_frame=a, time=fr["time"][a:b], qpos=fr["qpos"][a:b], qvel=fr["qvel"][a:b],
                      ctrl=fr["ctrl"][a:b], action=None, progress=None)


def _live_metadata(metadata: dict) -> dict:
    """What the header said while the episode was running: everything but the outcome."""
    return {k: v for k, v in metadata.items() if k != "outcome"}
