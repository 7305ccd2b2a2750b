// What the browser tests share: a headless Debian Chromium driven by Debian's chromedriver
// (selenium-manager never downloads anything), with the browser console and the network log
// recorded, so a test can say what a page logged and which URLs it asked for.
//   CHROMIUM, CHROMEDRIVER  the binaries (default /usr/bin/chromium, /usr/bin/chromedriver)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// selenium-manager must never download a browser or a driver: both paths are given
process.env.SE_OFFLINE = 'true';
const { Builder, logging } = await import('selenium-webdriver');
const chrome = await import('selenium-webdriver/chrome.js');

const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const CHROMEDRIVER = process.env.CHROMEDRIVER || '/usr/bin/chromedriver';

// Starts Chromium at 1366x900 with a throw-away profile. Returns {driver, quit}.
export async function startBrowser(prefix) {
	const profile = fs.mkdtempSync(path.join(os.tmpdir(), `${prefix}-chromium-`));
	const opts = new chrome.Options()
		.setChromeBinaryPath(CHROMIUM)
		.addArguments('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
			'--disable-background-networking', '--disable-component-update', '--disable-sync',
			'--disable-default-apps', '--disable-extensions', '--no-first-run',
			'--no-default-browser-check', '--hide-scrollbars', '--force-device-scale-factor=1',
			'--window-size=1366,900', `--user-data-dir=${profile}`);
	const prefs = new logging.Preferences();
	prefs.setLevel(logging.Type.BROWSER, logging.Level.ALL);
	prefs.setLevel(logging.Type.PERFORMANCE, logging.Level.ALL);
	opts.setLoggingPrefs(prefs);
	opts.setPerfLoggingPrefs({ enableNetwork: true, enablePage: false });
	const service = new chrome.ServiceBuilder(CHROMEDRIVER).setPort(0);
	const driver = await new Builder().forBrowser('chrome').setChromeOptions(opts)
		.setChromeService(service).build();
	await driver.manage().setTimeouts({ pageLoad: 20000, script: 10000, implicit: 0 });
	return {
		driver,
		async quit() {
			await driver.quit();
			fs.rmSync(profile, { recursive: true, force: true });
		},
	};
}

// Everything the page did since the last call: the URLs it requested and its console messages
// of level WARNING and above.
export async function drainLogs(driver) {
	const perf = await driver.manage().logs().get(logging.Type.PERFORMANCE);
	const requests = [];
	for (const e of perf) {
		const m = JSON.parse(e.message).message;
		if (m.method === 'Network.requestWillBeSent') requests.push(m.params.request.url);
	}
	const console = (await driver.manage().logs().get(logging.Type.BROWSER))
		.filter((e) => e.level.value >= logging.Level.WARNING.value)
		.map((e) => `${e.level.name}: ${e.message}`);
	return { requests, console };
}

// Loads url and returns what it did: the URLs it requested and its console messages.
export async function visit(driver, url) {
	await drainLogs(driver); // drop older entries
	await driver.get(url);
	await driver.wait(async () =>
		(await driver.executeScript('return document.readyState')) === 'complete', 10000);
	await driver.sleep(300); // let late requests (images, fonts) show up in the log
	return drainLogs(driver);
}
