// What the browser tests share (portal.mjs, desk.mjs): the API for the staff's side of a
// story, files to upload, values unique to a run, the browser (Debian's chromium through
// playwright-core), checks that count failures, axe in a sibling context, and form helpers
// that find every field by its API name and check its visible label.
//
// CCREG_BASE is the server; SHOTS the screenshots' folder; CHROMIUM the browser's path;
// ADMIN_EMAIL, ADMIN_PASSWORD and SEED_OUT as the tests' headers say.
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import { PNG } from 'pngjs';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

export const base = process.env.CCREG_BASE;
export const shots = process.env.SHOTS ?? 'screenshots';
export const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
assert.ok(base, 'set CCREG_BASE');
fs.mkdirSync(shots, { recursive: true });
export const UUID = '[0-9a-fA-F-]{36}';

// ---- the API, for the staff's side of the story ------------------------------------------

export async function api(method, route, { token, body, ifMatch, expect } = {}) {
  const res = await fetch(base + route, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
      ...(ifMatch ? { 'if-match': ifMatch } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  if (expect === undefined) assert.ok(res.ok, `${method} ${route}: ${res.status} ${text}`);
  else assert.equal(res.status, expect, `${method} ${route}: ${res.status} ${text}`);
  return { json: text ? JSON.parse(text) : null, etag: res.headers.get('etag'), status: res.status };
}
export const get = async (route, token) => (await api('GET', route, { token })).json;

export async function passwordToken(username, password) {
  return (await api('POST', '/api/v1/auth/token', { body: { grant_type: 'password', username, password } }))
    .json.access_token;
}
export async function clientToken(client_id, client_secret) {
  return (await api('POST', '/api/v1/auth/token', { body: { grant_type: 'client_credentials', client_id, client_secret } }))
    .json.access_token;
}

// A transition on an object, with the ETag just read as If-Match.
export async function transition(objectRoute, action, token, body = {}) {
  const { etag } = await api('GET', objectRoute, { token });
  assert.ok(etag, `${objectRoute} has no ETag`);
  return (await api('POST', `${objectRoute}/${action}`, { token, body, ifMatch: etag })).json;
}

// The staff: from the demo seed's printout, or made by the admin.
export async function staff() {
  const admin = await passwordToken(process.env.ADMIN_EMAIL, process.env.ADMIN_PASSWORD);
  const clearers = {};
  const logins = {};
  let regulator, inspector;
  if (process.env.SEED_OUT) {
    const lines = fs.readFileSync(process.env.SEED_OUT, 'utf8').split('\n').map((l) => l.trim().split(/\s+/));
    const user = (role) => {
      const l = lines.find((w) => w[0] === role);
      assert.ok(l, `no ${role} in ${process.env.SEED_OUT}`);
      logins[role] = { email: l[1], password: l[2] };
      return passwordToken(l[1], l[2]);
    };
    regulator = await user('regulator');
    inspector = await user('inspector');
    // "clears nccia     client_id X  client_secret Y"
    for (const w of lines.filter((w) => w[0] === 'clears')) clearers[w[1]] = await clientToken(w[3], w[5]);
  } else {
    const made = `${Date.now()}`;
    const user = async (role) => {
      const email = `${role}-${made}@ci.ccreg.pk`;
      const password = `${role} passphrase ${made}`;
      await api('POST', '/api/v1/users', { token: admin, body: { email, password, full_name: `CI ${role}`, role } });
      logins[role] = { email, password };
      return passwordToken(email, password);
    };
    regulator = await user('regulator');
    inspector = await user('inspector');
    for (const code of ['nccia', 'pta', 'security']) {
      const c = (await api('POST', '/api/v1/agency-clients', {
        token: admin, body: { name: `${code} desk ${made}`, agency: code, clears: code },
      })).json;
      clearers[code] = await clientToken(c.client_id, c.client_secret);
    }
  }
  const inspectorId = (await get('/api/v1/me', inspector)).id;
  return { admin, regulator, inspector, inspectorId, clearers, logins };
}

// ---- files the operator uploads, made here ------------------------------------------------

export const files = fs.mkdtempSync(path.join(os.tmpdir(), 'ccreg-browser-'));
export function pdf(name, text) {
  const file = path.join(files, `${name}.pdf`);
  fs.writeFileSync(file, `%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 2 0 R >> endobj\n` +
    `2 0 obj << /Type /Pages /Kids [] /Count 0 >> endobj\n% ${text}\ntrailer << /Root 1 0 R >>\n%%EOF\n`);
  return file;
}
export function png(name) {
  const image = new PNG({ width: 24, height: 16 });
  for (let i = 0; i < image.data.length; i += 4) {
    image.data[i] = (i * 7) % 256;
    image.data[i + 1] = 120;
    image.data[i + 2] = 200;
    image.data[i + 3] = 255;
  }
  const file = path.join(files, `${name}.png`);
  fs.writeFileSync(file, PNG.sync.write(image));
  return file;
}

// ---- values unique to this run (the demo registry is in the database) ----------------------

export const stamp = Date.now();
export const rand = crypto.randomInt(0, 1_000_000);
export function unique(journey) {
  const n = stamp + journey * 7;
  const digits = (k, width) => String(k).padStart(width, '0').slice(-width);
  const cnic = (i) => {
    const d = digits(n * 10 + i, 12);
    return `4${d.slice(0, 4)}-${d.slice(4, 11)}-${d.slice(11)}`;
  };
  // Hyderabad's area code (22), which the demo registry does not use; a block of 1,000 a site.
  const block = (s) => 10_000 + ((rand + journey * 2 + s) % 90_000);
  const net = (s) => {
    const k = (rand + journey * 2 + s) % 4096;
    return `172.${16 + (k >> 8)}.${k & 255}.0/24`;
  };
  return {
    email: `operator-${stamp}-${journey}@ci.ccreg.pk`,
    password: `portal passphrase ${stamp}`,
    registration: `CI-${stamp}-${journey}`,
    ntn: `${digits(1_000_000 + ((rand * 13 + journey) % 9_000_000), 7)}-${journey}`,
    cnic,
    number: (s) => `+9222${block(s)}001`,
    range: (s) => [`+9222${block(s)}100`, `+9222${block(s)}199`],
    cidr: net,
  };
}

// ---- the browser ----------------------------------------------------------------------------

export const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
export const failures = [];
export async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
    return true;
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}\n     ${String(e.stack ?? e).split('\n').join('\n     ')}`);
    return false;
  }
}

// A journey's steps: each needs the ones before it, so after a failure the rest are skipped
// (and counted as failed, so a broken journey cannot pass).
export function journeySteps(label) {
  let broken = null;
  return async (name, fn) => {
    const full = `[${label}] ${name}`;
    if (broken) {
      failures.push(full);
      console.log(`SKIP ${full} (after: ${broken})`);
      return;
    }
    if (!(await check(full, fn))) broken = name;
  };
}

export function viewport(width) {
  return { width, height: width < 600 ? 812 : 900 };
}

// axe in a sibling context with the same cookies, JavaScript on and the CSP bypassed.
export async function axe(context, width, route, name, prepare) {
  await check(`axe finds no serious or critical violation on ${name} at ${width} px (${route})`, async () => {
    const ctx = await browser.newContext({
      viewport: viewport(width), javaScriptEnabled: true, bypassCSP: true,
      storageState: await context.storageState(),
    });
    try {
      const p = await ctx.newPage();
      await p.goto(base + route);
      if (prepare) await prepare(p);
      const { violations } = await new AxeBuilder({ page: p }).analyze();
      const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(' ')).join(', ')})`), []);
    } finally {
      await ctx.close();
    }
  });
}

