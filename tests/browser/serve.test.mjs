// Drives halog serve's page in headless Chromium (selenium-webdriver + Debian's chromedriver) as a
// user would: HAProxy lines sent over UDP to the listener of `halog serve --listen` show up in the
// live tail; a query that does not parse shows its error with a caret; a search is refined by a
// click on a field; the report's tables link into the search; a saved search is stored and
// reopened; a link made outside the page (/search?q=…) opens its search; lines built to attack
// the page render as inert text in every view. Throughout, the page logs nothing on the console
// and asks nothing of any other origin.
// Run by tests/e2e/serve_browser.sh; inputs come from the environment:
//   SERVE_URL   the server, "http://127.0.0.1:PORT/"
//   UDP_PORT    the port of its listener (udp on 127.0.0.1)
//   RUN_TOKEN   a word unique to this run, put in every line sent
//   SAVED_NAME  the name the saved search gets (the e2e script checks it with the CLI)
//   SHOT_DIR    where serve-search.png (a refined search, its graph and a context) and
//               serve-hostile.png (the hostile lines as the search shows them) go
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

import { startBrowser, drainLogs } from './lib.mjs';

const { By, Key, until } = await import('selenium-webdriver');

const URL0 = process.env.SERVE_URL;
const UDP_PORT = Number(process.env.UDP_PORT);
const TOK = process.env.RUN_TOKEN || 'run0';
const SAVED = process.env.SAVED_NAME || 'errors-run0';
const SHOTS = process.env.SHOT_DIR || os.tmpdir();
if (!URL0 || !UDP_PORT) throw new Error('SERVE_URL and UDP_PORT must be set');
const ORIGIN = new URL(URL0).origin;

let browser, driver;
const seen = { requests: [], console: [] };

before(async () => {
	browser = await startBrowser('halog-serve');
	driver = browser.driver;
	// the browser's own start page loads chrome:// resources: let it settle, then forget them
	await driver.get('about:blank');
	await driver.sleep(1000);
	await drainLogs(driver);
});

after(async () => {
	if (browser) await browser.quit();
});

// ---------------------------------------------------------------------------- helpers

const MON = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const p2 = (n) => String(n).padStart(2, '0');

// An httplog line as HAProxy sends it (RFC3164 header, UTC clock), dated now.
function httplog({ be, srv, status, term = '----', path: p, fe = 'fe_http', port = 40000 }) {
	const d = new Date();
	const hdr = `<134>${MON[d.getUTCMonth()]} ${String(d.getUTCDate()).padStart(2, ' ')} ` +
		`${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())} haproxy[4242]: `;
	const acc = `${p2(d.getUTCDate())}/${MON[d.getUTCMonth()]}/${d.getUTCFullYear()}:` +
		`${p2(d.getUTCHours())}:${p2(d.getUTCMinutes())}:${p2(d.getUTCSeconds())}.000`;
	return Buffer.from(`${hdr}127.0.0.1:${port} [${acc}] ${fe} ${be}/${srv} 0/0/1/10/12 ${status} 512 - - ` +
		`${term} 5/3/2/1/0 0/0 "GET ${p} HTTP/1.1"`);
}

function send(datagrams) {
	return new Promise((resolve, reject) => {
		const s = dgram.createSocket('udp4');
		let i = 0;
		const next = () => {
			if (i === datagrams.length) { s.close(); resolve(); return; }
			s.send(datagrams[i++], UDP_PORT, '127.0.0.1', (e) => (e ? reject(e) : next()));
		};
		next();
	});
}

// Collects what the page did; a test calls it at its end.
async function checkLogs(what) {
	const got = await drainLogs(driver);
	seen.requests.push(...got.requests);
	seen.console.push(...got.console);
	assert.deepEqual(got.console, [], `console messages during ${what}`);
	const foreign = got.requests.filter((u) => !u.startsWith(`${ORIGIN}/`) && !/^(data|about):/.test(u));
	assert.deepEqual(foreign, [], `requests outside the server during ${what}`);
}

const js = (code, ...args) => driver.executeScript(code, ...args);

// Loads the page afresh at hash (a plain get of the same page with another hash would only
// change the hash).
async function open(hash) {
	await driver.get('about:blank');
	await driver.get(`${URL0}${hash}`);
	await driver.wait(async () => (await js('return document.readyState')) === 'complete', 10000);
}

async function setQuery(text, submit = true) {
	const q = await driver.findElement(By.id('q'));
	await js('arguments[0].value = ""', q);
	await q.sendKeys(text);
	if (submit) await q.sendKeys(Key.ENTER);
}

