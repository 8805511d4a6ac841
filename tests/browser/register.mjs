// The public register (API.md §12) in a real browser: Debian's chromium driven by
// playwright-core (never a browser download), axe-core for accessibility, jsQR to read the
// certificate's QR code. Run by .ci/run against the release binary serving `seed --demo`:
//
//   CCREG_BASE=http://127.0.0.1:8080 ADMIN_EMAIL=… ADMIN_PASSWORD=… SHOTS=/tmp/shots node register.mjs
//
// Every page is screenshotted at phone (375 px) and desktop (1280 px) widths into $SHOTS.
import { chromium } from 'playwright-core';
import { AxeBuilder } from '@axe-core/playwright';
import jsQR from 'jsqr';
import { PNG } from 'pngjs';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';

const base = process.env.CCREG_BASE;
const shots = process.env.SHOTS ?? 'screenshots';
const executablePath = process.env.CHROMIUM ?? '/usr/bin/chromium';
assert.ok(base, 'set CCREG_BASE');
fs.mkdirSync(shots, { recursive: true });

async function api(method, route, { token, body } = {}) {
  const res = await fetch(base + route, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body ? { 'content-type': 'application/json' } : {}),
    },
    body: body ? JSON.stringify(body) : undefined,
  });
  const text = await res.text();
  assert.ok(res.ok, `${method} ${route}: ${res.status} ${text}`);
  return JSON.parse(text);
}

// What the demo registry holds, read through the API as an admin.
const { access_token: admin } = await api('POST', '/api/v1/auth/token', {
  body: { grant_type: 'password', username: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD },
});
const licences = (await api('GET', '/api/v1/licences?limit=100', { token: admin })).items;
const active = licences.find((l) => l.status === 'active');
const suspended = licences.find((l) => l.status === 'suspended');
assert.ok(active && suspended, 'the demo registry has an active and a suspended licence');
const numbers = (await api('GET', `/api/v1/sites/${active.site_ids[0]}/numbers`, { token: admin })).items;
const e164 = numbers[0].e164 ?? numbers[0].first;
// +92 51 2345 6000 → 051 2345 6000: the national form people dial.
const national = `0${e164.slice(3, 5)} ${e164.slice(5, 9)} ${e164.slice(9)}`;
const statusPath = (n) => `/register/licences/${n}`;
const nameWord = active.holder.split(' ')[0];

const browser = await chromium.launch({ executablePath, args: ['--no-sandbox'] });
const failures = [];
async function check(name, fn) {
  try {
    await fn();
    console.log(`ok   ${name}`);
  } catch (e) {
    failures.push(name);
    console.log(`FAIL ${name}\n     ${String(e.stack ?? e).split('\n').join('\n     ')}`);
  }
}

// The pages must work without JavaScript, so people's pages run with it off; axe needs it
// (and its script injected past the pages' Content-Security-Policy).
async function page(width = 1280, { forAxe = false } = {}) {
  const context = await browser.newContext({
    viewport: { width, height: width < 600 ? 812 : 900 },
    javaScriptEnabled: forAxe,
    bypassCSP: forAxe,
  });
  return context.newPage();
}

async function search(query) {
  const p = await page();
  await p.goto(base + '/');
  await p.getByRole('searchbox').or(p.locator('input[name="q"]')).first().fill(query);
  await p.locator('input[name="q"]').press('Enter');
  await p.waitForLoadState('load');
  return p;
}

async function landsOn(p, licence) {
  if (!p.url().endsWith(statusPath(licence))) {
    await p.locator(`a[href$="${statusPath(licence)}"]`).first().click();
    await p.waitForLoadState('load');
  }
  assert.ok(p.url().endsWith(statusPath(licence)), `at ${p.url()}, not the status page of ${licence}`);
  await p.getByText(licence).first().waitFor();
}

await check('search by licence number lands on its status page', async () => {
  const p = await search(active.licence_number);
  await landsOn(p, active.licence_number);
  assert.match(await p.locator('body').innerText(), /in force/i);
});

await check(`search by company name ("${nameWord}") lands on its status page`, async () => {
  await landsOn(await search(nameWord), active.licence_number);
});

await check(`search by a national-form phone number (${national}) lands on its status page`, async () => {
  await landsOn(await search(national), active.licence_number);
});

await check('a suspended licence shows as suspended, in words', async () => {
  const p = await page();
  await p.goto(base + statusPath(suspended.licence_number));
  assert.match(await p.locator('main').innerText(), /suspended/i);
});

await check("the certificate's QR code reads as the status page's address", async () => {
  const p = await page();
  await p.goto(base + statusPath(active.licence_number) + '/certificate');
  const qr = p.locator('svg').first();
  const png = PNG.sync.read(await qr.screenshot({ scale: 'device' }));
  const code = jsQR(new Uint8ClampedArray(png.data), png.width, png.height);
  assert.ok(code, 'no QR code could be read from the certificate');
  assert.equal(code.data, base + statusPath(active.licence_number));
});

await check('the certificate prints on one A4 page', async () => {
  const p = await page();
  await p.goto(base + statusPath(active.licence_number) + '/certificate');
  const pdf = await p.pdf({ format: 'A4', printBackground: true });
  fs.writeFileSync(path.join(shots, 'certificate.pdf'), pdf);
  const pagesInPdf = (pdf.toString('latin1').match(/\/Type\s*\/Page[^s]/g) ?? []).length;
  assert.equal(pagesInPdf, 1, `the certificate printed on ${pagesInPdf} pages`);
});

const pages = {
  search: '/',
  results: `/?q=${encodeURIComponent(nameWord)}`,
  status: statusPath(active.licence_number),
  suspended: statusPath(suspended.licence_number),
  certificate: statusPath(active.licence_number) + '/certificate',
  stats: '/register/stats',
  'not-found': '/register/licences/CCL-2020-999999-00',
};

for (const [name, route] of Object.entries(pages)) {
  await check(`axe finds no serious or critical violation on ${name} (${route})`, async () => {
    const p = await page(1280, { forAxe: true });
    try {
      await p.goto(base + route);
      const { violations } = await new AxeBuilder({ page: p }).analyze();
      const bad = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      assert.deepEqual(bad.map((v) => `${v.id}: ${v.help} (${v.nodes.length})`), []);
    } finally {
      await p.context().close();
    }
  });
  for (const width of [375, 1280]) {
    // Each page in a context of its own, closed once shot: contexts left open piled up, and on
    // a loaded machine Chromium then failed to capture ("Unable to capture screenshot"); a
    // capture that fails once is tried once more.
    const p = await page(width);
    const file = path.join(shots, `${name}-${width}.png`);
    try {
      await p.goto(base + route);
      await p.screenshot({ path: file, fullPage: true }).catch(() => p.screenshot({ path: file, fullPage: true }));
    } finally {
      await p.context().close();
    }
  }
}

await browser.close();
console.log(`screenshots: ${path.resolve(shots)}`);
if (failures.length) {
  console.log(`${failures.length} failed: ${failures.join('; ')}`);
  process.exit(1);
}
console.log('browser checks passed');
