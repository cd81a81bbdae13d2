// A voter over HTTP for the browser benchmarks: keeps the server-issued cookie (`arena_voter`) and hands it
// to a Playwright context, so the page opens battles as the voter who made them.

/** @param {string} base the server's origin, e.g. http://127.0.0.1:8000 */
export function client(base) {
  let cookie = '';
  /** GET (no body) or POST JSON; throws on a non-2xx answer. @param {string} p @param {unknown} [body] */
  const call = async (p, body) => {
    const r = await fetch(`${base}${p}`, {
      method: body === undefined ? 'GET' : 'POST',
      headers: { ...(cookie ? { cookie } : {}), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const set = r.headers.get('set-cookie');
    if (set?.startsWith('arena_voter=')) cookie = set.split(';')[0];
    if (!r.ok) throw new Error(`${p}: ${r.status} ${await r.text()}`);
    return r.json();
  };
  return { call, cookies: () => (cookie ? [{ name: 'arena_voter', value: cookie.slice('arena_voter='.length), url: base }] : []) };
}
