// halog serve's page: live tail, search, report and saved searches, built only on the JSON API
// of docs/halog-serve.md. Log content reaches the page as text only (textContent, attributes set
// one by one), never as HTML, so a line holding markup or escapes shows as what it is.
'use strict';

const $ = (id) => document.getElementById(id);
const S = {
	view: 'tail',
	meta: null,
	es: null,          // the live tail's EventSource
	tailQ: null,       // the query it runs
	paused: false,
	pending: [],       // lines received while paused
	pendingLost: 0,    // beyond MAX_PENDING, oldest first
	backlogDone: false,
	early: [],         // tail events that came before the backlog
	rate: [],          // [ms, stored] of recent tail events, for lines per second
	next: null,        // cursor of the next older search page
	seq: 0,            // bumps on every new search, to drop late answers
	lastSearch: null,  // the params of the shown search
};
const MAX_TAIL_LINES = 2000;
const MAX_PENDING = 5000;

// ---------------------------------------------------------------------------- helpers

function el(tag, attrs, ...kids) {
	const e = document.createElement(tag);
	for (const [k, v] of Object.entries(attrs || {})) {
		if (v === undefined || v === null) continue;
		if (k === 'class') e.className = v;
		else if (k === 'text') e.textContent = v;
		else e.setAttribute(k, v);
	}
	for (const k of kids) if (k !== null && k !== undefined) e.append(k);
	return e;
}

function svg(tag, attrs) {
	const e = document.createElementNS('http://www.w3.org/2000/svg', tag);
	for (const [k, v] of Object.entries(attrs || {})) e.setAttribute(k, v);
	return e;
}

// Calls the API; resolves to {status, body} (body parsed when JSON). Never throws on HTTP errors.
async function api(path, opts = {}) {
	const headers = { Accept: 'application/json' };
	if (opts.json !== undefined) headers['Content-Type'] = 'application/json';
	if (opts.method && opts.method !== 'GET') headers['X-CSRF-Token'] = S.meta ? S.meta.csrf : '';
	let r;
	try {
		r = await fetch(path, {
			method: opts.method || 'GET', headers, credentials: 'same-origin',
			body: opts.json !== undefined ? JSON.stringify(opts.json) : undefined,
		});
	} catch (e) {
		return { status: 0, body: { error: 'the server cannot be reached' } };
	}
	let body = null;
	try { body = await r.json(); } catch (e) { body = { error: `HTTP ${r.status}` }; }
	return { status: r.status, body };
}

const qs = (o) => Object.entries(o).filter(([, v]) => v !== undefined && v !== null && v !== '')
	.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');

// The term field:"value" exactly as the query language reads it back (query_add_term in C).
function term(field, value) {
	if (field === 'status' && /^[0-9]{3}$/.test(value)) return `status:${value}`;
	return `${field}:"${String(value).replace(/["\\]/g, '\\$&')}"`;
}

function utc(ms) {
	const d = new Date(ms);
	return d.toISOString().replace('T', ' ').replace('Z', '');
}

const fmtInt = (n) => Number(n).toLocaleString('en-US');

// ---------------------------------------------------------------------------- the query box

function query() { return $('q').value.trim(); }

function rangeParams() {
	const r = $('range').value;
	if (r === 'all') return {};
	if (r === 'custom') return { since: $('since').value.trim(), until: $('until').value.trim() };
	return { since: r };
}

function showQueryError(q, errors) {
	const box = $('q-error');
	if (!errors || !errors.length) {
		box.hidden = true;
		$('q').removeAttribute('aria-invalid');
		return;
	}
	const e = errors[0];
	// col counts bytes (UTF-8); the caret goes under the character holding that byte
	const bytes = new TextEncoder().encode(q);
	const before = new TextDecoder().decode(bytes.slice(0, Math.max(0, e.col - 1)));
	const pad = Array.from(before).length;
	box.querySelector('.msg').textContent =
		`query:1:${e.col}: ${e.message}` + (errors.length > 1 ? ` (and ${errors.length - 1} more)` : '');
	box.querySelector('.caret').textContent = `${q}\n${' '.repeat(pad)}^`;
	box.hidden = false;
	$('q').setAttribute('aria-invalid', 'true');
}

// Asks the server whether q parses; shows the positioned error when not. Resolves to true if ok.
async function checkQuery(q) {
	if (!q) { showQueryError(q, null); return true; }
	const r = await api(`/api/query?${qs({ q })}`);
	if (r.status === 200 && r.body.ok) { showQueryError(q, null); return true; }
	showQueryError(q, r.body.errors || [{ col: 1, message: r.body.error || `HTTP ${r.status}` }]);
	return false;
}

