//! The demo site the sandbox's cluster serves: where its files go, the ports of its services, the
//! app's repository on the hosts, and stopping the daemons its runs started.
//!
//! The daemons (nginx, the app, memcached, redis, PostgreSQL, pgbouncer) are started by knit's
//! own runs over SSH, as the sandbox account, so they outlive the sshd processes; each leaves a
//! pid file under the site's folder, and the sandbox stops them by those when it stops.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use sha2::{Digest, Sha256};
use tokio_util::sync::CancellationToken;

use super::{SandboxError, SshHost, demo_site, free_port};
use crate::ssh::exec::{self, Exit, Ran, Remote};
use crate::ssh::{self, Identity};

const APP: &str = include_str!("demo_app.py");
const MAKE_REPOSITORY: &str = include_str!("demo_repo.sh");

/// The ports of one web host: nginx and the app behind it.
#[derive(Debug, Clone, Copy)]
pub struct WebPorts {
    pub nginx: u16,
    pub app: u16,
}

/// Where the demo site lives and the ports its services listen on, chosen at every start.
#[derive(Debug, Clone)]
pub struct Site {
    /// Every host's files, under `<root>/<host>`; the app's repository in `<root>`.
    pub root: PathBuf,
    pub web: Vec<WebPorts>,
    pub memcached: u16,
    pub redis: u16,
    pub postgres: u16,
    pub pgbouncer: u16,
    /// The major version of the installed PostgreSQL, whose binaries the database host runs.
    pub postgres_version: u32,
}

impl Site {
    /// Chooses free ports for `web_hosts` web hosts and the database host. `home` is the home
    /// folder of the sandbox account; each data folder has a site of its own below it, so two
    /// sandboxes on one machine never share files.
    pub fn plan(home: &Path, data_dir: &Path, web_hosts: usize) -> Result<Self, SandboxError> {
        let port = || {
            free_port().map_err(|error| SandboxError::Start {
                program: "the demo site".to_owned(),
                detail: format!("no free port: {error}"),
            })
        };
        let web = (0..web_hosts)
            .map(|_| {
                Ok(WebPorts {
                    nginx: port()?,
                    app: port()?,
                })
            })
            .collect::<Result<Vec<_>, SandboxError>>()?;
        Ok(Self {
            root: root(home, data_dir),
            web,
            memcached: port()?,
            redis: port()?,
            postgres: port()?,
            pgbouncer: port()?,
            postgres_version: postgres_version().ok_or_else(|| SandboxError::Start {
                program: "the demo site".to_owned(),
                detail: "no PostgreSQL in /usr/lib/postgresql: install Debian's postgresql"
                    .to_owned(),
            })?,
        })
    }

    /// The app's repository, made by `make_repository`.
    pub fn repository(&self) -> PathBuf {
        self.root.join("demo-app.git")
    }

    /// The address a browser opens: the first web host's nginx.
    pub fn url(&self) -> String {
        format!("http://127.0.0.1:{}/", self.web[0].nginx)
    }

    /// Makes the apps' repositories with releases v1 and v2, as the sandbox account on `host`,
    /// unless an earlier start made them: the loopback demo's app, and the machines' Django
    /// site (`demo_site`).
    pub async fn make_repository(
        &self,
        host: &SshHost,
        identity: &Identity,
    ) -> Result<(), SandboxError> {
        let session = Arc::new(ssh::connect(&host.target(), identity).await?);
        let app = format!(
            "set -- {}\n{MAKE_REPOSITORY}",
            knit_shared::shell::quote(&self.repository().display().to_string())
        );
        let site = demo_site::script(&self.root.join(demo_site::REPOSITORY));
        let mut made = Ok(());
        for (script, stdin) in [(app.as_str(), Some(APP.as_bytes())), (&site, None)] {
            made = run_script(&session, script, stdin).await;
            if made.is_err() {
                break;
            }
        }
        if let Ok(session) = Arc::try_unwrap(session) {
            let _ = session.close().await;
        }
        made
    }

