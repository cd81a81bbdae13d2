// @ts-check
/**
 * The live stream client against the messages Python's api.streaming produces: both what a worker
 * publishes while the episode runs ('live') and the sequence rebuilt from the stored file
 * ('rebuilt'). Streams are blinded (no action, progress or outcome); assembled with LiveEpisode, they
 * must equal decodeReplay of the blinded file (what the trajectory endpoint serves before the vote)
 * bit for bit, and share every frame with the complete stored file.
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

  test('a complete stream equals decodeReplay of the blinded file, bit for bit', async (t) => {
    assert.equal(arenaCases().length, 2);
    for (const c of arenaCases()) {
      for (const kind of ['live', 'rebuilt']) {
        await t.test(`${c.name} (${kind})`, () => {
          const replay = decodeReplay(readFileSync(/** @type {string} */ (c.blind_file)));
          const full = decodeReplay(readFileSync(c.file));
          const live = assemble(readMessages(c.messages[kind]));
          assert.equal(live.ended, true);
          assert.equal(live.episodeId, `ep-${c.name}`);
          assert.equal(live.nFrames, replay.nFrames);
          assert.equal(live.nSteps, replay.nSteps);
          assert.deepEqual(live.header, replay.header); // step_frames and metadata.outcome included
          for (const name of ['time', 'qpos', 'qvel', 'ctrl']) assertSameBits(live.frames[name], bytesOf(replay.frames[name]), `${kind} ${name}`);
          for (const name of ['time', 'qpos', 'qvel', 'ctrl']) assertSameBits(live.frames[name], bytesOf(full.frames[name]), `${kind} ${name} (complete file)`);
          assertSameBits(live.steps.action, bytesOf(replay.steps.action), `${kind} action`);
          assert.deepEqual(Object.keys(live.steps), ['action']);
          assert.deepEqual(Object.keys(replay.steps), ['action']);
          for (const name of ['time', 'qpos', 'qvel', 'ctrl', 'action']) assert.deepEqual(live.shapes[name], replay.shapes[name], name);
          assert.deepEqual(live.header?.step_frames, full.header.step_frames);
          // blinded: no action space, no outcome, nothing but the shared metadata
          assert.equal(live.header?.action_space, 'hidden');
          assert.equal(live.header?.action_dim, 0);
          assert.equal(live.header?.metadata.outcome, undefined);
          assert.equal(live.outcome?.success, undefined);
          assert.equal(live.outcome?.progress, undefined);
          assert.equal(live.outcome?.status, 'done');
          assert.deepEqual(live.outcome?.n_frames, replay.nFrames);
        });
      }
    }
  });

  test('frames carry states and ctrl only: no action, no progress', () => {
    for (const c of arenaCases()) {
      const messages = readMessages(c.messages.live).map((m) => decodeStreamMessage(m));
      const frames = messages.filter((m) => m.type === 'frames');
      assert.ok(frames.length > 2);
      for (const m of frames) {
        assert.ok(m.type === 'frames' && !('action' in m) && !('progress' in m), `${c.name} step ${m.type === 'frames' && m.step}`);
      }
    }
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
      assert.equal(live.steps.action.length, 0);
    });
    const messages = readMessages(c.messages.live);
    messages.forEach((m, i) => {
      live.apply(i % 2 ? m : /** @type {ArrayBuffer} */ (m.buffer.slice(m.byteOffset, m.byteOffset + m.length))); // ArrayBuffer or Uint8Array
      assert.equal(live.ended, i === messages.length - 1);
    });
    assert.equal(changes, messages.length);
    assert.deepEqual(heard, ['header', ...new Array(messages.length - 2).fill('frames'), 'end']);
    assert.equal(live.header?.metadata.outcome, undefined);
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
    live.apply(encode({ type: 'end', status: 'failed', error: 'the policy could not produce an action' }));
    assert.equal(live.ended, true);
    assert.deepEqual(live.outcome, { type: 'end', status: 'failed', steps: 0, n_frames: 0, error: 'the policy could not produce an action' });
    assert.deepEqual(live.header?.metadata, { seed: 1 });
    assert.equal(live.nFrames, 1);
  });

  test('waiting messages before the header say how many episodes are ahead; a failure may come first', () => {
    const live = new LiveEpisode();
    assert.deepEqual(live.apply(encode({ type: 'waiting', ahead: 3 })), { type: 'waiting', ahead: 3, eta_s: null });
    assert.equal(live.ahead, 3);
    assert.deepEqual(live.apply(encode({ type: 'waiting', ahead: 2, eta_s: 15 })), { type: 'waiting', ahead: 2, eta_s: 15 });
    assert.equal(live.etaS, 15);
    live.apply(encode({ type: 'waiting', ahead: null, eta_s: 'soon' }));
    assert.equal(live.ahead, null);
    assert.equal(live.etaS, null);
    live.apply(encode(header()));
    protocolError(() => live.apply(encode({ type: 'waiting', ahead: 1 })), /a waiting message after the header message/);
    const failed = new LiveEpisode();
    failed.apply(encode({ type: 'waiting', ahead: 0 }));
    failed.apply(encode({ type: 'end', status: 'failed', error: 'the policy could not produce an action' }));
    assert.equal(failed.ended, true);
    assert.equal(failed.header, null);
  });

  test('an unblinded stream (action and progress present) still assembles them', () => {
    const live = started();
    live.apply(encode(frames({ step: 0, start_frame: 1, action: [1, 2], progress: 0.5 })));
    assert.deepEqual(live.steps.action, Float64Array.of(1, 2));
    assert.deepEqual(live.steps.progress, Float64Array.of(0.5));
    live.apply(encode({ type: 'end', status: 'done', steps: 1, n_frames: 2, success: true, progress: 0.5, terminated: 'success' }));
    assert.deepEqual(live.header?.metadata.outcome, { success: true, progress: 0.5, steps: 1, n_frames: 2, terminated: 'success' });
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
