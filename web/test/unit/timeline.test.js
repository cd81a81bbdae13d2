// @ts-check
/**
 * Timeline maths (web/src/lib/timeline.js): step positions, stepping, time, playback speed and the
 * left/right lock. Hand-built timelines with the arena's layout (step_frames = [0, 5, 10, ...],
 * nFrames = 5 * nSteps + 1), edge layouts the spec allows, and episodes Python wrote.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';

import { DualCursor, PlayClock, SPEEDS, Timeline } from '../../src/lib/timeline.js';
import { decodeReplay } from '../../src/lib/vlar.js';
import { makeFixtures } from '../support/fixtures.mjs';

/**
 * A finished arena episode's timeline: `nSteps` steps of 5 frames at 50 frames/s, plus the final frame.
 * @param {number} nSteps
 */
function arenaTimeline(nSteps) {
  const stepFrames = Array.from({ length: nSteps }, (_, k) => 5 * k);
  const nFrames = 5 * nSteps + 1;
  const time = Float64Array.from({ length: nFrames }, (_, f) => f * 0.02);
  return new Timeline(stepFrames, nFrames, time, 50);
}

/**
 * The frames visited by repeated stepBy(delta) from `frame` until it stops moving.
 * @param {Timeline} tl @param {number} frame @param {number} delta
 */
function walk(tl, frame, delta) {
  const seen = [frame];
  for (let i = 0; i < 10_000; i++) {
    const next = tl.stepBy(seen[seen.length - 1], delta);
    if (next === seen[seen.length - 1]) return seen;
    seen.push(next);
  }
  assert.fail('stepBy never stopped');
}

describe('Timeline positions', () => {
  const tl = arenaTimeline(4); // frames 0..20, steps at 0, 5, 10, 15

  test('sizes', () => {
    assert.equal(tl.nSteps, 4);
    assert.equal(tl.nFrames, 21);
    assert.equal(tl.lastFrame, 20);
  });

  test('position k < nSteps is step_frames[k], position nSteps is the last frame, out of range clamps', () => {
    assert.deepEqual([0, 1, 2, 3, 4].map((k) => tl.frameOfStep(k)), [0, 5, 10, 15, 20]);
    assert.equal(tl.frameOfStep(-3), 0);
    assert.equal(tl.frameOfStep(99), 20);
  });

  test('stepAt is the largest position whose frame is at or before the frame', () => {
    const expected = [0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 4];
    assert.deepEqual(Array.from({ length: 21 }, (_, f) => tl.stepAt(f)), expected);
    assert.equal(tl.stepAt(-7), 0);
    assert.equal(tl.stepAt(1e9), 4);
    assert.equal(tl.stepAt(4.6), 1, 'fractional frames (the play cursor) round');
  });

  test('actionStepAt: the action in effect, the last one on the final frame', () => {
    assert.deepEqual([0, 4, 5, 14, 15, 19, 20].map((f) => tl.actionStepAt(f)), [0, 0, 1, 2, 3, 3, 3]);
    assert.equal(new Timeline([], 1).actionStepAt(0), -1, 'no step yet: no action');
  });

  test('clampFrame rounds and clamps to 0..lastFrame', () => {
    assert.deepEqual([-1, 0, 2.4, 2.5, 20, 21, 1e9].map((f) => tl.clampFrame(f)), [0, 0, 2, 3, 20, 20, 20]);
  });

  test('needs at least one frame', () => {
    assert.throws(() => new Timeline([0], 0), RangeError);
    assert.throws(() => new Timeline([0], NaN), RangeError);
  });
});

