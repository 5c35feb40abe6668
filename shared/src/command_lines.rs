//! How a run's log says which command runs: one line `[role] $ <headline>`, then, for a script
//! of several lines, each of its lines as `[role] > <line>`. The run view folds those under the
//! headline and the CLI prints them only with `-v`; the stored log and downloads keep them.

/// The lines that announce `script` of `role`: its headline, then its lines when it has more
/// than one.
pub fn announce(role: &str, script: &str) -> Vec<String> {
    let lines: Vec<&str> = script.lines().collect();
    let mut said = vec![format!("[{role}] $ {}", headline(&lines))];
    if lines.len() > 1 {
        said.extend(lines.iter().map(|line| format!("[{role}] > {line}")));
    }
    said
}

/// The line that says best what a script does: its first that is not blank, a comment or a
/// `set` of shell options.
fn headline<'a>(lines: &[&'a str]) -> &'a str {
    lines
        .iter()
        .map(|line| line.trim())
        .find(|line| !line.is_empty() && !line.starts_with('#') && !line.starts_with("set -"))
        .or_else(|| lines.first().map(|line| line.trim()))
        .unwrap_or_default()
}

/// Whether a knit line of a run's log is a line of a script, folded under its headline.
pub fn is_script_line(text: &str) -> bool {
    role_prefixed(text, "> ")
}

/// Whether a knit line of a run's log is a command's headline.
pub fn is_headline(text: &str) -> bool {
    role_prefixed(text, "$ ")
}

/// `[role] ` followed by `mark`.
fn role_prefixed(text: &str, mark: &str) -> bool {
    text.strip_prefix('[')
        .and_then(|rest| rest.split_once("] "))
        .is_some_and(|(role, rest)| !role.contains(' ') && rest.starts_with(mark))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_script_is_its_headline_and_then_its_lines() {
        assert_eq!(announce("app", "echo hi"), ["[app] $ echo hi"]);
        let said = announce("app", "set -e\n# fetch\ncd /srv/app\ngit fetch");
        assert_eq!(
            said,
            [
                "[app] $ cd /srv/app",
                "[app] > set -e",
                "[app] > # fetch",
                "[app] > cd /srv/app",
                "[app] > git fetch",
            ]
        );
        assert!(is_headline(&said[0]) && !is_script_line(&said[0]));
        assert!(said[1..].iter().all(|line| is_script_line(line)));
        assert!(!is_script_line("[app] >not one"));
        assert!(!is_script_line("an [app] > output line"));
        assert_eq!(announce("app", "set -e"), ["[app] $ set -e"]);
    }
}
