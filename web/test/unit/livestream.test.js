// @ts-check
/**
 * The live stream client against the messages Python's api.streaming produces: both what a worker
 * publishes while the episode runs ('live') and the sequence rebuilt from the stored file
 * ('rebuilt'). Assembled with LiveEpisode, they must equal decodeReplay of the file bit for bit.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { encode } from '@msgpack/msgpack';

import { decodeStreamMessage, LiveEpisode, StreamProtocolError } from '../../src/lib/livestream.js';
import { decodeReplay } from '../../src/lib/vlar.js';
import { assertSameBits, bytesOf, makeFixtures, readMessages } from '../support/fixtures.mjs';

/** @type {ReturnType<typeof makeFixtures>} */
let fx;
before(() => {
  fx = makeFixtures('tests');
});
after(() => fx?.cleanup());

const arenaCases = () => fx.cases.filter((c) => c.messages.live);
/** @param {Uint8Array[]} messages */
const assemble = (messages) => {
  const live = new LiveEpisode();
  for (const m of messages) live.apply(m);
  return live;
};
/** @param {() => unknown} fn @param {RegExp} pattern */
const protocolError = (fn, pattern) => assert.throws(fn, (/** @type {any} */ e) => {
  assert.ok(e instanceof StreamProtocolError, `expected StreamProtocolError, got ${e?.name}: ${e?.message}`);
  assert.equal(e.name, 'StreamProtocolError');
  assert.match(e.message, pattern);
  return true;
});

describe('LiveEpisode assembles the stream into the stored replay', () => {
  test('live and rebuilt message sequences are byte-identical (api/streaming.py promise)', () => {
    for (const c of arenaCases()) {
      assert.deepEqual(readMessages(c.messages.live), readMessages(c.messages.rebuilt), c.name);
    }
  });

  test('a complete stream equals decodeReplay of the file, bit for bit', async (t) => {
    assert.equal(arenaCases().length, 2);
    for (const c of arenaCases()) {
      for (const kind of ['live', 'rebuilt']) {
        await t.test(`${c.name} (${kind})`, () => {
          const replay = decodeReplay(readFileSync(c.file));
          const live = assemble(readMessages(c.messages[kind]));
          assert.equal(live.ended, true);
          assert.equal(live.episodeId, `ep-${c.name}`);
          assert.equal(live.nFrames, replay.nFrames);
          assert.equal(live.nSteps, replay.nSteps);
          assert.deepEqual(live.header, replay.header); // step_frames and metadata.outcome included
          for (const name of ['time', 'qpos', 'qvel', 'ctrl']) assertSameBits(live.frames[name], bytesOf(replay.frames[name]), `${kind} ${name}`);
          for (const name of ['action', 'progress']) assertSameBits(live.steps[name], bytesOf(replay.steps[name]), `${kind} ${name}`);
          for (const name of ['time', 'qpos', 'qvel', 'ctrl', 'action', 'progress']) assert.deepEqual(live.shapes[name], replay.shapes[name], name);
          assert.equal(live.outcome?.status, 'done');
          assert.deepEqual(live.outcome?.n_frames, replay.nFrames);
        });
      }
    }
  });

  test('null actions (policy latency) and null progress (no task metric) become the file\'s NaN rows', () => {
    const c = fx.cases.find((x) => x.name === 'arena_slow_nometric');
    assert.ok(c);
    const messages = readMessages(c.messages.live).map((m) => decodeStreamMessage(m));
    const frames = messages.filter((m) => m.type === 'frames' && m.step >= 0);
    assert.ok(frames.some((m) => m.type === 'frames' && m.action === null), 'some steps without an action');
    assert.ok(frames.every((m) => m.type === 'frames' && m.progress === null), 'no progress anywhere');
    const live = assemble(readMessages(c.messages.live));
    const bits = new BigUint64Array(live.steps.progress.buffer, 0, live.nSteps);
    assert.ok(bits.every((b) => b === 0x7ff8000000000000n));
  });

  test('every prefix of the stream is a prefix of the replay, and listeners hear every message', () => {
    const c = arenaCases()[0];
    const replay = decodeReplay(readFileSync(c.file));
    const live = new LiveEpisode();
    /** @type {string[]} */
    const heard = [];
    let changes = 0;
    live.onchange = (msg) => heard.push(msg.type);
    live.addEventListener('change', () => { changes += 1; });
    live.addEventListener('frames', (event) => {
      const msg = /** @type {CustomEvent} */ (event).detail;
      const n = live.nFrames;
      assert.equal(msg.start_frame + msg.n, n);
      assertSameBits(live.frames.qpos, bytesOf(replay.frames.qpos.subarray(0, n * 37)), `qpos after step ${msg.step}`);
      assert.deepEqual(live.header?.step_frames, replay.header.step_frames.slice(0, live.nSteps));
      assert.equal(live.steps.action.length, live.nSteps * 7);
    });
    const messages = readMessages(c.messages.live);
    messages.forEach((m, i) => {
      live.apply(i % 2 ? m : /** @type {ArrayBuffer} */ (m.buffer.slice(m.byteOffset, m.byteOffset + m.length))); // ArrayBuffer or Uint8Array
      assert.equal(live.ended, i === messages.length - 1);
    });
    assert.equal(changes, messages.length);
    assert.deepEqual(heard, ['header', ...new Array(messages.length - 2).fill('frames'), 'end']);
    assert.equal(live.header?.metadata.outcome.terminated, replay.header.metadata.outcome.terminated);
  });
});

