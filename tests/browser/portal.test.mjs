// portal.test.mjs - the escrow portal in a real browser (Debian's Chromium
// driven by playwright-core), against docs/portal.md. Started by
// tests/integration/t_portal.sh, which sets up the gateway, escrows the
// messages and checks afterwards what the browser caused (the reply at the
// sender's receiver). Everything it needs comes in the environment:
//
//   PORTAL_URL      https://127.0.0.1:PORT (no trailing slash)
//   ENROLL_URL      the link of the first notification (/enroll?t=...)
//   RCPT            the recipient's address, PASSWORD the one to set
//   SENDER          expected in #msg-from; SUBJECT in #msg-subject
//   TEXT_MARKER     in the text body; TEXT_LITERAL markup shown as text
//   HTML_MARKER     text of #html-marker inside the HTML part
//   ATT_NAME        the first attachment's file name; ATT_FILE its bytes
//   REPLY_TEXT      the reply's text; REPLY_FILE a file to attach
//   HOSTILE_SUBJECT subject (in the inbox) of the hostile HTML message
//   TRACK_LOG       file the tracking listener appends "METHOD PATH" to
//   TRACK_ORIGIN    https://127.0.0.1:PORT2 (the listener)
//   SHOTS           directory for screenshots
//   CHROMIUM        the browser (default /usr/bin/chromium)
//   RESULT_FILE     optional: JSON with what the shell checks afterwards
//
// Output: "ok - ..." / "FAIL: ..." lines like tests/integration/lib.sh,
// then "browser: N passed, N failed"; exit 1 on any failure.
import fs from 'node:fs';
import path from 'node:path';
import crypto from 'node:crypto';
import { chromium } from 'playwright-core';

const env = (k, def) => {
	const v = process.env[k] ?? def;
	if (v === undefined) {
		console.error(`portal.test.mjs: ${k} is not set`);
		process.exit(2);
	}
	return v;
};
const PORTAL = env('PORTAL_URL').replace(/\/$/, '');
const ENROLL_URL = env('ENROLL_URL');
const RCPT = env('RCPT');
const PASSWORD = env('PASSWORD');
const SENDER = env('SENDER');
const SUBJECT = env('SUBJECT');
const TEXT_MARKER = env('TEXT_MARKER');
const TEXT_LITERAL = env('TEXT_LITERAL');
const HTML_MARKER = env('HTML_MARKER');
const ATT_NAME = env('ATT_NAME');
const ATT_FILE = env('ATT_FILE');
const REPLY_TEXT = env('REPLY_TEXT');
const REPLY_FILE = env('REPLY_FILE');
const HOSTILE_SUBJECT = env('HOSTILE_SUBJECT');
const TRACK_LOG = env('TRACK_LOG');
const TRACK_ORIGIN = env('TRACK_ORIGIN');
const SHOTS = env('SHOTS');
const CHROMIUM = env('CHROMIUM', '/usr/bin/chromium');
const RESULT_FILE = process.env.RESULT_FILE;

const portalOrigin = new URL(PORTAL).origin;
fs.mkdirSync(SHOTS, { recursive: true });

// --- a tiny harness: checks print at once; a phase that throws is one
// failure and the phases that need it are skipped (and counted failed)
let passed = 0;
let failed = 0;
const done = new Set();
const result = {};

function ok(what) {
	passed++;
	console.log(`ok - ${what}`);
}
function bad(what) {
	failed++;
	console.log(`FAIL: ${what}`);
}
function check(cond, what, detail) {
	if (cond)
		ok(what);
	else
		bad(detail === undefined ? what : `${what}: ${detail}`);
	return !!cond;
}
async function phase(name, needs, fn) {
	const missing = needs.filter((n) => !done.has(n));
	if (missing.length) {
		bad(`${name}: not run, needs ${missing.join(', ')}`);
		return;
	}
	const before = failed;
	try {
		await fn();
		if (failed === before)
			done.add(name);
	} catch (e) {
		bad(`${name}: ${String(e && e.stack || e).split('\n').slice(0, 3).join(' | ')}`);
	}
}

