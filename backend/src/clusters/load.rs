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
    let problems = check::check(&file, library);
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
