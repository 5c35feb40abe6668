//! Git repositories a test makes for its hosts to deploy from.

use std::path::{Path, PathBuf};
use std::process::Command;

/// Runs `git -C dir args` as the author `knit test`; what it printed, trimmed.
pub fn git(dir: &Path, args: &[&str]) -> String {
    let output = Command::new("git")
        .arg("-C")
        .arg(dir)
        .args(args)
        .env("GIT_AUTHOR_NAME", "knit test")
        .env("GIT_AUTHOR_EMAIL", "test@knit.invalid")
        .env("GIT_COMMITTER_NAME", "knit test")
        .env("GIT_COMMITTER_EMAIL", "test@knit.invalid")
        .output()
        .expect("git runs");
    assert!(output.status.success(), "git {args:?}");
    String::from_utf8_lossy(&output.stdout).trim().to_owned()
}

/// A bare clone of the repository in `work`, `dir/origin.git`, owned by the hosts' account so
/// that they can clone it over file://.
pub fn bare_for_hosts(dir: &Path, work: &Path) -> PathBuf {
    let work = work.to_str().expect("utf-8");
    git(dir, &["clone", "-q", "--bare", work, "origin.git"]);
    let bare = dir.join("origin.git");
    let user = knit::sandbox::sandbox_user().expect("the hosts' account");
    let owned = Command::new("chown")
        .args(["-R", &user])
        .arg(&bare)
        .status()
        .expect("chown runs");
    assert!(owned.success());
    bare
}
