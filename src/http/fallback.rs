//! What answers when no route matched: 405 with `Allow` when the path exists under other
//! methods (learned from the OpenAPI document, so it cannot drift from the routes), else 404.
//! The same table knows each operation's query parameters, so the guard refuses unknown ones.

use std::collections::HashMap;

use actix_web::{web, HttpRequest};

use crate::error::AppError;

/// The API's path templates and their methods.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<String>)>,
    /// (METHOD, path template) → the query parameters the operation documents.
    queries: HashMap<(String, String), Vec<String>>,
    /// Path template → its methods.
    methods: crate::index::Map<String, Vec<String>>,
}

impl RouteTable {
    pub fn from_json(value: &serde_json::Value) -> Self {
        let (mut routes, mut queries, mut by_template) =
            (Vec::new(), HashMap::new(), crate::index::Map::default());
        if let Some(paths) = value.get("paths").and_then(|p| p.as_object()) {
            for (path, item) in paths {
                let methods: Vec<String> = item
                    .as_object()
                    .map(|ops| {
                        ops.keys()
                            .filter(|m| {
                                ["get", "post", "put", "patch", "delete"].contains(&m.as_str())
                            })
                            .map(|m| m.to_uppercase())
                            .collect()
                    })
                    .unwrap_or_default();
                by_template.insert(path.clone(), methods.clone());
                routes.push((segments(path), methods));
                for (method, op) in item.as_object().into_iter().flatten() {
                    let names = op["parameters"]
                        .as_array()
                        .into_iter()
                        .flatten()
                        .filter(|p| p["in"] == "query")
                        .filter_map(|p| p["name"].as_str().map(str::to_string))
                        .collect();
                    queries.insert((method.to_uppercase(), path.clone()), names);
                }
            }
        }
        RouteTable { routes, queries, methods: by_template }
    }

    /// Refuses a query parameter the operation does not document (400 naming it). Routes
    /// outside the document (the Swagger UI's files) are not checked.
    pub fn check_query(&self, method: &str, template: &str, query: &str) -> Result<(), AppError> {
        if query.is_empty() {
            return Ok(());
        }
        let Some(known) = self.queries.get(&(method.to_string(), template.to_string())) else {
            return Ok(());
        };
        match form_urlencoded::parse(query.as_bytes())
            .find(|(name, _)| !known.iter().any(|k| k == name))
        {
            Some((name, _)) => Err(AppError::bad_request(format!(
                "unknown query parameter {name:?}{}",
                if known.is_empty() {
                    "; this operation takes none".to_string()
                } else {
                    format!("; this operation takes {}", known.join(", "))
                }
            ))),
            None => Ok(()),
        }
    }

    /// The methods a path template (as the router matched it) has in the document.
    pub fn methods_of(&self, template: &str) -> Option<&[String]> {
        self.methods.get(template).map(Vec::as_slice)
    }

    /// The methods a concrete path accepts, if any template matches it.
    pub fn allowed(&self, path: &str) -> Option<Vec<String>> {
        let parts = segments(path);
        let mut allow: Vec<String> = self
            .routes
            .iter()
            .filter(|(template, _)| {
                template.len() == parts.len()
                    && template.iter().zip(&parts).all(|(t, p)| {
                        (t.starts_with('{') && t.ends_with('}') && !p.is_empty()) || t == p
                    })
            })
            .flat_map(|(_, methods)| methods.iter().cloned())
            .collect();
        if allow.is_empty() {
            return None;
        }
        allow.sort();
        allow.dedup();
        Some(allow)
    }
}

fn segments(path: &str) -> Vec<String> {
    path.trim_end_matches('/').split('/').map(str::to_string).collect()
}

/// The app's default service.
pub async fn not_found(
    req: HttpRequest,
    table: web::Data<RouteTable>,
) -> Result<actix_web::HttpResponse, AppError> {
    Err(match table.allowed(req.path()) {
        Some(allow) if !allow.iter().any(|m| m == req.method().as_str()) => {
            AppError::MethodNotAllowed { allow }
        }
        _ => AppError::not_found(format!("there is no resource at {}", req.path())),
    })
}

/// Error responses produced outside our handlers (the framework, Swagger UI) become
/// problem+json too; ours already are (or are the register's HTML pages) and pass unchanged.
pub fn problem_json<B: actix_web::body::MessageBody + 'static>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::http::header;
    use actix_web::middleware::ErrorHandlerResponse;
    let is_problem =
        res.headers().get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).is_some_and(|ct| {
            ct.starts_with(crate::error::PROBLEM_JSON) || ct.starts_with("text/html")
        });
    if is_problem {
        return Ok(ErrorHandlerResponse::Response(res.map_into_left_body()));
    }
    let status = res.status();
    let problem = crate::error::Problem {
        kind: "about:blank".into(),
        title: status.canonical_reason().unwrap_or("Error").into(),
        status: status.as_u16(),
        detail: status.canonical_reason().unwrap_or("Error").to_lowercase(),
        errors: None,
        error: None,
    };
    let (req, mut res) = res.into_parts();
    res.headers_mut()
        .insert(header::CONTENT_TYPE, header::HeaderValue::from_static(crate::error::PROBLEM_JSON));
    let res =
        res.set_body(serde_json::to_string(&problem).unwrap_or_default()).map_into_boxed_body();
    Ok(ErrorHandlerResponse::Response(
        actix_web::dev::ServiceResponse::new(req, res).map_into_right_body(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn templates_match_concrete_paths() {
        let spec = serde_json::json!({"paths": {
            "/api/v1/users": {"get": {}, "post": {}},
            "/api/v1/users/{id}": {"get": {}, "patch": {}}}});
        let table = RouteTable::from_json(&spec);
        assert_eq!(
            table.methods_of("/api/v1/users/{id}"),
            Some(&["GET".into(), "PATCH".into()][..])
        );
        assert_eq!(table.methods_of("/api/v1/nothing"), None);
        assert_eq!(table.allowed("/api/v1/users/abc"), Some(vec!["GET".into(), "PATCH".into()]));
        assert_eq!(table.allowed("/api/v1/users"), Some(vec!["GET".into(), "POST".into()]));
        assert_eq!(table.allowed("/api/v1/nothing"), None);
        assert_eq!(table.allowed("/api/v1/users/abc/def"), None);
    }

    #[test]
    fn only_documented_query_parameters_pass() {
        let spec = serde_json::json!({"paths": {"/api/v1/users": {"get": {"parameters": [
            {"name": "limit", "in": "query"}, {"name": "If-Match", "in": "header"}]}}}});
        let table = RouteTable::from_json(&spec);
        assert!(table.check_query("GET", "/api/v1/users", "limit=5").is_ok());
        let e = table.check_query("GET", "/api/v1/users", "limit=5&If-Match=x").unwrap_err();
        assert!(matches!(e, AppError::BadRequest(d) if d.contains("\"If-Match\"")));
        assert!(table.check_query("GET", "/docs/{_:.*}", "anything=1").is_ok());
    }
}
