//! Which pages may act on the server. A browser sends its page's origin
//! with every state-changing request and every websocket upgrade; only the
//! server's own origin (the request's Host, over http or https) and those
//! given with `--origin` are obeyed. `SameSite=Lax` alone does not stop a
//! page on another port of the same host, which is "same-site".

use axum::extract::{Request, State};
use axum::http::header::{HOST, ORIGIN};
use axum::http::{HeaderMap, Method};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};

use crate::AppState;
use crate::error::ApiError;

/// Whether a browser page from `origin` may act here: the server's own
/// origin (the request's Host) or one given with `--origin`. No origin at
/// all is not a browser (browsers always send one across sites).
pub fn origin_allowed(origin: Option<&str>, host: Option<&str>, extra: &[String]) -> bool {
    let Some(origin) = origin else {
        return true;
    };
    let own = host.is_some_and(|host| {
        origin == format!("http://{host}") || origin == format!("https://{host}")
    });
    own || extra
        .iter()
        .any(|allowed| allowed.trim_end_matches('/') == origin)
}

/// Whether the request's page may act here, from `Origin` or, when a
/// browser left that out, `Sec-Fetch-Site`.
pub fn request_allowed(headers: &HeaderMap, extra: &[String]) -> bool {
    let header = |name: &str| headers.get(name).and_then(|v| v.to_str().ok());
    match header(ORIGIN.as_str()) {
        Some(origin) => origin_allowed(Some(origin), header(HOST.as_str()), extra),
        None => header("sec-fetch-site").is_none_or(|site| site == "same-origin" || site == "none"),
    }
}

/// Refuses a state-changing request (anything but GET, HEAD and OPTIONS)
/// that a page of another origin sent.
pub async fn refuse_cross_origin(
    State(state): State<AppState>,
    request: Request,
    next: Next,
) -> Response {
    let safe = matches!(
        *request.method(),
        Method::GET | Method::HEAD | Method::OPTIONS
    );
    if !safe && !request_allowed(request.headers(), &state.origins) {
        tracing::info!(method = %request.method(), "refused a request from another origin");
        return ApiError::forbidden("a page of another origin may not change anything here")
            .into_response();
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_own_origin_and_listed_ones_may_act() {
        let host = Some("127.0.0.1:8080");
        assert!(origin_allowed(Some("http://127.0.0.1:8080"), host, &[]));
        assert!(!origin_allowed(Some("http://evil.example"), host, &[]));
        assert!(!origin_allowed(Some("http://127.0.0.1:9999"), host, &[]));
        let extra = ["https://support.example.com/".to_owned()];
        assert!(origin_allowed(
            Some("https://support.example.com"),
            host,
            &extra
        ));
        assert!(
            origin_allowed(None, host, &[]),
            "non-browser clients send no Origin"
        );
    }

    #[test]
    fn without_origin_a_browser_is_judged_by_sec_fetch_site() {
        let mut headers = HeaderMap::new();
        assert!(request_allowed(&headers, &[]), "curl, an integration");
        headers.insert("sec-fetch-site", "same-site".parse().unwrap());
        assert!(!request_allowed(&headers, &[]));
        headers.insert("sec-fetch-site", "same-origin".parse().unwrap());
        assert!(request_allowed(&headers, &[]));
    }
}