    /// Stops every daemon that left a pid file under the site's folder.
    pub fn stop_services(&self) {
        stop_services(&self.root);
    }
}

/// Runs `script` on `session` to its end, failing with what it said.
async fn run_script(
    session: &Arc<openssh::Session>,
    script: &str,
    stdin: Option<&[u8]>,
) -> Result<(), SandboxError> {
    let mut said = Vec::new();
    let ran = exec::run(
        session,
        Remote {
            script,
            stdin,
            timeout: Some(Duration::from_secs(60)),
        },
        None,
        &CancellationToken::new(),
        || {},
        |_, line| said.push(line),
    )
    .await;
    match ran {
        Ran::Ended(Exit::Code(0)) => Ok(()),
        other => Err(SandboxError::Start {
            program: "the demo app's repository".to_owned(),
            detail: format!("{other:?}: {}", said.join("\n")),
        }),
    }
}

/// The folder of the site of data folder `data_dir`, below the sandbox account's `home`.
pub fn root(home: &Path, data_dir: &Path) -> PathBuf {
    let digest = Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    let instance: String = digest[..6].iter().map(|b| format!("{b:02x}")).collect();
    home.join("sandbox").join(instance)
}

/// Stops every daemon that left a pid file under `root`, and waits (up to ten seconds) until
/// they are gone.
pub fn stop_services(root: &Path) {
    let mut pids = Vec::new();
    pid_files(root, &mut pids);
    for pid in &pids {
        signal(*pid, "TERM");
    }
    let deadline = Instant::now() + Duration::from_secs(10);
    while pids.iter().any(|pid| alive(*pid)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    for pid in pids.iter().filter(|pid| alive(**pid)) {
        signal(*pid, "KILL");
    }
}

/// The pids in `*.pid` files below `folder` whose processes run as the file's owner: a stale
/// file must not name some other process that took its number since.
fn pid_files(folder: &Path, pids: &mut Vec<u32>) {
    let Ok(entries) = std::fs::read_dir(folder) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        let Ok(kind) = entry.file_type() else {
            continue;
        };
        if kind.is_dir() {
            pid_files(&path, pids);
        } else if path.extension().is_some_and(|ext| ext == "pid") {
            let text = std::fs::read_to_string(&path).unwrap_or_default();
            let pid: Option<u32> = text
                .lines()
                .next()
                .and_then(|line| line.trim().parse().ok());
            let owner = |path: &Path| std::fs::metadata(path).ok().map(|meta| meta.uid());
            if let Some(pid) = pid
                && owner(&path).is_some()
                && owner(&path) == owner(Path::new(&format!("/proc/{pid}")))
            {
                pids.push(pid);
            }
        }
    }
}

/// Whether `pid` runs: it exists and is no zombie waiting for its parent.
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        !stat
            .rsplit(')')
            .next()
            .is_some_and(|rest| rest.trim_start().starts_with('Z'))
    })
}

/// Signals `pid`, and the processes of its group when it leads one (the app's script and the
/// app it started, nginx's master and its workers).
fn signal(pid: u32, name: &str) {
    let target = match leads_group(pid) {
        true => format!("-{pid}"),
        false => pid.to_string(),
    };
    let _ = std::process::Command::new("kill")
        .args([&format!("-{name}"), "--", &target])
        .stderr(std::process::Stdio::null())
        .status();
}

/// Whether `pid` is the leader of its process group.
fn leads_group(pid: u32) -> bool {
    // The fields after the command's closing parenthesis: state, parent, process group.
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|stat| {
        stat.rsplit(')')
            .next()
            .and_then(|rest| rest.split_whitespace().nth(2))
            .is_some_and(|group| group == pid.to_string())
    })
}

/// The newest PostgreSQL major version in /usr/lib/postgresql.
fn postgres_version() -> Option<u32> {
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse().ok())
        .filter(|version: &u32| {
            Path::new(&format!("/usr/lib/postgresql/{version}/bin/postgres")).exists()
        })
        .max()
}