// Screenshots named <prefix>-<page>-<width>.png, and a page "seen": screenshotted, checked by
// axe, and on a phone no wider than the screen.
export function pages(prefix) {
  const shot = (p, name, width) =>
    p.screenshot({ path: path.join(shots, `${prefix}-${name}-${width}.png`), fullPage: true });
  async function seen(p, width, name) {
    const url = new URL(p.url());
    await shot(p, name, width);
    await axe(p.context(), width, url.pathname + url.search, name);
    if (width < 600) {
      await check(`${name} needs no sideways scrolling at ${width} px`, async () => {
        const wide = await p.evaluate(() => document.documentElement.scrollWidth);
        assert.ok(wide <= width, `the page is ${wide} px wide`);
      });
    }
  }
  return { shot, seen };
}

export async function goto(p, route, expectStatus = 200) {
  const res = await p.goto(base + route);
  assert.equal(res.status(), expectStatus, `GET ${route}: ${res.status()}`);
  if (route.startsWith('/portal') || route.startsWith('/desk')) {
    assert.match(res.headers()['cache-control'] ?? '', /no-store/, `GET ${route}: Cache-Control`);
  }
  return res;
}

// Clicks a form's submit button; answers the POST's own response (a 303 or the 422 page).
export async function submit(scope, p, name) {
  const button = scope.getByRole('button', { name: new RegExp(`^${name}`) });
  const [res] = await Promise.all([
    p.waitForResponse((r) => r.request().method() === 'POST' && r.request().isNavigationRequest()),
    button.first().click(),
  ]);
  await p.waitForLoadState('load');
  return res;
}

export async function submitOk(scope, p, name, landing) {
  const res = await submit(scope, p, name);
  const url = p.url();
  let problem = '';
  if (res.status() !== 303) problem = (await p.locator('main').innerText().catch(() => '')).slice(0, 600);
  assert.equal(res.status(), 303, `"${name}" answered ${res.status()} at ${url}: ${problem}`);
  if (landing) assert.match(new URL(url).pathname, landing, `"${name}" landed on ${url}`);
  assert.ok(await p.locator('.notice').first().isVisible(), `no .notice at ${url}`);
  return url;
}

// Fills fields by their API names (the inputs' id and name), checking each has its label.
export async function fill(scope, values) {
  for (const [name, value] of Object.entries(values)) {
    const input = scope.locator(`[name="${name}"]`).first();
    const id = await input.getAttribute('id');
    assert.ok(id, `the field ${name} has no id`);
    assert.ok(await scope.locator(`label[for="${id}"]`).first().isVisible(), `the field ${name} has no visible label`);
    const tag = await input.evaluate((e) => e.tagName.toLowerCase());
    if (tag === 'select') await input.selectOption(value);
    else await input.fill(value);
  }
}
export async function tick(scope, name, values) {
  for (const v of [values].flat()) await scope.locator(`input[name="${name}"][value="${v}"]`).check();
}

export const bodyText = (p) => p.locator('body').innerText();

export function address(city, province, postal_code, prefix = 'registered_address') {
  return {
    [`${prefix}.line1`]: 'Plot 7, Auto Bhan Road',
    [`${prefix}.city`]: city,
    [`${prefix}.province`]: province,
    [`${prefix}.postal_code`]: postal_code,
    [`${prefix}.country`]: 'PK',
  };
}

// The end of a test: the browser closed, the files removed, the failures counted.
export async function finish(what) {
  await browser.close();
  fs.rmSync(files, { recursive: true, force: true });
  console.log(`screenshots: ${path.resolve(shots)}`);
  if (failures.length) {
    console.log(`${failures.length} failed: ${failures.join('; ')}`);
    process.exit(1);
  }
  console.log(`${what} browser checks passed`);
}