describe('Timeline.stepBy', () => {
  const tl = arenaTimeline(4);

  test('+1 from frame 0 visits every step start, then the last frame', () => {
    assert.deepEqual(walk(tl, 0, 1), [0, 5, 10, 15, 20]);
  });

  test('-1 from the last frame visits the step starts backwards', () => {
    assert.deepEqual(walk(tl, 20, -1), [20, 15, 10, 5, 0]);
  });

  test('between steps, +1 goes to the next step start', () => {
    assert.equal(tl.stepBy(7, 1), 10);
    assert.equal(tl.stepBy(17, 1), 20);
  });

  test('between steps, -1 lands on the current step start first', () => {
    assert.equal(tl.stepBy(7, -1), 5);
    assert.equal(tl.stepBy(5, -1), 0);
    assert.equal(tl.stepBy(19, -1), 15);
    assert.equal(tl.stepBy(1, -1), 0);
  });

  test('between steps, -2 counts the current step start as the first of the two', () => {
    assert.equal(tl.stepBy(7, -2), 0);
    assert.equal(tl.stepBy(12, -2), 5);
  });

  test('big jumps clamp at both ends', () => {
    assert.equal(tl.stepBy(7, 10), 20);
    assert.equal(tl.stepBy(7, -10), 0);
    assert.equal(tl.stepBy(0, -1), 0);
    assert.equal(tl.stepBy(20, 1), 20);
  });

  test('delta 0 snaps to the current step start', () => {
    assert.equal(tl.stepBy(7, 0), 5);
    assert.equal(tl.stepBy(20, 0), 20);
  });

  test('steps that start on the same frame: -1 never gets stuck', () => {
    const dup = new Timeline([0, 1, 1], 3); // the zero_columns fixture's layout
    assert.deepEqual(walk(dup, 0, 1), [0, 1, 2]);
    assert.deepEqual(walk(dup, 2, -1), [2, 1, 0]);
  });

  test('a first step after frame 0: +1 lands on it, -1 before it stays put', () => {
    const late = new Timeline([3, 8], 14);
    assert.deepEqual(walk(late, 0, 1), [0, 3, 8, 13]);
    assert.equal(late.stepBy(1, -1), 1);
    assert.deepEqual(walk(late, 13, -1), [13, 8, 3]);
  });

  test('a live episode whose last frame is the start of its newest step', () => {
    const live = new Timeline([0, 5, 10], 11);
    assert.equal(live.stepAt(10), 2);
    assert.equal(live.frameOfStep(3), 10);
    assert.deepEqual(walk(live, 0, 1), [0, 5, 10]);
    assert.deepEqual(walk(live, 10, -1), [10, 5, 0]);
  });

  test('no control step yet: position 0 is the last frame', () => {
    const none = new Timeline([], 3);
    assert.equal(none.nSteps, 0);
    assert.equal(none.frameOfStep(0), 2);
    assert.equal(none.stepAt(2), 0);
    assert.equal(none.stepBy(0, 1), 2);
    assert.equal(none.stepBy(2, -1), 2);
    assert.equal(new Timeline([], 1).stepBy(0, 1), 0);
  });
});

describe('Timeline time and label', () => {
  test('timeAt reads the time stream; without one, frame / frameRate', () => {
    const tl = new Timeline([0, 5], 11, Float64Array.from({ length: 11 }, (_, f) => 1 + f * 0.02), 50);
    assert.equal(tl.timeAt(0), 1);
    assert.equal(tl.timeAt(10), 1 + 10 * 0.02);
    assert.equal(tl.timeAt(99), tl.timeAt(10), 'clamped to the last frame');
    assert.equal(tl.duration, tl.timeAt(10) - 1);
    const bare = new Timeline([0, 5], 11, undefined, 25);
    assert.equal(bare.timeAt(5), 0.2);
    assert.equal(bare.duration, 0.4);
  });

  test('a time stream shorter than the frames (live) falls back to the frame rate past its end', () => {
    const tl = new Timeline([0], 6, [0, 0.02, 0.04], 50);
    assert.equal(tl.timeAt(2), 0.04);
    assert.equal(tl.timeAt(5), 0.1);
  });

  test('label: step position out of nSteps and sim time with 3 decimals', () => {
    const tl = arenaTimeline(30);
    assert.equal(tl.label(0), 'step 0/30 · 0.000 s');
    assert.equal(tl.label(62), 'step 12/30 · 1.240 s');
    assert.equal(tl.label(150), 'step 30/30 · 3.000 s');
  });
});

describe('PlayClock', () => {
  test('speed presets, slowest first, frozen', () => {
    assert.deepEqual([...SPEEDS], [0.25, 0.5, 1, 2, 4]);
    assert.ok(Object.isFrozen(SPEEDS));
  });

  test('advance: frameRate frames per wall second at 1x, scaled by speed, never backwards', () => {
    const clock = new PlayClock(50);
    assert.equal(clock.speed, 1);
    assert.equal(clock.advance(0.1), 5);
    clock.speed = 4;
    assert.equal(clock.advance(0.5), 105);
    assert.equal(clock.advance(-3), 105);
    clock.speed = 0.25;
    assert.equal(clock.advance(0.1), 106.25, 'fractional, not clamped');
  });

  test('nudgeSpeed walks the presets and stops at the ends', () => {
    const clock = new PlayClock(50);
    assert.deepEqual([1, 1, 1, 1].map(() => clock.nudgeSpeed(1)), [2, 4, 4, 4]);
    assert.deepEqual([1, 1, 1, 1, 1].map(() => clock.nudgeSpeed(-1)), [2, 1, 0.5, 0.25, 0.25]);
    assert.equal(clock.nudgeSpeed(0), 0.25);
    assert.equal(clock.nudgeSpeed(7), 0.5, 'only the sign of the direction counts');
  });

  test('nudgeSpeed from a speed that is no preset starts from 1x', () => {
    const clock = new PlayClock(50);
    clock.speed = 3;
    assert.equal(clock.nudgeSpeed(1), 2);
    clock.speed = 3;
    assert.equal(clock.nudgeSpeed(-1), 0.5);
  });
});

