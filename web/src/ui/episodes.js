// @ts-check
/**
 * Feeding one turn's two episodes into the viewer: finished ones as replay files, running ones from
 * their live streams (after "waiting" messages while the turn queues for a worker), failed ones as a
 * notice. Before the vote everything is the blinded view (the server sends no more); after the vote
 * `reveal()` downloads the complete files again (same URLs, new ETags) and shows what they add.
 */

import { api, openStream } from '../api.js';
import { decodeStreamMessage, LiveEpisode } from '../lib/livestream.js';
import { decodeReplay } from '../lib/vlar.js';
import { letter } from './viewer-layout.js';

/** @typedef {'left' | 'right'} SideName */
/** @type {SideName[]} */
export const SIDES = ['left', 'right'];
/** How long after the first frames a backlog (a page opened mid-episode) has arrived. */
const LIVE_EDGE_MS = 300;
/** How long a live turn's views wait for both first states before drawing (the default pose, or one side). */
const IDLE_HOLD_MS = 250;

/** What a voter reads when a side failed before the vote: nothing about why. @param {SideName} side */
export const failureNotice = (side) =>
  `the policy on the ${side} (${letter(side)}) could not produce an action; try another instruction or start a new battle`;

/** A wait in words: "about 20 s", "about 2 min". @param {number} s */
export const aboutText = (s) => (s < 90 ? `about ${s} s` : `about ${Math.round(s / 60)} min`);

/**
 * What a side reads while its turn waits for a worker: the queue position and the server's estimate.
 * @param {number | null} ahead @param {number | null} [etaS]
 */
export function waitingText(ahead, etaS = null) {
  const where = ahead === null || ahead === undefined ? 'waiting for a free worker'
    : ahead === 0 ? 'next in the queue' : `queued · ${ahead} episode${ahead === 1 ? '' : 's'} ahead`;
  return etaS === null || etaS === undefined ? `${where}${ahead ? '' : '…'}` : `${where} · ${aboutText(etaS)}`;
}

/**
 * Start downloading a turn's finished files (they download while the scene compiles). Before the vote
 * the server calls a side "running" until its stream has played to the end on the turn's clock, so a
 * page opened mid-episode (a reload, the link in a new tab) streams it from the live edge instead.
 * @param {any} turn
 */
export function startDownloads(turn) {
  /** @type {Partial<Record<SideName, Promise<{bytes: Uint8Array, fetchMs: number}>>>} */
  const downloads = {};
  for (const side of SIDES) {
    const ep = turn?.episodes[side];
    if (ep?.status === 'done' && ep.trajectory_url) {
      const t0 = performance.now();
      downloads[side] = api.trajectory(ep.trajectory_url).then((bytes) => ({ bytes, fetchMs: performance.now() - t0 }));
      downloads[side]?.catch(() => {}); // reported when the side is shown
    }
  }
  return downloads;
}

export class TurnPlayer {
  /**
   * @param {import('./viewer.js').DualViewer} viewer
   * @param {any} turn
   * @param {string} bundleHash the scene bundle the page compiled
   * @param {(side: SideName) => void} onEnded a side reached its end (done, failed or disconnected)
   */
  constructor(viewer, turn, bundleHash, onEnded) {
    this.viewer = viewer;
    this.turn = turn;
    this.bundleHash = bundleHash;
    this.onEnded = onEnded;
    this.closed = false;
    /** @type {(() => void)[]} */
    this.closers = [];
    /** @type {Record<string, any>} timings, for tests and benchmarks */
    this.stats = {};
  }

  /** @param {ReturnType<typeof startDownloads>} downloads */
  start(downloads) {
    this.viewer.holdIdle(IDLE_HOLD_MS, SIDES.filter((side) => ['queued', 'running'].includes(this.turn.episodes[side].status)));
    for (const side of SIDES) {
      const ep = this.turn.episodes[side];
      const download = downloads[side];
      if (ep.status === 'failed') this._failed(side);
      else if (ep.status === 'done' && download) this._replay(side, download);
      else this._live(side, ep.stream_url);
    }
  }

  /** @param {SideName} side */
  _failed(side) {
    this.viewer.setStatus(side, 'failed');
    this.viewer.showFailure(side, failureNotice(side));
    this.onEnded(side);
  }

  /** @param {SideName} side @param {Promise<{bytes: Uint8Array, fetchMs: number}>} download */
  async _replay(side, download) {
    this.viewer.setStatus(side, 'loading replay…');
    try {
      const replay = await this._decode(side, download);
      if (this.closed) return;
      this.viewer.setEpisode(side, replay, false);
      this.viewer.setStatus(side, `replay · ${replay.nSteps} steps`);
    } catch (err) {
      this.viewer.setStatus(side, 'error');
      this.viewer.showFailure(side, `Cannot show this replay: ${/** @type {Error} */ (err).message}`);
    }
    this.onEnded(side);
  }

