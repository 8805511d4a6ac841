#!/usr/bin/env python3
"""Checks ccreg's webhooks from the outside, with third-party verifiers.

Against a running `ccreg serve` started with CCREG_WEBHOOK_ALLOW_PRIVATE=1 (the receiver
listens on 127.0.0.1), this script:

1. starts a receiver on a free local port that records every request;
2. creates an agency client (as the admin), signs it in, and registers a webhook for `*` to
   the receiver;
3. drives a licence through the API (an operator's dossier, fee, clearances, approval), then
   suspends and reinstates it: feed events `issued`, `suspended`, `reinstated`;
4. waits (at most --timeout seconds) until every feed event after the webhook's creation has
   been delivered, then checks each delivery:
   - `v1` with the `standardwebhooks` library (PyPI), keyed with the secret from the 201;
   - `v1a` with `cryptography`'s Ed25519 and the key in /.well-known/jwks.json;
   - the body against GET /api/v1/events (type, timestamp, data), the order (feed order),
     and `webhook-id` against GET /api/v1/webhooks/{id}/deliveries.

Exits 0 when every check passes, 1 otherwise. Needs: pip install standardwebhooks cryptography

    python tests/webhooks/verify.py --base http://127.0.0.1:8080 \\
        --admin-email admin@example.pk --admin-password '...'
"""

import argparse
import base64
import datetime
import http.server
import json
import secrets
import sys
import threading
import time
import urllib.error
import urllib.request
import uuid

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


class Failure(Exception):
    pass


class Api:
    """A small JSON client for the registry."""

    def __init__(self, base):
        self.base = base.rstrip("/")

    def call(self, method, path, token=None, body=None, headers=None, raw=None, expect=(200,)):
        data, hdrs = None, dict(headers or {})
        if raw is not None:
            data = raw
        elif body is not None:
            data = json.dumps(body).encode()
            hdrs["content-type"] = "application/json"
        if token:
            hdrs["authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.base + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=30) as res:
                status, text, res_headers = res.status, res.read().decode(), res.headers
        except urllib.error.HTTPError as e:
            status, text, res_headers = e.code, e.read().decode(), e.headers
        if status not in expect:
            raise Failure(f"{method} {path} answered {status}, not {expect}: {text[:500]}")
        return (json.loads(text) if text else None), res_headers

    def get(self, path, token, **kw):
        return self.call("GET", path, token, **kw)[0]

    def post(self, path, token, body=None, **kw):
        return self.call("POST", path, token, body, **kw)[0]

    def etag(self, path, token):
        return self.call("GET", path, token)[1]["ETag"]

    def act(self, path, token, action, body=None):
        """POSTs a transition with the resource's current ETag."""
        etag = self.etag(path, token)
        return self.post(f"{path}/{action}", token, body, headers={"if-match": etag})

    def password_token(self, email, password):
        body = {"grant_type": "password", "username": email, "password": password}
        return self.post("/api/v1/auth/token", None, body)["access_token"]

    def client_token(self, admin, name, clears=None):
        body = {"name": name, "agency": name.split()[0].upper()}
        if clears:
            body["clears"] = clears
        c = self.post("/api/v1/agency-clients", admin, body, expect=(201,))
        grant = {"grant_type": "client_credentials", "client_id": c["client_id"],
                 "client_secret": c["client_secret"]}
        return self.post("/api/v1/auth/token", None, grant)["access_token"]

    def upload(self, token, org, kind, extra=()):
        boundary = uuid.uuid4().hex
        parts = []
        for name, value in [("kind", kind), *extra]:
            parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n'
                         f"{value}\r\n".encode())
        parts.append(f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
                     f'filename="{kind}.pdf"\r\nContent-Type: application/pdf\r\n\r\n'.encode()
                     + PDF + b"\r\n")
        parts.append(f"--{boundary}--\r\n".encode())
        self.call("POST", f"/api/v1/organisations/{org}/documents", token, raw=b"".join(parts),
                  headers={"content-type": f"multipart/form-data; boundary={boundary}"},
                  expect=(201,))


