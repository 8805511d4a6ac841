//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes as they
//! are registered, then completed here with the error responses that shared parts produce for
//! every route (body parsing, authentication, parameters), so each operation lists every
//! status it can return, and with what the body parser enforces on every request body:
//! `additionalProperties: false`, `""` accepted (as absent) for optional text fields, and
//! no NUL in free text.

use serde_json::{json, Value};
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};

use crate::error::{FieldError, Problem};
use crate::http::shape;

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ccreg — national call-centre licensing registry",
        description = "Operators register their call centres and apply for licences; regulators decide; inspectors record visits; agencies verify. Errors are RFC 9457 problem+json.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    components(schemas(Problem, FieldError)),
    modifiers(&BearerAuth),
    tags(
        (name = "auth", description = "Sign-up, tokens, revocation, keys"),
        (name = "users", description = "Staff accounts (admin)"),
        (name = "agency-clients", description = "Machine clients of other agencies (admin)"),
        (name = "organisations", description = "Companies on the register and their people"),
        (name = "sites", description = "Call-centre premises"),
        (name = "telephony", description = "The numbers and IP ranges each site uses"),
        (name = "documents", description = "The licensing dossier's documents (PDF, PNG, JPEG)"),
        (name = "applications", description = "Licence applications and decisions"),
        (name = "fees", description = "Invoices raised at submission and the payments recorded against them"),
        (name = "clearances", description = "The clearing agencies' decisions on an application"),
        (name = "licences", description = "Licences, their lifecycle, and the change feed"),
        (name = "inspections", description = "Site visits and the enforcement queue"),
        (name = "verify", description = "Verification for agencies, signed proof, the public check"),
        (name = "enforcement", description = "Violations, barred persons, public reports of calls"),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "webhooks", description = "Change-feed deliveries to agencies' endpoints (Standard Webhooks)"),
        (name = "service", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = api.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new().scheme(HttpAuthScheme::Bearer).bearer_format("JWT").build(),
                ),
            );
        }
    }
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

/// Adds the shared error responses to every operation and gives every error response the
/// problem+json body.
pub fn complete(mut spec: Value) -> Value {
    close_request_bodies(&mut spec);
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else { return spec };
    for (path, item) in paths.iter_mut() {
        let public = path.starts_with(crate::http::public::PREFIX);
        let Some(ops) = item.as_object_mut() else { continue };
        for (method, op) in ops.iter_mut() {
            if !["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                continue;
            }
            let secured =
                op.get("security").and_then(Value::as_array).is_some_and(|s| !s.is_empty());
            let has_body = op.get("requestBody").is_some();
            let params: Vec<String> = op
                .get("parameters")
                .and_then(Value::as_array)
                .map(|ps| ps.iter().filter_map(|p| p["in"].as_str().map(str::to_string)).collect())
                .unwrap_or_default();
            let mut add = Vec::new();
            if has_body || params.iter().any(|p| p == "query" || p == "path" || p == "header") {
                add.push(("400", "Malformed JSON, query, path or header value"));
            }
            if secured {
                add.push(("401", "Missing, expired or invalid credentials"));
                add.push(("403", "The caller's role may not do this"));
            }
            if has_body {
                add.push(("413", "The body is too large"));
                add.push(("415", "The body is not JSON"));
                add.push(("422", "Well-formed but invalid values, or unknown fields"));
            }
            let responses =
                op.as_object_mut().map(|o| o.entry("responses").or_insert_with(|| json!({})));
            let Some(Value::Object(responses)) = responses else { continue };
            if public {
                add.push(("429", "Too many requests from this address (see Retry-After)"));
            }
            for (status, description) in add {
                responses.entry(status).or_insert_with(|| problem_response(description));
            }
            if public {
                for response in responses.values_mut() {
                    public_headers(response, method == "get");
                }
            }
            for (status, response) in responses.iter_mut() {
                let is_error = status.starts_with('4') || status.starts_with('5');
                if is_error && response.get("content").is_none() {
                    let description =
                        response["description"].as_str().unwrap_or("Error").to_string();
                    *response = problem_response(&description);
                }
            }
        }
    }
    spec
}

/// The §12 headers every answer of an anonymous route carries.
fn public_headers(response: &mut Value, cors: bool) {
    let Some(r) = response.as_object_mut() else { return };
    let headers = r.entry("headers").or_insert_with(|| json!({}));
    let Some(h) = headers.as_object_mut() else { return };
    let int = |d: &str| json!({"description": d, "schema": {"type": "integer", "minimum": 0}});
    h.insert("RateLimit-Limit".into(), int("Requests allowed per minute from this address"));
    h.insert("RateLimit-Remaining".into(), int("Requests left now"));
    h.insert("RateLimit-Reset".into(), int("Seconds until the whole allowance is back"));
    h.insert(
        "Cache-Control".into(),
        json!({"description": "no-store", "schema": {"type": "string"}}),
    );
    if cors {
        h.insert(
            "Access-Control-Allow-Origin".into(),
            json!({"description": "* (any origin, no credentials)", "schema": {"type": "string"}}),
        );
    }
}

