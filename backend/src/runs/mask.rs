//! Secret values kept out of run logs: a task that prints a password, or a command that
//! contains one, is recorded and shown with `****` in its place.

/// Hidden in place of a secret.
const HIDDEN: &str = "****";
/// Shorter values are left alone: hiding them would hide ordinary words too.
const SHORTEST: usize = 6;
/// knit's own secrets, which no host should ever print but a careless task might.
const ENVIRONMENT: [&str; 2] = ["AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"];

#[derive(Debug, Default)]
pub struct Mask {
    /// Longest first, so a secret that contains another is hidden whole.
    secrets: Vec<String>,
}

impl Mask {
    /// Hides `values` (found by their settings' names, so only from 6 characters on) and the
    /// AWS secrets of knit's environment.
    pub fn new(values: impl IntoIterator<Item = String>) -> Self {
        Self::with_declared(values, [])
    }

    /// As `new`, and also `declared`: values declared secret (a secret parameter's), hidden
    /// however short.
    pub fn with_declared(
        values: impl IntoIterator<Item = String>,
        declared: impl IntoIterator<Item = String>,
    ) -> Self {
        let environment = ENVIRONMENT
            .iter()
            .filter_map(|name| std::env::var(name).ok());
        let mut secrets: Vec<String> = values
            .into_iter()
            .chain(environment)
            .filter(|secret| secret.chars().count() >= SHORTEST)
            .chain(declared.into_iter().filter(|secret| !secret.is_empty()))
            .collect();
        secrets.sort_by(|a, b| b.len().cmp(&a.len()).then_with(|| a.cmp(b)));
        secrets.dedup();
        Self { secrets }
    }

    pub fn apply(&self, text: String) -> String {
        self.secrets.iter().fold(text, |text, secret| {
            if text.contains(secret.as_str()) {
                text.replace(secret.as_str(), HIDDEN)
            } else {
                text
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use super::Mask;

    #[test]
    fn secrets_are_hidden_whole_and_short_values_left_alone() {
        let mask = Mask::new([
            "hunter2-prod".to_owned(),
            "hunter2".to_owned(),
            "abc".to_owned(),
        ]);
        assert_eq!(
            mask.apply("psql -W hunter2-prod; echo hunter2 abc".to_owned()),
            "psql -W ****; echo **** abc"
        );
        assert_eq!(mask.apply("nothing here".to_owned()), "nothing here");
    }

    #[test]
    fn a_declared_secret_is_hidden_however_short() {
        let mask = Mask::with_declared(["abc".to_owned()], ["1234".to_owned(), String::new()]);
        assert_eq!(mask.apply("pin 1234, abc".to_owned()), "pin ****, abc");
    }
}
