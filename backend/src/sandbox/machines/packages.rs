//! The machines' only way out: Debian's `apt-cacher-ng` on the host's loopback, which caches
//! the image's Debian mirror (so several machines download a package once) and tunnels HTTPS to
//! PyPI, and refuses every other host. Each machine reaches it at its own `127.0.0.1:3142`
//! through a relay; nothing else leaves a machine's network.

use std::path::Path;

use tokio::process::{Child, Command};

use super::{Image, MachineError, io_error, stop_left_over, wait_until_listening};
use crate::sandbox::free_port;

/// Where a machine finds the proxy: the port apt-cacher-ng is known by, on its own loopback.
pub const MACHINE_PORT: u16 = 3142;
/// The hosts a machine may open HTTPS tunnels to: PyPI's index and its files.
const TUNNELS: &str = r"^(pypi\.org|files\.pythonhosted\.org):443$";

/// A running apt-cacher-ng; it stops when dropped.
#[derive(Debug)]
pub struct PackageProxy {
    /// Its port on the host's loopback.
    pub port: u16,
    child: Child,
}

impl PackageProxy {
    /// Starts apt-cacher-ng with its configuration, cache and logs in `dir`, after stopping
    /// the one an earlier start left there (a sandbox killed with SIGKILL).
    pub async fn start(dir: &Path, image: &Image) -> Result<Self, MachineError> {
        let pid_file = dir.join("apt-cacher-ng.pid");
        stop_left_over(&pid_file, "apt-cacher-ng").await;
        for folder in ["cache", "log"] {
            let path = dir.join(folder);
            tokio::fs::create_dir_all(&path)
                .await
                .map_err(|source| io_error(&path, source))?;
        }
        let port = free_port().map_err(|source| io_error(dir, source))?;
        let config = configuration(dir, port, &image.mirror()?);
        let config_path = dir.join("acng.conf");
        tokio::fs::write(&config_path, config)
            .await
            .map_err(|source| io_error(&config_path, source))?;
        let mut command = Command::new("apt-cacher-ng");
        command
            .arg("-c")
            .arg(dir)
            .arg("ForeGround=1")
            .stdin(std::process::Stdio::null())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true);
        let child = command.spawn().map_err(|error| MachineError::Command {
            what: "starting apt-cacher-ng".to_owned(),
            detail: format!("{error} (Debian's apt-cacher-ng; the README's set-up installs it)"),
        })?;
        let mut proxy = Self { port, child };
        let logs = dir.join("log");
        wait_until_listening("apt-cacher-ng", port, &mut proxy.child, || {
            format!("its logs are in {}", logs.display())
        })
        .await?;
        Ok(proxy)
    }

    /// Stops it and waits until it is gone.
    pub async fn stop(mut self) {
        let _ = self.child.kill().await;
    }
}

/// apt-cacher-ng's settings: only the image's mirror (`ForceManaged`), only PyPI tunnelled.
fn configuration(dir: &Path, port: u16, mirror: &str) -> String {
    let prefix = mirror
        .split_once("://")
        .map_or(mirror, |(_, rest)| rest)
        .trim_end_matches('/');
    let at = |name: &str| dir.join(name).display().to_string();
    format!(
        "CacheDir: {cache}\n\
         LogDir: {log}\n\
         SupportDir: /usr/lib/apt-cacher-ng\n\
         PidFile: {pid}\n\
         SocketPath: {socket}\n\
         BindAddress: 127.0.0.1\n\
         Port: {port}\n\
         Remap-debrep: {prefix} ; {mirror}\n\
         ForceManaged: 1\n\
         PassThroughPattern: {TUNNELS}\n\
         ExThreshold: 4\n",
        cache = at("cache"),
        log = at("log"),
        pid = at("apt-cacher-ng.pid"),
        socket = at("socket"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_the_images_mirror_is_served_and_only_pypi_tunnelled() {
        let config = configuration(Path::new("/d"), 20001, "http://deb.debian.org/debian/");
        assert!(
            config
                .contains("Remap-debrep: deb.debian.org/debian ; http://deb.debian.org/debian/\n")
        );
        assert!(config.contains("ForceManaged: 1\n"));
        assert!(
            config.contains("PassThroughPattern: ^(pypi\\.org|files\\.pythonhosted\\.org):443$\n")
        );
        assert!(config.contains("BindAddress: 127.0.0.1\nPort: 20001\n"));
        assert!(config.contains("CacheDir: /d/cache\n"));
    }
}
