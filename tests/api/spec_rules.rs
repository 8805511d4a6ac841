//! The served OpenAPI document holds every operation to what client generators and linters
//! need (issue 14): unique operationIds, `security` as the role policy enforces it, the 4xx
//! each operation can return, a named schema for every alternative and list item, `servers`,
//! and the OAuth 2.0 flows Swagger UI's Authorize uses. New routes meet these rules through
//! the one pass in `src/openapi.rs`; these tests say when one does not.

use std::collections::BTreeMap;

use ccreg::auth::policy;
use reqwest::Method;
use serde_json::Value;

use crate::helpers::TestApp;

const METHODS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn served_spec(app: &TestApp) -> Value {
    app.get("/api/v1/openapi.json").send().await.expect(200).body
}

/// (method, path, operation) for every operation of the document.
fn operations(spec: &Value) -> Vec<(String, String, Value)> {
    let mut out = Vec::new();
    for (path, item) in spec["paths"].as_object().expect("paths") {
        for (method, op) in item.as_object().expect("path item") {
            if METHODS.contains(&method.as_str()) {
                out.push((method.clone(), path.clone(), op.clone()));
            }
        }
    }
    assert!(out.len() > 80, "the document lists only {} operations", out.len());
    out
}

#[actix_web::test]
async fn operation_ids_are_unique_snake_case_names() {
    let app = TestApp::spawn().await;
    let spec = served_spec(&app).await;
    let mut seen: BTreeMap<String, String> = BTreeMap::new();
    for (method, path, op) in operations(&spec) {
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{method} {path}: no id"));
        let snake = id.starts_with(|c: char| c.is_ascii_lowercase())
            && id.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_');
        assert!(snake, "{method} {path}: operationId {id:?} is not snake_case");
        if let Some(other) = seen.insert(id.to_string(), format!("{method} {path}")) {
            panic!("operationId {id:?} is used by {other} and {method} {path}");
        }
    }
    for (id, route) in [
        ("revoke_token", "post /api/v1/auth/revoke"),
        ("revoke_licence", "post /api/v1/licences/{licence_number}/revoke"),
        ("approve_application", "post /api/v1/applications/{id}/approve"),
    ] {
        assert_eq!(seen.get(id).map(String::as_str), Some(route));
    }
}

/// A path with every parameter filled by a well-formed value.
fn concrete(path: &str) -> String {
    path.replace("{licence_number}", "CCL-2026-000001-16")
        .replace("{e164}", "+922134567890")
        .replace("{number}", "+922134567890")
        .replace("{ip}", "203.0.113.7")
        .split('/')
        .map(|s| if s.starts_with('{') { "01890000-0000-7000-8000-000000000000" } else { s })
        .collect::<Vec<_>>()
        .join("/")
}

#[actix_web::test]
async fn security_states_what_the_server_enforces() {
    let app = TestApp::spawn().await;
    let spec = served_spec(&app).await;
    let mut anonymous = Vec::new();
    for (method, path, op) in operations(&spec) {
        assert!(policy::has_rule(&method, &path), "{method} {path} has no policy rule");
        let public = policy::is_public(&method, &path);
        if public {
            assert_eq!(op["security"], serde_json::json!([]), "{method} {path}");
            anonymous.push(path.clone());
        } else {
            let schemes: Vec<&str> = op["security"]
                .as_array()
                .unwrap_or_else(|| panic!("{method} {path}: no security"))
                .iter()
                .flat_map(|r| r.as_object().into_iter().flat_map(|o| o.keys()))
                .map(String::as_str)
                .collect();
            assert_eq!(schemes, ["bearer", "oauth2"], "{method} {path}");
        }
        // Asked without credentials, a secured operation is 401 and an anonymous one is not.
        let m = Method::from_bytes(method.to_uppercase().as_bytes()).unwrap();
        let r = app.req(m, &concrete(&path)).send().await;
        assert_eq!(r.status.as_u16() == 401, !public, "{method} {path}: {} {}", r.status, r.text);
    }
    for path in ["/api/v1/auth/token", "/api/v1/auth/signup", "/api/v1/public/stats", "/healthz"] {
        assert!(anonymous.iter().any(|p| p == path), "{path} should be anonymous");
    }
}