let checkTimer = null;
function onQueryInput() {
	clearTimeout(checkTimer);
	const q = query();
	checkTimer = setTimeout(() => { if (query() === q) checkQuery(q); }, 250);
}

// Adds field:"value" to the query and runs the current view again.
function addFilter(field, value) {
	const t = term(field, value);
	const q = query();
	// AND binds tighter than OR: a query with OR is grouped first, so the filter applies to all
	const base = /(^|[\s)])OR([\s(]|$)/.test(q) ? `(${q})` : q;
	if (!q.split(/\s+/).includes(t)) $('q').value = base ? `${base} ${t}` : t;
	submit();
}

// ---------------------------------------------------------------------------- lines

function fieldButton(field, value, label, cls) {
	const b = el('button', {
		type: 'button', class: `field ${cls || ''}`.trim(), 'data-field': field, 'data-value': String(value),
		title: `add ${term(field, value)} to the query`, text: label === undefined ? String(value) : label,
	});
	b.addEventListener('click', (ev) => { ev.preventDefault(); addFilter(field, value); });
	return b;
}

function statusClass(s) {
	return s >= 200 && s < 600 ? `s${Math.floor(s / 100)}xx` : 'sother';
}

function lineItem(l, extra) {
	const li = el('li', { class: `line ${extra || ''}`.trim(), 'data-id': String(l.id) });
	li.append(el('span', { class: 't', text: utc(l.recv_ms) }));
	li.append(el('span', { class: 'src', text: l.host || l.source || '-' }));
	if (l.kind === 'unparsed') li.append(fieldButton('kind', 'unparsed', 'unparsed', 'unparsed'));
	else if (l.kind !== 'http' && l.kind !== 'tcp') li.append(fieldButton('kind', l.kind));
	// events name their backend (a connection line: its frontend) as proxy, as halog search does
	const conn = l.kind === 'connect' || l.kind === 'conn_error';
	if (l.frontend !== undefined) li.append(fieldButton('frontend', l.frontend));
	if (l.backend !== undefined) li.append(fieldButton('backend', l.backend));
	else if (l.proxy !== undefined) li.append(fieldButton(conn ? 'frontend' : 'backend', l.proxy));
	if (l.server !== undefined) li.append(fieldButton('server', l.server));
	else if (l.event_server !== undefined && !conn) li.append(fieldButton('server', l.event_server));
	if (l.status !== undefined) li.append(fieldButton('status', String(l.status), undefined, statusClass(l.status)));
	if (l.term !== undefined) {
		const bad = l.term[0] !== '-' && l.term[0] !== 'L';
		li.append(fieldButton('state', l.term.slice(0, 2), l.term, bad ? 'term-bad' : 'term-ok'));
	}
	if (l.state !== undefined) {
		const st = l.state.toUpperCase();
		li.append(fieldButton('state', l.state, l.state, st.startsWith('DOWN') ? 'down' : st.startsWith('UP') ? 'up' : ''));
	}
	if (l.client_ip !== undefined) li.append(fieldButton('client', l.client_ip));
	if (l.method !== undefined) li.append(fieldButton('method', l.method));
	li.append(el('span', { class: 'raw', text: l.text }));
	return li;
}

// ---------------------------------------------------------------------------- live tail

function tailStatus(msg, warn) {
	const s = $('tail-status');
	s.textContent = msg;
	s.classList.toggle('warn', !!warn);
}

function stopTail() {
	if (S.es) S.es.close();
	S.es = null;
	S.tailQ = null;
}

function appendTail(lines) {
	const ol = $('tail-lines');
	const atEnd = ol.scrollTop + ol.clientHeight >= ol.scrollHeight - 4;
	const frag = document.createDocumentFragment();
	for (const l of lines.slice(-MAX_TAIL_LINES)) frag.append(lineItem(l));
	ol.append(frag);
	while (ol.childElementCount > MAX_TAIL_LINES) ol.firstElementChild.remove();
	if (atEnd) ol.scrollTop = ol.scrollHeight;
}

function linesPerSecond() {
	const now = Date.now();
	S.rate = S.rate.filter(([t]) => now - t < 5000);
	const n = S.rate.reduce((a, [, k]) => a + k, 0);
	return Math.round(n / 5);
}

