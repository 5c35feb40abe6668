//! Real machines for the sandbox: Debian 12 booted by systemd-nspawn with systemd as PID 1, each
//! in a network namespace of its own on a private network they share, each on an overlay of
//! one base image (`image.rs`). The host reaches them only through loopback relays.
//!
//! A machine is not an EC2 instance: it runs the host's kernel, has no instance metadata
//! service and no block devices of its own, and the host's memory and CPUs.

mod image;
mod machine;
mod network;
mod packages;
mod relay;
mod repositories;

use std::path::{Path, PathBuf};

use tokio::process::Command;

pub use image::Image;
pub use machine::{Machine, MachineSpec};
pub use network::Network;
pub use packages::PackageProxy;
pub use relay::Relay;
pub use repositories::GitServer;

#[derive(Debug, thiserror::Error)]
pub enum MachineError {
    #[error("real machines cannot run here: {0}")]
    Unavailable(String),
    #[error("{what} failed: {detail}")]
    Command { what: String, detail: String },
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// Why machines cannot run on this host, if they cannot: they need Linux, root, and
/// systemd-nspawn and debootstrap installed.
pub fn unavailable() -> Option<String> {
    if !cfg!(target_os = "linux") {
        return Some("they need Linux".to_owned());
    }
    if !rustix::process::geteuid().is_root() {
        return Some("they need root".to_owned());
    }
    let missing: Vec<&str> = [
        "systemd-nspawn",
        "debootstrap",
        "ip",
        "unshare",
        "apt-cacher-ng",
    ]
    .into_iter()
    .filter(|program| !on_path(program))
    .collect();
    (!missing.is_empty()).then(|| {
        format!(
            "{} not installed (Debian's systemd-container, debootstrap, iproute2, apt-cacher-ng)",
            missing.join(", ")
        )
    })
}

/// The machines of one sandbox: their image, their network, their ways to packages and to
/// the sandbox's repositories, and the folder of their disks.
#[derive(Debug)]
pub struct Machines {
    pub image: Image,
    pub network: Network,
    pub packages: PackageProxy,
    pub repositories: GitServer,
    disks: PathBuf,
}

impl Machines {
    /// Builds the image into `cache` if needed, removes what an earlier start with the same
    /// `dir` left behind (after a SIGKILL), makes the network, starts the package proxy and
    /// serves the git repositories in `repositories` to the machines. `name` starts the names
    /// of the network's namespaces: one per data folder, so two sandboxes never meet.
    pub async fn start(
        cache: &Path,
        dir: &Path,
        name: &str,
        repositories: &Path,
    ) -> Result<Self, MachineError> {
        if let Some(reason) = unavailable() {
            return Err(MachineError::Unavailable(reason));
        }
        let image = Image::ensure(cache).await?;
        let disks = dir.join("disks");
        clean(&disks, &Network::named(name)).await;
        tokio::fs::create_dir_all(&disks)
            .await
            .map_err(|source| io_error(&disks, source))?;
        let packages = PackageProxy::start(&dir.join("packages"), &image).await?;
        let repositories = GitServer::start(repositories, &dir.join("repositories")).await?;
        // Last: a failure before it leaves no network, and the daemons die with their handles.
        let network = Network::create(name).await?;
        Ok(Self {
            image,
            network,
            packages,
            repositories,
            disks,
        })
    }

    /// A new machine, powered off.
    pub async fn create(&self, spec: &MachineSpec) -> Result<Machine, MachineError> {
        let wiring = machine::Wiring {
            image: &self.image,
            network: &self.network,
            packages: self.packages.port,
            repositories: self.repositories.port,
        };
        Machine::create(&self.disks, wiring, spec).await
    }

    /// Stops the package proxy and the git server and removes the network; the machines must
    /// be destroyed first.
    pub async fn stop(self) {
        self.packages.stop().await;
        self.repositories.stop().await;
        self.network.remove().await;
    }
}

/// Stops and removes the machines a killed sandbox left in `dir`: their boots (by their
/// cgroups' processes), disks, namespaces and cgroups.
async fn clean(dir: &Path, network: &Network) {
    let Ok(mut entries) = tokio::fs::read_dir(dir).await else {
        return;
    };
    while let Ok(Some(entry)) = entries.next_entry().await {
        let name = entry.file_name().to_string_lossy().into_owned();
        let cgroup = format!("knit/{}", network.namespace(&name));
        machine::kill_cgroup(&cgroup).await;
        machine::remove_cgroup(&cgroup).await;
        let _ = machine::unmount(&entry.path().join("root")).await;
        let _ = tokio::fs::remove_dir_all(entry.path()).await;
    }
    network.remove().await;
}

/// Kills the process named `name` whose id `pid_file` holds, if it still runs: a daemon an
/// earlier start left behind (a sandbox killed with SIGKILL).
async fn stop_left_over(pid_file: &Path, name: &str) {
    let Some(pid) = tokio::fs::read_to_string(pid_file)
        .await
        .ok()
        .and_then(|text| text.trim().parse::<i32>().ok())
    else {
        return;
    };
    let comm = tokio::fs::read_to_string(format!("/proc/{pid}/comm")).await;
    if comm.is_ok_and(|comm| comm.trim() == name)
        && let Some(pid) = rustix::process::Pid::from_raw(pid)
    {
        let _ = rustix::process::kill_process(pid, rustix::process::Signal::KILL);
    }
}

/// Waits (up to 20 s) until `child`, a daemon started as `program`, listens on `port` of the
/// host's loopback; if it exits or does not, an error with what `said` tells of it.
async fn wait_until_listening(
    program: &str,
    port: u16,
    child: &mut tokio::process::Child,
    said: impl Fn() -> String,
) -> Result<(), MachineError> {
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    loop {
        if tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_ok()
        {
            return Ok(());
        }
        let exited = child.try_wait().ok().flatten();
        if exited.is_some() || tokio::time::Instant::now() >= deadline {
            return Err(MachineError::Command {
                what: format!("starting {program}"),
                detail: format!(
                    "it did not listen on port {port} ({}); {}",
                    exited.map_or("still starting".to_owned(), |status| status.to_string()),
                    said()
                ),
            });
        }
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}

fn on_path(program: &str) -> bool {
    std::env::var_os("PATH").is_some_and(|path| {
        std::env::split_paths(&path).any(|folder| folder.join(program).is_file())
    })
}

fn io_error(path: &Path, source: std::io::Error) -> MachineError {
    MachineError::Io {
        path: path.to_owned(),
        source,
    }
}

/// Runs `command` to its end; its standard output, or an error with what it printed.
async fn run(what: &str, command: &mut Command) -> Result<String, MachineError> {
    let output = command
        .stdin(std::process::Stdio::null())
        .output()
        .await
        .map_err(|error| MachineError::Command {
            what: what.to_owned(),
            detail: error.to_string(),
        })?;
    if output.status.success() {
        return Ok(String::from_utf8_lossy(&output.stdout).into_owned());
    }
    let said = String::from_utf8_lossy(&output.stderr);
    let tail: Vec<&str> = said.lines().rev().take(15).collect();
    Err(MachineError::Command {
        what: what.to_owned(),
        detail: format!(
            "{}: {}",
            output.status,
            tail.into_iter().rev().collect::<Vec<_>>().join("\n")
        ),
    })
}
