//! Shell words: a text as one single-quoted word of a POSIX shell command, whatever it holds.

/// `text` as one single-quoted shell word: `it's` is `'it'\''s'`.
pub fn quote(text: &str) -> String {
    format!("'{}'", text.replace('\'', r"'\''"))
}

#[cfg(test)]
mod tests {
    use super::quote;

    #[test]
    fn quoting_keeps_single_quotes() {
        assert_eq!(quote("echo 'hi' $HOME"), r"'echo '\''hi'\'' $HOME'");
    }
}