// what the hostile message tries that must never reach the listener,
// whether images are shown or not
const NEVER = / \/(script|script-img|onerror|jslink|form|toplink|blanklink|frame|object|video|style\.css|refresh)([?/ ]|$)/;
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const sha256 = (buf) => crypto.createHash('sha256').update(buf).digest('hex');
const trackHits = () => {
	try {
		return fs.readFileSync(TRACK_LOG, 'utf8').split('\n').filter(Boolean);
	} catch {
		return [];
	}
};
async function waitHits(pred, ms) {
	const end = Date.now() + ms;
	for (;;) {
		const h = trackHits().filter(pred);
		if (h.length || Date.now() > end)
			return h;
		await sleep(100);
	}
}
const local = (u) => {
	const x = new URL(u);
	return x.pathname + x.search;
};

// --- the browser
const browser = await chromium.launch({
	executablePath: CHROMIUM,
	args: ['--no-sandbox', '--disable-dev-shm-usage'],
});
// the test CA is not in Chromium's store: certificate errors are ignored
// (curl in t_portal.sh checks the portal's chain against the CA)
const context = await browser.newContext({
	ignoreHTTPSErrors: true,
	acceptDownloads: true,
	viewport: { width: 1100, height: 800 },
	locale: 'en-US',
});
const requests = [];
context.on('request', (r) => requests.push(r.url()));
const page = await context.newPage();
page.setDefaultTimeout(15000);
// CSP violations reported by the portal's own pages (not by the message
// frame, whose violations are the point): a page breaking its own policy
// is broken for real users
const ownViolations = [];
page.on('console', (m) => {
	const where = (m.location() && m.location().url) || '';
	// (what the hostile message asks for names the listener's origin)
	if (/Content Security Policy/.test(m.text()) && !/\/m\/[^/]+\/html/.test(where) &&
	    !m.text().includes(TRACK_ORIGIN))
		ownViolations.push(`${where}: ${m.text().slice(0, 200)}`);
});
const popups = [];
context.on('page', (p) => {
	if (p !== page)
		popups.push(p.url());
});

async function shot(name) {
	const f = path.join(SHOTS, `${name}.png`);
	await page.screenshot({ path: f, fullPage: true });
	console.log(`# screenshot ${f}`);
}
function noOwnViolations(where) {
	check(ownViolations.length === 0, `${where}: no CSP violations by the portal's own page`,
	    ownViolations.join(' || '));
	ownViolations.length = 0;
}
async function text(sel) {
	return ((await page.locator(sel).first().textContent()) || '').trim();
}
// submit SELECTOR - click a submit button and wait for the page it leads
// to; false when nothing was sent within a few seconds (the browser's own
// form validation may stop it: that counts as refused too)
async function submit(sel) {
	const nav = page.waitForEvent('framenavigated', {
		predicate: (f) => f === page.mainFrame(), timeout: 5000,
	}).then(() => true, () => false);
	await page.click(sel);
	const went = await nav;
	await page.waitForLoadState();
	return went;
}
async function loginByForm(email, password) {
	await page.goto(`${PORTAL}/login`);
	await page.fill('#email', email);
	await page.fill('#password', password);
	await submit('#login-submit');
}
async function ensureLoggedIn() {
	await page.goto(`${PORTAL}/inbox`);
	if (new URL(page.url()).pathname !== '/inbox')
		await loginByForm(RCPT, PASSWORD);
	if (new URL(page.url()).pathname !== '/inbox')
		throw new Error(`cannot log in (at ${page.url()})`);
}

let msgPath = '';	// /m/ID of the first message

await phase('login page', [], async () => {
	const r = await page.goto(`${PORTAL}/login`);
	check(r && r.status() === 200, 'GET /login: 200', r && r.status());
	for (const id of ['#login-form', '#email', '#password', '#login-submit'])
		check(await page.locator(id).count() === 1, `login page has ${id}`);
	check(await page.locator('#login-form input[name="csrf"]').count() === 1,
	    'login form has a csrf field');
	await shot('login');
	noOwnViolations('login');
});