class Receiver:
    """An HTTP receiver on 127.0.0.1 that records every request and answers 204."""

    def __init__(self):
        self.got = []
        self.lock = threading.Lock()
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self):
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                with outer.lock:
                    outer.got.append(({k.lower(): v for k, v in self.headers.items()}, body))
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def received(self):
        with self.lock:
            return list(self.got)


def issue_suspend_reinstate(api, admin):
    """Brings a new licence into force and suspends and reinstates it; returns its number."""
    tag = secrets.token_hex(4)
    digits = f"{int(tag, 16) % 10_000_000:07d}"
    regulator_email = f"verify-{tag}@regulator.example.pk"
    password = secrets.token_urlsafe(18)
    api.post("/api/v1/users", admin, {"email": regulator_email, "password": password,
                                      "full_name": "Webhook Check", "role": "regulator"},
             expect=(201,))
    regulator = api.password_token(regulator_email, password)
    operator_email = f"verify-{tag}@operator.example.pk"
    api.post("/api/v1/auth/signup", None, {"email": operator_email, "password": password,
                                           "full_name": "Webhook Operator"}, expect=(201,))
    operator = api.password_token(operator_email, password)
    address = {"line1": "Plot 7, Shahrah-e-Faisal", "city": "Karachi", "province": "Sindh",
               "postal_code": "75400", "country": "PK"}
    org = api.post("/api/v1/organisations", operator, {
        "legal_name": f"Webhook Check {tag} (Private) Limited", "registration_number": f"WH-{tag}",
        "tax_number": f"{digits}-1", "registered_address": address,
        "contact_email": "compliance@example.pk", "contact_phone": "021 34567890"},
        expect=(201,))["id"]
    person = api.post(f"/api/v1/organisations/{org}/people", operator, {
        "full_name": "Imran Qureshi", "roles": ["director"], "id_type": "cnic",
        "id_number": f"35202-{digits}-1", "nationality": "PK", "ownership_percent": 100},
        expect=(201,))["id"]
    site = api.post(f"/api/v1/organisations/{org}/sites", operator, {
        "name": "Clifton centre", "address": address, "seat_count": 120,
        "services": ["inbound"], "markets": ["PK"]}, expect=(201,))["id"]
    for kind in ["incorporation_certificate", "tax_certificate", "bank_letter"]:
        api.upload(operator, org, kind)
    api.upload(operator, org, "identity_document", [("person_id", person)])
    api.upload(operator, org, "premises_proof", [("site_id", site)])
    app = api.post("/api/v1/applications", operator, {
        "organisation_id": org, "site_ids": [site], "category": "inbound", "term_months": 12},
        expect=(201,))["id"]
    app_path = f"/api/v1/applications/{app}"
    api.act(app_path, operator, "submit")

    invoice_path = f"/api/v1/invoices/{api.get(app_path, regulator)['invoice_id']}"
    invoice = api.get(invoice_path, regulator)
    paid_at = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(minutes=1))
    api.post(f"{invoice_path}/payments", regulator, {
        "amount_minor": invoice["total_minor"] - invoice["paid_minor"],
        "paid_at": paid_at.strftime("%Y-%m-%dT%H:%M:%SZ"), "channel": "psid",
        "reference": f"PSID-{tag}"}, headers={"if-match": api.etag(invoice_path, regulator)})
    clearances = api.get(f"/api/v1/clearances?application_id={app}", regulator)["items"]
    for clearance in clearances:
        agency = clearance["agency"]
        clerk = api.client_token(admin, f"{agency} clearance desk {tag}", clears=agency)
        api.act(f"/api/v1/clearances/{clearance['id']}", clerk, "grant",
                {"reference": f"{agency}/CLR/{tag}"})
    number = api.act(app_path, regulator, "approve")["licence_number"]
    licence = f"/api/v1/licences/{number}"
    api.act(licence, regulator, "suspend", {"reason": "Webhook check: suspension"})
    api.act(licence, regulator, "reinstate", {"reason": "Webhook check: reinstatement"})
    return number


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--base", required=True, help="the registry, e.g. http://127.0.0.1:8080")
    parser.add_argument("--admin-email", required=True)
    parser.add_argument("--admin-password", required=True)
    parser.add_argument("--timeout", type=float, default=30.0, help="seconds to wait for deliveries")
    args = parser.parse_args()

    api = Api(args.base)
    checks = 0
    admin = api.password_token(args.admin_email, args.admin_password)
    receiver = Receiver()
    agency = api.client_token(admin, f"Bank webhook check {secrets.token_hex(3)}")
    hook = api.post("/api/v1/webhooks", agency, {
        "url": f"http://127.0.0.1:{receiver.port}/ccreg", "events": ["*"]}, expect=(201,))
    secret, start = hook["secret"], hook["position"]
    if not secret.startswith("whsec_") or "secret" in api.get(f"/api/v1/webhooks/{hook['id']}", agency):
        raise Failure("the secret must be whsec_… in the 201 and absent from GET")
    checks += 1

    number = issue_suspend_reinstate(api, admin)
    feed = api.get(f"/api/v1/events?after={start}&limit=500", admin)["items"]
    mine = [e["type"] for e in feed if e["licence_number"] == number]
    if mine != ["issued", "suspended", "reinstated"]:
        raise Failure(f"the feed shows {mine} for {number}")

    deadline = time.monotonic() + args.timeout
    while len(receiver.received()) < len(feed) and time.monotonic() < deadline:
        time.sleep(0.2)
    got = receiver.received()
    if len(got) != len(feed):
        raise Failure(f"{len(got)} deliveries arrived within {args.timeout} s; the feed has {len(feed)}")
    checks += 1

    jwks = api.get("/.well-known/jwks.json", None)
    x = jwks["keys"][0]["x"]
    public = Ed25519PublicKey.from_public_bytes(base64.urlsafe_b64decode(x + "=" * (-len(x) % 4)))
    verifier = Webhook(secret)
    for (headers, body), event in zip(got, feed):
        try:
            payload = verifier.verify(body, headers)
        except WebhookVerificationError as e:
            raise Failure(f"v1 signature of {headers.get('webhook-id')} does not verify: {e}")
        content = f"{headers['webhook-id']}.{headers['webhook-timestamp']}.".encode() + body
        v1a = [s.split(",", 1)[1] for s in headers["webhook-signature"].split(" ")
               if s.startswith("v1a,")]
        if len(v1a) != 1:
            raise Failure(f"no single v1a signature in {headers['webhook-signature']!r}")
        try:
            public.verify(base64.b64decode(v1a[0]), content)
        except InvalidSignature:
            raise Failure(f"v1a signature of {headers['webhook-id']} does not verify")
        expected = {"type": event["type"], "timestamp": event["at"], "data": event}
        if payload != expected:
            raise Failure(f"delivery {payload} is not feed event {expected} (order or content)")
        if not headers.get("content-type", "").startswith("application/json"):
            raise Failure(f"content-type {headers.get('content-type')!r}")
        checks += 3

    attempts = api.get(f"/api/v1/webhooks/{hook['id']}/deliveries", agency)["items"]
    delivered = [(a["message_id"], a["event_seq"]) for a in attempts if a["outcome"] == "delivered"]
    sent = [(h["webhook-id"], json.loads(b)["data"]["seq"]) for h, b in got]
    if delivered != sent:
        raise Failure(f"the deliveries list {delivered} does not match what arrived {sent}")
    checks += 1
    api.call("DELETE", f"/api/v1/webhooks/{hook['id']}", agency, expect=(204,))
    print(f"licence {number}: {len(got)} deliveries in feed order, v1 and v1a verified")
    print(f"webhooks: {checks} passed, 0 failed")


if __name__ == "__main__":
    try:
        main()
    except Failure as e:
        print(f"FAIL: {e}", file=sys.stderr)
        print("webhooks: 0 passed, 1 failed")
        sys.exit(1)
