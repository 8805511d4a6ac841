// The staff desk (API.md §14, issue 22 part 5) in a real browser: the whole licensing journey
// through pages only, each person in their own browser context (JavaScript off, as the pages
// must work without it; axe runs in a sibling context holding the same cookie). Run by .ci/run
// after portal.mjs, against the same server:
//
//   CCREG_BASE=http://127.0.0.1:8080 ADMIN_EMAIL=… ADMIN_PASSWORD=… SEED_OUT=seed.out \
//     SHOTS=/tmp/shots node desk.mjs
//
// The operator (1280 px) signs up, registers a company with two directors and two sites, uploads
// the dossier's documents, starts and submits an application. The regulator (1280 px) signs in
// at /account/sign-in and lands on /desk, finds the application in the queue, opens its
// dossier, records the fee paid in rupees ("Record payment"); the clearing agencies grant
// through the API (they have no pages); the regulator approves (a provisional licence) and
// schedules a pre-licence visit of each site for the inspector ("Schedule inspection"). The
// inspector (375 px) signs in, opens /desk/inspections and each visit, attaches a PNG ("Attach
// photo"), adds a finding row ("Add another finding") and records the visit as compliant
// ("Record visit"). The public status page then says "In force"; the regulator opens the licence
// from the desk's "Open licence" form and suspends it with a reason ("Suspend licence"), and
// the status page says "Suspended" at once. The admin (1280 px) creates a staff user on
// /desk/users and an agency client on /desk/agency-clients, whose secret is shown once and
// works. Every desk page is screenshotted into $SHOTS as desk-<page>-<width>.png and checked
// by axe (no serious or critical violation).
import {
  base, UUID, api, get, clientToken, transition, staff, pdf, png, stamp, unique, browser, check,
  journeySteps, viewport, axe, pages, goto, submit, submitOk, fill, tick, bodyText, address, finish,
} from './lib.mjs';
import assert from 'node:assert/strict';

const { shot, seen } = pages('desk');
const cast = await staff();
const u = unique(5);
const step = journeySteps('desk');
const newContext = (width) => browser.newContext({ viewport: viewport(width), javaScriptEnabled: false });
const iso = (ms) => new Date(ms).toISOString();
const minute = (ms) => iso(ms).slice(0, 16); // a datetime-local value (UTC, as the server reads it)
const day = (ms) => iso(ms).slice(0, 10);
const form = (p, action) => p.locator(`form[action$="${action}"]`);

// Signs a person in through the sign-in page; staff land on /desk.
async function signIn(p, { email, password }, landing = '/desk') {
  await goto(p, '/account/sign-in');
  await p.getByLabel('Email').fill(email);
  await p.getByLabel('Password').fill(password);
  const res = await submit(p, p, 'Sign in');
  assert.equal(res.status(), 303, `"Sign in" answered ${res.status()}: ${(await bodyText(p)).slice(0, 400)}`);
  assert.equal(new URL(p.url()).pathname, landing);
}

const s = { sites: [] };
const legalName = `Qasimabad Contact Centre ${stamp} (Private) Limited`;

// ---- the operator applies (the portal's journey, without its checks) -------------------------

const operator = await newContext(1280);
const op = await operator.newPage();

