// The operators' portal (API.md §14, issue 21) in a real browser: Debian's chromium driven by
// playwright-core (never a browser download), axe-core for accessibility. Run by .ci/run
// against the release binary serving `seed --demo`, after register.mjs:
//
//   CCREG_BASE=http://127.0.0.1:8080 ADMIN_EMAIL=… ADMIN_PASSWORD=… SEED_OUT=seed.out \
//     SHOTS=/tmp/shots node portal.mjs
//
// SEED_OUT is the file `ccreg seed --demo` printed to: the regulator, the inspector and the
// clearing agencies' clients are read from it. Without it they are made through the API by
// the admin (ADMIN_EMAIL, ADMIN_PASSWORD), as the README's walk-through does.
//
// The journey, once at 1280 px and once at 375 px, each by a new operator: sign up, register a
// company with two directors and two sites (each with a number, a number range and an IP
// range), upload every document the dossier needs, start an application, check and submit it;
// then, through the API, the regulator records the fee paid, each clearing agency grants, the
// regulator approves (a provisional licence) and schedules a pre-licence visit of each site,
// which the inspector records as passed; the operator watches the application's page follow
// (fee unpaid and 3 clearances pending, provisional licence, licence in force) and opens the
// certificate. Besides: an invalid form, a cross-site form post (403, nothing created),
// another operator's object (404), and axe on every portal page visited (no serious or
// critical violation). Every page is screenshotted into $SHOTS as portal-<page>-<width>.png.
//
// The people's pages run with JavaScript off (the portal must work without it); axe needs it,
// so each page is analysed again in a sibling context holding the same session cookie.
import {
  base, UUID, api, get, passwordToken, transition, staff, pdf, png, stamp, unique, browser, check,
  journeySteps, viewport, axe, pages, goto, submit, submitOk, fill, tick, bodyText, address, finish,
} from './lib.mjs';
import assert from 'node:assert/strict';
import http from 'node:http';

const { shot, seen } = pages('portal');

// ---- the journey ----------------------------------------------------------------------------

const cast = await staff();
const journeys = [];