describe('protocol errors', () => {
  /** @param {Record<string, unknown>} fields */
  const frames = (fields) => ({
    type: 'frames', step: -1, start_frame: 0, n: 1, time: new Uint8Array(8), qpos: new Uint8Array(16),
    qvel: new Uint8Array(8), ctrl: new Uint8Array(0), action: null, progress: null, ...fields,
  });
  const header = () => ({
    type: 'header', episode_id: 'e1', header: {
      mujoco_version: '3.14.0', bundle_hash: `sha256:${'0'.repeat(64)}`, robot_id: 'r', scene_id: 's', nq: 2, nv: 1,
      nu: 0, timestep: 0.002, frame_rate: 50, control_rate: 10, joints: [], actuators: [], action_space: 'a',
      action_dim: 2, step_frames: [], metadata: { seed: 1 },
    },
  });
  const started = () => {
    const live = new LiveEpisode();
    live.apply(encode(header()));
    live.apply(encode(frames({})));
    return live;
  };

  test('decodeStreamMessage rejects what is not a stream message', () => {
    protocolError(() => decodeStreamMessage(Uint8Array.of(0xc1)), /^live stream: message is not msgpack/);
    protocolError(() => decodeStreamMessage(encode([1, 2])), /message is not a map/);
    protocolError(() => decodeStreamMessage(encode({ type: 'pose' })), /^live stream: unknown message type "pose"$/);
    protocolError(() => decodeStreamMessage(encode({ n: 1 })), /unknown message type undefined/);
    const { n, ...noN } = frames({});
    protocolError(() => decodeStreamMessage(encode(noN)), /^live stream: frames message lacks the field 'n'$/);
    protocolError(() => decodeStreamMessage(encode(frames({ time: new Uint8Array(9) }))),
      /frames message for step -1: 'time' has 9 bytes, not a whole number of 1 float64 rows/);
    protocolError(() => decodeStreamMessage(encode(frames({ qpos: 'abc' }))), /field 'qpos' should be binary data/);
    protocolError(() => decodeStreamMessage(encode(frames({ action: [1, 'x'] }))), /field 'action' should be an array of numbers or nil/);
    protocolError(() => decodeStreamMessage(encode({ type: 'end', status: 'maybe' })), /field 'status' should be 'done' or 'failed'/);
    protocolError(() => decodeStreamMessage(encode({ ...header(), header: { nq: 2 } })), /header message: corrupt replay header: header\.mujoco_version is missing/);
  });

  test('LiveEpisode rejects messages that do not continue the stream', () => {
    protocolError(() => new LiveEpisode().apply(encode(frames({}))), /^live stream: frames message before the header message$/);
    protocolError(() => started().apply(encode(header())), /a second header message/);
    protocolError(() => started().apply(encode(frames({ step: 1, start_frame: 1 }))), /frames message for step 1 arrived, expected step 0/);
    protocolError(() => started().apply(encode(frames({ step: 0, start_frame: 2 }))), /starts at frame 2, expected 1/);
    protocolError(() => started().apply(encode(frames({ step: 0, start_frame: 1, qpos: new Uint8Array(24) }))),
      /'qpos' has 24 bytes, expected 1 rows of 2 float64/);
    protocolError(() => started().apply(encode(frames({ step: 0, start_frame: 1, action: [1, 2, 3] }))),
      /action has 3 values, header.action_dim is 2/);
    protocolError(() => started().apply(encode({ type: 'end', status: 'done', steps: 1, n_frames: 1 })),
      /end message says 1 frames and 1 steps, received 1 and 0/);
    const live = started();
    live.apply(encode({ type: 'end', status: 'failed', error: 'SimulationError: boom' }));
    protocolError(() => live.apply(encode(frames({ step: 0, start_frame: 1 }))), /frames message after the end message/);
  });

  test('a failed episode ends without an outcome in the header', () => {
    const live = started();
    live.apply(encode({ type: 'end', status: 'failed', error: 'SimulationError: boom' }));
    assert.equal(live.ended, true);
    assert.deepEqual(live.outcome, { type: 'end', status: 'failed', success: null, progress: null, steps: 0, n_frames: 0, terminated: null, error: 'SimulationError: boom' });
    assert.deepEqual(live.header?.metadata, { seed: 1 });
    assert.equal(live.nFrames, 1);
  });

  test('buffers grow past their first capacity and keep every row', () => {
    const live = new LiveEpisode();
    live.apply(encode(header()));
    const rows = 100;
    const values = Float64Array.from({ length: rows * 2 }, (_, i) => i * 0.5);
    for (let k = -1; k < rows - 1; k++) {
      const f = k + 1;
      live.apply(encode(frames({ step: k, start_frame: f, time: bytesOf(Float64Array.of(f)), qpos: bytesOf(values.subarray(2 * f, 2 * f + 2)),
        action: k < 0 ? null : [k, -k], progress: k < 0 ? null : k / rows })));
    }
    assert.deepEqual(live.frames.qpos, values);
    assert.equal(live.steps.action.length, (rows - 1) * 2);
    assert.deepEqual(live.steps.action.subarray(-2), Float64Array.of(rows - 2, -(rows - 2)));
    assert.deepEqual(live.header?.step_frames, Array.from({ length: rows - 1 }, (_, k) => k));
  });
});
