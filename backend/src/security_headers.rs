//! Security headers of every response: a Content-Security-Policy fit for the WebAssembly
//! console and its manual, and the usual guards against sniffing, framing and referrer leaks.

use axum::http::{HeaderName, HeaderValue, header};
use base64::Engine;
use sha2::{Digest, Sha256};

/// The headers to set, given the pages knit serves (the console's `index.html` and the
/// manual's): their inline scripts are allowed by hash, so no `'unsafe-inline'` is needed.
pub fn headers(pages: &[String]) -> Vec<(HeaderName, HeaderValue)> {
    let policy = content_security_policy(pages);
    let mut headers = vec![
        (
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ),
        (header::X_FRAME_OPTIONS, HeaderValue::from_static("DENY")),
        (
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ),
    ];
    if let Ok(value) = HeaderValue::from_str(&policy) {
        headers.push((header::CONTENT_SECURITY_POLICY, value));
    }
    headers
}

/// Everything from this origin only; WebAssembly may compile (`'wasm-unsafe-eval'`); inline
/// scripts only those of `pages`, by hash; never inside a frame.
pub fn content_security_policy(pages: &[String]) -> String {
    let hashes: std::collections::BTreeSet<String> = pages
        .iter()
        .flat_map(|page| inline_scripts(page))
        .map(|script| {
            let digest = Sha256::digest(script.as_bytes());
            format!(
                " 'sha256-{}'",
                base64::engine::general_purpose::STANDARD.encode(digest)
            )
        })
        .collect();
    let hashes: String = hashes.into_iter().collect();
    format!(
        "default-src 'self'; script-src 'self' 'wasm-unsafe-eval'{hashes}; style-src 'self'; \
         img-src 'self' data:; connect-src 'self'; object-src 'none'; base-uri 'self'; \
         form-action 'self'; frame-ancestors 'none'"
    )
}

/// The bodies of the `<script>` elements that have no `src`.
fn inline_scripts(html: &str) -> impl Iterator<Item = &str> {
    html.split("<script").skip(1).filter_map(|rest| {
        let (attributes, after) = rest.split_once('>')?;
        if attributes.contains("src=") {
            return None;
        }
        after.split_once("</script>").map(|(body, _)| body)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inline_scripts_are_allowed_by_their_hash_only() {
        let html =
            r#"<head><script src="/a.js"></script><script type="module">init()</script></head>"#;
        let manual = "<script>theme()</script><p>text</p><script>init()</script>".to_owned();
        let policy = content_security_policy(&[html.to_owned(), manual]);
        for script in ["init()", "theme()"] {
            let expected = base64::engine::general_purpose::STANDARD.encode(Sha256::digest(script));
            assert_eq!(
                policy.matches(&format!("'sha256-{expected}'")).count(),
                1,
                "{policy}"
            );
        }
        assert_eq!(policy.matches("'sha256-").count(), 2, "{policy}");
        assert!(!policy.contains("unsafe-inline"));
        assert!(policy.contains("frame-ancestors 'none'"));
    }
}