async function journey(width, j) {
  const u = unique(j);
  const step = journeySteps(`${width} px`);
  const context = await browser.newContext({ viewport: viewport(width), javaScriptEnabled: false });
  const p = await context.newPage();
  const legalName = `Latifabad Contact Centre ${j + 1} (Private) Limited`;
  const s = { u, width, context, p, legalName, sites: [], people: [] };
  journeys.push(s);

  await step('a new operator signs up and lands on the dashboard', async () => {
    await goto(p, '/account/sign-up');
    await shot(p, 'sign-up', width);
    await axe(context, width, '/account/sign-up', 'sign-up');
    await p.getByLabel('Email').fill(u.email);
    await p.getByLabel('Password').fill(u.password);
    await p.getByLabel('Full name').fill(`Operator ${j + 1}`);
    const res = await submit(p, p, 'Create account');
    assert.equal(res.status(), 303, `"Create account" answered ${res.status()}: ${(await bodyText(p)).slice(0, 400)}`);
    assert.equal(new URL(p.url()).pathname, '/portal');
    await seen(p, width, 'dashboard-empty');
  });

  await step('an invalid organisation form shows the problem beside each field, values kept', async () => {
    await p.getByRole('link', { name: 'Register an organisation' }).first().click();
    assert.equal(new URL(p.url()).pathname, '/portal/organisations/new');
    await seen(p, width, 'organisation-new');
    const bad = {
      legal_name: '',
      registration_number: u.registration,
      tax_number: u.ntn,
      ...address('Hyderabad', 'Sindh', '@@'),
      contact_email: `info-${stamp}-${j}@ci.ccreg.pk`,
      contact_phone: '022 2781234',
    };
    await fill(p, bad);
    const res = await submit(p, p, 'Create organisation');
    assert.equal(res.status(), 422);
    const summary = p.locator('.error-summary');
    assert.match(await summary.innerText(), /There is a problem/);
    for (const field of ['legal_name', 'registered_address.postal_code']) {
      assert.equal(await summary.locator(`a[href="#${field}"]`).count(), 1, `the summary links to #${field}`);
      const beside = p.locator(`[id="${field}"]`).locator('xpath=..').locator('.error-message');
      assert.ok(await beside.first().isVisible(), `no .error-message beside ${field}`);
    }
    assert.equal(await p.locator('[id="registered_address.city"]').inputValue(), 'Hyderabad');
    assert.equal(await p.locator('[id="registration_number"]').inputValue(), u.registration);
    assert.equal(await p.locator('[id="registered_address.postal_code"]').inputValue(), '@@');
    await shot(p, 'form-errors', width);
    await axe(context, width, '/portal/organisations/new', 'form-errors', async (a) => {
      await fill(a, bad);
      await submit(a, a, 'Create organisation');
    });
  });

  await step('the operator registers its organisation', async () => {
    await fill(p, { legal_name: legalName, 'registered_address.postal_code': '71000' });
    const url = await submitOk(p, p, 'Create organisation', new RegExp(`^/portal/organisations/${UUID}$`));
    s.orgRoute = new URL(url).pathname;
    assert.equal(await p.locator('h1').innerText().then((t) => t.includes('Latifabad')), true, 'h1 names it');
    await seen(p, width, 'organisation-created');
  });

  await step('the edit form shows the organisation with its version', async () => {
    await p.getByRole('link', { name: 'Edit the organisation' }).first().click();
    assert.equal(new URL(p.url()).pathname, `${s.orgRoute}/edit`);
    assert.equal(await p.locator('[id="legal_name"]').inputValue(), legalName);
    assert.equal(await p.locator('input[type="hidden"][name="version"]').count(), 1);
    await seen(p, width, 'organisation-edit');
    await goto(p, s.orgRoute);
  });

  await step('a stale edit form is shown again (412) with the current values', async () => {
    const other = await context.newPage();
    await goto(p, `${s.orgRoute}/edit`);
    await goto(other, `${s.orgRoute}/edit`);
    await fill(other, { trade_name: 'Latifabad Calls' });
    await submitOk(other, other, 'Save', new RegExp(`^${s.orgRoute}$`));
    await other.close();
    await fill(p, { trade_name: 'Latifabad Contact' });
    const res = await submit(p, p, 'Save');
    assert.equal(res.status(), 412);
    assert.match(await bodyText(p), /changed by someone else since you opened this form/);
    assert.equal(await p.locator('[id="trade_name"]').inputValue(), 'Latifabad Calls', 'the current values');
    await seen(p, width, 'organisation-edit-stale');
    await goto(p, s.orgRoute);
  });

  const people = [
    { full_name: `Imran Qureshi ${j + 1}`, roles: ['director', 'beneficial_owner'], ownership: '60' },
    { full_name: `Ayesha Siddiqui ${j + 1}`, roles: ['director', 'authorised_signatory'], ownership: '40' },
  ];
  for (const [i, person] of people.entries()) {
    await step(`the operator adds a director (${person.full_name})`, async () => {
      await p.getByRole('link', { name: 'Add a person' }).first().click();
      assert.equal(new URL(p.url()).pathname, `${s.orgRoute}/people/new`);
      if (i === 0) await seen(p, width, 'person-new');
      await fill(p, { full_name: person.full_name, id_number: u.cnic(i), ownership_percent: person.ownership });
      await tick(p, 'roles', person.roles);
      await tick(p, 'id_type', 'cnic');
      assert.equal(await p.locator('[name="nationality"]').inputValue(), 'PK', 'nationality defaults to PK');
      await submitOk(p, p, 'Add person', new RegExp(`^${s.orgRoute}$`));
      assert.match(await bodyText(p), new RegExp(person.full_name));
      s.people.push(person.full_name);
    });
  }

  for (const k of [0, 1]) {
    const name = `Latifabad floor ${k + 1}`;
    await step(`the operator adds a site (${name}) with a number, a range and an IP range`, async () => {
      await goto(p, s.orgRoute);
      await p.getByRole('link', { name: 'Add a site' }).first().click();
      assert.equal(new URL(p.url()).pathname, `${s.orgRoute}/sites/new`);
      if (k === 0) await seen(p, width, 'site-new');
      await fill(p, {
        name, ...address('Hyderabad', 'Sindh', '71000', 'address'),
        seat_count: String(60 + 20 * k), markets: 'PK, GB',
      });
      await tick(p, 'services', ['inbound', 'outbound']);
      const url = await submitOk(p, p, 'Add site');
      let siteRoute = new URL(url).pathname;
      if (!new RegExp(`^/portal/sites/${UUID}$`).test(siteRoute)) {
        // Landed on the organisation: its Sites section links the site.
        await p.getByRole('link', { name }).first().click();
        siteRoute = new URL(p.url()).pathname;
      }
      assert.match(siteRoute, new RegExp(`^/portal/sites/${UUID}$`));
      const site = { name, route: siteRoute, id: siteRoute.split('/').pop() };
      if (k === 0) await seen(p, width, 'site');

      const form = (button) => p.locator('form').filter({ has: p.getByRole('button', { name: button }) });
      const number = form('Add number');
      await fill(number, { e164: u.number(k), purpose: 'inbound' });
      await submitOk(number, p, 'Add number', new RegExp(`^${siteRoute}$`));
      const range = form('Add range');
      const [first, last] = u.range(k);
      await fill(range, { first, last, purpose: 'both' });
      await submitOk(range, p, 'Add range', new RegExp(`^${siteRoute}$`));
      const ips = form('Add IP range');
      await fill(ips, { cidr: u.cidr(k) });
      await submitOk(ips, p, 'Add IP range', new RegExp(`^${siteRoute}$`));
      const text = await bodyText(p);
      for (const shown of [u.cidr(k)]) assert.ok(text.includes(shown), `the site page lists ${shown}`);
      assert.ok(text.replace(/\s/g, '').includes(u.number(k)) || text.includes(u.number(k).slice(3)),
        `the site page lists ${u.number(k)}`);
      if (k === 1) await seen(p, width, 'site-with-numbers');
      s.sites.push(site);
    });
  }

  const documents = [
    { kind: 'incorporation_certificate', file: () => pdf('incorporation', 'SECP certificate') },
    { kind: 'tax_certificate', file: () => pdf('tax', 'FBR NTN certificate') },
    { kind: 'bank_letter', file: () => pdf('bank', 'bank letter') },
    ...people.map((person, i) => ({
      kind: 'identity_document', person: person.full_name, file: () => png(`cnic-${j}-${i}`),
    })),
    ...[0, 1].map((k) => ({
      kind: 'premises_proof', site: k, file: () => pdf(`premises-${j}-${k}`, 'tenancy agreement'),
    })),
  ];
  for (const [i, doc] of documents.entries()) {
    const what = doc.person ?? (doc.site !== undefined ? `site ${doc.site + 1}` : '');
    await step(`the operator uploads ${doc.kind} ${what}`, async () => {
      await goto(p, s.orgRoute);
      await p.getByRole('link', { name: 'Upload a document' }).first().click();
      assert.equal(new URL(p.url()).pathname, `${s.orgRoute}/documents/new`);
      if (i === 0) await seen(p, width, 'document-new');
      const values = { kind: doc.kind };
      if (doc.person) {
        const option = p.locator('select[name="person_id"] option', { hasText: doc.person });
        values.person_id = await option.first().getAttribute('value');
      }
      if (doc.site !== undefined) values.site_id = s.sites[doc.site].id;
      await fill(p, values);
      await p.locator('input[type="file"][name="file"]').setInputFiles(doc.file());
      await submitOk(p, p, 'Upload');
    });
  }

  await step('the organisation page lists the people, sites and documents', async () => {
    await goto(p, s.orgRoute);
    const text = await bodyText(p);
    for (const name of [...s.people, ...s.sites.map((x) => x.name)]) assert.ok(text.includes(name), `lists ${name}`);
    for (const site of s.sites) assert.equal(await p.locator(`a[href$="${site.route}"]`).count() > 0, true);
    assert.equal(await p.getByRole('button', { name: /^Delete/ }).count(), documents.length, 'a Delete button a document');
    assert.equal(await p.getByRole('button', { name: /^Remove/ }).count(), people.length, 'a Remove button a person');
    await seen(p, width, 'organisation');
  });

  await step('the operator starts an application for both sites', async () => {
    await p.getByRole('link', { name: 'Start an application' }).first().click();
    assert.equal(new URL(p.url()).pathname, `${s.orgRoute}/applications/new`);
    await seen(p, width, 'application-new');
    await tick(p, 'site_ids', s.sites.map((x) => x.id));
    await tick(p, 'category', 'mixed');
    await tick(p, 'term_months', '12');
    const url = await submitOk(p, p, 'Create application', new RegExp(`^/portal/applications/${UUID}$`));
    s.appRoute = new URL(url).pathname;
    s.appId = s.appRoute.split('/').pop();
    assert.equal(await p.locator('ol.checklist li').count() > 0, true, 'the application page has its checklist');
    await seen(p, width, 'checklist-draft');
  });

  await step('the dashboard lists the organisation and the application with its next step', async () => {
    await goto(p, '/portal');
    assert.ok(await p.locator(`a[href$="${s.orgRoute}"]`).count() > 0, 'links the organisation');
    assert.ok(await p.locator(`a[href$="${s.appRoute}"]`).count() > 0, 'links the application');
    await seen(p, width, 'dashboard');
  });

  await step('"Check and submit", then submit: fee unpaid, 3 clearances pending', async () => {
    await goto(p, s.appRoute);
    await p.getByRole('link', { name: 'Check and submit' }).first().click();
    assert.equal(new URL(p.url()).pathname, `${s.appRoute}/submit`);
    assert.match(await bodyText(p), /Check your answers before submitting/);
    await seen(p, width, 'check-answers');
    await submitOk(p, p, 'Submit application', new RegExp(`^${s.appRoute}$`));
    const text = await bodyText(p);
    assert.match(text, /Fee unpaid/);
    // One clearance per clearing agency (CCREG_CLEARANCE_AGENCIES, default nccia,pta,security).
    const open = (await get(`/api/v1/clearances?application_id=${s.appId}`, cast.regulator)).items;
    assert.equal(open.length, 3, 'three clearances open');
    assert.match(text, /3 clearances pending/);
    await seen(p, width, 'checklist');
  });

  await step('the regulator records the fee paid; the page no longer says it is unpaid', async () => {
    const app = await get(`/api/v1/applications/${s.appId}`, cast.regulator);
    const invoice = await get(`/api/v1/invoices/${app.invoice_id}`, cast.regulator);
    await transition(`/api/v1/invoices/${app.invoice_id}`, 'payments', cast.regulator, {
      amount_minor: invoice.total_minor - invoice.paid_minor,
      paid_at: new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
      channel: 'psid', reference: `PSID-${stamp}-${j}`,
    });
    await goto(p, s.appRoute);
    assert.doesNotMatch(await bodyText(p), /Fee unpaid/);
  });

  await step('each clearing agency grants its clearance', async () => {
    const open = (await get(`/api/v1/clearances?application_id=${s.appId}`, cast.regulator)).items;
    for (const c of open) {
      const token = cast.clearers[c.agency];
      assert.ok(token, `no client clears for ${c.agency}`);
      await transition(`/api/v1/clearances/${c.id}`, 'grant', token, { reference: `${c.agency}/CLR/${stamp}` });
    }
    await goto(p, s.appRoute);
    assert.doesNotMatch(await bodyText(p), /clearances? pending/);
  });

  await step('the regulator approves: the operator sees a provisional licence, the visit awaited', async () => {
    const app = await transition(`/api/v1/applications/${s.appId}`, 'approve', cast.regulator);
    s.licence = app.licence_number;
    assert.ok(s.licence, 'the approval names the licence');
    assert.equal((await get(`/api/v1/licences/${s.licence}`, cast.regulator)).status, 'provisional');
    await goto(p, s.appRoute);
    const text = await bodyText(p);
    assert.match(text, /Provisional licence/);
    assert.match(text, /Awaited/);
    assert.ok(text.includes(s.licence), 'the page names the licence');
    await seen(p, width, 'checklist-provisional');
  });

  await step('pre-licence visits of both sites pass: the licence is in force', async () => {
    for (const site of s.sites) {
      const visit = (await api('POST', '/api/v1/inspections', {
        token: cast.regulator,
        body: {
          site_id: site.id, inspector_id: cast.inspectorId, kind: 'pre_licence',
          scheduled_for: new Date(Date.now() - 3_600_000).toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      })).json;
      await transition(`/api/v1/inspections/${visit.id}`, 'record', cast.inspector, {
        visited_at: new Date(Date.now() - 60_000).toISOString().replace(/\.\d+Z$/, 'Z'),
        seats_observed: 58, staff_present: 40, foreign_nationals_present: 0, findings: [],
        outcome: 'compliant',
      });
    }
    assert.equal((await get(`/api/v1/licences/${s.licence}`, cast.regulator)).status, 'active');
    await goto(p, s.appRoute);
    const text = await bodyText(p);
    assert.match(text, /\bactive\b/);
    const inForce = p.locator('ol.checklist li').filter({ hasText: 'In force' });
    assert.equal(await inForce.count(), 1, 'one checklist item "In force"');
    assert.equal((await inForce.locator('.tag').innerText()).trim(), 'Completed');
    await seen(p, width, 'checklist-active');
  });

  await step('the "Certificate" link opens the certificate', async () => {
    await goto(p, s.appRoute);
    const status = p.getByRole('link', { name: 'Status page' });
    assert.match(await status.first().getAttribute('href'), new RegExp(`/register/licences/${s.licence}$`));
    const [res] = await Promise.all([
      p.waitForNavigation(),
      p.getByRole('link', { name: 'Certificate' }).first().click(),
    ]);
    assert.equal(res.status(), 200);
    assert.equal(new URL(p.url()).pathname, `/register/licences/${s.licence}/certificate`);
    assert.ok((await bodyText(p)).includes(s.licence));
    await shot(p, 'certificate', width);
  });

  await step('the dashboard links the licence, its status page and its certificate', async () => {
    await goto(p, '/portal');
    assert.ok(await p.locator(`a[href$="/register/licences/${s.licence}"]`).count() > 0);
    assert.ok(await p.locator(`a[href$="/register/licences/${s.licence}/certificate"]`).count() > 0);
    await seen(p, width, 'dashboard-licensed');
  });
  return s;
}

await journey(1280, 0);
await journey(375, 1);

// ---- isolation and cross-site posts --------------------------------------------------------

for (const [i, them] of journeys.entries()) {
  const me = journeys[(i + 1) % journeys.length];
  await check(`another operator's organisation, site and application are 404 pages (at ${me.width} px)`, async () => {
    assert.ok(them.orgRoute && them.appRoute && them.sites.length, 'the other journey got that far');
    for (const route of [them.orgRoute, `${them.orgRoute}/edit`, them.sites[0].route, them.appRoute]) {
      const res = await me.p.goto(base + route);
      assert.equal(res.status(), 404, `${route} shown to another operator: ${res.status()}`);
      assert.ok(!(await bodyText(me.p)).includes(them.legalName), `${route} names the company`);
    }
    await shot(me.p, 'not-found', me.width);
  });
}

for (const width of [1280, 375]) {
  await check(`without a session, /portal redirects to the sign-in page (at ${width} px)`, async () => {
    const ctx = await browser.newContext({ viewport: viewport(width), javaScriptEnabled: false });
    const p = await ctx.newPage();
    const res = await p.goto(base + '/portal');
    assert.equal(new URL(p.url()).pathname, '/account/sign-in');
    assert.equal(res.status(), 200);
    await shot(p, 'sign-in', width);
    await axe(ctx, width, '/account/sign-in', 'sign-in');
    await ctx.close();
  });
}

// A page on another origin (same site: 127.0.0.1 on another port, so the SameSite=Lax session
// cookie goes along, and only the CSRF rules stand in the way) posting the new-organisation
// form into the registry, once with no token and once with the operator's real one.
for (const me of journeys) {
  await check(`a cross-site form post is answered 403 and creates nothing (at ${me.width} px)`, async () => {
    const { p, u, width } = me;
    await goto(p, '/portal/organisations/new');
    const token = await p.locator('input[name="csrf_token"]').first().inputValue();
    const page = (withToken) => `<!doctype html><html lang="en"><title>A prize for you</title>
      <form method="post" action="${base}/portal/organisations/new">
      ${withToken ? `<input type="hidden" name="csrf_token" value="${token}">` : ''}
      <input type="hidden" name="legal_name" value="Forged Calls (Private) Limited">
      <input type="hidden" name="registration_number" value="FORGED-${stamp}-${width}">
      <input type="hidden" name="tax_number" value="7654321-0">
      <input type="hidden" name="registered_address.line1" value="1 Forged Street">
      <input type="hidden" name="registered_address.city" value="Karachi">
      <input type="hidden" name="registered_address.province" value="Sindh">
      <input type="hidden" name="registered_address.postal_code" value="75500">
      <input type="hidden" name="registered_address.country" value="PK">
      <input type="hidden" name="contact_email" value="forged@example.com">
      <input type="hidden" name="contact_phone" value="021 34567890">
      <button type="submit">Claim your prize</button></form></html>`;
    const server = http.createServer((req, res) => {
      res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' });
      res.end(page(req.url.includes('token')));
    });
    await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
    const evil = `http://127.0.0.1:${server.address().port}`;
    try {
      for (const variant of ['/no-token', '/with-token']) {
        await p.goto(evil + variant);
        const res = await submit(p, p, 'Claim your prize');
        assert.equal(res.status(), 403, `the cross-site post (${variant}) answered ${res.status()}`);
        if (variant === '/with-token') await shot(p, 'cross-site-refused', width);
      }
    } finally {
      server.close();
    }
    const operator = await passwordToken(u.email, u.password);
    const orgs = (await get('/api/v1/organisations', operator)).items;
    assert.deepEqual(orgs.map((o) => o.legal_name), [me.legalName]);
    await goto(p, '/portal');
    assert.ok(!(await bodyText(p)).includes('Forged Calls'), 'the dashboard shows no forged organisation');
  });
}

await finish('portal');
