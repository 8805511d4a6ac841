//! The OpenAPI 3.1 document, generated from the handlers' `#[utoipa::path]` attributes as they
//! are registered, then completed here in one pass ([`complete`]) so that every route follows
//! the same rules without repeating them in its annotation:
//! - security comes from the role policy ([`crate::auth::policy`]): `security: []` on every
//!   anonymous operation, the bearer and OAuth 2.0 schemes on every other one;
//! - the error responses that shared parts produce (body parsing, authentication, the query
//!   guard, a path parameter naming no record, `If-Match`, the public rate limit) are added to
//!   each operation that can meet them, with the 409s listed in [`CONFLICTS`], every error
//!   response with the problem+json body, so each operation lists every status it can answer;
//! - every inline object alternative of a `oneOf` becomes a named schema (its `title`, or the
//!   parent's name and its tag value) with a discriminator, and every inline copy of a named
//!   schema (utoipa inlines generic arguments: `Page<Licence>`'s items) becomes a `$ref`, so
//!   client generators make one class per model;
//! - what the body parser enforces on every request body: `additionalProperties: false`, `""`
//!   accepted (as absent) for optional text fields, and no NUL in free text.
//!
//! A new route needs only its `#[utoipa::path]` (with a unique, descriptive `operation_id`,
//! its own 404/409/… and its success) and its rule in the policy table; the test in
//! `tests/api/spec_rules.rs` holds every operation to these rules.

use serde_json::{json, Map, Value};
use utoipa::openapi::security::{
    ClientCredentials, Flow, HttpAuthScheme, HttpBuilder, OAuth2, Password, Scopes, SecurityScheme,
};
use utoipa::{Modify, OpenApi};

use crate::auth::policy;
use crate::error::{FieldError, Problem};
use crate::http::shape;

/// Where Swagger UI's Authorize (and any OAuth 2.0 client) gets tokens.
pub const TOKEN_URL: &str = "/api/v1/auth/token";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "ccreg — national call-centre licensing registry",
        description = "Operators register their call centres and apply for licences; regulators decide; inspectors record visits; agencies verify. Errors are RFC 9457 problem+json.",
        license(name = "Apache-2.0", identifier = "Apache-2.0"),
    ),
    servers((url = "/", description = "This registry: paths are relative to the address serving this document")),
    components(schemas(Problem, FieldError)),
    modifiers(&SecuritySchemes),
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
        (name = "register", description = "The public register export: a snapshot a mirror loads before following the change feed"),
        (name = "audit", description = "The hash-chained audit log"),
        (name = "webhooks", description = "Change-feed deliveries to agencies' endpoints (Standard Webhooks)"),
        (name = "service", description = "Health, readiness, metrics"),
    )
)]
pub struct ApiDoc;

/// The two ways to present an access token: paste one (`bearer`), or let the client fetch
/// one from the token endpoint (`oauth2`: people with the password grant, agency clients with
/// client credentials, sent as HTTP Basic or in the form body).
struct SecuritySchemes;

impl Modify for SecuritySchemes {
    fn modify(&self, api: &mut utoipa::openapi::OpenApi) {
        if let Some(components) = api.components.as_mut() {
            components.add_security_scheme(
                "bearer",
                SecurityScheme::Http(
                    HttpBuilder::new()
                        .scheme(HttpAuthScheme::Bearer)
                        .bearer_format("JWT")
                        .description(Some("An access token from the token endpoint"))
                        .build(),
                ),
            );
            components.add_security_scheme(
                "oauth2",
                SecurityScheme::OAuth2(OAuth2::with_description(
                    [
                        Flow::Password(Password::with_refresh_url(
                            TOKEN_URL,
                            Scopes::new(),
                            TOKEN_URL,
                        )),
                        Flow::ClientCredentials(ClientCredentials::new(TOKEN_URL, Scopes::new())),
                    ],
                    "Tokens from the token endpoint: people sign in with the password grant, agency clients with client credentials. There are no scopes: the account's role decides.",
                )),
            );
        }
    }
}

/// The `security` of an operation, from the role policy that the guard enforces.
fn security_of(method: &str, path: &str) -> Value {
    if policy::is_public(method, path) {
        json!([])
    } else {
        json!([{"bearer": []}, {"oauth2": []}])
    }
}

fn problem_response(description: &str) -> Value {
    json!({
        "description": description,
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
    })
}

/// The 409s that a handler answers from the state of other records, for the operations whose
/// annotation does not state one (an operation's own 409 stays as it is written).
const CONFLICTS: &[(&str, &str)] =
    &[("remove_person", "The person's identity documents are on file; delete them first")];

/// Completes the document as utoipa builds it (see the module's documentation).
pub fn complete(mut spec: Value) -> Value {
    name_variants(&mut spec);
    reference_copies(&mut spec);
    close_request_bodies(&mut spec);
    let Some(paths) = spec.get_mut("paths").and_then(Value::as_object_mut) else { return spec };
    for (path, item) in paths.iter_mut() {
        let Some(ops) = item.as_object_mut() else { continue };
        for (method, op) in ops.iter_mut() {
            if ["get", "post", "put", "patch", "delete"].contains(&method.as_str()) {
                complete_operation(path, method, op);
            }
        }
    }
    spec
}

