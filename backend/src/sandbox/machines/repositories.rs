//! The sandbox's git repositories, for its machines: `git daemon` on the host's loopback
//! serves one folder read-only, as the folder's owner; each machine reaches it at its own
//! `127.0.0.1:9418` (git's port) through a relay, so an app's `repository` there is
//! `git://127.0.0.1/<name>.git`, as a real one would be a URL the machines can reach.

use std::os::unix::fs::MetadataExt;
use std::path::Path;

use tokio::process::{Child, Command};

use super::{MachineError, io_error, stop_left_over, wait_until_listening};
use crate::sandbox::free_port;

/// Where a machine finds the repositories: git's own port, on its own loopback.
pub const MACHINE_PORT: u16 = 9418;

/// A running `git daemon`; it stops when dropped.
#[derive(Debug)]
pub struct GitServer {
    /// Its port on the host's loopback.
    pub port: u16,
    child: Child,
}

impl GitServer {
    /// Serves the repositories in `folder` (made if missing), keeping its pid and log in
    /// `dir`, after stopping the one an earlier start left there (a sandbox killed with
    /// SIGKILL).
    pub async fn start(folder: &Path, dir: &Path) -> Result<Self, MachineError> {
        for path in [folder, dir] {
            tokio::fs::create_dir_all(path)
                .await
                .map_err(|source| io_error(path, source))?;
        }
        let pid_file = dir.join("git-daemon.pid");
        stop_left_over(&pid_file, "git-daemon").await;
        // Run as the repositories' owner: git refuses to serve another account's repository.
        let owner = std::fs::metadata(folder).map_err(|source| io_error(folder, source))?;
        std::os::unix::fs::chown(dir, Some(owner.uid()), Some(owner.gid()))
            .map_err(|source| io_error(dir, source))?;
        let port = free_port().map_err(|source| io_error(dir, source))?;
        let log = dir.join("git-daemon.log");
        let log_file = std::fs::File::create(&log).map_err(|source| io_error(&log, source))?;
        let errors = log_file.try_clone().map_err(|e| io_error(&log, e))?;
        // git-daemon itself, not `git daemon`: the `git` wrapper would stay its parent, and
        // stopping the wrapper would leave the daemon running.
        let exec_path = Command::new("git")
            .arg("--exec-path")
            .output()
            .await
            .map_err(|error| MachineError::Command {
                what: "finding git daemon".to_owned(),
                detail: error.to_string(),
            })?;
        let daemon =
            Path::new(String::from_utf8_lossy(&exec_path.stdout).trim()).join("git-daemon");
        let mut command = Command::new(daemon);
        command
            .arg("--reuseaddr")
            .arg("--export-all")
            .arg("--listen=127.0.0.1")
            .arg(format!("--port={port}"))
            .arg(format!("--pid-file={}", pid_file.display()))
            .arg(format!("--base-path={}", folder.display()))
            .arg(folder)
            .env("HOME", folder)
            .uid(owner.uid())
            .gid(owner.gid())
            .stdin(std::process::Stdio::null())
            .stdout(log_file)
            .stderr(errors)
            .kill_on_drop(true);
        let child = command.spawn().map_err(|error| MachineError::Command {
            what: "starting git daemon".to_owned(),
            detail: error.to_string(),
        })?;
        let mut server = Self { port, child };
        wait_until_listening("git daemon", port, &mut server.child, || {
            std::fs::read_to_string(&log).unwrap_or_default()
        })
        .await?;
        Ok(server)
    }

    /// Stops it and waits until it is gone.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}
