//! The browser console's files: Trunk's output folder, or the copy built into the binary (the
//! `embed-console` feature) so an installed knit needs nothing beside it.

use std::path::{Path, PathBuf};

use axum::Router;
use tower_http::services::{ServeDir, ServeFile};

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

    /// The console's `index.html`, whose inline script the security headers allow by hash.
    pub fn index_html(&self) -> String {
        match self {
            Self::Folder(dir) => {
                std::fs::read_to_string(dir.join("index.html")).unwrap_or_default()
            }
            #[cfg(feature = "embed-console")]
            Self::Embedded => embedded::index_html(),
        }
    }

    /// `router` answering every other path with the console: a file, or `index.html` for the
    /// console's own routes (e.g. `/instances`).
    pub fn serve<S: Clone + Send + Sync + 'static>(&self, router: Router<S>) -> Router<S> {
        match self {
            Self::Folder(dir) => router.fallback_service(
                ServeDir::new(dir).fallback(ServeFile::new(dir.join("index.html"))),
            ),
            #[cfg(feature = "embed-console")]
            Self::Embedded => router.fallback_service(axum::routing::get(embedded::file)),
        }
    }
}

#[cfg(feature = "embed-console")]
mod embedded {
    use axum::http::{Uri, header};
    use axum::response::{IntoResponse, Response};

    /// Trunk's output as it was when knit was built.
    #[derive(rust_embed::RustEmbed)]
    #[folder = "../dist/"]
    struct Built;

    pub fn index_html() -> String {
        Built::get("index.html")
            .map(|file| String::from_utf8_lossy(&file.data).into_owned())
            .unwrap_or_default()
    }

    pub async fn file(uri: Uri) -> Response {
        let path = uri.path().trim_start_matches('/');
        match Built::get(path).filter(|_| !path.is_empty()) {
            Some(file) => {
                let kind = file.metadata.mimetype().to_owned();
                ([(header::CONTENT_TYPE, kind)], file.data).into_response()
            }
            None => (
                [(header::CONTENT_TYPE, "text/html; charset=utf-8")],
                index_html(),
            )
                .into_response(),
        }
    }
}
