// @ts-check
/**
 * The page's small pure pieces: how an instruction's interpretation, the queue position and a failure
 * read before the vote; the divergence and speed series; which plot quantities wait for the vote.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';

import { taskSummary } from '../../src/ui/battle.js';
import { failureNotice, waitingText } from '../../src/ui/episodes.js';
import { QUANTITIES, eeSpeed, emptySeries, gapSeries } from '../../src/ui/viewer-series.js';

describe('texts a voter reads', () => {
  test('the interpretation of an instruction', () => {
    assert.equal(taskSummary({ family: 'pick', object: 'red' }), 'pick up · red cube');
    assert.equal(taskSummary({ family: 'push', object: 'blue', direction: 'left' }), 'push · blue cube · to the left');
    assert.equal(taskSummary({ family: 'place', object: 'red', target: 'bowl' }), 'put · red cube · on/in bowl');
    assert.equal(taskSummary({ family: 'none' }), 'no automatic metric for this instruction');
    assert.equal(taskSummary({ family: 'open', object: 'microwave' }), 'open · microwave'); // scene tasks: no "cube"
  });

  test('the queue position, when the server knows it', () => {
    assert.equal(waitingText(null), 'waiting for a free worker…');
    assert.equal(waitingText(0), 'next in the queue…');
    assert.equal(waitingText(1), 'queued · 1 episode ahead');
    assert.equal(waitingText(3), 'queued · 3 episodes ahead');
    assert.equal(waitingText(3, 20), 'queued · 3 episodes ahead · about 20 s');
    assert.equal(waitingText(0, 4), 'next in the queue · about 4 s');
    assert.equal(waitingText(null, 150), 'waiting for a free worker · about 3 min');
  });

  test('a failure before the vote says which side and what to do, not why', () => {
    assert.equal(failureNotice('right'),
      'the policy on the right (B) could not produce an action; try another instruction or start a new battle');
    assert.match(failureNotice('left'), /^the policy on the left \(A\) could not/);
  });

  test('only task progress waits for the vote among the plot quantities', () => {
    assert.deepEqual(Object.entries(QUANTITIES).filter(([, q]) => q.revealed).map(([k]) => k), ['progress']);
  });
});

describe('derived series', () => {
  const series = (/** @type {number[][]} */ points) => {
    const s = emptySeries();
    s.ee = Float64Array.from(points.flat());
    s.n = points.length;
    return s;
  };

  test('the A <-> B end-effector distance, over the frames both have', () => {
    const a = series([[0, 0, 0], [1, 0, 0], [1, 1, 0]]);
    const b = series([[0, 0, 0], [1, 0, 1]]);
    assert.deepEqual(Array.from(gapSeries(a, b)), [0, 1]);
  });

  test('end-effector speed from consecutive states', () => {
    const s = series([[0, 0, 0], [0.03, 0.04, 0], [0.03, 0.04, 0]]);
    const time = [0, 0.02, 0.04];
    assert.ok(Number.isNaN(eeSpeed(s, 0, time)));
    assert.ok(Math.abs(eeSpeed(s, 1, time) - 2.5) < 1e-12);
    assert.equal(eeSpeed(s, 2, time), 0);
    assert.ok(Number.isNaN(eeSpeed(s, 3, time)));
  });
});
