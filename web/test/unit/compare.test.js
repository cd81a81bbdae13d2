// @ts-check
/**
 * Per-step comparison quantities (web/src/lib/compare.js) on hand-built replay-like objects and on
 * episodes Python wrote: actions, gripper command and finger opening, progress, readout formatting.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import {
  ACTION_LABELS, actionAt, actionLabels, distance3, fingerJoints, fmt, gripperCommand, gripperOpening, gripperWord,
  progressAt, targetBody,
} from '../../src/lib/compare.js';
import { decodeReplay } from '../../src/lib/vlar.js';
import { makeFixtures } from '../support/fixtures.mjs';

/** @typedef {import('../../src/lib/compare.js').ReplayLike} ReplayLike */

/**
 * A small Franka-like replay: nq = 4 (two arm hinges, then the two finger slides at qpos 2 and 3),
 * ee_delta actions of 7, step_frames = [0, 5, ...], nFrames = 5 * nSteps + 1. qpos[f] = [f, -f,
 * 0.01 * f, 0.02 * f]. Step 0's action was not recorded (all NaN), as for a slow policy.
 * @param {number} nSteps
 * @returns {ReplayLike}
 */
function smallReplay(nSteps = 3) {
  const nq = 4;
  const dim = 7;
  const nFrames = 5 * nSteps + 1;
  const qpos = new Float64Array(nFrames * nq);
  for (let f = 0; f < nFrames; f++) qpos.set([f, -f, 0.01 * f, 0.02 * f], f * nq);
  const action = new Float64Array(nSteps * dim);
  for (let k = 0; k < nSteps; k++) {
    for (let i = 0; i < dim; i++) action[k * dim + i] = k === 0 ? NaN : 10 * k + i;
  }
  action[2 * dim + 6] = 1; // step 2 closes the gripper
  action[1 * dim + 6] = 0;
  return {
    header: {
      action_space: 'ee_delta', action_dim: dim, nq,
      joints: [
        { name: 'robot:panda0_joint1', type: 'hinge', qpos_adr: 0 },
        { name: 'robot:panda0_joint2', type: 'hinge', qpos_adr: 1 },
        { name: 'robot:panda0_finger_joint1', type: 'slide', qpos_adr: 2 },
        { name: 'robot:panda0_finger_joint2', type: 'slide', qpos_adr: 3 },
      ],
      metadata: { task: { family: 'pick', object: 'red', direction: null, target: null } },
    },
    nFrames, nSteps,
    frames: { qpos, time: Float64Array.from({ length: nFrames }, (_, f) => f * 0.02) },
    steps: { action, progress: Float64Array.from({ length: nSteps }, (_, k) => (k === 1 ? NaN : k / nSteps)) },
  };
}

describe('actionAt', () => {
  const r = smallReplay(3);

  test('the row of a recorded step, as a view of the action stream', () => {
    const row = actionAt(r, 1);
    assert.ok(row instanceof Float64Array);
    assert.deepEqual([...row], [10, 11, 12, 13, 14, 15, 0]);
    assert.equal(row.buffer, r.steps.action.buffer, 'no copy');
  });

  test('null for a step whose action is all NaN (not recorded)', () => {
    assert.equal(actionAt(r, 0), null);
  });

  test('a row with only some NaN components is still an action', () => {
    const partial = smallReplay(2);
    partial.steps.action[7 + 3] = NaN;
    const row = actionAt(partial, 1);
    assert.ok(row);
    assert.ok(Number.isNaN(row[3]));
  });

  test('null out of range: before the first step, at or past nSteps', () => {
    assert.equal(actionAt(r, -1), null);
    assert.equal(actionAt(r, 3), null);
    assert.equal(actionAt(r, 99), null);
  });

  test('null when the action stream is shorter than nSteps says (a live episode mid-update)', () => {
    const live = smallReplay(3);
    live.steps.action = live.steps.action.subarray(0, 2 * 7 + 3);
    assert.equal(actionAt(live, 2), null);
    assert.ok(actionAt(live, 1));
  });

  test('null when the action space has no components', () => {
    const none = smallReplay(2);
    none.header.action_dim = 0;
    none.steps.action = new Float64Array(0);
    assert.equal(actionAt(none, 0), null);
  });
});

