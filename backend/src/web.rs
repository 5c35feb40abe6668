//! The browser console's files and the manual's (mdBook's output in `docs/` of the same folder):
//! Trunk's output folder, or the copy built into the binary (the `embed-console` feature) so an
//! installed knit needs nothing beside it.

use std::path::{Path, PathBuf};

use axum::Router;
use axum::http::{StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use tower_http::services::ServeDir;

/// Where the console is served from.
#[derive(Debug, Clone)]
pub enum WebConsole {
    Folder(PathBuf),
    #[cfg(feature = "embed-console")]
    Embedded,
}

impl WebConsole {
    /// `--web-dir` when given; else the console built into the binary, if it has one; else
    /// `dist`, where `trunk build` puts it.
    pub fn choose(web_dir: Option<&Path>) -> Self {
        match web_dir {
            Some(dir) => Self::Folder(dir.to_owned()),
            #[cfg(feature = "embed-console")]
            None => Self::Embedded,
            #[cfg(not(feature = "embed-console"))]
            None => Self::Folder(PathBuf::from("dist")),
        }
    }

    /// Refuses a folder without the built console, saying how to build it.
    pub fn check(&self) -> anyhow::Result<()> {
        match self {
            Self::Folder(dir) if !dir.join("index.html").is_file() => anyhow::bail!(
                "the built console is missing ({} does not exist); build it with `trunk build \
                 --release` or point --web-dir (KNIT_WEB_DIR) at Trunk's output",
                dir.join("index.html").display()
            ),
            _ => Ok(()),
        }
    }

    /// The console's `index.html` and the manual's pages, whose inline scripts the security
    /// headers allow by hash.
    pub fn pages(&self) -> Vec<String> {
        match self {
            Self::Folder(dir) => {
                let mut pages = vec![dir.join("index.html")];
                html_files(&dir.join(MANUAL), &mut pages);
                pages
                    .iter()
                    .filter_map(|page| std::fs::read_to_string(page).ok())
                    .collect()
            }
            #[cfg(feature = "embed-console")]
            Self::Embedded => embedded::pages(),
        }
    }

    /// `router` answering every other path with the console: a file, or `index.html` for the
    /// console's own routes (e.g. `/instances`).
    pub fn serve<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        match self {
            Self::Folder(dir) => {
                let folder = dir.clone();
                let missing = move |uri: Uri| async move {
                    let path = uri.path().trim_start_matches('/');
                    not_found(path, |file| std::fs::read_to_string(folder.join(file)).ok())
                };
                router.fallback_service(ServeDir::new(dir).fallback(axum::routing::get(missing)))
            }
            #[cfg(feature = "embed-console")]
            Self::Embedded => router.fallback_service(axum::routing::get(embedded::file)),
        }
    }
}

/// The manual's folder, and its path below the console's.
const MANUAL: &str = "docs";

/// The answer for a path no file has: the manual's "not found" page (404) below the manual, the
/// console's `index.html` everywhere else (the console's own routes, e.g. `/instances`). `read`
/// reads a file of the console's folder.
fn not_found(path: &str, read: impl Fn(&str) -> Option<String>) -> Response {
    let html = [(header::CONTENT_TYPE, "text/html; charset=utf-8")];
    if path.starts_with(&format!("{MANUAL}/")) {
        let page = read(&format!("{MANUAL}/404.html")).unwrap_or_default();
        return (StatusCode::NOT_FOUND, html, page).into_response();
    }
    (html, read("index.html").unwrap_or_default()).into_response()
}

/// Every `.html` file below `dir`, into `found`.
fn html_files(dir: &Path, found: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for path in entries.filter_map(Result::ok).map(|entry| entry.path()) {
        if path.is_dir() {
            html_files(&path, found);
        } else if path
            .extension()
            .is_some_and(|extension| extension == "html")
        {
            found.push(path);
        }
    }
}

#[cfg(feature = "embed-console")]
mod embedded {
    use axum::http::{Uri, header};
    use axum::response::{IntoResponse, Redirect, Response};

    /// Trunk's output as it was when knit was built.
    #[derive(rust_embed::RustEmbed)]
    #[folder = "../dist/"]
    struct Built;

    fn text(path: &str) -> Option<String> {
        Built::get(path).map(|file| String::from_utf8_lossy(&file.data).into_owned())
    }

    pub fn pages() -> Vec<String> {
        let manual = format!("{}/", super::MANUAL);
        let pages =
            Built::iter().filter(|path| path.starts_with(&manual) && path.ends_with(".html"));
        std::iter::once(std::borrow::Cow::Borrowed("index.html"))
            .chain(pages)
            .filter_map(|path| text(&path))
            .collect()
    }

    /// A file, or a folder's `index.html`; else as `not_found` says.
    pub async fn file(uri: Uri) -> Response {
        let path = uri.path().trim_start_matches('/');
        if path == super::MANUAL {
            // Its pages link to each other relative to the folder.
            return Redirect::permanent(&format!("/{path}/")).into_response();
        }
        let path = match path.strip_suffix('/') {
            Some(folder) => format!("{folder}/index.html"),
            None => path.to_owned(),
        };
        match Built::get(&path) {
            Some(file) => {
                let kind = file.metadata.mimetype().to_owned();
                ([(header::CONTENT_TYPE, kind)], file.data).into_response()
            }
            None => super::not_found(&path, text),
        }
    }
}