await step('the operator signs up, registers a company with two directors and two sites', async () => {
  await goto(op, '/account/sign-up');
  await op.getByLabel('Email').fill(u.email);
  await op.getByLabel('Password').fill(u.password);
  await op.getByLabel('Full name').fill('Desk Operator');
  const res = await submit(op, op, 'Create account');
  assert.equal(res.status(), 303, `"Create account" answered ${res.status()}`);
  await goto(op, '/portal/organisations/new');
  await fill(op, {
    legal_name: legalName, registration_number: u.registration, tax_number: u.ntn,
    ...address('Hyderabad', 'Sindh', '71000'),
    contact_email: `info-${stamp}-desk@ci.ccreg.pk`, contact_phone: '022 2781234',
  });
  const url = await submitOk(op, op, 'Create organisation', new RegExp(`^/portal/organisations/${UUID}$`));
  s.orgRoute = new URL(url).pathname;
  const people = [
    { full_name: 'Bilal Memon', roles: ['director', 'beneficial_owner'], ownership: '70' },
    { full_name: 'Sana Shaikh', roles: ['director', 'authorised_signatory'], ownership: '30' },
  ];
  for (const [i, person] of people.entries()) {
    await goto(op, `${s.orgRoute}/people/new`);
    await fill(op, { full_name: person.full_name, id_number: u.cnic(i), ownership_percent: person.ownership });
    await tick(op, 'roles', person.roles);
    await tick(op, 'id_type', 'cnic');
    await submitOk(op, op, 'Add person', new RegExp(`^${s.orgRoute}$`));
  }
  s.people = people.map((x) => x.full_name);
  for (const k of [0, 1]) {
    const name = `Qasimabad floor ${k + 1} (${stamp})`;
    await goto(op, `${s.orgRoute}/sites/new`);
    await fill(op, {
      name, ...address('Hyderabad', 'Sindh', '71000', 'address'), seat_count: String(50 + 10 * k), markets: 'PK, GB',
    });
    await tick(op, 'services', ['inbound', 'outbound']);
    const landed = await submitOk(op, op, 'Add site');
    let route = new URL(landed).pathname;
    if (!new RegExp(`^/portal/sites/${UUID}$`).test(route)) {
      await op.getByRole('link', { name }).first().click();
      route = new URL(op.url()).pathname;
    }
    const site = { name, route, id: route.split('/').pop() };
    const byButton = (button) => op.locator('form').filter({ has: op.getByRole('button', { name: button }) });
    await fill(byButton('Add number'), { e164: u.number(k), purpose: 'inbound' });
    await submitOk(byButton('Add number'), op, 'Add number', new RegExp(`^${route}$`));
    await fill(byButton('Add IP range'), { cidr: u.cidr(k) });
    await submitOk(byButton('Add IP range'), op, 'Add IP range', new RegExp(`^${route}$`));
    s.sites.push(site);
  }
});

await step('the operator uploads the documents, starts an application and submits it', async () => {
  const documents = [
    { kind: 'incorporation_certificate', file: () => pdf('desk-incorporation', 'SECP certificate') },
    { kind: 'tax_certificate', file: () => pdf('desk-tax', 'FBR NTN certificate') },
    { kind: 'bank_letter', file: () => pdf('desk-bank', 'bank letter') },
    ...s.people.map((person, i) => ({ kind: 'identity_document', person, file: () => png(`desk-cnic-${i}`) })),
    ...[0, 1].map((k) => ({ kind: 'premises_proof', site: k, file: () => pdf(`desk-premises-${k}`, 'tenancy') })),
  ];
  for (const doc of documents) {
    await goto(op, `${s.orgRoute}/documents/new`);
    const values = { kind: doc.kind };
    if (doc.person) {
      values.person_id = await op.locator('select[name="person_id"] option', { hasText: doc.person }).first().getAttribute('value');
    }
    if (doc.site !== undefined) values.site_id = s.sites[doc.site].id;
    await fill(op, values);
    await op.locator('input[type="file"][name="file"]').setInputFiles(doc.file());
    await submitOk(op, op, 'Upload');
  }
  await goto(op, `${s.orgRoute}/applications/new`);
  await tick(op, 'site_ids', s.sites.map((x) => x.id));
  await tick(op, 'category', 'mixed');
  await tick(op, 'term_months', '12');
  const url = await submitOk(op, op, 'Create application', new RegExp(`^/portal/applications/${UUID}$`));
  s.appRoute = new URL(url).pathname;
  s.appId = s.appRoute.split('/').pop();
  await goto(op, `${s.appRoute}/submit`);
  await submitOk(op, op, 'Submit application', new RegExp(`^${s.appRoute}$`));
  assert.match(await bodyText(op), /Fee unpaid/);
});

// ---- the regulator ----------------------------------------------------------------------------

const regulator = await newContext(1280);
const reg = await regulator.newPage();

await step('the regulator signs in at /account/sign-in and lands on /desk', async () => {
  await signIn(reg, cast.logins.regulator);
  assert.ok(await reg.getByRole('link', { name: 'Applications' }).first().isVisible(), 'the desk links the queue');
  await seen(reg, 1280, 'landing-regulator');
});

