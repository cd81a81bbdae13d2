// @ts-check
/**
 * The leaderboard page: Bayesian Bradley-Terry-Davidson ratings with 95% intervals drawn as bars, Rank (UB),
 * provisional models marked, and the automatic metric (success rate) beside each rating; global and per robot.
 */

import { api } from '../api.js';
import { h } from './dom.js';

/** @param {number | null} tau */
const agreement = (tau) => (tau === null ? 'no rank correlation yet (it needs two models with different success rates)'
  : `Kendall tau ${tau.toFixed(2)} between ratings and success rates`);

/** @param {any} r @param {(v: number) => string} pct @param {boolean} grouped */
function row(r, pct, grouped) {
  const success = r.success_rate === null ? '–' : `${(100 * r.success_rate).toFixed(0)}%`;
  return h(`tr${r.provisional ? '.provisional' : ''}`, {
    'data-testid': `row-${r.model}`,
    dataset: { votes: String(r.votes), rank: String(r.rank), provisional: String(r.provisional),
      ciLow: String(r.ci_low), ciHigh: String(r.ci_high), rating: String(r.rating) },
  },
  h('td.num', { 'data-testid': `rank-${r.model}` }, String(r.rank)),
  h('td', null, h('b', null, r.model),
    r.provisional ? h('span.badge.provisional', { 'data-testid': `provisional-${r.model}`,
      title: 'Too few votes for a settled rating: the interval is wide and the rank may change' }, 'provisional') : null,
    h('div.muted', null, r.organisation, grouped ? ` · group ${r.group + 1}` : '')),
  h('td.num', null, r.rating.toFixed(0)),
  h('td.num.muted', null, `${(r.ci_low - r.rating).toFixed(0)} / +${(r.ci_high - r.rating).toFixed(0)}`),
  h('td.ci', { title: `${r.ci_low.toFixed(0)} – ${r.ci_high.toFixed(0)}` }, h('div.ci-bar', null,
    h('div.axis'),
    h('div.range', { style: `left:${pct(r.ci_low)};width:calc(${pct(r.ci_high)} - ${pct(r.ci_low)})` }),
    h('div.point', { style: `left:${pct(r.rating)}` }))),
  h('td.num', { 'data-testid': `votes-${r.model}` }, String(r.votes)),
  h('td.num', { 'data-testid': `success-${r.model}`, title: `${r.episodes} episodes with an automatic metric` }, success),
  h('td.num', null, `${(100 * r.win_rate).toFixed(0)}%`),
  h('td.num.muted', null, `${r.wins} / ${r.losses} / ${r.ties} / ${r.both_bad}`));
}

/**
 * @param {HTMLElement} main
 * @param {string | null} robotId null for the global board
 * @param {(path: string, replace?: boolean) => void} navigate
 */
export async function leaderboardPage(main, robotId, navigate) {
  const [board, robots] = await Promise.all([api.leaderboard(robotId), api.robots()]);
  const tabs = h('div.lb-tabs', { role: 'tablist' },
    h('button', { class: robotId ? '' : 'active', onclick: () => navigate('/leaderboard'), 'data-testid': 'lb-global' }, 'All robots'),
    ...robots.map((/** @type {any} */ r) => h('button', {
      class: robotId === r.id ? 'active' : '', onclick: () => navigate(`/leaderboard?robot=${encodeURIComponent(r.id)}`),
      'data-testid': `lb-robot-${r.id}`,
    }, r.name)));
  const rows = board.models;
  const lo = Math.min(...rows.map((/** @type {any} */ r) => r.ci_low), 900);
  const hi = Math.max(...rows.map((/** @type {any} */ r) => r.ci_high), 1100);
  const pct = (/** @type {number} */ v) => `${(100 * (v - lo)) / (hi - lo)}%`;
  const headers = ['Rank (UB)', 'Model', 'Rating', '95% interval', '', 'Votes', 'Success', 'Win rate', 'W / L / T / both bad'];
  const table = h('table.board', { 'data-testid': 'leaderboard' },
    h('thead', null, h('tr', null, ...headers.map((t) => h('th', null, t)))),
    h('tbody', null, ...rows.map((/** @type {any} */ r) => row(r, pct, board.groups > 1))));
  const excluded = board.total_votes - board.fitted_votes;
  main.replaceChildren(
    h('h1', null, 'Leaderboard'),
    tabs,
    h('p.muted', { 'data-testid': 'lb-total' },
      `${board.total_votes} ${board.total_votes === 1 ? 'vote' : 'votes'}${robotId ? ` on ${robotId}` : ''}`,
      excluded ? ` (${excluded} excluded by vote cleaning)` : '', ' · ',
      h('span', { 'data-testid': 'lb-method' }, board.method), '.'),
    h('p.muted', { 'data-testid': 'lb-scope' }, `Compares ${board.scope}. `,
      `A model is provisional below ${board.min_votes} votes. Rank (UB) is 1 + the number of models whose whole `
      + 'interval lies above this one\'s, so models that the votes cannot yet separate share a rank. ',
      'A 100-point gap means the higher model is preferred in 64% of decisive votes (200: 76%, 400: 91%).'),
    h('p.muted', { 'data-testid': 'lb-metrics' }, 'Votes and the automatic metric: ', agreement(board.metric_correlation), '. ',
      h('a', { href: '/api/votes?format=jsonl', download: 'votes.jsonl' }, 'Download the votes'),
      ' (FastChat battle format).'),
    rows.length ? table : h('p.muted', null, 'No votes yet. Go battle!'));
}
