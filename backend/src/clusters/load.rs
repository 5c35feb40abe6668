//! Reading definition files: TOML syntax and shape errors with their position, then the checks.

use std::path::{Path, PathBuf};

use super::{Definition, DefinitionError, Library, check};

/// Parses and checks one file's text. Every mistake is reported, not only the first.
pub fn parse(
    path: &Path,
    text: &str,
    library: &Library,
) -> Result<Definition, Vec<DefinitionError>> {
    let file = toml::from_str(text).map_err(|error: toml::de::Error| {
        let offset = error.span().map_or(0, |span| span.start);
        vec![error_at(path, text, offset, error.message().to_owned())]
    })?;
    let folder = path.parent().unwrap_or(Path::new("."));
    let problems = check::check(&file, library, folder);
    if problems.is_empty() {
        return Ok(Definition {
            path: path.to_owned(),
            file,
        });
    }
    Err(problems
        .into_iter()
        .map(|(offset, message)| error_at(path, text, offset, message))
        .collect())
}

/// The definitions of a folder that passed, and the mistakes of those that did not: one broken
/// file does not hide the clusters of the others.
#[derive(Debug, Default)]
pub struct Loaded {
    pub definitions: Vec<Definition>,
    pub errors: Vec<DefinitionError>,
}

/// Every `*.toml` file of `dir`, sorted by name; cluster names must be unique among them.
pub fn load_dir(dir: &Path, library: &Library) -> Loaded {
    let unreadable = |path: &Path, error: std::io::Error| DefinitionError {
        file: path.to_owned(),
        line: 0,
        column: 0,
        message: format!("cannot read it: {error}"),
    };
    let entries = match std::fs::read_dir(dir) {
        Ok(entries) => entries,
        Err(error) => {
            return Loaded {
                definitions: Vec::new(),
                errors: vec![unreadable(dir, error)],
            };
        }
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|entry| entry.ok().map(|entry| entry.path()))
        .filter(|path| path.extension().is_some_and(|ext| ext == "toml"))
        .collect();
    paths.sort();
    let mut definitions: Vec<Definition> = Vec::new();
    let mut errors = Vec::new();
    for path in paths {
        let text = match std::fs::read_to_string(&path) {
            Ok(text) => text,
            Err(error) => {
                errors.push(unreadable(&path, error));
                continue;
            }
        };
        match parse(&path, &text, library) {
            Ok(definition) => {
                if let Some(first) = definitions.iter().find(|d| d.name() == definition.name()) {
                    let offset = definition.file.cluster.name.span().start;
                    let message = format!(
                        "cluster {} is already defined in {}",
                        definition.name(),
                        first.path.display()
                    );
                    errors.push(error_at(&path, &text, offset, message));
                } else {
                    definitions.push(definition);
                }
            }
            Err(mut found) => errors.append(&mut found),
        }
    }
    Loaded {
        definitions,
        errors,
    }
}

/// 1-based line and column of byte `offset` in `text`.
fn error_at(path: &Path, text: &str, offset: usize, message: String) -> DefinitionError {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before
        .rsplit('\n')
        .next()
        .map_or(0, |tail| tail.chars().count())
        + 1;
    DefinitionError {
        file: path.to_owned(),
        line,
        column,
        message,
    }
}

/// Whatever a definition file holds, loading it answers with a definition or with mistakes
/// placed inside the file, and a definition that loads expands without panicking.
#[cfg(test)]
mod properties {
    use std::path::Path;

    use proptest::prelude::*;

    use super::parse;
    use crate::clusters::Library;
    use knit_shared::StartRun;

    const GOOD: &str = r#"[cluster]
name = "shop.prod"
region = "eu-west-1"
user = "deploy"
[cluster.tags]
Stage = "Production"

[machines.web]
hosts = ["10.0.0.1", "deploy@10.0.0.2:2222"]
[machines.web.roles.app]
kind = "greeter"
greeting = "hello"

[firewall.web]
rules = [{ proto = "tcp", ports = "443", from = "0.0.0.0/0" }]

[kinds.greeter.tasks]
greet = ["echo {{ greeting }} from {{ host }}", { run = "sleep 1", timeout = "5s" }]

[scenarios.deploy]
steps = ["app.greet", "ALL.greet", { step = "app.greet", continue_on_failure = true }]
"#;

    /// Every error of `text` points at a line and column of it.
    fn assert_placed(text: &str) -> Result<(), TestCaseError> {
        match parse(Path::new("x.toml"), text, Library::builtin()) {
            Ok(definition) => {
                for scenario in definition.file.scenarios.keys() {
                    let _ = definition.plan(
                        Library::builtin(),
                        &definition.static_hosts(),
                        &StartRun::new(definition.name(), scenario),
                        "20261204T190000.000Z",
                    );
                }
            }
            Err(errors) => {
                prop_assert!(!errors.is_empty());
                for error in errors {
                    prop_assert!(error.line >= 1 && error.line <= text.lines().count() + 1);
                    prop_assert!(error.column >= 1);
                }
            }
        }
        Ok(())
    }

    #[test]
    fn the_base_definition_is_good() {
        assert!(parse(Path::new("x.toml"), GOOD, Library::builtin()).is_ok());
    }

    proptest! {
        #[test]
        fn any_text_is_answered(text in "\\PC{0,300}") {
            assert_placed(&text)?;
        }

        #[test]
        fn a_damaged_definition_is_answered(
            at in 0..GOOD.len(),
            cut in 0_usize..24,
            insert in "[\\PC\n]{0,16}",
        ) {
            let start = (0..=at).rev().find(|i| GOOD.is_char_boundary(*i)).unwrap_or(0);
            let end = (start + cut..=GOOD.len())
                .find(|i| GOOD.is_char_boundary(*i))
                .unwrap_or(GOOD.len());
            let damaged = format!("{}{insert}{}", &GOOD[..start], &GOOD[end..]);
            assert_placed(&damaged)?;
        }
    }
}