await step('the queue at /desk/applications shows the application', async () => {
  await reg.getByRole('link', { name: 'Applications' }).first().click();
  assert.equal(new URL(reg.url()).pathname, '/desk/applications');
  const row = reg.locator(`a[href$="/desk/applications/${s.appId}"]`);
  assert.equal(await row.count(), 1, 'the queue links the application once');
  assert.equal((await row.innerText()).trim(), legalName);
  await seen(reg, 1280, 'queue');
  await row.click();
  assert.equal(new URL(reg.url()).pathname, `/desk/applications/${s.appId}`);
  const text = await bodyText(reg);
  for (const shown of [legalName, ...s.people, ...s.sites.map((x) => x.name)]) assert.ok(text.includes(shown), `the dossier shows ${shown}`);
  assert.ok(text.includes(u.cnic(0)), 'the dossier shows identity numbers in full');
  await seen(reg, 1280, 'dossier-submitted');
});

await step('the regulator records the fee paid, in rupees, with "Record payment"', async () => {
  const app = await get(`/api/v1/applications/${s.appId}`, cast.regulator);
  const invoice = await get(`/api/v1/invoices/${app.invoice_id}`, cast.regulator);
  const due = invoice.total_minor - invoice.paid_minor;
  const rupees = due % 100 === 0 ? String(due / 100) : (due / 100).toFixed(2);
  const payment = form(reg, '/payment');
  await fill(payment, {
    amount_minor: rupees, paid_at: day(Date.now()), channel: 'psid', reference: `PSID-${stamp}-desk`,
  });
  await submitOk(payment, reg, 'Record payment', new RegExp(`^/desk/applications/${s.appId}$`));
  const paid = await get(`/api/v1/invoices/${app.invoice_id}`, cast.regulator);
  assert.equal(paid.status, 'paid', `the invoice is ${paid.status}, ${paid.paid_minor} of ${paid.total_minor} paid`);
  assert.equal(paid.paid_minor, invoice.total_minor);
  assert.equal(await form(reg, '/payment').count(), 0, 'no payment form once paid');
  await seen(reg, 1280, 'dossier-paid');
});

await step('the clearing agencies grant (API); the regulator approves with "Approve"', async () => {
  const open = (await get(`/api/v1/clearances?application_id=${s.appId}`, cast.regulator)).items;
  assert.equal(open.length, 3, 'three clearances open');
  for (const c of open) {
    assert.ok(cast.clearers[c.agency], `no client clears for ${c.agency}`);
    await transition(`/api/v1/clearances/${c.id}`, 'grant', cast.clearers[c.agency], { reference: `${c.agency}/CLR/${stamp}` });
  }
  await goto(reg, `/desk/applications/${s.appId}`);
  assert.match(await bodyText(reg), /3 of 3 granted/);
  await seen(reg, 1280, 'dossier-cleared');
  await submitOk(form(reg, '/approve'), reg, 'Approve', new RegExp(`^/desk/applications/${s.appId}$`));
  const app = await get(`/api/v1/applications/${s.appId}`, cast.regulator);
  assert.equal(app.status, 'approved');
  s.licence = app.licence_number;
  assert.ok(s.licence, 'the approval names the licence');
  assert.equal((await get(`/api/v1/licences/${s.licence}`, cast.regulator)).status, 'provisional');
  assert.equal(await form(reg, '/approve').count(), 0, 'no decision forms once approved');
});

await step('the regulator schedules a pre-licence visit of each site for the inspector', async () => {
  for (const site of s.sites) {
    await goto(reg, `/desk/applications/${s.appId}`);
    const schedule = form(reg, '/inspections');
    await fill(schedule, {
      site_id: site.id, inspector_id: cast.inspectorId,
      scheduled_for: minute(Date.now() - 10 * 60_000), kind: 'pre_licence',
    });
    await submitOk(schedule, reg, 'Schedule inspection', new RegExp(`^/desk/applications/${s.appId}$`));
  }
  const visits = (await get(`/api/v1/inspections?site_id=${s.sites[0].id}`, cast.regulator)).items;
  assert.equal(visits.length, 1, 'one inspection of the first site');
  assert.equal(visits[0].inspector_id, cast.inspectorId);
  assert.equal(visits[0].kind, 'pre_licence');
  await seen(reg, 1280, 'dossier-approved');
});

await step('the status page says the licence is provisional', async () => {
  const pub = await newContext(1280);
  const p = await pub.newPage();
  await goto(p, `/register/licences/${s.licence}`);
  assert.match(await bodyText(p), /Provisional/);
  await pub.close();
});