await phase('enroll', [], async () => {
	const r = await page.goto(ENROLL_URL);
	check(r && r.status() === 200, 'enrollment link: 200', r && r.status());
	for (const id of ['#enroll-form', '#password', '#password2', '#enroll-submit'])
		check(await page.locator(id).count() === 1, `enroll page has ${id}`);
	await shot('enroll');
	noOwnViolations('enroll');
	// too short: refused, the token stays usable
	await page.fill('#password', 'short');
	await page.fill('#password2', 'short');
	await submit('#enroll-submit');
	check(!/^\/m\//.test(new URL(page.url()).pathname) &&
	    await page.locator('#enroll-form').count() === 1,
	    'a password under 10 characters is refused (the form again)', page.url());
	if (await page.locator('#enroll-form').count() === 0)
		await page.goto(ENROLL_URL);
	// not equal: refused
	await page.fill('#password', PASSWORD);
	await page.fill('#password2', PASSWORD + 'x');
	await submit('#enroll-submit');
	check(!/^\/m\//.test(new URL(page.url()).pathname),
	    'two different passwords are refused', page.url());
	if (await page.locator('#enroll-form').count() === 0)
		await page.goto(ENROLL_URL);
	await page.fill('#password', PASSWORD);
	await page.fill('#password2', PASSWORD);
	await Promise.all([page.waitForURL(/\/m\/[^/?#]+/), page.click('#enroll-submit')]);
	msgPath = new URL(page.url()).pathname;
	check(/^\/m\/[A-Za-z0-9_-]+$/.test(msgPath), 'enrollment lands on the message', page.url());
	result.msgPath = msgPath;
	const cookies = await context.cookies(PORTAL);
	const s = cookies.find((c) => c.name === 'sg_session');
	check(s && s.httpOnly && s.secure && s.sameSite === 'Strict',
	    'sg_session: HttpOnly, Secure, SameSite=Strict', JSON.stringify(s));
});

await phase('message', ['enroll'], async () => {
	const before = requests.length;
	await page.goto(`${PORTAL}${msgPath}`);
	await page.waitForLoadState('networkidle');
	check((await text('#msg-from')).includes(SENDER), '#msg-from names the sender', await text('#msg-from'));
	const subj = await text('#msg-subject');
	check(subj.includes(SUBJECT), '#msg-subject is the subject', subj);
	check(!/\[secure\]/i.test(subj), 'the [secure] tag is not in the subject', subj);
	check((await text('#msg-date')).length > 0, '#msg-date is shown');
	check((await text('#msg-expires')).length > 0, '#msg-expires is shown');
	const pre = page.locator('#msg-text');
	check(await pre.evaluate((e) => e.tagName) === 'PRE', '#msg-text is a <pre>');
	const body = (await pre.textContent()) || '';
	check(body.includes(TEXT_MARKER), 'the text body is shown');
	check(body.includes(TEXT_LITERAL) && await pre.evaluate((e) => e.children.length) === 0,
	    'markup in the text body is shown as text, not parsed', body.slice(0, 200));
	check(await page.locator('#show-images').count() === 0,
	    'no "Show images" when the HTML has no remote images');
	const foreign = requests.slice(before).filter((u) => new URL(u).origin !== portalOrigin);
	check(foreign.length === 0, 'the message page loads nothing from elsewhere', foreign.join(' '));
	await shot('message');
	noOwnViolations('message');
});

await phase('html part', ['message'], async () => {
	const f = page.locator('iframe#msg-html');
	check(await f.count() === 1, 'iframe#msg-html is there');
	check(await f.getAttribute('sandbox') === '', 'the frame is sandboxed with no allow-* tokens',
	    await f.getAttribute('sandbox'));
	const src = await f.getAttribute('src');
	check(new URL(src, PORTAL).pathname === `${msgPath}/html`, 'the frame shows /m/ID/html', src);
	const marker = await page.frameLocator('iframe#msg-html').locator('#html-marker').textContent();
	check((marker || '').includes(HTML_MARKER), 'the HTML part is rendered in the frame', marker);
	const box = await f.boundingBox();
	check(box && box.width > 50 && box.height > 50, 'the frame is visible', JSON.stringify(box));
});

await phase('download', ['message'], async () => {
	const atts = page.locator('ul#attachments li a.att');
	check(await atts.count() >= 1, 'attachments are listed');
	check(((await atts.first().textContent()) || '').includes(ATT_NAME),
	    'the attachment is listed by its (non-ASCII) name', await atts.first().textContent());
	const [dl] = await Promise.all([page.waitForEvent('download'), atts.first().click()]);
	check(dl.suggestedFilename() === ATT_NAME, 'the download keeps the file name',
	    `${dl.suggestedFilename()} != ${ATT_NAME}`);
	const got = fs.readFileSync(await dl.path());
	const want = fs.readFileSync(ATT_FILE);
	check(sha256(got) === sha256(want), 'the downloaded bytes are the attachment\'s',
	    `${got.length} vs ${want.length} bytes`);
});

await phase('reply', ['message'], async () => {
	await page.goto(`${PORTAL}${msgPath}`);
	check(await page.locator('#reply-form').count() === 1, 'reply form #reply-form');
	check(await page.locator('#reply-form').getAttribute('enctype') === 'multipart/form-data',
	    'the reply form is multipart/form-data');
	await page.fill('#reply-body', REPLY_TEXT);
	await page.setInputFiles('#reply-file', REPLY_FILE);
	await Promise.all([page.waitForURL(/sent=1/), page.click('#reply-submit')]);
	check(new URL(page.url()).pathname === msgPath, 'after the reply: back on the message', page.url());
	check((await text('#notice')).includes('Reply sent.'), '#notice says "Reply sent."', await text('#notice'));
	await shot('reply');
	noOwnViolations('reply');
});

await phase('inbox', ['enroll'], async () => {
	await page.goto(`${PORTAL}/inbox`);
	const rows = page.locator('#inbox tr.msg');
	check(await rows.count() === 2, 'the inbox lists both messages', await rows.count());
	const hostile = rows.filter({ hasText: HOSTILE_SUBJECT });
	const first = rows.filter({ hasText: SUBJECT });
	check(await hostile.count() === 1 && await first.count() === 1,
	    'each message has its row (by subject)');
	const unread = async (row) => await row.locator('.unread').count() > 0 ||
	    await row.evaluate((e) => e.classList.contains('unread'));
	check(await unread(hostile), 'the unopened message is marked .unread');
	check(!await unread(first), 'the read message is not marked .unread');
	check(((await first.locator('.expires').textContent()) || '').trim().length > 0,
	    'the row shows when it expires (.expires)');
	check(new URL(await first.locator('a.open').getAttribute('href'), PORTAL).pathname === msgPath,
	    'a.open links to /m/ID');
	await shot('inbox');
	noOwnViolations('inbox');
});

await phase('logout', ['enroll'], async () => {
	await page.goto(`${PORTAL}/inbox`);
	const btn = page.locator('form[action$="/logout"] button, form[action$="/logout"] [type="submit"]');
	check(await btn.count() >= 1, 'a logout form (POST /logout) is on the page');
	await Promise.all([page.waitForURL(/\/login/), btn.first().click()]);
	check(new URL(page.url()).pathname === '/login', 'logout goes to /login', page.url());
	await page.goto(`${PORTAL}/inbox`);
	check(new URL(page.url()).pathname === '/login', 'after logout /inbox sends to /login', page.url());
});

await phase('keyboard login', ['logout'], async () => {
	await page.goto(`${PORTAL}/login`);
	const active = () => page.evaluate(() => document.activeElement && document.activeElement.id);
	let n = 0;
	while (await active() !== 'email' && n < 25) {
		await page.keyboard.press('Tab');
		n++;
	}
	check(await active() === 'email', `Tab reaches #email (${n} presses)`);
	await page.keyboard.type(RCPT);
	await page.keyboard.press('Tab');
	check(await active() === 'password', 'the next Tab is #password');
	await page.keyboard.type(PASSWORD);
	await Promise.all([page.waitForURL(/\/inbox/), page.keyboard.press('Enter')]);
	check(new URL(page.url()).pathname === '/inbox', 'Enter logs in: /inbox', page.url());
});

await phase('hostile html', [], async () => {
	await ensureLoggedIn();
	const hits0 = trackHits().length;
	const pagesBefore = popups.length;
	const row = page.locator('#inbox tr.msg').filter({ hasText: HOSTILE_SUBJECT });
	await Promise.all([page.waitForURL(/\/m\//), row.locator('a.open').click()]);
	const hpath = new URL(page.url()).pathname;
	result.hostilePath = hpath;
	const title = await page.title();
	await page.waitForLoadState('networkidle');
	const frame = page.frameLocator('iframe#msg-html');
	check((await frame.locator('#hostile-visible').textContent()).includes('HOSTILE-VISIBLE'),
	    'the hostile HTML is rendered (its text is in the frame)');
	// a script, if one ran, would set a global and fetch from the listener
	const fr = page.frames().find((f) => f !== page.mainFrame() && /\/html/.test(f.url()));
	if (fr) {
		let flag = 'not readable';
		try {
			flag = await fr.evaluate(() => typeof window.sgPwned);
		} catch { /* a sandboxed frame may refuse evaluation */ }
		check(flag === 'undefined' || flag === 'not readable',
		    `no script ran in the frame (window.sgPwned: ${flag})`);
	}
	check(await page.evaluate(() => typeof window.sgPwned) === 'undefined',
	    'no script ran in the page');
	// click what could run script, submit or navigate: the message puts
	// them in a row at the frame's top left, 60x30 px each, 70 px apart
	// (position: fixed; inline styles are allowed in the frame)
	// (the page is loaded afresh for each: one that navigated the frame
	// must not hide the next)
	const moved = [];
	for (const x of [30, 100, 170, 240]) {
		await page.goto(`${PORTAL}${hpath}`);
		await page.waitForLoadState('networkidle');
		const box = await page.locator('iframe#msg-html').boundingBox();
		await page.mouse.click(box.x + x, box.y + 15);
		await sleep(700);
		if (new URL(page.url()).pathname !== hpath || await page.title() !== title)
			moved.push(`click at +${x}: ${page.url()}`);
	}
	await sleep(1000);
	check(moved.length === 0, 'nothing in the frame navigated the page', moved.join(' '));
	check(popups.length === pagesBefore, 'nothing in the frame opened a window', popups.join(' '));
	const hits = trackHits().slice(hits0);
	check(hits.length === 0, 'no script, handler, javascript: link, form, frame, ' +
	    'stylesheet, refresh or remote image reached the listener', hits.join(', '));
	const show = page.locator('#show-images');
	check(await show.count() === 1, 'remote images: "Show images" (#show-images) is offered');
	await shot('hostile');
	noOwnViolations('hostile message');

	await Promise.all([page.waitForURL(/images=1/), show.click()]);
	await page.waitForLoadState('networkidle');
	const img = await waitHits((h) => / \/track\.png/.test(h), 8000);
	check(img.length >= 1, 'after "Show images" the remote image is loaded', trackHits().join(', '));
	await sleep(1500);
	// images may load now (track.png, css-bg, svg-image, base/x: the
	// <base> makes <img src=x> remote); nothing else may
	const others = trackHits().slice(hits0).filter((h) => NEVER.test(h));
	check(others.length === 0, 'with images shown still no script, handler, link, form, ' +
	    'frame, object, media, stylesheet or refresh', others.join(', '));
	await shot('hostile-images');
});

check(ownViolations.length === 0, 'no CSP violations by the portal\'s own pages',
    ownViolations.join(' || '));
await browser.close();
if (RESULT_FILE)
	fs.writeFileSync(RESULT_FILE, JSON.stringify(result));
console.log(`browser: ${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