// The lines of a list as the page shows them: [{id, text, fields: {field: [values]}}].
function shownLines(listId) {
	return js(`return [...document.querySelectorAll('#${listId} > li.line')].map((li) => {
		const f = {};
		for (const b of li.querySelectorAll('.field')) (f[b.dataset.field] ||= []).push(b.dataset.value);
		return { id: Number(li.dataset.id), text: li.querySelector('.raw').textContent, fields: f };
	});`);
}

// Waits until the page shows the results (and the hit graph) of the query in the box.
async function waitSearchDone() {
	await driver.wait(async () => js(`const q = document.getElementById('q').value.trim();
		return document.getElementById('search-lines').dataset.q === q && document.getElementById('hits').dataset.q === q;`),
	15000, 'the search did not finish');
}

// ---------------------------------------------------------------------------- the tests

const TRAFFIC = [
	{ be: 'be_api', srv: 'api1', status: 200, path: `/a/${TOK}/1` },
	{ be: 'be_api', srv: 'api2', status: 503, term: 'SC--', path: `/a/${TOK}/2` },
	{ be: 'be_web', srv: 'web1', status: 200, path: `/w/${TOK}/3` },
	{ be: 'be_web', srv: 'web2', status: 502, term: 'SH--', path: `/w/${TOK}/4` },
	{ be: 'be_api', srv: 'api1', status: 500, term: 'SH--', path: `/a/${TOK}/5` },
	{ be: 'be_web', srv: 'web1', status: 404, path: `/w/${TOK}/6` },
];

test('the page loads from the server alone', async () => {
	await open('#tail');
	await driver.wait(until.elementLocated(By.css('#store')), 5000);
	await driver.wait(async () => (await js("return document.getElementById('tail-status').textContent")).startsWith('live'), 10000,
		'the live tail did not start');
	assert.equal(await driver.getTitle(), 'halog');
	assert.equal(await js('return document.scripts.length'), 1, 'one script: the page\'s own');
	await checkLogs('the first load');
});

test('lines sent over UDP appear in the live tail', async () => {
	const sent = Date.now();
	await send(TRAFFIC.map(httplog));
	let delay = null;
	await driver.wait(async () => {
		const n = await js(`return [...document.querySelectorAll('#tail-lines .raw')]
			.filter((e) => e.textContent.includes(arguments[0])).length`, TOK);
		if (n === TRAFFIC.length) delay = Date.now() - sent;
		return n === TRAFFIC.length;
	}, 20000, 'the lines did not reach the live tail');
	console.log(`# live tail: ${TRAFFIC.length} lines on the page ${delay} ms after they were sent`);
	const lines = await shownLines('tail-lines');
	const mine = lines.filter((l) => l.text.includes(TOK));
	assert.deepEqual(mine.map((l) => l.fields.status[0]), TRAFFIC.map((t) => String(t.status)), 'oldest first, in order');
	// status classes and termination states are marked
	const cls = await js(`return [...document.querySelectorAll('#tail-lines li.line')].filter((li) =>
		li.textContent.includes(arguments[0])).map((li) => [li.querySelector('.field[data-field="status"]').className,
		li.querySelector('.field[data-field="state"]').className])`, TOK);
	assert.match(cls[1][0], /s5xx/);
	assert.match(cls[1][1], /term-bad/);
	assert.match(cls[0][0], /s2xx/);
	assert.match(cls[5][0], /s4xx/);
	// pause keeps new lines aside; resume shows them
	await driver.findElement(By.id('pause')).click();
	await send([httplog({ be: 'be_api', srv: 'api1', status: 200, path: `/p/${TOK}/paused` })]);
	await driver.wait(async () => /paused: 1 new line/.test(await js("return document.getElementById('tail-status').textContent")), 20000,
		'the paused line was not counted');
	assert.equal(await js(`return document.getElementById('tail-lines').textContent.includes('/p/${TOK}/paused')`), false);
	await driver.findElement(By.id('pause')).click();
	assert.equal(await js(`return document.getElementById('tail-lines').textContent.includes('/p/${TOK}/paused')`), true);
	await checkLogs('the live tail');
});