function onTailEvent(ev) {
	S.rate.push([Date.now(), ev.stored]);
	const notes = [];
	let warn = false;
	if (ev.limited) {
		notes.push(`sampling: showing the newest ${ev.shown} of ${fmtInt(ev.stored)} new lines in this step`);
		warn = true;
	}
	if (ev.unscanned) { notes.push(`${fmtInt(ev.unscanned)} lines arrived too fast to look at`); warn = true; }
	if (ev.dropped) { notes.push(`${fmtInt(ev.dropped)} lines dropped: this page did not keep up`); warn = true; }
	if (S.paused) {
		S.pending.push(...ev.lines);
		if (S.pending.length > MAX_PENDING) {
			S.pendingLost += S.pending.length - MAX_PENDING;
			S.pending.splice(0, S.pending.length - MAX_PENDING);
		}
		tailStatus(`paused: ${fmtInt(S.pending.length + S.pendingLost)} new lines waiting`, true);
		return;
	}
	appendTail(ev.lines);
	tailStatus(`live: about ${fmtInt(linesPerSecond())} lines/s stored` + (notes.length ? ` — ${notes.join('; ')}` : ''), warn);
}

async function startTail() {
	const q = query();
	if (S.es && S.tailQ === q) return;
	stopTail();
	if (!(await checkQuery(q))) { tailStatus('fix the query to follow it'); return; }
	$('tail-lines').replaceChildren();
	S.pending = [];
	S.pendingLost = 0;
	S.backlogDone = false;
	S.early = [];
	S.tailQ = q;
	tailStatus('connecting…');
	const es = new EventSource(`/api/tail?${qs({ q })}`);
	S.es = es;
	es.addEventListener('hello', async (m) => {
		const h = JSON.parse(m.data);
		if (S.backlogDone || es !== S.es) return; // a reconnection: the stream goes on where it was
		const r = await api(`/api/search?${qs({ q, before: h.from, limit: 50 })}`);
		if (es !== S.es) return;
		if (r.status === 200) appendTail(r.body.lines.slice().reverse());
		S.backlogDone = true;
		tailStatus(q ? `live: following ${q}` : 'live: following every line');
		for (const ev of S.early) onTailEvent(ev);
		S.early = [];
	});
	es.addEventListener('lines', (m) => {
		if (es !== S.es) return;
		const ev = JSON.parse(m.data);
		if (!S.backlogDone) S.early.push(ev);
		else onTailEvent(ev);
	});
	es.addEventListener('error', () => {
		if (es === S.es) tailStatus('connection lost: reconnecting…', true);
	});
}

function togglePause() {
	S.paused = !S.paused;
	$('pause').setAttribute('aria-pressed', String(S.paused));
	$('pause').textContent = S.paused ? 'Resume' : 'Pause';
	if (S.paused) {
		tailStatus('paused: new lines are kept until you resume', true);
		return;
	}
	const lost = S.pendingLost;
	appendTail(S.pending);
	S.pending = [];
	S.pendingLost = 0;
	tailStatus(lost ? `resumed: ${fmtInt(lost)} older waiting lines were not kept` : 'live', !!lost);
}

// ---------------------------------------------------------------------------- search

function searchStatus(msg, warn) {
	const s = $('search-status');
	s.textContent = msg;
	s.classList.toggle('warn', !!warn);
}

function drawHits(h) {
	const box = $('hits');
	box.replaceChildren();
	const W = 1000, H = 100, n = h.counts.length;
	const max = Math.max(1, ...h.counts);
	const g = svg('svg', { viewBox: `0 0 ${W} ${H + 12}`, preserveAspectRatio: 'none', role: 'img',
		'aria-label': `${fmtInt(h.total)} matching lines over time, ${n} bars of ${h.width_ms / 1000} s` });
	const bw = W / n;
	h.counts.forEach((c, i) => {
		if (!c) return;
		const bh = Math.max(1, (c / max) * H);
		const t0 = h.t0 + i * h.width_ms;
		const r = svg('rect', { class: 'bar', x: (i * bw + 0.5).toFixed(1), y: (H - bh).toFixed(1),
			width: Math.max(1, bw - 1).toFixed(1), height: bh.toFixed(1), 'data-count': String(c),
			'data-t0': String(t0) });
		const title = svg('title');
		title.textContent = `${utc(t0)} UTC: ${fmtInt(c)} lines`;
		r.append(title);
		r.addEventListener('click', () => zoomTo(t0, t0 + h.width_ms));
		g.append(r);
	});
	const l = svg('text', { x: '2', y: String(H + 10) });
	l.textContent = `${utc(h.t0)} UTC`;
	const rt = svg('text', { x: String(W - 2), y: String(H + 10), 'text-anchor': 'end' });
	rt.textContent = `${utc(h.t0 + n * h.width_ms)} UTC · max ${fmtInt(max)} per ${h.width_ms / 1000} s`;
	g.append(l, rt);
	box.append(g);
	if (h.partial_from !== null)
		box.append(el('p', { class: 'note', text: `counted down to ${utc(h.partial_from)} UTC only: the graph ran out of time` }));
}

