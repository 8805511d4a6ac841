"""The licensing flow of API.md, walked through the Python client that openapi-python-client
generated from the served spec, unedited, and nothing else: no hand-written HTTP.

An operator signs up and gets a token, registers its organisation, a director, a site with a
number and an IP range, files the dossier's documents and applies; a regulator (created by the
admin) records the fee payment; each clearing agency's client (created by the admin with
`clears`) grants its clearance; the regulator approves; then an agency client, signed in with
client credentials, verifies the licence, the number and the IP address: `licensed`.

Usage: flow.py BASE_URL, with CCREG_ADMIN_EMAIL and CCREG_ADMIN_PASSWORD in the environment
(run.sh sets them; the password is never an argument, so no process list shows it).
"""

import datetime
import io
import os
import random
import sys
import uuid

from ccreg_client import AuthenticatedClient, Client
from ccreg_client.api.agency_clients import create_agency_client
from ccreg_client.api.applications import (
    approve_application,
    create_application,
    get_application,
    submit_application,
)
from ccreg_client.api.auth import get_me, issue_token, signup
from ccreg_client.api.clearances import get_clearance, grant_clearance, list_clearances
from ccreg_client.api.documents import upload_document
from ccreg_client.api.fees import get_invoice, record_payment
from ccreg_client.api.licences import get_licence
from ccreg_client.api.organisations import add_person, create_organisation
from ccreg_client.api.sites import create_site
from ccreg_client.api.telephony import register_ip_range, register_number
from ccreg_client.api.users import create_user
from ccreg_client.api.verify import verify_ip, verify_licence, verify_number
from ccreg_client.models import (
    Address,
    ApplicationStatus,
    Category,
    ClientCredentialsGrant,
    ClientCredentialsGrantGrantType,
    CreateClient,
    CreateUser,
    DocumentKind,
    DocumentUpload,
    Grant,
    IdType,
    LicenceStatus,
    NewApplication,
    NewIpRange,
    NewOrganisation,
    NewPayment,
    NewPerson,
    NewSite,
    PasswordGrant,
    PasswordGrantGrantType,
    PersonRole,
    Purpose,
    Role,
    Service,
    Signup,
    SingleNumber,
    SingleNumberKind,
    StaffRole,
    TermMonths,
    VerifyResult,
)
from ccreg_client.types import File

CLEARING_AGENCIES = ("nccia", "pta", "security")
# The smallest file the registry recognises as a PDF (it reads the bytes, not the name).
PDF = b"%PDF-1.7\n1 0 obj << /Type /Catalog >> endobj\ntrailer << >>\n%%EOF\n"


def step(text):
    print(f"  - {text}", flush=True)


def expect(response, status):
    """The parsed body of a response with this status, or the failure said plainly."""
    if response.status_code != status:
        body = response.content.decode("utf-8", "replace")
        raise SystemExit(f"expected {status}, got {int(response.status_code)}: {body}")
    return response.parsed


def etag(response):
    """The ETag of a 200 response (what a transition's If-Match must carry)."""
    expect(response, 200)
    return response.headers["etag"]


def password_token(base, username, password):
    body = PasswordGrant(
        grant_type=PasswordGrantGrantType.PASSWORD, username=username, password=password
    )
    tokens = expect(issue_token.sync_detailed(client=Client(base_url=base), body=body), 200)
    return AuthenticatedClient(base_url=base, token=tokens.access_token)


def client_credentials_token(base, client_id, client_secret):
    body = ClientCredentialsGrant(
        grant_type=ClientCredentialsGrantGrantType.CLIENT_CREDENTIALS,
        client_id=client_id,
        client_secret=client_secret,
    )
    tokens = expect(issue_token.sync_detailed(client=Client(base_url=base), body=body), 200)
    return AuthenticatedClient(base_url=base, token=tokens.access_token)


def address(city):
    return Address(
        line1="Plot 12, Shahrah-e-Faisal",
        city=city,
        province="Sindh",
        postal_code="75400",
        country="PK",
    )