describe('actionLabels', () => {
  test('known action spaces of the right width get their names', () => {
    assert.deepEqual(actionLabels('ee_delta', 7), ['dx', 'dy', 'dz', 'rx', 'ry', 'rz', 'grip']);
    assert.deepEqual(actionLabels('joint_position', 8), ['q1', 'q2', 'q3', 'q4', 'q5', 'q6', 'q7', 'grip']);
    assert.deepEqual(actionLabels('joint_velocity', 8).at(0), 'dq1');
  });

  test('unknown spaces or a width that does not match get a0..', () => {
    assert.deepEqual(actionLabels('joint_pos+gripper', 3), ['a0', 'a1', 'a2']);
    assert.deepEqual(actionLabels('ee_delta', 3), ['a0', 'a1', 'a2']);
    assert.deepEqual(actionLabels('ee_delta', 0), []);
    assert.deepEqual(actionLabels('toString', 1), ['a0'], 'no prototype lookups');
  });

  test('returns a copy: the table stays intact', () => {
    actionLabels('ee_delta', 7).push('x');
    assert.equal(ACTION_LABELS.ee_delta.length, 7);
  });
});

describe('gripper', () => {
  const r = smallReplay(3);

  test('fingerJoints: qpos addresses of slide/hinge joints named like fingers', () => {
    assert.deepEqual(fingerJoints(r.header), [2, 3]);
    const header = {
      ...r.header,
      joints: [
        { name: 'Finger_free', type: 'free', qpos_adr: 0 },
        { name: 'left_FINGER', type: 'hinge', qpos_adr: 7 },
        { name: 'wrist', type: 'hinge', qpos_adr: 8 },
        { name: 'finger_ball', type: 'ball', qpos_adr: 9 },
      ],
    };
    assert.deepEqual(fingerJoints(header), [7]);
  });

  test('gripperOpening: the sum of the finger joints qpos at the frame', () => {
    assert.equal(gripperOpening(r, 0), 0);
    assert.equal(gripperOpening(r, 10), r.frames.qpos[10 * 4 + 2] + r.frames.qpos[10 * 4 + 3]);
    assert.equal(gripperOpening(r, 15, [2, 3]), 0.01 * 15 + 0.02 * 15);
    assert.equal(gripperOpening(r, 15, [3]), 0.02 * 15);
  });

  test('gripperOpening: null without fingers or outside the frames', () => {
    assert.equal(gripperOpening(r, 3, []), null);
    assert.equal(gripperOpening(r, -1), null);
    assert.equal(gripperOpening(r, r.nFrames), null);
    assert.notEqual(gripperOpening(r, r.nFrames - 1), null);
  });

  test('gripperCommand is the last component; gripperWord reads 0 open .. 1 closed', () => {
    assert.equal(gripperCommand(actionAt(r, 1)), 0);
    assert.equal(gripperCommand(actionAt(r, 2)), 1);
    assert.equal(gripperCommand(actionAt(r, 0)), null);
    assert.equal(gripperCommand(new Float64Array(0)), null);
    assert.deepEqual([0, 0.49, 0.5, 1].map(gripperWord), ['open', 'open', 'closed', 'closed']);
    assert.equal(gripperWord(null), '—');
    assert.equal(gripperWord(NaN), '—');
  });
});

describe('progressAt, targetBody, distance3', () => {
  const r = smallReplay(3);

  test('progressAt: the value after the step, NaN as null, out of range null', () => {
    assert.equal(progressAt(r, 0), 0);
    assert.equal(progressAt(r, 1), null);
    assert.equal(progressAt(r, 2), 2 / 3);
    assert.equal(progressAt(r, -1), null);
    assert.equal(progressAt(r, 3), null);
  });

  test('progressAt: null for a replay without a progress stream', () => {
    const bare = smallReplay(2);
    delete bare.steps.progress;
    assert.equal(progressAt(bare, 0), null);
  });

  test('targetBody: cube_<colour> of the task object, null without one', () => {
    assert.equal(targetBody(r.header.metadata?.task), 'cube_red');
    assert.equal(targetBody({ family: 'none', object: null }), null);
    assert.equal(targetBody({}), null);
    assert.equal(targetBody(undefined), null);
  });

  test('distance3 between vectors at offsets of flat arrays', () => {
    const xpos = Float64Array.of(9, 9, 9, 1, 2, 3);
    const site = [0, 0, 0, 0, 0, 0, 4, 6, 3];
    assert.equal(distance3(xpos, 3, site, 6), 5);
    assert.equal(distance3(site, 0, site, 3), 0);
    assert.ok(Number.isNaN(distance3([NaN, 0, 0], 0, [0, 0, 0], 0)));
  });
});

