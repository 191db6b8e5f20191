//! Serves the built app: hashed assets are cached forever, `index.html` and
//! the service worker are never cached, and any other path falls back to
//! `index.html` (status 200) so client-side routes survive a reload.

use std::path::Path;

use axum::Router;
use axum::extract::Request;
use axum::http::{HeaderValue, header};
use axum::middleware::{self, Next};
use axum::response::Response;
use tower_http::compression::CompressionLayer;
use tower_http::services::{ServeDir, ServeFile};

/// A router whose fallback serves `dist`. `cargo xtask` writes `file.br` and
/// `file.gz` beside each built file: a browser gets the smallest encoding it
/// accepts without the server compressing anything per request. Files
/// without them (a hand-made `dist`) are compressed on the fly.
pub fn router(dist: &Path) -> Router {
    let index = ServeFile::new(dist.join("index.html"))
        .precompressed_br()
        .precompressed_gzip();
    let files = ServeDir::new(dist)
        .precompressed_br()
        .precompressed_gzip()
        .fallback(index);
    Router::new()
        .fallback_service(files)
        .layer(middleware::from_fn(cache_headers))
        .layer(CompressionLayer::new())
}

async fn cache_headers(request: Request, next: Next) -> Response {
    let policy = cache_policy(request.uri().path());
    let mut response = next.run(request).await;
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static(policy));
    response
}

/// Trunk names built files `name-<16 hex>.ext`; those never change.
fn cache_policy(path: &str) -> &'static str {
    let file = path.rsplit('/').next().unwrap_or_default();
    let stem = file.split('.').next().unwrap_or_default();
    let hashed = stem
        .rsplit_once('-')
        .is_some_and(|(_, hash)| hash.len() == 16 && hash.bytes().all(|b| b.is_ascii_hexdigit()));
    let hashed = hashed
        || stem
            .strip_suffix("_bg")
            .and_then(|s| s.rsplit_once('-'))
            .is_some_and(|(_, hash)| hash.len() == 16);
    if hashed {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    }
}

#[cfg(test)]
mod tests {
    use super::cache_policy;

    #[test]
    fn only_hashed_files_are_cached_forever() {
        let forever = "public, max-age=31536000, immutable";
        assert_eq!(cache_policy("/baton-app-1a2b3c4d5e6f7a8b.js"), forever);
        assert_eq!(cache_policy("/baton-app-1a2b3c4d5e6f7a8b_bg.wasm"), forever);
        assert_eq!(cache_policy("/main-0123456789abcdef.css"), forever);
        assert_eq!(cache_policy("/"), "no-cache");
        assert_eq!(cache_policy("/index.html"), "no-cache");
        assert_eq!(cache_policy("/sw.js"), "no-cache");
        assert_eq!(cache_policy("/inbox/mine"), "no-cache");
    }
}