// ---- the inspector, on a phone ------------------------------------------------------------------

const inspector = await newContext(375);
const ins = await inspector.newPage();

await step('the inspector signs in at 375 px and lands on /desk', async () => {
  await signIn(ins, cast.logins.inspector);
  await seen(ins, 375, 'landing-inspector');
});

for (const [k, site] of s.sites.entries()) {
  await step(`the inspector records the visit of ${site.name} with a photo, compliant`, async () => {
    await goto(ins, '/desk/inspections');
    if (k === 0) await seen(ins, 375, 'inspections');
    const link = ins.getByRole('link', { name: site.name, exact: true });
    assert.equal(await link.count(), 1, `the list links the visit of ${site.name}`);
    await link.click();
    const visitRoute = new URL(ins.url()).pathname;
    assert.match(visitRoute, new RegExp(`^/desk/inspections/${UUID}$`));
    if (k === 0) await seen(ins, 375, 'visit');

    const photo = form(ins, '/evidence');
    await fill(photo, { description: `Floor ${k + 1}: the seats as found` });
    await photo.locator('input[type="file"][name="file"]').setInputFiles(png(`desk-visit-${k}`));
    await submitOk(photo, ins, 'Attach photo', new RegExp(`^${visitRoute}$`));
    const shown = ins.getByRole('link', { name: `Floor ${k + 1}: the seats as found` });
    assert.equal(await shown.count(), 1, 'the photo is listed');
    const href = await shown.getAttribute('href');
    const res = await ins.request.get(base + href);
    assert.equal(res.status(), 200, `GET ${href}`);
    assert.equal(res.headers()['content-type'], 'image/png');
    if (k === 0) await seen(ins, 375, 'visit-photo');

    let visit = form(ins, visitRoute);
    if (k === 0) {
      // One more finding row, without script: the form comes back with two.
      const more = await submit(visit, ins, 'Add another finding');
      assert.equal(more.status(), 200, `"Add another finding" answered ${more.status()}`);
      assert.equal(await ins.locator('[id="findings.1.code"]').count(), 1, 'a second finding row');
      await shot(ins, 'visit-two-rows', 375);
      await axe(inspector, 375, visitRoute, 'visit-two-rows', async (a) => {
        await submit(a.locator(`form[action$="${visitRoute}"]`), a, 'Add another finding');
      });
      visit = form(ins, visitRoute);
      await fill(visit, {
        'findings.0.code': 'SIGNAGE', 'findings.0.severity': 'minor',
        'findings.0.description': 'The licence is not displayed at the entrance.',
        'findings.0.due_by': day(Date.now() + 14 * 86_400_000),
      });
    }
    await fill(visit, {
      visited_at: minute(Date.now() - 60_000), seats_observed: String(48 + 10 * k), staff_present: '35',
      foreign_nationals_present: '0', notes: 'Seen with the floor manager.',
    });
    await tick(visit, 'outcome', 'compliant');
    await submitOk(visit, ins, 'Record visit', new RegExp(`^${visitRoute}$`));
    const text = await bodyText(ins);
    assert.match(text, /Recorded/i);
    if (k === 0) assert.match(text, /SIGNAGE/);
    assert.equal(await ins.getByRole('button', { name: 'Record visit' }).count(), 0, 'no visit form once recorded');
    if (k === 0) await seen(ins, 375, 'visit-recorded');
  });
}

await step('the public status page says the licence is in force', async () => {
  assert.equal((await get(`/api/v1/licences/${s.licence}`, cast.regulator)).status, 'active');
  const pub = await newContext(375);
  const p = await pub.newPage();
  await goto(p, `/register/licences/${s.licence}`);
  assert.match(await bodyText(p), /In force/);
  await shot(p, 'status-in-force', 375);
  await pub.close();
});