function zoomTo(from, to) {
	$('range').value = 'custom';
	$('custom').hidden = false;
	$('since').value = `@${Math.floor(from / 1000)}`;
	$('until').value = `@${Math.ceil(to / 1000)}`;
	submit();
}

async function showContext(li, id) {
	const next = li.nextElementSibling;
	if (next && next.classList.contains('ctxbox')) { next.remove(); return; }
	const r = await api(`/api/context?${qs({ id, n: 5 })}`);
	if (r.status !== 200) { searchStatus(r.body.error || `HTTP ${r.status}`, true); return; }
	const box = el('li', { class: 'ctxbox' });
	const ol = el('ol', { class: 'lines', 'aria-label': `lines around ${id} from the same source` });
	for (const l of r.body.lines) ol.append(lineItem(l, l.id === id ? 'hit' : 'context'));
	box.append(ol);
	li.after(box);
}

function searchItem(l) {
	const li = lineItem(l);
	const b = el('button', { type: 'button', class: 'ctx', text: 'context' });
	b.addEventListener('click', () => showContext(li, l.id));
	li.append(b);
	return li;
}

async function runSearch(older) {
	const q = query();
	if (!older) {
		if (!(await checkQuery(q))) { searchStatus('fix the query to search'); return; }
		S.seq++;
		S.lastSearch = { q, ...rangeParams() };
		$('search-lines').replaceChildren();
		delete $('search-lines').dataset.q;
		delete $('hits').dataset.q;
		$('older').hidden = true;
		searchStatus('searching…');
		const seq = S.seq;
		api(`/api/hits?${qs(S.lastSearch)}`).then((h) => {
			if (seq !== S.seq) return;
			if (h.status === 200) { drawHits(h.body); $('hits').dataset.q = q; }
			else $('hits').replaceChildren(el('p', { class: 'note', text: h.body.error || `HTTP ${h.status}` }));
		});
	}
	const seq = S.seq;
	const p = { ...S.lastSearch, limit: 100, before: older ? S.next : undefined };
	const r = await api(`/api/search?${qs(p)}`);
	if (seq !== S.seq) return;
	if (r.status !== 200) {
		if (r.body.errors) showQueryError(q, r.body.errors);
		searchStatus(r.body.error || `HTTP ${r.status}`, true);
		return;
	}
	const frag = document.createDocumentFragment();
	for (const l of r.body.lines) frag.append(searchItem(l));
	$('search-lines').append(frag);
	$('search-lines').dataset.q = q; // which search the list shows (tests wait on it)
	S.next = r.body.next;
	$('older').hidden = !r.body.more;
	const shown = $('search-lines').querySelectorAll(':scope > li.line').length;
	searchStatus(`${fmtInt(shown)} lines, newest first${r.body.more ? ' (more below)' : ''} · ${r.body.took_ms} ms`);
}

async function saveSearch() {
	const name = $('save-name').value.trim();
	const q = query();
	if (!name) { searchStatus('give the search a name first', true); return; }
	if (!(await checkQuery(q))) return;
	// a name in use is replaced only on a second click, once the page said so
	const replace = S.replaceName === name && S.replaceQuery === q;
	const r = await api('/api/saved', { method: 'POST', json: { name, query: q, replace } });
	S.replaceName = S.replaceQuery = null;
	if (r.status === 201) searchStatus(`saved as ${name}`);
	else if (r.status === 409 && !replace) {
		S.replaceName = name;
		S.replaceQuery = q;
		searchStatus(`a saved search called ${name} exists: click Save search again to replace it`, true);
	} else searchStatus(r.body.error || `HTTP ${r.status}`, true);
}

// ---------------------------------------------------------------------------- report

function showReport() {
	const p = { ...rangeParams(), backend: $('report-backend').value.trim(), frontend: $('report-frontend').value.trim() };
	$('report-status').textContent = 'loading…';
	$('report-frame').src = `/api/report?${qs(p)}`;
}

// ---------------------------------------------------------------------------- saved

