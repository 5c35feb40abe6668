//! Finding lines in a run's log: a plain text, found whatever its case, or a regular expression
//! between slashes (`/error|warn/`), as a search box in the run view takes it.

use regex_lite::Regex;

/// What a search looks for.
#[derive(Debug, Clone)]
pub enum Finder {
    /// Lowercase text, found in a line whatever the line's case.
    Text(String),
    /// A regular expression, found anywhere in a line.
    Pattern(Regex),
}

impl Finder {
    /// The finder of `query`: `None` for a blank one; `Err` says why `/…/` is no pattern.
    pub fn new(query: &str) -> Result<Option<Self>, String> {
        if query.trim().is_empty() {
            return Ok(None);
        }
        match query
            .strip_prefix('/')
            .and_then(|rest| rest.strip_suffix('/'))
        {
            Some(pattern) if !pattern.is_empty() => Regex::new(pattern)
                .map(|regex| Some(Self::Pattern(regex)))
                .map_err(|error| format!("/{pattern}/ is not a regular expression: {error}")),
            _ => Ok(Some(Self::Text(query.to_lowercase()))),
        }
    }

    /// Whether `line` has what this finder looks for.
    pub fn finds(&self, line: &str) -> bool {
        match self {
            Self::Text(text) => line.to_lowercase().contains(text),
            Self::Pattern(regex) => regex.is_match(line),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn finder(query: &str) -> Finder {
        Finder::new(query).expect("valid").expect("not blank")
    }

    #[test]
    fn text_is_found_whatever_its_case() {
        assert!(finder("Error").finds("an ERROR on web-1"));
        assert!(!finder("error").finds("all went well"));
        assert!(Finder::new("  ").expect("valid").is_none());
    }

    #[test]
    fn slashes_make_a_regular_expression() {
        let found = finder(r"/^line \d+7$/");
        assert!(found.finds("line 77777"));
        assert!(!found.finds("line 77771"));
        // One slash alone, or two with nothing between, are text.
        assert!(finder("/").finds("a/b"));
        assert!(finder("//").finds("http://x"));
    }

    #[test]
    fn a_broken_pattern_says_why() {
        let error = Finder::new("/(unclosed/").expect_err("refused");
        assert!(
            error.starts_with("/(unclosed/ is not a regular expression"),
            "{error}"
        );
    }
}
