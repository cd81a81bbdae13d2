// @ts-check
/** The leaderboard page: Bradley-Terry ratings with 95% CIs drawn as interval bars, global and per robot. */

import { api } from '../api.js';
import { h } from './dom.js';

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
  const table = h('table.board', { 'data-testid': 'leaderboard' },
    h('thead', null, h('tr', null, ...['Rank', 'Model', 'Rating', '95% CI', '', 'Votes', 'Win rate', 'W / L / T']
      .map((t) => h('th', null, t)))),
    h('tbody', null, ...rows.map((/** @type {any} */ r) => h('tr', { 'data-testid': `row-${r.model}`, dataset: { votes: String(r.votes) } },
      h('td.num', null, String(r.rank)),
      h('td', null, h('b', null, r.model), h('div.muted', null, r.organisation)),
      h('td.num', null, r.rating.toFixed(0)),
      h('td.num.muted', null, `${(r.ci_low - r.rating).toFixed(0)} / +${(r.ci_high - r.rating).toFixed(0)}`),
      h('td.ci', { title: `${r.ci_low.toFixed(0)} – ${r.ci_high.toFixed(0)}` }, h('div.ci-bar', null,
        h('div.axis'),
        h('div.range', { style: `left:${pct(r.ci_low)};width:calc(${pct(r.ci_high)} - ${pct(r.ci_low)})` }),
        h('div.point', { style: `left:${pct(r.rating)}` }))),
      h('td.num', { 'data-testid': `votes-${r.model}` }, String(r.votes)),
      h('td.num', null, `${(100 * r.win_rate).toFixed(0)}%`),
      h('td.num.muted', null, `${r.wins} / ${r.losses} / ${r.ties}`)))));
  main.replaceChildren(
    h('h1', null, 'Leaderboard'),
    tabs,
    h('p.muted', { 'data-testid': 'lb-total' }, `${board.total_votes} ${board.total_votes === 1 ? 'vote' : 'votes'}${robotId ? ` on ${robotId}` : ''} · ${board.method}. `,
      'Bars show 95% bootstrap intervals; overlapping bars mean the order is not yet settled. ',
      h('a', { href: '/api/votes', download: 'votes.json' }, 'Download the votes')),
    rows.length ? table : h('p.muted', null, 'No votes yet. Go battle!'));
}
