//! The role policy, in one place: which role may call which route. A route with no rule here is
//! denied to everyone (403 once signed in); a test checks that every route of the spec has one.

use actix_web::http::Method;

use super::Role;
use Role::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Access {
    /// Anyone, signed in or not.
    Public,
    /// Signed in with one of these roles.
    Roles(&'static [Role]),
    /// Signed in to the portal (the session cookie, never a bearer token) with one of these
    /// roles; checked by `crate::portal::SignedIn`, not by the bearer guard.
    Session(&'static [Role]),
}

const ANY_ROLE: &[Role] = &[Admin, Regulator, Inspector, Operator, Agency];
const ADMIN: &[Role] = &[Admin];
const ADMIN_REGULATOR: &[Role] = &[Admin, Regulator];
/// Operators (their own records) and staff (all records): the registry's readers.
const REGISTRY_READERS: &[Role] = &[Operator, Admin, Regulator, Inspector];
const OPERATOR: &[Role] = &[Operator];
const REGULATOR: &[Role] = &[Regulator];
const SCHEDULERS: &[Role] = &[Regulator, Inspector];
const INSPECTION_READERS: &[Role] = &[Regulator, Inspector, Operator, Admin];
const INSPECTOR: &[Role] = &[Inspector];
/// Who may verify: agencies and staff.
const VERIFIERS: &[Role] = &[Agency, Admin, Regulator, Inspector];
/// Operators (their own) and the staff who handle fees.
const INVOICE_READERS: &[Role] = &[Operator, Admin, Regulator];
/// Agencies (their agency's), operators (their own), regulators and admins.
const CLEARANCE_READERS: &[Role] = &[Agency, Operator, Admin, Regulator];
/// Who may follow the change feed.
const FEED_READERS: &[Role] = &[Agency, Regulator, Admin];
/// Who may register webhooks: agencies (their own endpoints) and admins (all).
const WEBHOOK_OWNERS: &[Role] = &[Agency, Admin];

/// People who sign in with a password.
const PEOPLE: &[Role] = &[Operator, Admin, Regulator, Inspector];
const STAFF: &[Role] = &[Admin, Regulator, Inspector];

/// (method, route pattern, access).
const RULES: &[(&str, &str, Access)] = &[
    ("POST", "/api/v1/auth/signup", Access::Public),
    ("POST", "/api/v1/auth/token", Access::Public),
    ("POST", "/api/v1/auth/revoke", Access::Public),
    ("GET", "/api/v1/me", Access::Roles(ANY_ROLE)),
    ("POST", "/api/v1/users", Access::Roles(ADMIN)),
    ("GET", "/api/v1/users", Access::Roles(ADMIN)),
    ("GET", "/api/v1/users/{id}", Access::Roles(ADMIN)),
    ("PATCH", "/api/v1/users/{id}", Access::Roles(ADMIN)),
    ("POST", "/api/v1/agency-clients", Access::Roles(ADMIN)),
    ("GET", "/api/v1/agency-clients", Access::Roles(ADMIN)),
    ("GET", "/api/v1/agency-clients/{id}", Access::Roles(ADMIN)),
    ("DELETE", "/api/v1/agency-clients/{id}", Access::Roles(ADMIN)),
    ("GET", "/api/v1/audit", Access::Roles(ADMIN_REGULATOR)),
    ("GET", "/api/v1/audit/verify", Access::Roles(ADMIN_REGULATOR)),
    ("POST", "/api/v1/organisations", Access::Roles(OPERATOR)),
    ("GET", "/api/v1/organisations", Access::Roles(REGISTRY_READERS)),
    ("GET", "/api/v1/organisations/{id}", Access::Roles(REGISTRY_READERS)),
    ("PATCH", "/api/v1/organisations/{id}", Access::Roles(OPERATOR)),
    ("POST", "/api/v1/organisations/{id}/people", Access::Roles(OPERATOR)),
    ("GET", "/api/v1/organisations/{id}/people", Access::Roles(REGISTRY_READERS)),
    ("DELETE", "/api/v1/organisations/{id}/people/{person_id}", Access::Roles(OPERATOR)),
    ("POST", "/api/v1/organisations/{id}/sites", Access::Roles(OPERATOR)),
    ("GET", "/api/v1/sites", Access::Roles(REGISTRY_READERS)),
    ("GET", "/api/v1/sites/{id}", Access::Roles(REGISTRY_READERS)),
    ("PATCH", "/api/v1/sites/{id}", Access::Roles(OPERATOR)),
    ("POST", "/api/v1/sites/{id}/numbers", Access::Roles(OPERATOR)),
    ("GET", "/api/v1/sites/{id}/numbers", Access::Roles(REGISTRY_READERS)),
    ("DELETE", "/api/v1/sites/{id}/numbers/{number_id}", Access::Roles(OPERATOR)),
    ("POST", "/api/v1/sites/{id}/ip-ranges", Access::Roles(OPERATOR)),
    ("GET", "/api/v1/sites/{id}/ip-ranges", Access::Roles(REGISTRY_READERS)),
    ("DELETE", "/api/v1/sites/{id}/ip-ranges/{range_id}", Access::Roles(OPERATOR)),
    ("POST", "/api/v1/organisations/{id}/documents", Access::Roles(OPERATOR)),
    ("GET", "/api/v1/organisations/{id}/documents", Access::Roles(REGISTRY_READERS)),
    ("GET", "/api/v1/documents/{id}", Access::Roles(REGISTRY_READERS)),
    ("GET", "/api/v1/documents/{id}/content", Access::Roles(REGISTRY_READERS)),
    ("DELETE", "/api/v1/documents/{id}", Access::Roles(OPERATOR)),
    ("POST", "/api/v1/applications", Access::Roles(OPERATOR)),
    ("GET", "/api/v1/applications", Access::Roles(REGISTRY_READERS)),
    ("GET", "/api/v1/applications/{id}", Access::Roles(REGISTRY_READERS)),
    ("POST", "/api/v1/applications/{id}/submit", Access::Roles(OPERATOR)),
    ("POST", "/api/v1/applications/{id}/withdraw", Access::Roles(OPERATOR)),
    ("POST", "/api/v1/applications/{id}/request-info", Access::Roles(REGULATOR)),
    ("POST", "/api/v1/applications/{id}/approve", Access::Roles(REGULATOR)),
    ("POST", "/api/v1/applications/{id}/reject", Access::Roles(REGULATOR)),
    ("GET", "/api/v1/invoices", Access::Roles(INVOICE_READERS)),
    ("GET", "/api/v1/invoices/{id}", Access::Roles(INVOICE_READERS)),
    ("POST", "/api/v1/invoices/{id}/payments", Access::Roles(REGULATOR)),
    ("GET", "/api/v1/clearances", Access::Roles(CLEARANCE_READERS)),
    ("GET", "/api/v1/clearances/{id}", Access::Roles(CLEARANCE_READERS)),
    // Every role reaches the rule, which answers 403 to those who see the clearance but may
    // not decide it and 404 to those who may not see it (API.md §10).
    ("POST", "/api/v1/clearances/{id}/grant", Access::Roles(ANY_ROLE)),
    ("POST", "/api/v1/clearances/{id}/object", Access::Roles(ANY_ROLE)),
    ("GET", "/api/v1/licences", Access::Roles(REGISTRY_READERS)),
    ("GET", "/api/v1/licences/{licence_number}", Access::Roles(REGISTRY_READERS)),
    ("POST", "/api/v1/licences/{licence_number}/suspend", Access::Roles(REGULATOR)),
    ("POST", "/api/v1/licences/{licence_number}/reinstate", Access::Roles(REGULATOR)),
    ("POST", "/api/v1/licences/{licence_number}/revoke", Access::Roles(REGULATOR)),
    ("POST", "/api/v1/licences/{licence_number}/surrender", Access::Roles(OPERATOR)),
    ("GET", "/api/v1/events", Access::Roles(FEED_READERS)),
    ("POST", "/api/v1/inspections", Access::Roles(SCHEDULERS)),
    ("GET", "/api/v1/inspections", Access::Roles(INSPECTION_READERS)),
    ("GET", "/api/v1/inspections/{id}", Access::Roles(INSPECTION_READERS)),
    ("POST", "/api/v1/inspections/{id}/record", Access::Roles(INSPECTOR)),
    ("POST", "/api/v1/inspections/{id}/cancel", Access::Roles(REGULATOR)),
    ("POST", "/api/v1/inspections/{id}/evidence", Access::Roles(INSPECTOR)),
    ("GET", "/api/v1/inspections/{id}/evidence/{evidence_id}", Access::Roles(STAFF)),
    ("GET", "/api/v1/enforcement-queue", Access::Roles(ADMIN_REGULATOR)),
    ("POST", "/api/v1/enforcement-queue/{id}/dismiss", Access::Roles(REGULATOR)),
    ("GET", "/api/v1/barred-persons", Access::Roles(ADMIN_REGULATOR)),
    ("GET", "/api/v1/violations", Access::Roles(INSPECTION_READERS)),
    ("GET", "/api/v1/violations/{id}", Access::Roles(INSPECTION_READERS)),
    ("POST", "/api/v1/violations/{id}/resolve", Access::Roles(REGULATOR)),
    ("GET", "/api/v1/verify/licences/{licence_number}", Access::Roles(VERIFIERS)),
    ("GET", "/api/v1/verify/numbers/{e164}", Access::Roles(VERIFIERS)),
    ("GET", "/api/v1/verify/ips/{ip}", Access::Roles(VERIFIERS)),
    ("GET", "/api/v1/verify/organisations", Access::Roles(VERIFIERS)),
    ("POST", "/api/v1/verify/bulk", Access::Roles(VERIFIERS)),
    ("GET", "/api/v1/verify/licences/{licence_number}/attestation", Access::Roles(VERIFIERS)),
    ("GET", "/api/v1/public/licences/{licence_number}", Access::Public),
    ("GET", "/api/v1/public/stats", Access::Public),
    ("GET", "/api/v1/public/register.csv", Access::Public),
    ("GET", "/api/v1/public/register.json", Access::Public),
    ("GET", "/api/v1/public/numbers/{number}", Access::Public),
    ("POST", "/api/v1/public/reports", Access::Public),
    ("GET", "/api/v1/reports", Access::Roles(ADMIN_REGULATOR)),
    ("GET", "/api/v1/reports/{id}", Access::Roles(ADMIN_REGULATOR)),
    ("POST", "/api/v1/reports/{id}/triage", Access::Roles(REGULATOR)),
    ("GET", "/api/v1/verification-log", Access::Roles(ADMIN_REGULATOR)),
    ("POST", "/api/v1/webhooks", Access::Roles(WEBHOOK_OWNERS)),
    ("GET", "/api/v1/webhooks", Access::Roles(WEBHOOK_OWNERS)),
    ("GET", "/api/v1/webhooks/{id}", Access::Roles(WEBHOOK_OWNERS)),
    ("PATCH", "/api/v1/webhooks/{id}", Access::Roles(WEBHOOK_OWNERS)),
    ("DELETE", "/api/v1/webhooks/{id}", Access::Roles(WEBHOOK_OWNERS)),
    ("GET", "/api/v1/webhooks/{id}/deliveries", Access::Roles(WEBHOOK_OWNERS)),
    ("GET", "/api/v1/openapi.json", Access::Public),
    ("GET", "/.well-known/jwks.json", Access::Public),
    ("GET", "/healthz", Access::Public),
    ("GET", "/readyz", Access::Public),
    ("GET", "/metrics", Access::Public),
    // The public register's pages (API.md §12): HTML, outside the OpenAPI document.
    ("GET", "/", Access::Public),
    ("GET", "/register/licences/{licence_number}", Access::Public),
    ("GET", "/register/licences/{licence_number}/certificate", Access::Public),
    ("GET", "/register/stats", Access::Public),
    ("GET", "/assets/register.css", Access::Public),
    // The portal (API.md §14): HTML, outside the OpenAPI document; every form CSRF-checked.
    ("GET", "/account/sign-in", Access::Public),
    ("POST", "/account/sign-in", Access::Public),
    ("GET", "/account/sign-up", Access::Public),
    ("POST", "/account/sign-up", Access::Public),
    ("POST", "/account/sign-out", Access::Session(PEOPLE)),
    ("GET", "/account/password", Access::Session(PEOPLE)),
    ("POST", "/account/password", Access::Session(PEOPLE)),
    ("GET", "/portal", Access::Session(OPERATOR)),
    ("GET", "/desk", Access::Session(STAFF)),
    // The staff desk (§14).
    ("GET", "/desk/applications", Access::Session(ADMIN_REGULATOR)),
    ("GET", "/desk/applications/{id}", Access::Session(ADMIN_REGULATOR)),
    ("POST", "/desk/applications/{id}/approve", Access::Session(REGULATOR)),
    ("POST", "/desk/applications/{id}/reject", Access::Session(REGULATOR)),
    ("POST", "/desk/applications/{id}/request-info", Access::Session(REGULATOR)),
    ("POST", "/desk/applications/{id}/payment", Access::Session(REGULATOR)),
    ("POST", "/desk/applications/{id}/inspections", Access::Session(REGULATOR)),
    ("GET", "/desk/documents/{id}", Access::Session(STAFF)),
    ("GET", "/desk/licences", Access::Session(ADMIN_REGULATOR)),
    ("GET", "/desk/licences/{licence_number}", Access::Session(ADMIN_REGULATOR)),
    ("POST", "/desk/licences/{licence_number}/suspend", Access::Session(REGULATOR)),
    ("POST", "/desk/licences/{licence_number}/reinstate", Access::Session(REGULATOR)),
    ("POST", "/desk/licences/{licence_number}/revoke", Access::Session(REGULATOR)),
    ("GET", "/desk/inspections", Access::Session(SCHEDULERS)),
    ("GET", "/desk/inspections/{id}", Access::Session(SCHEDULERS)),
    ("POST", "/desk/inspections/{id}", Access::Session(INSPECTOR)),
    ("POST", "/desk/inspections/{id}/evidence", Access::Session(INSPECTOR)),
    ("GET", "/desk/inspections/{id}/evidence/{evidence_id}", Access::Session(STAFF)),
    ("GET", "/desk/enforcement", Access::Session(ADMIN_REGULATOR)),
    ("GET", "/desk/enforcement/{id}", Access::Session(ADMIN_REGULATOR)),
    ("POST", "/desk/enforcement/{id}", Access::Session(REGULATOR)),
    ("GET", "/desk/violations", Access::Session(ADMIN_REGULATOR)),
    ("GET", "/desk/violations/{id}", Access::Session(ADMIN_REGULATOR)),
    ("POST", "/desk/violations/{id}", Access::Session(REGULATOR)),
    ("GET", "/desk/reports", Access::Session(ADMIN_REGULATOR)),
    ("GET", "/desk/reports/{id}", Access::Session(ADMIN_REGULATOR)),
    ("POST", "/desk/reports/{id}", Access::Session(REGULATOR)),
    ("GET", "/desk/users", Access::Session(ADMIN)),
    ("POST", "/desk/users", Access::Session(ADMIN)),
    ("GET", "/desk/users/{id}", Access::Session(ADMIN)),
    ("POST", "/desk/users/{id}", Access::Session(ADMIN)),
    ("GET", "/desk/agency-clients", Access::Session(ADMIN)),
    ("POST", "/desk/agency-clients", Access::Session(ADMIN)),
    ("POST", "/desk/agency-clients/{id}/delete", Access::Session(ADMIN)),
    ("GET", "/portal/organisations/new", Access::Session(OPERATOR)),
    ("POST", "/portal/organisations/new", Access::Session(OPERATOR)),
    ("GET", "/portal/organisations/{id}", Access::Session(OPERATOR)),
    ("GET", "/portal/organisations/{id}/edit", Access::Session(OPERATOR)),
    ("POST", "/portal/organisations/{id}/edit", Access::Session(OPERATOR)),
    ("GET", "/portal/organisations/{id}/people/new", Access::Session(OPERATOR)),
    ("POST", "/portal/organisations/{id}/people/new", Access::Session(OPERATOR)),
    ("POST", "/portal/organisations/{id}/people/{person_id}/delete", Access::Session(OPERATOR)),
    ("GET", "/portal/organisations/{id}/sites/new", Access::Session(OPERATOR)),
    ("POST", "/portal/organisations/{id}/sites/new", Access::Session(OPERATOR)),
    ("GET", "/portal/sites/{id}", Access::Session(OPERATOR)),
    ("POST", "/portal/sites/{id}/numbers", Access::Session(OPERATOR)),
    ("POST", "/portal/sites/{id}/numbers/{number_id}/delete", Access::Session(OPERATOR)),
    ("POST", "/portal/sites/{id}/ip-ranges", Access::Session(OPERATOR)),
    ("POST", "/portal/sites/{id}/ip-ranges/{range_id}/delete", Access::Session(OPERATOR)),
    ("GET", "/portal/organisations/{id}/documents/new", Access::Session(OPERATOR)),
    ("POST", "/portal/organisations/{id}/documents/new", Access::Session(OPERATOR)),
    ("POST", "/portal/documents/{id}/delete", Access::Session(OPERATOR)),
    ("GET", "/portal/organisations/{id}/applications/new", Access::Session(OPERATOR)),
    ("POST", "/portal/organisations/{id}/applications/new", Access::Session(OPERATOR)),
    ("GET", "/portal/applications/{id}", Access::Session(OPERATOR)),
    ("GET", "/portal/applications/{id}/submit", Access::Session(OPERATOR)),
    ("POST", "/portal/applications/{id}/submit", Access::Session(OPERATOR)),
    ("POST", "/portal/applications/{id}/withdraw", Access::Session(OPERATOR)),
];

/// The access rule for a matched route; deny by default.
pub fn access(method: &Method, pattern: &str) -> Access {
    if pattern == "/docs" || pattern.starts_with("/docs/") {
        return Access::Public;
    }
    static BY_ROUTE: std::sync::OnceLock<crate::index::Map<(&str, &str), Access>> =
        std::sync::OnceLock::new();
    // Looked up on every request: a map, not a walk through every rule.
    let by_route =
        BY_ROUTE.get_or_init(|| RULES.iter().rev().map(|(m, p, a)| ((*m, *p), *a)).collect());
    by_route.get(&(method.as_str(), pattern)).copied().unwrap_or(Access::Roles(&[]))
}

/// Whether a rule exists for the route (used by the test that checks the spec is covered).
pub fn has_rule(method: &str, pattern: &str) -> bool {
    RULES.iter().any(|(m, p, _)| m.eq_ignore_ascii_case(method) && *p == pattern)
}

pub fn is_public(method: &str, pattern: &str) -> bool {
    RULES
        .iter()
        .any(|(m, p, a)| m.eq_ignore_ascii_case(method) && *p == pattern && *a == Access::Public)
}

/// The routes whose rule is a portal session (the portal's test checks each is registered).
pub fn session_routes() -> impl Iterator<Item = (&'static str, &'static str)> {
    RULES.iter().filter(|(_, _, a)| matches!(a, Access::Session(_))).map(|(m, p, _)| (*m, *p))
}

impl Access {
    pub fn allows(self, role: Role) -> bool {
        match self {
            Access::Public => true,
            Access::Roles(roles) | Access::Session(roles) => roles.contains(&role),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_routes_are_denied_to_every_role() {
        let a = access(&Method::GET, "/api/v1/secret");
        assert!(ANY_ROLE.iter().all(|r| !a.allows(*r)));
        assert!(!access(&Method::DELETE, "/api/v1/users/{id}").allows(Admin));
    }

    #[test]
    fn staff_routes_are_admin_only() {
        let a = access(&Method::POST, "/api/v1/users");
        assert!(a.allows(Admin));
        for r in [Regulator, Inspector, Operator, Agency] {
            assert!(!a.allows(r));
        }
    }
}
