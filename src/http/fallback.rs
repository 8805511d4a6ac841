//! What answers when no route matched: 405 with `Allow` when the path exists under other
//! methods (learned from the OpenAPI document, so it cannot drift from the routes), else 404.

use actix_web::{web, HttpRequest};

use crate::error::AppError;

/// The API's path templates and their methods.
#[derive(Debug, Clone, Default)]
pub struct RouteTable {
    routes: Vec<(Vec<String>, Vec<String>)>,
}

impl RouteTable {
    pub fn from_json(value: &serde_json::Value) -> Self {
        let mut routes = Vec::new();
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
                routes.push((segments(path), methods));
            }
        }
        RouteTable { routes }
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
/// problem+json too; ours already are and pass unchanged.
pub fn problem_json<B: actix_web::body::MessageBody + 'static>(
    res: actix_web::dev::ServiceResponse<B>,
) -> actix_web::Result<actix_web::middleware::ErrorHandlerResponse<B>> {
    use actix_web::http::header;
    use actix_web::middleware::ErrorHandlerResponse;
    let is_problem = res
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.starts_with(crate::error::PROBLEM_JSON));
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
        let table = RouteTable {
            routes: vec![
                (segments("/api/v1/users"), vec!["GET".into(), "POST".into()]),
                (segments("/api/v1/users/{id}"), vec!["GET".into(), "PATCH".into()]),
            ],
        };
        assert_eq!(table.allowed("/api/v1/users/abc"), Some(vec!["GET".into(), "PATCH".into()]));
        assert_eq!(table.allowed("/api/v1/users"), Some(vec!["GET".into(), "POST".into()]));
        assert_eq!(table.allowed("/api/v1/nothing"), None);
        assert_eq!(table.allowed("/api/v1/users/abc/def"), None);
    }
}