def operator_registers(base, run):
    """Sign-up, token, organisation, director, site, number, IP range, documents."""
    email = f"compliance-{run}@karachi-contact.pk"
    password = f"a long passphrase {run}"
    public = Client(base_url=base)
    expect(
        signup.sync_detailed(
            client=public, body=Signup(email=email, password=password, full_name="Bilal Ahmed")
        ),
        201,
    )
    operator = password_token(base, email, password)
    me = expect(get_me.sync_detailed(client=operator), 200)
    assert me.role == Role.OPERATOR, me
    step(f"operator {email} signed up and signed in")

    org = expect(
        create_organisation.sync_detailed(
            client=operator,
            body=NewOrganisation(
                legal_name=f"Karachi Contact Solutions {run} (Private) Limited",
                trade_name="KCS",
                registration_number=f"FLOW-{run}",
                tax_number=f"{random.randrange(10**7):07d}-{random.randrange(10)}",
                registered_address=address("Karachi"),
                contact_email=email,
                contact_phone="021 34567890",
            ),
        ),
        201,
    )
    cnic = f"{random.randrange(10**13):013d}"
    person = expect(
        add_person.sync_detailed(
            id=org.id,
            client=operator,
            body=NewPerson(
                full_name="Bilal Ahmed",
                roles=[PersonRole.DIRECTOR, PersonRole.BENEFICIAL_OWNER],
                id_type=IdType.CNIC,
                id_number=f"{cnic[:5]}-{cnic[5:12]}-{cnic[12]}",
                nationality="PK",
                ownership_percent=100.0,
            ),
        ),
        201,
    )
    site = expect(
        create_site.sync_detailed(
            id=org.id,
            client=operator,
            body=NewSite(
                name="Clifton centre",
                address=address("Karachi"),
                seat_count=120,
                services=[Service.INBOUND, Service.OUTBOUND],
                markets=["PK", "GB"],
            ),
        ),
        201,
    )
    e164 = f"+92213{random.randrange(10**7):07d}"
    expect(
        register_number.sync_detailed(
            id=site.id,
            client=operator,
            body=SingleNumber(kind=SingleNumberKind.NUMBER, e164=e164, purpose=Purpose.BOTH),
        ),
        201,
    )
    cidr = f"198.18.{random.randrange(256)}.0/24"
    expect(
        register_ip_range.sync_detailed(id=site.id, client=operator, body=NewIpRange(cidr=cidr)),
        201,
    )
    step(f"organisation {org.id}, a director, site {site.id}, {e164} and {cidr} registered")

    documents = [
        (DocumentKind.INCORPORATION_CERTIFICATE, {}),
        (DocumentKind.TAX_CERTIFICATE, {}),
        (DocumentKind.BANK_LETTER, {}),
        (DocumentKind.IDENTITY_DOCUMENT, {"person_id": person.id}),
        (DocumentKind.PREMISES_PROOF, {"site_id": site.id}),
    ]
    for kind, about in documents:
        upload = DocumentUpload(
            file=File(
                payload=io.BytesIO(PDF), file_name=f"{kind.value}.pdf", mime_type="application/pdf"
            ),
            kind=kind,
            **about,
        )
        expect(upload_document.sync_detailed(id=org.id, client=operator, body=upload), 201)
    step("the dossier's five documents filed")
    return operator, org, site, e164, cidr


def operator_applies(operator, org, site):
    application = expect(
        create_application.sync_detailed(
            client=operator,
            body=NewApplication(
                organisation_id=org.id,
                site_ids=[site.id],
                category=Category.INBOUND,
                term_months=TermMonths.VALUE_12,
            ),
        ),
        201,
    )
    current = etag(get_application.sync_detailed(id=application.id, client=operator))
    submitted = expect(
        submit_application.sync_detailed(id=application.id, client=operator, if_match=current),
        200,
    )
    assert submitted.status == ApplicationStatus.SUBMITTED, submitted
    step(f"application {application.id} submitted; invoice {submitted.invoice_id} raised")
    return submitted