test('a query that does not parse shows its error with a caret under the place', async () => {
	await open('#search');
	await setQuery('status:5xx (backend:api', false);
	const box = await driver.findElement(By.id('q-error'));
	await driver.wait(until.elementIsVisible(box), 10000, 'no error shown');
	const msg = await box.findElement(By.css('.msg')).getText();
	assert.match(msg, /^query:1:12: unbalanced parenthesis/);
	const caret = await js("return document.querySelector('#q-error .caret').textContent");
	const [line, marks] = caret.split('\n');
	assert.equal(line, 'status:5xx (backend:api');
	assert.equal(marks, `${' '.repeat(11)}^`, 'the caret under the parenthesis');
	assert.equal(await driver.findElement(By.id('q')).getAttribute('aria-invalid'), 'true');
	// fixing it clears the error
	await setQuery('status:5xx (backend:api)', false);
	await driver.wait(until.elementIsNotVisible(box), 10000, 'the error stayed');
	await checkLogs('the query error');
});

test('a search is refined by a click on a field', async () => {
	await open('#search');
	await setQuery(`status:5xx ${TOK}`);
	await waitSearchDone();
	let lines = await shownLines('search-lines');
	assert.equal(lines.length, 3, JSON.stringify(lines));
	assert.deepEqual(lines.map((l) => l.fields.status[0]), ['500', '502', '503'], 'newest first');
	const total = await js("return [...document.querySelectorAll('#hits rect.bar')].reduce((a, r) => a + Number(r.dataset.count), 0)");
	assert.equal(total, 3, 'the hit graph counts the matches');
	// click be_api on the newest line
	await driver.findElement(By.css('#search-lines li.line .field[data-field="backend"][data-value="be_api"]')).click();
	await driver.wait(async () => (await driver.findElement(By.id('q')).getAttribute('value')) ===
		`status:5xx ${TOK} backend:"be_api"`, 10000, 'the query was not refined');
	await waitSearchDone();
	await driver.wait(async () => (await shownLines('search-lines')).length === 2, 10000);
	lines = await shownLines('search-lines');
	assert.ok(lines.every((l) => l.fields.backend[0] === 'be_api'), JSON.stringify(lines));
	assert.match(await js('return location.hash'), /^#search\?q=/);
	// context: the lines around a hit, from the same source
	await driver.findElement(By.css('#search-lines li.line button.ctx')).click();
	await driver.wait(until.elementLocated(By.css('#search-lines li.ctxbox li.line.hit')), 10000);
	const around = await js("return document.querySelectorAll('#search-lines li.ctxbox li.line').length");
	assert.ok(around >= 2, `${around} lines of context`);
	fs.mkdirSync(SHOTS, { recursive: true });
	fs.writeFileSync(path.join(SHOTS, 'serve-search.png'), Buffer.from(await driver.takeScreenshot(), 'base64'));
	await checkLogs('the search');
});

test('the report links into the search', async () => {
	await open('#report?since=1h');
	const frame = await driver.findElement(By.id('report-frame'));
	await driver.wait(async () => (await js("return document.getElementById('report-status').textContent")) === '', 15000);
	await driver.switchTo().frame(frame);
	const link = await driver.wait(until.elementLocated(By.css(
		'section.group[data-name="be_api"] table[data-table="servers"] tr[data-name="api1"] a.search')), 15000);
	const n = Number(await link.getText());
	assert.ok(n >= 2, `api1 requests ${n}`);
	await link.click();
	await driver.switchTo().defaultContent();
	await driver.wait(async () => (await js('return location.hash')).startsWith('#search?'), 10000, 'no navigation to the search');
	assert.equal(await driver.findElement(By.id('q')).getAttribute('value'), 'backend:"be_api" server:"api1"');
	await waitSearchDone();
	const lines = await shownLines('search-lines');
	assert.equal(lines.length, n, 'as many lines as the report counted');
	assert.ok(lines.every((l) => l.fields.server[0] === 'api1'));
	await checkLogs('the report');
});

test('a saved search is stored and reopens', async () => {
	await open(`#search?q=${encodeURIComponent(`status:5xx ${TOK}`)}`);
	await waitSearchDone();
	await driver.findElement(By.id('save-name')).sendKeys(SAVED);
	await driver.findElement(By.id('save-btn')).click();
	await driver.wait(async () => (await js("return document.getElementById('search-status').textContent")) === `saved as ${SAVED}`, 10000,
		'not saved');
	await setQuery('');
	await open('#saved');
	const row = await driver.wait(until.elementLocated(By.css(`#saved-list tr.saved[data-name="${SAVED}"]`)), 10000);
	assert.equal(await row.findElement(By.css('code')).getText(), `status:5xx ${TOK}`);
	await row.findElement(By.css('button.open')).click();
	await driver.wait(async () => (await js('return location.hash')).startsWith('#search?'), 10000);
	assert.equal(await driver.findElement(By.id('q')).getAttribute('value'), `status:5xx ${TOK}`);
	await waitSearchDone();
	assert.equal((await shownLines('search-lines')).length, 3);
	await checkLogs('the saved search');
});

test('a link made outside the page (as an alert payload carries) opens its search', async () => {
	// /search?q=…&since=@…&until=@… answers 303 to /#search?…: the form alert payloads use
	const now = Math.floor(Date.now() / 1000);
	const q = `status:5xx ${TOK}`;
	await driver.get('about:blank');
	await driver.get(`${URL0}search?q=${encodeURIComponent(q)}&since=%40${now - 3600}&until=%40${now + 3600}`);
	await driver.wait(async () => (await js('return location.hash')).startsWith('#search?'), 10000, 'the link did not reach the search view');
	assert.equal(await js('return location.pathname'), '/');
	assert.equal(await driver.findElement(By.id('q')).getAttribute('value'), q);
	assert.equal(await driver.findElement(By.id('range')).getAttribute('value'), 'custom');
	assert.equal(await driver.findElement(By.id('since')).getAttribute('value'), `@${now - 3600}`);
	await waitSearchDone();
	assert.equal((await shownLines('search-lines')).length, 3);
	await checkLogs('a link into the search');
});

// The payloads of the reliability catalogue (tests/e2e/hard_listen_catalogue.sh, hard_safe_defaults.sh,
// tests/cases/halog-html/data/hostile.log) plus markup built to run script if it ever became HTML.
const HOSTILE = [
	`<134>Nov 25 04:20:31 haproxy[1]: <script>window.__pwned=1</script> hx=${TOK}-H1`,
	`<134>cr end hx=${TOK}-H9\r`,
	`<134>multi a hx=${TOK}-H10\n<134>multi b\n<134>multi c`,
	`<abc>no numeric pri hx=${TOK}-H11`,
	`28 <134>octet over udp hx=${TOK}-H12`,
	`<1340>pri too big <iframe src=javascript:window.__pwned=12> hx=${TOK}-H13`,
	`<134${'9'.repeat(40)}> long pri hx=${TOK}-H14`,
	`<134>Nov 25 04:20:31 haproxy[1]: ../../../../tmp/pathmark-owned hx=${TOK}-H15`,
	`<134>Nov 25 04:20:31 haproxy[1]: <img src=x onerror="window.__pwned=2"> hx=${TOK}-H2`,
	`<134>Nov 25 04:20:31 haproxy[1]: esc \x1b[31mred\x1b]0;title\x07\x1b[0m hx=${TOK}-H3`,
	`<134>Nov 25 04:20:31 haproxy[1]: x'); DROP TABLE lines; -- hx=${TOK}-H5`,
	`<134>Nov 25 04:20:31 haproxy[1]: "><svg onload=window.__pwned=6> </textarea></pre></ol> hx=${TOK}-H6`,
];

// What "inert" means on a page: no script ran (window.__pwned), no element or handler attribute
// came from log content. The page's own: one script, no image, no handler.
const INERT = `return { pwned: window.__pwned === undefined ? null : window.__pwned, scripts: document.scripts.length,
	imgs: document.images.length, svgs: document.querySelectorAll('svg svg, li svg').length,
	on: [...document.querySelectorAll('*')].filter((e) => [...e.attributes].some((a) => a.name.startsWith('on'))).length }`;

test('the inertness check sees markup that got into the page', async () => {
	// a control: if injected markup passed unnoticed, the hostile-line checks would prove nothing
	await open('#tail');
	await js(`document.getElementById('tail-lines').insertAdjacentHTML('beforeend',
		'<li class="line"><img alt="" onerror="window.__pwned=99"><svg><svg></svg></svg></li>'); window.__pwned = 98;`);
	const r = await js(INERT);
	assert.deepEqual(r, { pwned: 98, scripts: 1, imgs: 1, svgs: 2, on: 1 });
	await open('#tail'); // a fresh page
	await drainLogs(driver); // what the control itself caused is not the page's
});

test('hostile lines render as inert text in every view', async () => {
	const raw = [...HOSTILE.map((s) => Buffer.from(s)),
		Buffer.concat([Buffer.from('<134>bad utf8 \xff\xfe nul '.split('').map((c) => c.charCodeAt(0))),
			Buffer.from([0]), Buffer.from(` hx=${TOK}-H4`)]),
		httplog({ be: 'be_<i>x&amp;"q', srv: 's<img>', status: 418, path: `/<script>window.__pwned=7</script>/${TOK}-H7` }),
		httplog({ be: 'be_x', srv: 's1', status: 404, path: `javascript:window.__pwned=8//${TOK}-H8` })];
	await open('#tail');
	await driver.wait(async () => (await js("return document.getElementById('tail-status').textContent")).startsWith('live'), 10000);
	await send(raw);
	const inert = async (where) => {
		assert.deepEqual(await js(INERT), { pwned: null, scripts: 1, imgs: 0, svgs: 0, on: 0 }, `in ${where}`);
	};
	await driver.wait(async () => (await js(`return [...document.querySelectorAll('#tail-lines .raw')]
		.filter((e) => e.textContent.includes(arguments[0] + '-H')).length`, TOK)) === raw.length, 20000, 'hostile lines not in the tail');
	await inert('the live tail');
	const text = await js("return document.getElementById('tail-lines').textContent");
	assert.ok(text.includes('<script>window.__pwned=1</script>'), 'the markup shows as text');
	assert.ok(text.includes('\\x1b[31mred'), 'escape sequences show as \\x1b');
	assert.ok(text.includes('\\xff\\xfe nul \\x00'), 'invalid UTF-8 and NUL show as \\xHH');
	// search (the hostile query itself is text too), the hit graph and the context
	await open(`#search?q=${encodeURIComponent(`"hx=${TOK}-H" OR "${TOK}-H7" OR "${TOK}-H8"`)}`);
	await waitSearchDone();
	assert.equal((await shownLines('search-lines')).length, raw.length);
	for (const b of await driver.findElements(By.css('#search-lines li.line button.ctx'))) await b.click();
	await driver.wait(async () => (await js("return document.querySelectorAll('#search-lines li.ctxbox').length")) === raw.length, 15000);
	await inert('the search and its context');
	// a click on the hostile backend name makes a query that finds exactly its line
	await driver.findElement(By.css('#search-lines .field[data-field="backend"][data-value="be_<i>x&amp;\\"q"]')).click();
	await driver.wait(async () => (await shownLines('search-lines')).length === 1, 15000, 'the hostile name as a filter');
	await inert('the refined search');
	// the report of the hostile backend, in its frame
	await open(`#report?since=1h&backend=${encodeURIComponent('be_<i>x&amp;"q')}`);
	await driver.wait(async () => (await js("return document.getElementById('report-status').textContent")) === '', 15000);
	await inert('the page around the report');
	await driver.switchTo().frame(await driver.findElement(By.id('report-frame')));
	const rep = await js(`return { scripts: document.scripts.length, imgs: document.images.length,
		pwned: window.__pwned === undefined ? null : 1, name: document.querySelector('section.group[data-kind="backend"]').dataset.name,
		text: document.body.textContent.includes('be_<i>x&amp;"q') }`);
	await driver.switchTo().defaultContent();
	assert.deepEqual(rep, { scripts: 0, imgs: 0, pwned: null, name: 'be_<i>x&amp;"q', text: true });
	// a hostile query: in the error box with its caret, and in the saved searches
	await open('#search');
	await setQuery('"<img src=x onerror=window.__pwned=10>" (', false);
	await driver.wait(until.elementIsVisible(await driver.findElement(By.id('q-error'))), 10000);
	await inert('the query error box');
	assert.match(await js("return document.querySelector('#q-error .caret').textContent"), /<img src=x onerror=/);
	await setQuery('"<img src=x onerror=window.__pwned=11>"');
	await waitSearchDone();
	await driver.findElement(By.id('save-name')).sendKeys(`hostile-${TOK}`);
	await driver.findElement(By.id('save-btn')).click();
	await driver.wait(async () => /^saved as/.test(await js("return document.getElementById('search-status').textContent")), 10000);
	await open('#saved');
	await driver.wait(until.elementLocated(By.css(`#saved-list tr.saved[data-name="hostile-${TOK}"]`)), 10000);
	await inert('the saved searches');
	await open(`#search?q=${encodeURIComponent(`"hx=${TOK}-H" OR "${TOK}-H7" OR "${TOK}-H8"`)}`);
	await waitSearchDone();
	fs.writeFileSync(path.join(SHOTS, 'serve-hostile.png'), Buffer.from(await driver.takeScreenshot(), 'base64'));
	await checkLogs('the hostile lines');
});

test('over the whole session: no console message, no request outside the server', async () => {
	assert.deepEqual(seen.console, []);
	assert.ok(seen.requests.some((u) => u.startsWith(`${ORIGIN}/api/tail`)), 'the live tail was requested');
	assert.ok(seen.requests.some((u) => u.startsWith(`${ORIGIN}/api/report`)), 'the report was requested');
	assert.ok(seen.requests.every((u) => u.startsWith(`${ORIGIN}/`) || /^(data|about):/.test(u)));
});
