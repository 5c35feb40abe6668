//! The manual: every relative link of the README and of docs/ leads to a file that exists, and
//! `knit serve` serves the built manual at /docs beside the console.

use std::path::{Path, PathBuf};

use axum::http::StatusCode;

use crate::harness::{app_serving, built_console, send};

/// The repository's root.
fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The Markdown files whose links are checked: the README, the benchmarks', and the manual's.
fn markdown_files() -> Vec<PathBuf> {
    let mut files = vec![root().join("README.md"), root().join("bench/README.md")];
    let docs = std::fs::read_dir(root().join("docs")).expect("docs/");
    files.extend(
        docs.filter_map(Result::ok)
            .map(|entry| entry.path())
            .filter(|path| path.extension().is_some_and(|extension| extension == "md")),
    );
    files
}

/// The targets of the inline links `[text](target)` of `text`, and of mdBook's includes.
fn link_targets(text: &str) -> Vec<String> {
    let mut targets: Vec<String> = text
        .split("](")
        .skip(1)
        .filter_map(|rest| rest.split_once(')').map(|(target, _)| target.to_owned()))
        .collect();
    targets.extend(text.split("{{#include ").skip(1).filter_map(|rest| {
        rest.split_once("}}")
            .map(|(target, _)| target.trim().to_owned())
    }));
    targets
}

#[test]
fn every_relative_link_of_the_readme_and_the_manual_resolves() {
    let mut checked = 0;
    let mut broken = Vec::new();
    for file in markdown_files() {
        let text = std::fs::read_to_string(&file).expect("a Markdown file");
        for target in link_targets(&text) {
            if target.contains("://") || target.starts_with('#') || target.starts_with("mailto:") {
                continue;
            }
            let path = target.split('#').next().unwrap_or_default();
            let dir = file.parent().expect("a folder");
            checked += 1;
            if !dir.join(path).exists() {
                broken.push(format!("{}: {target}", file.display()));
            }
        }
    }
    assert!(broken.is_empty(), "links to nothing: {broken:#?}");
    assert!(checked > 30, "only {checked} links were found");
}

#[test]
fn every_page_of_the_manual_is_in_its_table_of_contents() {
    let summary = std::fs::read_to_string(root().join("docs/SUMMARY.md")).expect("SUMMARY.md");
    let listed = link_targets(&summary);
    for file in markdown_files() {
        let name = file
            .file_name()
            .and_then(|n| n.to_str())
            .unwrap_or_default();
        if file.parent() == Some(&root().join("docs")) && name != "SUMMARY.md" {
            assert!(
                listed.iter().any(|target| target == name),
                "{name} is not in SUMMARY.md"
            );
        }
    }
}

#[tokio::test]
async fn the_manual_is_served_at_docs_beside_the_console() {
    let dir = tempfile::tempdir().expect("temp dir");
    let target = knit::ec2::Ec2Target {
        endpoint: Some(format!(
            "http://127.0.0.1:{}",
            knit::sandbox::free_port().expect("port")
        )),
        dummy_credentials: true,
        ..knit::ec2::Ec2Target::default()
    };
    let app = app_serving(dir.path(), target, &built_console()).await;
    let get = |path: &'static str| send(app.clone(), "GET", path);

    // The folder's address without its slash goes to it, so the pages' relative links work.
    let (status, _, _) = get("/docs").await;
    assert!(status.is_redirection(), "{status}");
    let (status, kind, body) = get("/docs/").await;
    assert_eq!(status, StatusCode::OK);
    assert!(kind.unwrap_or_default().starts_with("text/html"));
    assert!(String::from_utf8_lossy(&body).contains(r#"<h1 id="knits-manual">"#));
    let (status, _, body) = get("/docs/runs.html").await;
    assert_eq!(status, StatusCode::OK);
    assert!(String::from_utf8_lossy(&body).contains("How a run goes"));

    // A page the manual lacks is its "not found"; the console's routes stay the console's.
    let (status, _, body) = get("/docs/no-such-page.html").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(String::from_utf8_lossy(&body).contains("<title>Page not found"));
    let (status, _, body) = get("/instances").await;
    assert_eq!(status, StatusCode::OK);
    let index = std::fs::read(built_console().join("index.html")).expect("index.html");
    assert_eq!(body, index);
}