  /** @param {SideName} side @param {Promise<{bytes: Uint8Array, fetchMs: number}>} download */
  async _decode(side, download) {
    const { bytes, fetchMs } = await download;
    const t1 = performance.now();
    const replay = decodeReplay(bytes);
    this.stats[side] = { bytes: bytes.length, fetchMs, decodeMs: performance.now() - t1 };
    if (replay.header.bundle_hash !== this.bundleHash) {
      this.viewer.showFailure(side, `This replay was recorded with scene bundle ${replay.header.bundle_hash.slice(0, 19)}…, `
        + `the server now serves ${this.bundleHash.slice(0, 19)}…: bodies are posed exactly, but the scene may look different.`);
    }
    return replay;
  }

  /** @param {SideName} side @param {string} url */
  _live(side, url) {
    const live = new LiveEpisode();
    const v = this.viewer;
    let shown = false;
    let heard = false;
    v.setStatus(side, 'connecting…');
    const close = openStream(url, (bytes) => {
      if (!heard) performance.mark(`arena:first-message-${side}`);
      heard = true;
      let msg;
      try {
        msg = decodeStreamMessage(bytes);
        live.apply(msg);
      } catch (err) {
        v.showFailure(side, `Bad stream message: ${/** @type {Error} */ (err).message}`);
        return;
      }
      if (msg.type === 'waiting') v.setStatus(side, waitingText(msg.ahead, msg.eta_s));
      if (msg.type === 'header' || msg.type === 'waiting') return;
      if (msg.type === 'frames' && !shown) {
        performance.mark(`arena:first-state-${side}`);
        v.setEpisode(side, live, true);
        shown = true;
        // A page opened mid-episode gets everything so far at once: start at the live edge.
        setTimeout(() => { if (!this.closed) v.toLiveEdge(); }, LIVE_EDGE_MS);
      } else if (shown) {
        v.episodeUpdated(side, msg.type === 'end');
        // live means live: a renderer too slow for real time skips ahead rather than falling behind
        if (msg.type === 'frames') v.toLiveEdge();
      }
      if (msg.type === 'frames') v.setStatus(side, `live · step ${live.nSteps}`);
      if (msg.type === 'end') {
        if (msg.status === 'failed') this._failed(side);
        else {
          v.setStatus(side, `replay · ${live.nSteps} steps`);
          this.onEnded(side);
        }
      }
    }, (code) => {
      if (!live.ended && !this.closed) {
        v.setStatus(side, 'disconnected');
        v.showFailure(side, `The live stream closed early (${code}). Reload to see the replay.`);
        this.onEnded(side);
      }
    });
    this.closers.push(close);
  }

  /**
   * After the vote: the complete record of each finished side (actions, progress), the outcome and
   * the failure details from the (now unblinded) turn view, and the identities.
   * @param {any} turn the turn view after the vote
   * @param {any} vote the battle's reveal {left, right}
   */
  async reveal(turn, vote) {
    this.turn = turn;
    await Promise.all(SIDES.map(async (side) => {
      const ep = turn.episodes[side];
      if (ep.status === 'done' && ep.trajectory_url) {
        try {
          const replay = await this._decode(side, api.trajectory(ep.trajectory_url).then((bytes) => ({ bytes, fetchMs: 0 })));
          if (!this.closed) this.viewer.setEpisode(side, replay, false);
        } catch (err) {
          this.viewer.showFailure(side, `Cannot show the complete replay: ${/** @type {Error} */ (err).message}`);
        }
      }
    }));
    if (this.closed) return;
    this.viewer.setRevealed(true);
    for (const side of SIDES) {
      const ep = turn.episodes[side];
      const metric = ep.status === 'failed' ? `failed: ${ep.error ?? 'unknown error'}`
        : turn.task.family === 'none' ? 'no automatic metric'
          : `${ep.success ? '✓ success' : '✗ no success'} · progress ${Math.round((ep.progress ?? 0) * 100)}%`;
      if (ep.status === 'failed') this.viewer.showFailure(side, `This episode failed: ${ep.error ?? 'unknown error'}`);
      else if (ep.steps !== null && ep.steps !== undefined) {
        this.viewer.setStatus(side, `replay · ${ep.steps} steps${turn.task.family === 'none' ? '' : ep.success ? ' · success' : ' · no success'}`);
      }
      this.viewer.reveal(side, vote[side], metric);
    }
  }

  dispose() {
    this.closed = true;
    for (const c of this.closers) c();
  }
}