def regulator_records_payment(regulator, application):
    read = get_invoice.sync_detailed(id=application.invoice_id, client=regulator)
    current = etag(read)
    invoice = read.parsed
    paid_at = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=5)
    paid = expect(
        record_payment.sync_detailed(
            id=invoice.id,
            client=regulator,
            if_match=current,
            body=NewPayment(
                amount_minor=invoice.total_minor - invoice.paid_minor,
                paid_at=paid_at,
                channel="psid",
                reference=f"PSID-{application.id}",
            ),
        ),
        200,
    )
    assert paid.paid_minor == paid.total_minor, paid
    step(f"fee of {invoice.total_minor / 100:.0f} rupees recorded as paid")


def agencies_clear(base, admin, application, run):
    for agency in CLEARING_AGENCIES:
        created = expect(
            create_agency_client.sync_detailed(
                client=admin,
                body=CreateClient(
                    name=f"{agency} clearance desk {run}", agency=agency.upper(), clears=agency
                ),
            ),
            201,
        )
        desk = client_credentials_token(base, created.client_id, created.client_secret)
        page = expect(
            list_clearances.sync_detailed(client=desk, application_id=application.id), 200
        )
        assert len(page.items) == 1, page
        clearance = page.items[0]
        current = etag(get_clearance.sync_detailed(id=clearance.id, client=desk))
        expect(
            grant_clearance.sync_detailed(
                id=clearance.id,
                client=desk,
                if_match=current,
                body=Grant(reference=f"{agency.upper()}/CLR/{run}"),
            ),
            200,
        )
        step(f"{agency} granted its clearance")


def main():
    base = sys.argv[1].rstrip("/")
    admin_email = os.environ["CCREG_ADMIN_EMAIL"]
    admin_password = os.environ["CCREG_ADMIN_PASSWORD"]
    run = uuid.uuid4().hex[:10]
    print(f"licensing flow {run} against {base}, through the generated client")

    operator, org, site, e164, cidr = operator_registers(base, run)
    application = operator_applies(operator, org, site)

    admin = password_token(base, admin_email, admin_password)
    officer_email = f"officer-{run}@pta.gov.pk"
    officer_password = f"regulator passphrase {run}"
    expect(
        create_user.sync_detailed(
            client=admin,
            body=CreateUser(
                email=officer_email,
                password=officer_password,
                full_name="Sara Malik",
                role=StaffRole.REGULATOR,
            ),
        ),
        201,
    )
    regulator = password_token(base, officer_email, officer_password)
    regulator_records_payment(regulator, application)
    agencies_clear(base, admin, application, run)

    current = etag(get_application.sync_detailed(id=application.id, client=regulator))
    approved = expect(
        approve_application.sync_detailed(id=application.id, client=regulator, if_match=current),
        200,
    )
    number = approved.licence_number
    licence = expect(get_licence.sync_detailed(licence_number=number, client=operator), 200)
    assert licence.status in (LicenceStatus.PROVISIONAL, LicenceStatus.ACTIVE), licence
    step(f"approved: licence {number} issued ({licence.status.value})")

    bank = expect(
        create_agency_client.sync_detailed(
            client=admin, body=CreateClient(name=f"HBL fraud desk {run}", agency="Habib Bank")
        ),
        201,
    )
    agency = client_credentials_token(base, bank.client_id, bank.client_secret)
    ip = cidr.split("/")[0][:-1] + "7"
    answers = {
        "licence": verify_licence.sync_detailed(licence_number=number, client=agency),
        "number": verify_number.sync_detailed(e164=e164, client=agency),
        "ip": verify_ip.sync_detailed(ip=ip, client=agency),
    }
    for what, response in answers.items():
        answer = expect(response, 200)
        assert answer.result == VerifyResult.LICENSED, (what, answer)
        assert answer.licence_number == number, (what, answer)
        step(f"agency verified the {what} ({answer.query}): {answer.result.value}")
    print("licensing flow passed: operator → dossier → licence → agency verification")


if __name__ == "__main__":
    main()
