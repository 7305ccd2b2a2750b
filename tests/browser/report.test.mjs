// Opens halog's HTML report in headless Chromium (selenium-webdriver + Debian's chromedriver) and
// checks what a reader sees: the backends, servers and counts of the store in the charts and the
// tables, the DOWN events on the timeline, no console error, no network request, a print layout.
// Saves screenshots (and a PDF). Run by tests/e2e/html_report.sh; inputs come from the environment:
//   REPORT_HTML   the report to open (absolute path)
//   EXPECT_JSON   the facts to find in it, read from the store with sqlite3 by the e2e script:
//                 {"total": N, "backends": {"be": {"requests": N, "servers": {"srv": N}}},
//                  "down": [{"backend": "be", "server": "srv"}],
//                  "paths": [row …], "clients": [row …], "series": [bin …],
//                  "slowest": [{"name", "rows": [{"ta", …}]}]}   (from halog report --format json)
//   SECTIONS_HTML, SECTIONS_JSON, SECTIONS_ONLY  a report of captured headers and connection
//                 errors (SECTIONS_ONLY=hc) or of --compare (cmp), and its JSON sections
//                 ({"headers", "conn_errors", "compare"}): only the 'new sections' test reads them
//   SHOT_DIR      where html-report.png, html-report-full.png and html-report.pdf go
//   CHROMIUM, CHROMEDRIVER  the binaries (default /usr/bin/chromium, /usr/bin/chromedriver)
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';

import { startBrowser, visit as visitWith } from './lib.mjs';

const { By } = await import('selenium-webdriver');

const REPORT = process.env.REPORT_HTML;
const EXPECT = process.env.EXPECT_JSON;
const SHOTS = process.env.SHOT_DIR || os.tmpdir();
if (!REPORT || !EXPECT) throw new Error('REPORT_HTML and EXPECT_JSON must be set');
const expect = JSON.parse(fs.readFileSync(EXPECT, 'utf8'));
const pageUrl = pathToFileURL(REPORT).href;

let browser, driver;

before(async () => {
	browser = await startBrowser('halog-html');
	driver = browser.driver;
});

after(async () => {
	if (browser) await browser.quit();
});

const visit = (url) => visitWith(driver, url);

const network = (requests, self) => requests.filter((u) => u !== self && !u.startsWith('data:'));

test('the detectors see a page that fetches from the network and logs an error', async () => {
	// a control page: if this passed unnoticed, the real checks below would prove nothing
	const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'halog-html-control-'));
	const file = path.join(dir, 'control.html');
	fs.writeFileSync(file, '<!DOCTYPE html><title>control</title>' +
		'<img src="http://127.0.0.1:9/x.png" alt=""><script>console.error("control error")</script>');
	const self = pathToFileURL(file).href;
	const got = await visit(self);
	fs.rmSync(dir, { recursive: true, force: true });
	assert.ok(network(got.requests, self).some((u) => u.startsWith('http://127.0.0.1:9/')),
		`request not seen: ${JSON.stringify(got.requests)}`);
	assert.ok(got.console.some((m) => m.includes('control error')),
		`console error not seen: ${JSON.stringify(got.console)}`);
});