await step('the regulator suspends the licence with a reason; the status page says so at once', async () => {
  await goto(reg, '/desk');
  const find = form(reg, '/desk/licences');
  await fill(find, { licence_number: s.licence });
  await Promise.all([reg.waitForURL(`**/desk/licences/${s.licence}`), find.getByRole('button', { name: 'Open licence' }).click()]);
  assert.equal(new URL(reg.url()).pathname, `/desk/licences/${s.licence}`);
  assert.match(await bodyText(reg), /\bactive\b/);
  await seen(reg, 1280, 'licence');
  const suspend = form(reg, '/suspend');
  await fill(suspend, { reason: 'Calls made to numbers on the do-not-call register.' });
  await submitOk(suspend, reg, 'Suspend licence', new RegExp(`^/desk/licences/${s.licence}$`));
  const text = await bodyText(reg);
  assert.match(text, /\bsuspended\b/);
  assert.match(text, /do-not-call register/, 'the history shows the reason');
  await seen(reg, 1280, 'licence-suspended');
  const pub = await newContext(1280);
  const p = await pub.newPage();
  await goto(p, `/register/licences/${s.licence}`);
  const shown = await bodyText(p);
  assert.match(shown, /Suspended/);
  assert.doesNotMatch(shown, /In force/);
  await shot(p, 'status-suspended', 1280);
  await pub.close();
});

// ---- the admin -----------------------------------------------------------------------------------

const admin = await newContext(1280);
const adm = await admin.newPage();
const adminStep = journeySteps('desk admin');

await adminStep('the admin signs in and lands on /desk', async () => {
  await signIn(adm, { email: process.env.ADMIN_EMAIL, password: process.env.ADMIN_PASSWORD });
  await seen(adm, 1280, 'landing-admin');
});

await adminStep('the admin creates a staff user on /desk/users', async () => {
  await adm.getByRole('link', { name: 'Users' }).first().click();
  assert.equal(new URL(adm.url()).pathname, '/desk/users');
  await seen(adm, 1280, 'users');
  const email = `inspector-${stamp}-desk@ci.ccreg.pk`;
  const create = form(adm, '/desk/users');
  await fill(create, { email, full_name: 'Rubina Desk Inspector', password: `desk passphrase ${stamp}` });
  await tick(create, 'role', 'inspector');
  await submitOk(create, adm, 'Create user', new RegExp(`^/desk/users/${UUID}$`));
  assert.ok((await bodyText(adm)).includes(email), 'the user page shows the email');
  await seen(adm, 1280, 'user');
  const made = (await api('POST', '/api/v1/auth/token', {
    body: { grant_type: 'password', username: email, password: `desk passphrase ${stamp}` },
  })).json.access_token;
  assert.equal((await get('/api/v1/me', made)).role, 'inspector');
});

await adminStep('the admin creates an agency client; its secret is shown once and works', async () => {
  await goto(adm, '/desk/agency-clients');
  await seen(adm, 1280, 'agency-clients');
  const values = { name: `NCCIA desk ${stamp}`, agency: 'National Cyber Crime Investigation Agency', clears: 'nccia' };
  const create = form(adm, '/desk/agency-clients');
  await fill(create, values);
  const res = await submit(create, adm, 'Create client');
  assert.equal(res.status(), 200, `"Create client" answered ${res.status()}`);
  assert.match(res.headers()['cache-control'] ?? '', /no-store/, 'the secret page is not cached');
  const notice = adm.locator('.notice');
  assert.match(await notice.innerText(), /shown this once/);
  const codes = await notice.locator('dd code').allInnerTexts();
  assert.equal(codes.length, 2, 'the client ID and secret');
  const [clientId, secret] = codes.map((c) => c.trim());
  await shot(adm, 'agency-client-created', 1280);
  await axe(admin, 1280, '/desk/agency-clients', 'agency-client-created', async (a) => {
    const again = a.locator('form[action$="/desk/agency-clients"]');
    await fill(again, { ...values, name: `${values.name} (axe)` });
    await submit(again, a, 'Create client');
    assert.equal(await a.locator('.notice dd code').count(), 2, 'axe sees the secret page');
  });
  assert.ok(await clientToken(clientId, secret), 'the secret shown gets a token');
  await goto(adm, '/desk/agency-clients');
  assert.ok(!(await bodyText(adm)).includes(secret), 'the secret is not shown again');
  assert.ok((await bodyText(adm)).includes(clientId), 'the client is listed');
});

await check('the operator cannot open the desk (403 page)', async () => {
  const res = await op.goto(base + '/desk/applications');
  assert.equal(res.status(), 403, `GET /desk/applications as an operator: ${res.status()}`);
});

await finish('desk');