describe('DualCursor', () => {
  test('locked (the default): set moves both sides, whatever side is named', () => {
    const c = new DualCursor();
    assert.equal(c.locked, true);
    assert.equal(c.focus, 'left');
    c.set(12, 'right');
    assert.deepEqual(c.frame, { left: 12, right: 12 });
  });

  test('unlocked: set moves the named side, else the focused one', () => {
    const c = new DualCursor();
    c.set(10);
    c.setLocked(false);
    assert.deepEqual(c.frame, { left: 10, right: 10 }, 'unlocking keeps both where they are');
    c.set(3, 'right');
    assert.deepEqual(c.frame, { left: 10, right: 3 });
    c.set(7);
    assert.deepEqual(c.frame, { left: 7, right: 3 });
    c.focus = 'right';
    c.set(9);
    assert.deepEqual(c.frame, { left: 7, right: 9 });
  });

  test('locking snaps the other side to the focused one; locking again changes nothing', () => {
    const c = new DualCursor();
    c.setLocked(false);
    c.set(4, 'left');
    c.set(15, 'right');
    c.focus = 'right';
    c.setLocked(true);
    assert.deepEqual(c.frame, { left: 15, right: 15 });
    c.setLocked(true);
    assert.deepEqual(c.frame, { left: 15, right: 15 });
  });

  test('shown clamps each side to its own timeline', () => {
    const c = new DualCursor();
    const short = arenaTimeline(2); // frames 0..10
    const long = arenaTimeline(6); // frames 0..30
    c.set(24.4);
    assert.equal(c.shown('left', short), 10);
    assert.equal(c.shown('right', long), 24);
    assert.equal(c.frame.left, 24.4, 'the shared cursor itself is not clamped');
    c.set(-2);
    assert.equal(c.shown('left', short), 0);
  });
});

describe('Timeline of episodes Python wrote', () => {
  /** @type {ReturnType<typeof makeFixtures>} */
  let fx;
  before(() => {
    fx = makeFixtures('tests');
  });
  after(() => fx?.cleanup());

  /** @param {import('../../src/lib/vlar.js').Replay} r */
  const timelineOf = (r) => new Timeline(r.header.step_frames, r.nFrames, r.frames.time, r.header.frame_rate);

  test('arena episodes: the arena layout, +1 visits exactly step_frames then the last frame, -1 back', () => {
    for (const name of ['arena_expert', 'arena_slow_nometric']) {
      const c = fx.cases.find((x) => x.name === name);
      assert.ok(c, `no fixture case ${name}`);
      const r = decodeReplay(readFileSync(c.file));
      const sf = r.header.step_frames;
      assert.deepEqual(sf, Array.from({ length: r.nSteps }, (_, k) => 5 * k), name);
      assert.equal(r.nFrames, 5 * r.nSteps + 1, name);
      const tl = timelineOf(r);
      assert.deepEqual(walk(tl, 0, 1), [...sf, r.nFrames - 1], name);
      assert.deepEqual(walk(tl, r.nFrames - 1, -1), [r.nFrames - 1, ...[...sf].reverse()], name);
      assert.equal(tl.timeAt(tl.lastFrame), r.frames.time[r.nFrames - 1]);
      assert.equal(tl.label(tl.lastFrame).startsWith(`step ${r.nSteps}/${r.nSteps} · `), true);
    }
  });

  test('every case: stepAt(frameOfStep(k)) === k where steps are at least a frame long', () => {
    for (const c of fx.cases) {
      const r = decodeReplay(readFileSync(c.file));
      const tl = timelineOf(r);
      const sf = r.header.step_frames;
      const distinct = sf.every((f, k) => k === 0 || f > sf[k - 1]) && (sf.length === 0 || sf[sf.length - 1] < r.nFrames - 1);
      for (let k = 0; k <= tl.nSteps; k++) {
        const f = tl.frameOfStep(k);
        assert.ok(f >= 0 && f <= tl.lastFrame, `${c.name}: position ${k} -> frame ${f}`);
        if (distinct) assert.equal(tl.stepAt(f), k, `${c.name}: stepAt(frameOfStep(${k}))`);
        else assert.equal(tl.frameOfStep(tl.stepAt(f)), f, `${c.name}: frameOfStep(stepAt(frame of ${k}))`);
      }
      for (let f = 0; f < r.nFrames; f++) {
        assert.equal(tl.timeAt(f), r.frames.time[f], `${c.name}: timeAt(${f})`);
        const k = tl.actionStepAt(f);
        assert.ok(tl.nSteps === 0 ? k === -1 : k >= 0 && k < tl.nSteps, `${c.name}: actionStepAt(${f}) = ${k}`);
      }
    }
  });
});