async function showSaved() {
	const r = await api('/api/saved');
	const tb = $('saved-list');
	tb.replaceChildren();
	if (r.status !== 200) { $('saved-status').textContent = r.body.error || `HTTP ${r.status}`; return; }
	for (const s of r.body.saved) {
		const open = el('button', { type: 'button', class: 'open', text: 'Open' });
		open.addEventListener('click', () => { location.hash = `#search?${qs({ q: s.query })}`; });
		const del = el('button', { type: 'button', class: 'delete', text: 'Delete' });
		del.addEventListener('click', async () => {
			const d = await api(`/api/saved?${qs({ name: s.name })}`, { method: 'DELETE' });
			$('saved-status').textContent = d.status === 200 ? `deleted ${s.name}` : (d.body.error || `HTTP ${d.status}`);
			showSaved();
		});
		tb.append(el('tr', { class: 'saved', 'data-name': s.name },
			el('th', { scope: 'row', text: s.name }), el('td', {}, el('code', { text: s.query })),
			el('td', { text: utc(s.updated_ms) }), el('td', {}, open, del)));
	}
	$('saved-status').textContent = r.body.saved.length ? '' : 'no saved search yet: run a search and save it';
}

// ---------------------------------------------------------------------------- views and the address

function show(view) {
	S.view = view;
	for (const v of ['tail', 'search', 'report', 'saved']) {
		$(`view-${v}`).hidden = v !== view;
		$(`tab-${v}`).setAttribute('aria-selected', String(v === view));
	}
	$('range-box').hidden = view === 'tail' || view === 'saved';
	$('go').textContent = view === 'tail' ? 'Follow' : view === 'report' ? 'Show report' : 'Search';
	if (view !== 'tail') stopTail();
}

// The hash holds the view and its parameters: #search?q=…&since=…&until=…
function readHash() {
	const h = location.hash.slice(1);
	const [view, rest] = h.split('?');
	const p = new URLSearchParams(rest || '');
	return { view: ['tail', 'search', 'report', 'saved'].includes(view) ? view : 'tail', p };
}

function applyParams(p) {
	if (p.has('q')) $('q').value = p.get('q');
	const since = p.get('since'), until = p.get('until');
	if (until || (since && !['15m', '1h', '6h', '1d', '7d'].includes(since))) {
		$('range').value = 'custom';
		$('since').value = since || '';
		$('until').value = until || '';
	} else if (since) {
		$('range').value = since;
	} else if (p.has('q') && !p.has('since')) {
		$('range').value = 'all';
	}
	$('custom').hidden = $('range').value !== 'custom';
	if (p.has('backend')) $('report-backend').value = p.get('backend');
	if (p.has('frontend')) $('report-frontend').value = p.get('frontend');
}

function run() {
	if (S.view === 'tail') startTail();
	else if (S.view === 'search') runSearch(false);
	else if (S.view === 'report') showReport();
	else showSaved();
}

function onHash() {
	const { view, p } = readHash();
	applyParams(p);
	show(view);
	run();
}

// The form: puts the view's parameters in the address (which runs it), or runs it again.
function submit() {
	const p = S.view === 'tail' ? { q: query() }
		: S.view === 'report' ? { ...rangeParams(), backend: $('report-backend').value.trim(), frontend: $('report-frontend').value.trim() }
		: S.view === 'search' ? { q: query(), ...rangeParams() } : {};
	if (S.view === 'tail' && S.es && S.tailQ !== query()) stopTail();
	const h = `#${S.view}${Object.keys(p).length ? '?' : ''}${qs(p)}`;
	if (location.hash === h) run();
	else location.hash = h;
}

async function init() {
	const m = await api('/api/meta');
	if (m.status === 200) {
		S.meta = m.body;
		const last = m.body.last_ms === null ? 'empty' : `last line ${utc(m.body.last_ms)} UTC`;
		$('store').textContent = `${m.body.store} · ${last}${m.body.listening ? ' · receiving' : ''}`;
	} else {
		$('store').textContent = m.body.error || `HTTP ${m.status}`;
	}
	$('qform').addEventListener('submit', (e) => { e.preventDefault(); submit(); });
	$('q').addEventListener('input', onQueryInput);
	$('range').addEventListener('change', () => { $('custom').hidden = $('range').value !== 'custom'; });
	$('pause').addEventListener('click', togglePause);
	$('clear').addEventListener('click', () => $('tail-lines').replaceChildren());
	$('older').addEventListener('click', () => runSearch(true));
	$('save-btn').addEventListener('click', saveSearch);
	$('report-go').addEventListener('click', submit);
	$('report-frame').addEventListener('load', () => { $('report-status').textContent = ''; });
	window.addEventListener('hashchange', onHash);
	onHash();
}

document.addEventListener('DOMContentLoaded', init);