describe('fmt', () => {
  test('sign always shown, fixed decimals', () => {
    assert.equal(fmt(1.23456), '+1.235');
    assert.equal(fmt(-1.23456), '-1.235');
    assert.equal(fmt(0), '+0.000');
    assert.equal(fmt(2, 1), '+2.0');
  });

  test('-0 and negatives that round to zero keep their minus sign (same width as +0.000)', () => {
    assert.equal(fmt(-0), '-0.000');
    assert.equal(fmt(-1e-9), '-0.000');
    assert.equal(fmt(-0).length, fmt(0).length);
  });

  test('NaN, infinities and missing values', () => {
    assert.equal(fmt(NaN), 'NaN');
    assert.equal(fmt(Infinity), '+inf');
    assert.equal(fmt(-Infinity), '-inf');
    assert.equal(fmt(null), '—');
  });
});

describe('compare on episodes Python wrote', () => {
  /** @type {ReturnType<typeof makeFixtures>} */
  let fx;
  before(() => {
    fx = makeFixtures('tests');
  });
  after(() => fx?.cleanup());

  /** @param {string} name */
  const load = (name) => {
    const c = fx.cases.find((x) => x.name === name);
    assert.ok(c, `no fixture case ${name}`);
    const r = decodeReplay(readFileSync(c.file));
    /** @param {string} stream */
    const raw = (stream) => {
      const s = c.streams.find((x) => x.name === stream);
      assert.ok(s, `${name} has no stream ${stream}`);
      const b = readFileSync(s.bin);
      return new Float64Array(b.buffer, b.byteOffset, b.length / 8);
    };
    return { c, r, raw };
  };

  test('gripperOpening equals the sum of the finger joints qpos in the file, at every frame', () => {
    for (const name of ['arena_expert', 'arena_slow_nometric']) {
      const { r, raw } = load(name);
      const names = r.header.joints.filter((j) => j.name.includes('finger')).map((j) => j.name);
      assert.deepEqual(names, ['robot:panda0_finger_joint1', 'robot:panda0_finger_joint2']);
      const adrs = fingerJoints(r.header);
      assert.deepEqual(adrs, [7, 8]);
      const qpos = raw('qpos');
      const nq = r.header.nq;
      for (let f = 0; f < r.nFrames; f++) {
        assert.equal(gripperOpening(r, f, adrs), qpos[f * nq + 7] + qpos[f * nq + 8], `${name} frame ${f}`);
      }
      const open = /** @type {number} */ (gripperOpening(r, 0, adrs));
      assert.ok(Math.abs(open - 0.08) < 1e-3, `${name}: the episode starts fully open (2 x 0.04 m), got ${open}`);
    }
  });

  test('actions, gripper command and progress match the arrays Python encoded', () => {
    for (const name of ['arena_expert', 'arena_slow_nometric']) {
      const { r, raw } = load(name);
      const dim = r.header.action_dim;
      assert.deepEqual(actionLabels(r.header.action_space, dim), [...ACTION_LABELS.ee_delta]);
      const action = raw('action');
      const progress = raw('progress');
      for (let k = 0; k < r.nSteps; k++) {
        const row = action.subarray(k * dim, (k + 1) * dim);
        const got = actionAt(r, k);
        if (row.every(Number.isNaN)) assert.equal(got, null, `${name} step ${k}`);
        else assert.deepEqual(got && [...got], [...row], `${name} step ${k}`);
        const cmd = gripperCommand(got);
        assert.ok(cmd === null || cmd === 0 || cmd === 1, `${name} step ${k}: scripted commands are 0 or 1, got ${cmd}`);
        assert.equal(progressAt(r, k), Number.isNaN(progress[k]) ? null : progress[k], `${name} progress ${k}`);
      }
    }
  });

  test('the slow policy has unrecorded first steps; the expert closes its gripper on the red cube', () => {
    const slow = load('arena_slow_nometric').r;
    assert.equal(actionAt(slow, 0), null);
    assert.ok(actionAt(slow, slow.nSteps - 1), 'its actions arrive eventually');
    assert.equal(progressAt(slow, 0), null, 'waving has no task metric');
    assert.equal(targetBody(slow.header.metadata.task), null);
    const expert = load('arena_expert').r;
    assert.equal(targetBody(expert.header.metadata.task), 'cube_red');
    const words = Array.from({ length: expert.nSteps }, (_, k) => gripperWord(gripperCommand(actionAt(expert, k))));
    assert.equal(words[0], 'open');
    assert.ok(words.includes('closed'));
    const last = /** @type {number} */ (progressAt(expert, expert.nSteps - 1));
    assert.ok(last > 0 && last <= 1, `the expert makes progress, got ${last}`);
  });
});