/// The error answers every operation like `op` (at `path`, by `method`) can give: what the
/// guard, the body rules, the versioning and the public rate answer, beside its own.
fn common_errors(path: &str, method: &str, op: &Value) -> Vec<(&'static str, &'static str)> {
    let public = path.starts_with(crate::http::public::PREFIX);
    let anonymous = policy::is_public(method, path);
    let has_body = op.get("requestBody").is_some();
    let operation_id = op["operationId"].as_str().unwrap_or_default().to_string();
    let params: Vec<(String, String)> = op
        .get("parameters")
        .and_then(Value::as_array)
        .map(|ps| {
            ps.iter()
                .filter_map(|p| {
                    Some((p["in"].as_str()?.to_string(), p["name"].as_str()?.to_string()))
                })
                .collect()
        })
        .unwrap_or_default();
    // The guard refuses a query parameter the operation does not define, on every route.
    let mut add = vec![("400", "Malformed JSON, query, path or header value, or a query parameter this operation does not define")];
    if !anonymous {
        add.push(("401", "Missing, expired or invalid credentials"));
        add.push(("403", "The caller's role may not do this"));
    }
    // A path parameter names a record, except on the look-ups, which answer an unknown key in
    // their body ("result": "not_found").
    let lookup = public || path.starts_with("/api/v1/verify/");
    if !lookup && params.iter().any(|(place, _)| place == "path") {
        add.push(("404", "No such record, or not one the caller may see"));
    }
    if let Some((_, description)) = CONFLICTS.iter().find(|(id, _)| *id == operation_id) {
        add.push(("409", description));
    }
    if params.iter().any(|(place, name)| place == "header" && name.eq_ignore_ascii_case("if-match"))
    {
        add.push(("412", "If-Match does not match the current ETag"));
        add.push(("428", "If-Match is required"));
    }
    if has_body {
        add.push(("413", "The body is too large"));
        add.push(("415", "The body is not of a media type this operation takes"));
        add.push(("422", "Well-formed but invalid values, or unknown fields"));
    }
    if public {
        add.push(("429", "Too many requests from this address (see Retry-After)"));
    }
    add
}

fn complete_operation(path: &str, method: &str, op: &mut Value) {
    let public = path.starts_with(crate::http::public::PREFIX);
    let add = common_errors(path, method, op);
    let Some(op) = op.as_object_mut() else { return };
    op.insert("security".into(), security_of(method, path));
    let Some(responses) = op.entry("responses").or_insert_with(|| json!({})).as_object_mut() else {
        return;
    };
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
            let description = response["description"].as_str().unwrap_or("Error").to_string();
            let headers = response.get("headers").cloned();
            *response = problem_response(&description);
            if let Some(headers) = headers {
                response["headers"] = headers;
            }
        }
    }
}

const SCHEMA_REF: &str = "#/components/schemas/";

fn schema_ref(name: &str) -> Value {
    json!({ "$ref": format!("{SCHEMA_REF}{name}") })
}

fn is_inline_object(schema: &Value) -> bool {
    schema.get("$ref").is_none()
        && (schema.get("properties").is_some() || schema["type"] == "object")
}

/// The property that every alternative fixes to one value of its own (serde's `tag`).
fn common_tag(alternatives: &[Value]) -> Option<String> {
    let first = alternatives.first()?.get("properties")?.as_object()?;
    first
        .keys()
        .find(|key| {
            alternatives.iter().all(|alt| {
                let values = alt["properties"][key.as_str()]["enum"].as_array();
                let required = shape::required(alt).contains(&key.as_str());
                required && values.is_some_and(|v| v.len() == 1 && v[0].is_string())
            })
        })
        .cloned()
}

fn pascal(text: &str) -> String {
    text.split(|c: char| !c.is_ascii_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| w[..1].to_ascii_uppercase() + &w[1..])
        .collect()
}

