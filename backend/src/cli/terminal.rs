//! What the cluster commands ask and answer at the terminal, here and through a server.

use std::io::IsTerminal;
use std::process::ExitCode;

/// The cluster's name as typed at a terminal, asked for before `action` on `name`; `None`
/// without a terminal.
pub fn ask_confirmation(name: &str, action: &str) -> Option<String> {
    if !std::io::stdin().is_terminal() {
        return None;
    }
    eprint!("knit: type the cluster's name to run {action} on {name}: ");
    let mut typed = String::new();
    let _ = std::io::stdin().read_line(&mut typed);
    Some(typed.trim().to_owned())
}

/// Success, or failure: what the shell sees of a run's end.
pub fn exit_code(ok: bool) -> ExitCode {
    if ok {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