#[actix_web::test]
async fn every_operation_documents_its_client_errors_as_problems() {
    let app = TestApp::spawn().await;
    let spec = served_spec(&app).await;
    for (method, path, op) in operations(&spec) {
        let responses = op["responses"].as_object().expect("responses");
        let documents = |status: &str| responses.contains_key(status);
        assert!(responses.keys().any(|s| s.starts_with('4')), "{method} {path}: no 4xx");
        for (status, response) in responses {
            if status.starts_with('4') || status.starts_with('5') {
                assert_eq!(
                    response["content"]["application/problem+json"]["schema"]["$ref"],
                    "#/components/schemas/Problem",
                    "{method} {path} {status}"
                );
            }
        }
        let params = op["parameters"].as_array().cloned().unwrap_or_default();
        let if_match = params.iter().any(|p| p["in"] == "header" && p["name"] == "If-Match");
        let needed: Vec<&str> = [
            (true, "400"),
            (!policy::is_public(&method, &path), "401"),
            (!policy::is_public(&method, &path), "403"),
            (if_match, "412"),
            (if_match, "428"),
            (op.get("requestBody").is_some(), "413"),
            (op.get("requestBody").is_some(), "415"),
            (op.get("requestBody").is_some(), "422"),
            (path.starts_with("/api/v1/public/"), "429"),
        ]
        .into_iter()
        .filter_map(|(applies, status)| applies.then_some(status))
        .collect();
        for status in needed {
            assert!(documents(status), "{method} {path} does not document {status}");
        }
    }
    // The guard's 400 for an undocumented query parameter holds where no parameter is taken.
    let r = app.get("/healthz?verbose=1").send().await.problem(400);
    assert!(r.body["detail"].as_str().unwrap().contains("verbose"), "{}", r.text);
}

/// Every schema in the document, with where it sits.
fn schemas<'a>(value: &'a Value, at: String, out: &mut Vec<(String, &'a Value)>) {
    match value {
        Value::Object(map) => {
            if map.contains_key("type") || map.contains_key("$ref") || map.contains_key("oneOf") {
                out.push((at.clone(), value));
            }
            for (k, v) in map {
                schemas(v, format!("{at}/{k}"), out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                schemas(v, format!("{at}/{i}"), out);
            }
        }
        _ => {}
    }
}

#[actix_web::test]
async fn every_model_is_named_once_and_referenced() {
    let app = TestApp::spawn().await;
    let spec = served_spec(&app).await;
    let components = spec["components"]["schemas"].as_object().expect("components");
    let mut all = Vec::new();
    schemas(&spec, String::new(), &mut all);
    for (at, schema) in &all {
        if let Some(target) = schema["$ref"].as_str() {
            let name = target.strip_prefix("#/components/schemas/").unwrap_or(target);
            assert!(components.contains_key(name), "{at}: $ref to missing {target}");
        }
        for key in ["oneOf", "anyOf"] {
            for (i, alt) in schema[key].as_array().into_iter().flatten().enumerate() {
                let object = alt.get("properties").is_some() || alt["type"] == "object";
                assert!(
                    !object || alt.get("$ref").is_some(),
                    "{at}/{key}/{i} is an unnamed object"
                );
            }
        }
    }
    // List items refer to the real models instead of copying them.
    let pages: Vec<_> = components.iter().filter(|(n, _)| n.starts_with("Page_")).collect();
    assert!(pages.len() > 10);
    for (name, page) in pages {
        let item = format!("#/components/schemas/{}", &name["Page_".len()..]);
        assert_eq!(page["properties"]["items"]["items"]["$ref"], item.as_str(), "{name}");
    }
    // Tagged alternatives are named, with a discriminator generators can use.
    for (parent, tag, variants) in [
        (
            "TokenGrant",
            "grant_type",
            ["PasswordGrant", "ClientCredentialsGrant", "RefreshTokenGrant"].as_slice(),
        ),
        ("NewNumber", "kind", ["SingleNumber", "NumberRange"].as_slice()),
    ] {
        let refs: Vec<&str> = components[parent]["oneOf"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|a| a["$ref"].as_str())
            .collect();
        let expected: Vec<String> =
            variants.iter().map(|v| format!("#/components/schemas/{v}")).collect();
        assert_eq!(refs, expected, "{parent}");
        assert_eq!(components[parent]["discriminator"]["propertyName"], tag, "{parent}");
        for v in variants {
            assert_eq!(components[*v]["additionalProperties"], false, "{v} is a request body");
        }
    }
    // One schema is never offered under two media types (generators cannot tell them apart).
    for (method, path, op) in operations(&spec) {
        let content = op["requestBody"]["content"].as_object().cloned().unwrap_or_default();
        let mut bodies: Vec<String> = content.values().map(|m| m["schema"].to_string()).collect();
        bodies.sort();
        bodies.dedup();
        assert_eq!(bodies.len(), content.len(), "{method} {path} repeats a schema");
    }
}

#[actix_web::test]
async fn servers_and_the_oauth_flows_point_at_this_registry() {
    let app = TestApp::spawn().await;
    let spec = served_spec(&app).await;
    let servers = spec["servers"].as_array().expect("servers");
    assert!(!servers.is_empty());
    for s in servers {
        assert!(s["url"].as_str().is_some_and(|u| u.starts_with('/')), "{s}: no host");
    }
    let schemes = &spec["components"]["securitySchemes"];
    assert_eq!(schemes["bearer"]["scheme"], "bearer");
    let flows = &schemes["oauth2"]["flows"];
    for flow in ["password", "clientCredentials"] {
        assert_eq!(flows[flow]["tokenUrl"], "/api/v1/auth/token", "{flow}");
        assert!(flows[flow]["scopes"].is_object(), "{flow}");
    }
    // The token URL is an operation of this document, open to anyone.
    assert_eq!(spec["paths"]["/api/v1/auth/token"]["post"]["security"], serde_json::json!([]));
}