/// Moves every inline object alternative of a component's `oneOf` to a component of its own,
/// named by its `title` (`#[schema(title = "PasswordGrant")]` on the variant) or else by the
/// parent's name and the variant's tag value (`NewNumberRange`), and adds the discriminator
/// when serde tags the enum.
fn name_variants(spec: &mut Value) {
    let Some(schemas) = spec["components"]["schemas"].as_object_mut() else { return };
    let mut taken: Vec<String> = schemas.keys().cloned().collect();
    let mut named: Vec<(String, Value)> = Vec::new();
    for (parent, schema) in schemas.iter_mut() {
        let Some(alternatives) = schema.get_mut("oneOf").and_then(Value::as_array_mut) else {
            continue;
        };
        if !alternatives.iter().any(is_inline_object) {
            continue;
        }
        let all_inline = alternatives.iter().all(is_inline_object);
        let tag = if all_inline { common_tag(alternatives) } else { None };
        let mut mapping = Map::new();
        for (i, alternative) in alternatives.iter_mut().enumerate() {
            if !is_inline_object(alternative) {
                continue;
            }
            let value = tag
                .as_ref()
                .and_then(|t| alternative["properties"][t.as_str()]["enum"][0].as_str())
                .map(str::to_string);
            let mut name = match (alternative.get("title").and_then(Value::as_str), &value) {
                (Some(title), _) => title.to_string(),
                (None, Some(v)) => format!("{parent}{}", pascal(v)),
                (None, None) => format!("{parent}{}", i + 1),
            };
            // A title that names another schema already is qualified by its parent's name.
            if taken.contains(&name) {
                name = format!("{parent}{name}");
                if alternative.get("title").is_some() {
                    alternative["title"] = json!(name);
                }
            }
            taken.push(name.clone());
            if let Some(v) = value {
                mapping.insert(v, json!(format!("{SCHEMA_REF}{name}")));
            }
            named.push((name.clone(), alternative.take()));
            *alternative = schema_ref(&name);
        }
        if let (Some(tag), Some(map)) = (tag, schema.as_object_mut()) {
            map.insert("discriminator".into(), json!({"propertyName": tag, "mapping": mapping}));
        }
    }
    schemas.extend(named);
}

/// Replaces every inline copy of a named object schema with a `$ref` to it.
fn reference_copies(spec: &mut Value) {
    let named: Vec<(String, Value)> = spec["components"]["schemas"]
        .as_object()
        .map(|s| {
            s.iter()
                .filter(|(_, schema)| schema.get("properties").is_some())
                .map(|(name, schema)| (name.clone(), schema.clone()))
                .collect()
        })
        .unwrap_or_default();
    fn replace(value: &mut Value, named: &[(String, Value)], root: bool) {
        if !root && value.get("properties").is_some() {
            if let Some((name, _)) = named.iter().find(|(_, schema)| schema == value) {
                *value = schema_ref(name);
                return;
            }
        }
        match value {
            Value::Object(map) => map.values_mut().for_each(|v| replace(v, named, false)),
            Value::Array(items) => items.iter_mut().for_each(|v| replace(v, named, false)),
            _ => {}
        }
    }
    if let Some(schemas) = spec["components"]["schemas"].as_object_mut() {
        schemas.values_mut().for_each(|schema| replace(schema, &named, true));
    }
    if let Some(paths) = spec.get_mut("paths") {
        replace(paths, &named, false);
    }
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
    fn every_operation_has_a_policy_rule_and_the_security_it_states() {
        let spec = crate::app::openapi_spec();
        let paths = spec["paths"].as_object().unwrap();
        assert!(!paths.is_empty());
        for (path, item) in paths {
            for (method, op) in item.as_object().unwrap() {
                assert!(policy::has_rule(method, path), "no policy rule for {method} {path}");
                assert_eq!(op["security"], super::security_of(method, path), "{method} {path}");
                assert!(
                    op["responses"].as_object().unwrap().keys().any(|s| s.starts_with('2')),
                    "{method} {path} documents no success"
                );
            }
        }
        assert_eq!(spec["openapi"], "3.1.0");
    }

    #[test]
    fn tagged_variants_get_names_and_a_discriminator() {
        let mut spec = serde_json::json!({"components": {"schemas": {"Grant": {"oneOf": [
            {"type": "object", "title": "ByPassword", "required": ["kind", "password"],
             "properties": {"kind": {"type": "string", "enum": ["password"]}, "password": {"type": "string"}}},
            {"type": "object", "required": ["kind"],
             "properties": {"kind": {"type": "string", "enum": ["client_credentials"]}}}
        ]}}}});
        super::name_variants(&mut spec);
        let schemas = &spec["components"]["schemas"];
        assert_eq!(schemas["Grant"]["oneOf"][0]["$ref"], "#/components/schemas/ByPassword");
        assert_eq!(
            schemas["Grant"]["oneOf"][1]["$ref"],
            "#/components/schemas/GrantClientCredentials"
        );
        assert_eq!(schemas["Grant"]["discriminator"]["propertyName"], "kind");
        assert_eq!(
            schemas["Grant"]["discriminator"]["mapping"]["password"],
            "#/components/schemas/ByPassword"
        );
        assert_eq!(schemas["GrantClientCredentials"]["required"][0], "kind");

        // A title already taken by another schema is qualified, never overwritten.
        let mut spec = serde_json::json!({"components": {"schemas": {
            "Range": {"type": "string"},
            "Span": {"oneOf": [{"type": "object", "title": "Range", "properties": {}}]}
        }}});
        super::name_variants(&mut spec);
        let schemas = &spec["components"]["schemas"];
        assert_eq!(schemas["Range"]["type"], "string");
        assert_eq!(schemas["Span"]["oneOf"][0]["$ref"], "#/components/schemas/SpanRange");
        assert_eq!(schemas["SpanRange"]["title"], "SpanRange");
    }
}
