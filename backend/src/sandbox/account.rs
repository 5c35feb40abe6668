//! Which local account the sandbox's SSH hosts let knit log in as.

use std::os::unix::fs::MetadataExt;

use super::SandboxError;

/// The account used when knit runs as root: logging in as root would run deploys with full power
/// over this machine, and root's shell profile is often slow to start.
pub const SANDBOX_ACCOUNT: &str = "knit-sandbox";

pub fn running_as_root() -> bool {
    std::fs::metadata("/proc/self").is_ok_and(|meta| meta.uid() == 0)
}

/// `knit-sandbox` when running as root, else the account knit runs as.
pub fn sandbox_user() -> Result<String, SandboxError> {
    let passwd = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
    if running_as_root() {
        let exists = passwd
            .lines()
            .any(|line| line.split(':').next() == Some(SANDBOX_ACCOUNT));
        return match exists {
            true => Ok(SANDBOX_ACCOUNT.to_owned()),
            false => Err(SandboxError::NoUser {
                user: SANDBOX_ACCOUNT.to_owned(),
                fix: format!(
                    "create it with `useradd -m -s /bin/sh {SANDBOX_ACCOUNT} && usermod -p '*' {SANDBOX_ACCOUNT}` (the README's set-up does)"
                ),
            }),
        };
    }
    let uid = std::fs::metadata("/proc/self")
        .map(|meta| meta.uid().to_string())
        .unwrap_or_default();
    passwd
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.get(2) == Some(&uid.as_str()))
        .and_then(|fields| fields.first().map(|name| (*name).to_owned()))
        .ok_or_else(|| SandboxError::NoUser {
            user: format!("uid {uid}"),
            fix: "run knit as an account listed in /etc/passwd".to_owned(),
        })
}

/// The home folder of `user`, from /etc/passwd.
pub fn home_of(user: &str) -> Result<std::path::PathBuf, SandboxError> {
    std::fs::read_to_string("/etc/passwd")
        .unwrap_or_default()
        .lines()
        .map(|line| line.split(':').collect::<Vec<_>>())
        .find(|fields| fields.first() == Some(&user))
        .and_then(|fields| fields.get(5).map(std::path::PathBuf::from))
        .ok_or_else(|| SandboxError::NoUser {
            user: user.to_owned(),
            fix: "give the account a home folder in /etc/passwd".to_owned(),
        })
}