test('the report loads with no network request and no console message', async () => {
	const got = await visit(pageUrl);
	assert.deepEqual(network(got.requests, pageUrl), [], 'network requests');
	assert.ok(got.requests.includes(pageUrl), `the page itself: ${JSON.stringify(got.requests)}`);
	assert.deepEqual(got.console, [], 'console messages');
	assert.match(await driver.getTitle(), /^halog report/);
	// the source names nothing remote
	const html = fs.readFileSync(REPORT, 'utf8');
	assert.doesNotMatch(html, /\b(src|href)\s*=\s*["']?(https?:)?\/\//i);
	assert.doesNotMatch(html, /<script|@import|url\((?!#)/i);
});

const text = async (el) => (await el.getText()).trim();
const attr = (el, a) => el.getAttribute(a);
const cssq = (s) => s.replace(/["\\]/g, '\\$&');

test('the summary banner counts every request', async () => {
	const v = await driver.findElement(By.css('[data-card="requests"] .v'));
	assert.equal(Number(await text(v)), expect.total);
});

test('each backend shows its servers and counts in the table and in the share chart', async () => {
	const sections = await driver.findElements(By.css('section.group[data-kind="backend"]'));
	const names = await Promise.all(sections.map((s) => attr(s, 'data-name')));
	for (const be of Object.keys(expect.backends))
		assert.ok(names.includes(be), `backend ${be} missing: ${names}`);
	for (const [be, want] of Object.entries(expect.backends)) {
		const sec = await driver.findElement(
			By.css(`section.group[data-kind="backend"][data-name="${cssq(be)}"]`));
		assert.equal(Number(await text(await sec.findElement(By.css('[data-sum="requests"]')))),
			want.requests, `${be} requests`);
		// overview table
		const ov = await driver.findElement(
			By.css(`table[data-table="backends"] tr[data-name="${cssq(be)}"] [data-col="requests"]`));
		assert.equal(Number(await text(ov)), want.requests, `${be} in the overview`);
		const chart = await sec.findElement(By.css('svg[data-chart="share"]'));
		assert.equal(await attr(chart, 'role'), 'img');
		const label = await attr(chart, 'aria-label');
		let real = 0;
		for (const n of Object.values(want.servers)) real += n;
		const widths = {};
		for (const [srv, n] of Object.entries(want.servers)) {
			const row = await sec.findElement(
				By.css(`table[data-table="servers"] tr[data-name="${cssq(srv)}"]`));
			assert.equal(Number(await text(await row.findElement(By.css('[data-col="requests"]')))), n,
				`${be}/${srv} requests in the table`);
			if (srv.startsWith('<')) continue; // <NOSRV> has no share
			const bar = await chart.findElement(By.css(`g.row[data-name="${cssq(srv)}"] rect.obs`));
			assert.equal(Number(await attr(bar, 'data-requests')), n, `${be}/${srv} in the chart`);
			const share = (100 * n) / real;
			assert.ok(Math.abs(Number(await attr(bar, 'data-share')) - share) < 0.051,
				`${be}/${srv} share ${await attr(bar, 'data-share')} vs ${share}`);
			assert.ok(label.includes(`${srv} ${share.toFixed(1)}%`), `${srv} in "${label}"`);
			widths[srv] = { w: (await bar.getRect()).width, share };
		}
		// the drawn bars are as long as the shares say (to a pixel)
		const ws = Object.values(widths).filter((x) => x.share > 0);
		if (ws.length > 1) {
			const k = ws[0].w / ws[0].share;
			for (const x of ws) assert.ok(Math.abs(x.w - k * x.share) <= 1.5, `bar widths ${JSON.stringify(widths)}`);
		}
		for (const x of ws) assert.ok(x.w > 2, `bar drawn: ${JSON.stringify(widths)}`);
	}
});

test('latency and histogram charts name every server', async () => {
	for (const [be, want] of Object.entries(expect.backends)) {
		if (!want.requests) continue;
		const sec = await driver.findElement(
			By.css(`section.group[data-kind="backend"][data-name="${cssq(be)}"]`));
		const lat = await sec.findElement(By.css('svg[data-chart="latency"]'));
		for (const srv of Object.keys(want.servers)) {
			if (srv.startsWith('<')) continue;
			const bars = await lat.findElements(By.css(`g.row[data-name="${cssq(srv)}"] rect[data-p]`));
			assert.equal(bars.length, 4, `${be}/${srv}: p50 p90 p99 max`);
			const ms = await Promise.all(bars.map((b) => attr(b, 'data-ms').then(Number)));
			for (let i = 1; i < 4; i++) assert.ok(ms[i] >= ms[i - 1], `${srv} percentiles ${ms}`);
		}
		const hist = await sec.findElement(By.css('svg[data-chart="histogram"]'));
		const counts = await Promise.all((await hist.findElements(By.css('rect[data-count]')))
			.map((b) => attr(b, 'data-count').then(Number)));
		assert.equal(counts.reduce((a, b) => a + b, 0), want.requests, `${be} histogram total`);
	}
});

test('status classes over time add up to every request', async () => {
	const ov = await driver.findElement(By.css('#overview svg[data-chart="status-time"]'));
	const bins = await ov.findElements(By.css('g.bin'));
	assert.ok(bins.length >= 1);
	let sum = 0;
	for (const b of bins) sum += Number(await attr(b, 'data-requests'));
	assert.equal(sum, expect.total);
	// the errors per bin (hidden table) add up to the banner's count, whichever source they had
	const [binErrors, bannerErrors] = await driver.executeScript(`
		let n = 0;
		for (const td of document.querySelectorAll('#overview table[data-table="series"] td[data-col="errors"]'))
			n += Number(td.textContent);
		return [n, parseInt(document.querySelector('[data-card="errors"] .s').textContent, 10)];`);
	assert.equal(binErrors, bannerErrors, 'errors per bin vs the banner');
	const r = await ov.getRect();
	assert.ok(r.width > 600 && r.height > 150, `chart drawn at ${JSON.stringify(r)}`);
});

test('the paths and clients tables hold the rows of the JSON report, in its order', async () => {
	for (const [table, rows, key] of [['paths', expect.paths, 'path'], ['clients', expect.clients, 'client']]) {
		assert.ok(rows && rows.length >= 1, `${table}: no rows expected`);
		const trs = await driver.findElements(By.css(`table[data-table="${table}"] tbody tr`));
		const names = await Promise.all(trs.map((tr) => attr(tr, 'data-name')));
		assert.deepEqual(names, rows.map((w) => w[key]), `${table} rows and order`);
		for (const w of rows) {
			const tr = await driver.findElement(
				By.css(`table[data-table="${table}"] tr[data-name="${cssq(w[key])}"]`));
			for (const [col, want] of [['requests', w.requests], ['errors', w.errors],
				['p50', w.ta_ms.p50], ['p95', w.ta_ms.p95], ['p99', w.ta_ms.p99],
				['max', w.ta_ms.max], ['bytes', w.bytes]]) {
				const got = await text(await tr.findElement(By.css(`[data-col="${col}"]`)));
				assert.equal(got, want === null ? '\u2013' : String(want), `${table} ${w[key]} ${col}`);
			}
		}
		const r = await (await driver.findElement(By.css(`table[data-table="${table}"]`))).getRect();
		assert.ok(r.width > 300 && r.height > 20, `${table} table drawn at ${JSON.stringify(r)}`);
	}
});

test('the series and slowest tables hold the buckets and rows of the JSON report', async () => {
	const bins = await driver.findElements(By.css('table[data-table="buckets"] tbody tr'));
	assert.equal(bins.length, expect.series.length, 'one row per bucket');
	let sum = 0;
	for (const [i, tr] of bins.entries()) {
		assert.equal(Number(await attr(tr, 'data-t')), Date.parse(expect.series[i].time), `bucket ${i} time`);
		const n = Number(await text(await tr.findElement(By.css('[data-col="requests"]'))));
		assert.equal(n, expect.series[i].requests, `bucket ${i} requests`);
		sum += n;
	}
	assert.equal(sum, expect.total, 'the buckets add up to every request');
	const slow = await driver.findElements(By.css('table[data-table="slowest"] tbody tr'));
	const want = expect.slowest.flatMap((g) => g.rows.map((w) => [g.name, w.ta]));
	assert.equal(slow.length, want.length, 'slowest rows');
	for (const [i, tr] of slow.entries()) {
		assert.equal(await attr(tr, 'data-name'), want[i][0], `slowest row ${i} backend`);
		assert.equal(Number(await text(await tr.findElement(By.css('[data-col="ta"]')))), want[i][1],
			`slowest row ${i} Ta`);
	}
});

test('health events show each DOWN on the timeline and in the table', async () => {
	for (const d of expect.down) {
		const sec = await driver.findElement(
			By.css(`section.group[data-kind="backend"][data-name="${cssq(d.backend)}"]`));
		const marks = await sec.findElements(By.css(
			`svg[data-chart="events"] g.lane[data-name="${cssq(d.server)}"] g.event[data-state*="DOWN"]`));
		assert.ok(marks.length >= 1, `${d.backend}/${d.server}: no DOWN marker`);
		const rows = await sec.findElements(By.css(`table[data-table="events"] tr[data-name="${cssq(d.server)}"]`));
		const states = await Promise.all(rows.map((r) => r.findElement(By.css('[data-col="state"]')).then(text)));
		assert.ok(states.some((s) => s.includes('DOWN')), `${d.server}: ${states}`);
	}
});

test('every chart has an accessible name and is drawn; the page fits a laptop screen', async () => {
	const charts = await driver.findElements(By.css('svg[role="img"]'));
	assert.ok(charts.length >= 4, `${charts.length} charts`);
	for (const c of charts) {
		const label = await attr(c, 'aria-label');
		assert.ok(label && label.length > 10, 'aria-label');
		const title = await c.findElement(By.css('title'));
		assert.ok((await attr(title, 'textContent')).length > 10, '<title>');
		const r = await c.getRect();
		assert.ok(r.width > 200 && r.height > 40, `chart size ${JSON.stringify(r)}`);
	}
	const [sw, iw] = await driver.executeScript(
		'return [document.documentElement.scrollWidth, window.innerWidth]');
	assert.ok(sw <= iw, `horizontal scroll: ${sw} > ${iw}`);
	// every table has numbers, not only the charts
	const tables = await driver.findElements(By.css('table'));
	assert.ok(tables.length >= Object.keys(expect.backends).length * 2);
});

test('print layout hides the navigation; screenshots and a PDF are saved', async () => {
	await driver.sendAndGetDevToolsCommand('Emulation.setEmulatedMedia', { media: 'print' });
	const shown = await driver.findElement(By.css('nav.toc')).isDisplayed();
	await driver.sendAndGetDevToolsCommand('Emulation.setEmulatedMedia', { media: '' });
	assert.equal(shown, false, 'nav hidden in print');
	fs.mkdirSync(SHOTS, { recursive: true });
	await driver.executeScript('window.scrollTo(0, 0)');
	const png = Buffer.from(await driver.takeScreenshot(), 'base64');
	fs.writeFileSync(path.join(SHOTS, 'html-report.png'), png);
	assert.equal(png.subarray(1, 4).toString(), 'PNG');
	const full = await driver.sendAndGetDevToolsCommand('Page.captureScreenshot',
		{ format: 'png', captureBeyondViewport: true, fromSurface: true,
			clip: { x: 0, y: 0, width: 1366, scale: 1,
				height: await driver.executeScript('return document.documentElement.scrollHeight') } });
	fs.writeFileSync(path.join(SHOTS, 'html-report-full.png'), Buffer.from(full.data, 'base64'));
	// the first backend with health events, whole: the picture of one section
	const sec = await driver.executeScript(`
		const c = document.querySelector('section.group[data-kind="backend"] svg[data-chart="events"]');
		const s = c ? c.closest('section') : document.querySelector('section.group');
		const r = s.getBoundingClientRect();
		return [r.top + window.scrollY - 8, Math.min(r.height + 16, 2400)];`);
	const part = await driver.sendAndGetDevToolsCommand('Page.captureScreenshot',
		{ format: 'png', captureBeyondViewport: true, fromSurface: true,
			clip: { x: 0, y: sec[0], width: 1366, height: sec[1], scale: 1 } });
	fs.writeFileSync(path.join(SHOTS, 'html-report-backend.png'), Buffer.from(part.data, 'base64'));
	const pdf = await driver.sendAndGetDevToolsCommand('Page.printToPDF',
		{ printBackground: true, preferCSSPageSize: true });
	const buf = Buffer.from(pdf.data, 'base64');
	assert.equal(buf.subarray(0, 4).toString(), '%PDF');
	fs.writeFileSync(path.join(SHOTS, 'html-report.pdf'), buf);
});

// The share charts' values lie inside their charts (issue 11 §5): measured by the browser
// (getBBox, in the viewBox's units) on this report and on EDGE_HTML, a report whose values are at
// their widest (a server expected at 100% that got nothing: "expected 100.0%, -100.0 pts").
// Skipped unless EDGE_HTML is set: html_report.sh runs it on its own (--test-name-pattern).
async function shareTextOutside() {
	return driver.executeScript(`
		const out = [];
		for (const svg of document.querySelectorAll('svg.chart[data-chart="share"]')) {
			const vb = svg.viewBox.baseVal;
			for (const t of svg.querySelectorAll('text')) {
				const b = t.getBBox();
				if (b.width === 0) continue;
				if (b.x < vb.x - 0.5 || b.x + b.width > vb.x + vb.width + 0.5)
					out.push('"' + t.textContent + '" spans ' + b.x.toFixed(1) + '..' +
						(b.x + b.width).toFixed(1) + ' of 0..' + vb.width);
			}
		}
		return out;`);
}

test('share charts: no value runs past the edge of its chart', { skip: !process.env.EDGE_HTML },
	async () => {
		await visit(pageUrl);
		assert.deepEqual(await shareTextOutside(), []);
		await visit(pathToFileURL(process.env.EDGE_HTML).href);
		const n = await driver.executeScript(
			'return document.querySelectorAll("svg.chart[data-chart=share] text.val.bad").length');
		assert.ok(n >= 1, 'the edge report has no off-balance value');
		assert.deepEqual(await shareTextOutside(), []);
	});

// The sections of a report of captured headers, bad requests and two windows (SECTIONS_HTML,
// with its JSON report in SECTIONS_JSON), built by html_report.sh from the test stores.
test('new sections: headers, bad requests and compare hold the rows of the JSON report',
	{ skip: !process.env.SECTIONS_HTML }, async () => {
		const url = pathToFileURL(process.env.SECTIONS_HTML).href;
		const want = JSON.parse(fs.readFileSync(process.env.SECTIONS_JSON, 'utf8'));
		await visit('about:blank'); // a fresh browser's own first requests (chrome://) go here
		const got = await visit(url);
		assert.deepEqual(network(got.requests, url), [], 'network requests');
		assert.deepEqual(got.console, [], 'console messages');
		const cell = async (table, name, col) => text(await driver.findElement(By.css(
			`table[data-table="${table}"] tr[data-name="${cssq(name)}"] [data-col="${col}"]`)));
		const only = process.env.SECTIONS_ONLY; // hc: headers and connection errors; cmp: compare
		if (only === 'cmp')
			return checkCompare(want, cell);
		assert.ok(want.headers.length >= 2, 'headers expected');
		for (const h of want.headers) {
			const table = `${h.direction === 'request' ? 'req' : 'resp'}-header-${h.index}`;
			const trs = await driver.findElements(By.css(`table[data-table="${table}"] tbody tr`));
			assert.deepEqual(await Promise.all(trs.map((tr) => attr(tr, 'data-name'))),
				h.rows.map((w) => w.value), `${table} rows and order`);
			for (const w of h.rows)
				for (const [col, v] of [['requests', w.requests], ['errors', w.errors], ['bytes', w.bytes]])
					assert.equal(await cell(table, w.value, col), String(v), `${table} ${w.value} ${col}`);
		}
		const ce = await driver.findElements(By.css('table[data-table="conn-errors"] tbody tr'));
		assert.equal(ce.length, want.conn_errors.rows.length, 'connection error rows');
		const msgs = await driver.executeScript(`return [...document.querySelectorAll(
			'table[data-table="conn-errors"] tbody td:nth-of-type(3)')].map((td) => td.textContent)`);
		assert.deepEqual(msgs.sort(), want.conn_errors.rows.map((w) => w.message).sort(), 'messages');
		assert.ok(msgs.some((m) => m.startsWith('bad request')), 'a bad request row');
	});

// The compare table holds the rows of the JSON report: requests in both windows, p95, flags.
async function checkCompare(want, cell) {
	assert.ok(want.compare.rows.length >= 4, 'compare rows expected');
	for (const w of want.compare.rows) {
		const name = w.server === null ? w.backend : `${w.backend}/${w.server}`;
		assert.equal(await cell('compare', name, 'requests'), String(w.requests), `${name} requests`);
		assert.equal(await cell('compare', name, 'base-requests'), String(w.base_requests),
			`${name} baseline requests`);
		assert.equal(await cell('compare', name, 'p95'),
			w.p95_ms === null ? '\u2013' : String(w.p95_ms), `${name} p95`);
		assert.equal(await cell('compare', name, 'flags'), w.flags.join(' '), `${name} flags`);
	}
	const r = await (await driver.findElement(By.css('table[data-table="compare"]'))).getRect();
	assert.ok(r.width > 300 && r.height > 20, `compare table drawn at ${JSON.stringify(r)}`);
}