/// States what [`crate::http::body`] enforces on every request-body schema (and the schemas
/// they use): unknown fields are refused, and an optional text field may be `""`.
fn close_request_bodies(spec: &mut Value) {
    let mut roots: Vec<Value> = Vec::new();
    for item in spec["paths"].as_object_mut().into_iter().flat_map(|p| p.values_mut()) {
        for op in item.as_object_mut().into_iter().flat_map(|o| o.values_mut()) {
            let Some(body) = op.get_mut("requestBody") else { continue };
            let optional = body["required"] != true;
            let contents = body.get_mut("content").and_then(Value::as_object_mut);
            for media in contents.into_iter().flat_map(|c| c.values_mut()) {
                // An optional body is left out, not sent as `null` (utoipa writes Option<T> so).
                if optional {
                    if let Some(only) = without_null(&media["schema"]) {
                        media["schema"] = only;
                    }
                }
                roots.push(media["schema"].clone());
            }
        }
    }
    let components = spec["components"]["schemas"].as_object().cloned().unwrap_or_default();
    let mut names: Vec<String> = Vec::new();
    let mut queue = roots;
    while let Some(schema) = queue.pop() {
        for name in refs(&schema) {
            if !names.contains(&name) {
                if let Some(target) = components.get(&name) {
                    queue.push(target.clone());
                }
                names.push(name);
            }
        }
    }
    let Some(schemas) = spec["components"]["schemas"].as_object_mut() else { return };
    for name in names {
        if let Some(schema) = schemas.get_mut(&name) {
            close(schema, &components);
        }
    }
    // Inline request bodies (none today) would be closed here as well.
}

fn without_null(schema: &Value) -> Option<Value> {
    match schema["oneOf"].as_array()?.as_slice() {
        [null, only] if null["type"] == "null" => Some(only.clone()),
        _ => None,
    }
}

fn refs(schema: &Value) -> Vec<String> {
    match schema {
        Value::Object(map) => map
            .iter()
            .flat_map(|(k, v)| match (k.as_str(), v.as_str()) {
                ("$ref", Some(r)) => r
                    .strip_prefix("#/components/schemas/")
                    .map(str::to_string)
                    .into_iter()
                    .collect(),
                _ => refs(v),
            })
            .collect(),
        Value::Array(items) => items.iter().flat_map(refs).collect(),
        _ => Vec::new(),
    }
}

fn close(schema: &mut Value, components: &serde_json::Map<String, Value>) {
    // Text with NUL is refused in every body (PostgreSQL could not store it).
    let free_text = shape::is_text(schema, components)
        && schema.get("$ref").is_none()
        && ["pattern", "format", "oneOf", "anyOf", "allOf"]
            .iter()
            .all(|k| schema.get(*k).is_none());
    if let (true, Some(map)) = (free_text, schema.as_object_mut()) {
        map.insert("pattern".into(), json!("^[^\\u0000]*$"));
    }
    let is_object = schema.get("properties").is_some() || schema["type"] == "object";
    if is_object {
        let original = schema.clone();
        if let Some(map) = schema.as_object_mut() {
            map.entry("additionalProperties").or_insert(Value::Bool(false));
        }
        if let Some(props) = schema.get_mut("properties").and_then(Value::as_object_mut) {
            for (key, prop) in props.iter_mut() {
                close(prop, components);
                if shape::is_optional_text(&original, key, components) {
                    let empty = json!({"type": "string", "maxLength": 0, "description": "Empty: the same as leaving the field out"});
                    *prop = json!({"anyOf": [prop.take(), empty]});
                }
            }
        }
    }
    for key in ["oneOf", "anyOf", "allOf"] {
        if let Some(alts) = schema.get_mut(key).and_then(Value::as_array_mut) {
            alts.iter_mut().for_each(|a| close(a, components));
        }
    }
    if let Some(items) = schema.get_mut("items") {
        close(items, components);
    }
}

#[cfg(test)]
mod tests {
    use crate::auth::policy;

    #[test]
    fn every_operation_has_a_policy_rule_and_matching_security() {
        let spec = crate::app::openapi_spec();
        let paths = spec["paths"].as_object().unwrap();
        assert!(!paths.is_empty());
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                assert!(policy::has_rule(method, path), "no policy rule for {method} {path}");
                let secured = op.get("security").is_some();
                assert_eq!(
                    secured,
                    !policy::is_public(method, path),
                    "{method} {path}: spec security and policy disagree"
                );
                assert!(
                    op["responses"].as_object().unwrap().keys().any(|s| s.starts_with('2')),
                    "{method} {path} documents no success"
                );
            }
        }
        assert_eq!(spec["openapi"], "3.1.0");
    }
}
