//! ANSI colour codes in command output, turned into styled pieces of text. Only SGR sequences
//! (`ESC [ … m`) carry style; any other escape sequence is dropped rather than shown as noise.

/// A piece of a line in one style: CSS classes such as `ansi-red ansi-bold`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Piece {
    pub classes: String,
    pub text: String,
}

const COLOURS: [&str; 8] = [
    "black", "red", "green", "yellow", "blue", "magenta", "cyan", "white",
];

#[derive(Debug, Clone, Default, PartialEq, Eq)]
struct Style {
    colour: Option<&'static str>,
    bright: bool,
    bold: bool,
}

impl Style {
    fn classes(&self) -> String {
        let mut classes = Vec::new();
        if let Some(colour) = self.colour {
            classes.push(format!("ansi-{colour}"));
        }
        if self.bright {
            classes.push("ansi-bright".to_owned());
        }
        if self.bold {
            classes.push("ansi-bold".to_owned());
        }
        classes.join(" ")
    }

    fn apply(&mut self, codes: &str) {
        for code in codes.split(';') {
            match code.parse::<u8>().unwrap_or(0) {
                0 => *self = Self::default(),
                1 => self.bold = true,
                22 => self.bold = false,
                39 => self.colour = None,
                code @ 30..=37 => {
                    self.colour = Some(COLOURS[usize::from(code - 30)]);
                    self.bright = false;
                }
                code @ 90..=97 => {
                    self.colour = Some(COLOURS[usize::from(code - 90)]);
                    self.bright = true;
                }
                _ => {}
            }
        }
    }
}

/// The pieces of `line`, each with the style in force where it stands.
pub fn pieces(line: &str) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut style = Style::default();
    let mut text = String::new();
    let mut rest = line;
    while let Some(at) = rest.find('\u{1b}') {
        text.push_str(&rest[..at]);
        let after = &rest[at + 1..];
        let Some(sequence) = after.strip_prefix('[') else {
            rest = after;
            continue;
        };
        let end = sequence
            .find(|c: char| c.is_ascii_alphabetic())
            .unwrap_or(sequence.len());
        if sequence[end..].starts_with('m') {
            if !text.is_empty() {
                pieces.push(Piece {
                    classes: style.classes(),
                    text: std::mem::take(&mut text),
                });
            }
            style.apply(&sequence[..end]);
        }
        rest = sequence.get(end + 1..).unwrap_or_default();
    }
    text.push_str(rest);
    if !text.is_empty() || pieces.is_empty() {
        pieces.push(Piece {
            classes: style.classes(),
            text,
        });
    }
    pieces
}

#[cfg(test)]
mod tests {
    use super::*;

    fn piece(classes: &str, text: &str) -> Piece {
        Piece {
            classes: classes.to_owned(),
            text: text.to_owned(),
        }
    }

    #[test]
    fn colours_and_resets_split_the_line() {
        assert_eq!(
            pieces("ok \u{1b}[1;32mpassed\u{1b}[0m done"),
            [
                piece("", "ok "),
                piece("ansi-green ansi-bold", "passed"),
                piece("", " done")
            ]
        );
    }

    #[test]
    fn other_escapes_vanish_and_plain_lines_stay_whole() {
        assert_eq!(pieces("a\u{1b}[2Kb"), [piece("", "ab")]);
        assert_eq!(pieces("plain"), [piece("", "plain")]);
        assert_eq!(
            pieces("\u{1b}[91mred"),
            [piece("ansi-red ansi-bright", "red")]
        );
    }
}
