//! The named AWS profiles configured on this machine, read from the same files the SDK reads.

use std::collections::BTreeSet;
use std::path::PathBuf;

/// Profile names of `~/.aws/config` (`[default]`, `[profile NAME]`) and `~/.aws/credentials`
/// (`[NAME]`), or of the files `AWS_CONFIG_FILE` and `AWS_SHARED_CREDENTIALS_FILE` name.
pub fn configured_profiles() -> Vec<String> {
    let home = std::env::var_os("HOME")
        .map(PathBuf::from)
        .unwrap_or_default();
    let file = |variable: &str, default: &str| {
        std::env::var_os(variable)
            .map(PathBuf::from)
            .unwrap_or_else(|| home.join(".aws").join(default))
    };
    let mut names = BTreeSet::new();
    if let Ok(text) = std::fs::read_to_string(file("AWS_CONFIG_FILE", "config")) {
        names.extend(sections(&text).filter_map(|section| {
            match section {
                "default" => Some("default".to_owned()),
                other => other
                    .strip_prefix("profile ")
                    .map(|name| name.trim().to_owned()),
            }
        }));
    }
    if let Ok(text) = std::fs::read_to_string(file("AWS_SHARED_CREDENTIALS_FILE", "credentials")) {
        names.extend(sections(&text).map(str::to_owned));
    }
    names.into_iter().collect()
}

/// The `[section]` headers of an INI file.
fn sections(text: &str) -> impl Iterator<Item = &str> {
    text.lines().filter_map(|line| {
        line.trim()
            .strip_prefix('[')
            .and_then(|rest| rest.strip_suffix(']'))
            .map(str::trim)
    })
}

#[cfg(test)]
mod tests {
    use super::sections;

    #[test]
    fn sections_are_the_bracketed_headers() {
        let text =
            "[default]\nregion = eu-west-1\n\n [profile staging] \nregion=us-east-1\n# [not]\n";
        assert_eq!(
            sections(text).collect::<Vec<_>>(),
            ["default", "profile staging"]
        );
    }
}
