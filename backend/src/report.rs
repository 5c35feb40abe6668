//! Errors as one line of text, for messages that reach a person.

/// The error and its causes on one line, most general first, skipping causes whose message an
/// earlier one already contains (many libraries repeat their source in their own message).
pub fn cause_chain(error: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(error);
    while let Some(current) = next {
        let text = current.to_string();
        if !parts.iter().any(|seen| seen.contains(&text)) {
            parts.push(text);
        }
        next = current.source();
    }
    parts.join(": ")
}

#[cfg(test)]
mod tests {
    use super::cause_chain;

    #[derive(Debug, thiserror::Error)]
    #[error("cannot open the data dir")]
    struct Outer(#[source] std::io::Error);

    #[test]
    fn joins_causes_and_skips_repeats() {
        let inner = std::io::Error::new(std::io::ErrorKind::PermissionDenied, "permission denied");
        assert_eq!(
            cause_chain(&Outer(inner)),
            "cannot open the data dir: permission denied"
        );
    }
}
