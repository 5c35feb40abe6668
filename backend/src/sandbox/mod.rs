//! The sandbox: knit with no AWS account. A local EC2 API server (moto) stands in for AWS; where
//! it can, each instance launched there boots a real Debian machine (`machines`) and the demo
//! cluster is launched onto them; elsewhere real `sshd` processes on loopback stand in for the
//! demo cluster's hosts.
//!
//! Nothing here is a special case elsewhere: the rest of knit sees an EC2 endpoint, a cluster
//! file, and host keys in its known_hosts file, exactly as it would in production; only the
//! relays knit dials the machines at (`Reach`) are the sandbox's.

mod account;
mod balancer;
mod demo;
mod demo_site;
mod ec2_front;
mod launched;
pub mod machines;
mod moto;
mod port;
mod process;
mod seed;
mod site;
mod sshd;

use std::path::PathBuf;

use knit_shared::{SandboxHost, SandboxInfo};
use sha2::Digest;

use crate::config::{SandboxMachines, Settings};
use crate::ec2::Ec2Target;
use crate::reach::Reach;
use crate::ssh::{self, Identity, KnownHosts, SshError};

pub use account::sandbox_user;
pub use moto::Moto;
pub use port::free_port;
pub use site::{Site, stop_services};
pub use sshd::SshHost;

/// moto ships its catalog of public AMIs in this region only.
pub const SANDBOX_REGION: &str = "us-east-1";

#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    #[error("cannot prepare the sandbox folder {path}: {source}")]
    Folder {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{program} could not be started: {detail}")]
    Start { program: String, detail: String },
    #[error("{program} stopped during start-up: {log_tail}")]
    Exited { program: String, log_tail: String },
    #[error("{program} did not answer on 127.0.0.1:{port} within {seconds} s; its log: {log_tail}")]
    NotReady {
        program: String,
        port: u16,
        seconds: u64,
        log_tail: String,
    },
    #[error("the sandbox logs in to its SSH hosts as {user}, which does not exist: {fix}")]
    NoUser { user: String, fix: String },
    #[error(transparent)]
    Ssh(#[from] SshError),
    #[error("cannot seed the local EC2 server: {0}")]
    Seed(String),
    #[error(transparent)]
    Machines(#[from] machines::MachineError),
}

/// A running sandbox. Dropping it kills its processes; `stop` also waits for them.
#[derive(Debug)]
pub struct Sandbox {
    moto: Option<Moto>,
    hosts: Vec<SshHost>,
    site: Site,
    ec2_endpoint: String,
    client_public_key: String,
    clusters_dir: PathBuf,
    /// The sandbox's folder in the data dir.
    dir: PathBuf,
    known_hosts: KnownHosts,
    known_hosts_path: PathBuf,
    /// The machines launched instances boot, until `follow_instances` hands them on.
    machines: Option<machines::Machines>,
    launched: Option<launched::Launched>,
    /// With machines: the EC2 endpoint everyone is given, and what it asks of the machines.
    front: Option<ec2_front::Ec2Front>,
    asks: Option<tokio::sync::mpsc::UnboundedReceiver<launched::Ask>>,
    /// With machines: the demo site's address, in front of the demo's frontends.
    balancer: Option<balancer::Balancer>,
    /// One line for the terminal: whether launched instances boot machines, and if not why.
    pub machines_said: String,
    pub identity: Identity,
    pub info: SandboxInfo,
}

impl Sandbox {
    /// Starts moto (unless `--ec2-endpoint` names one already) and the SSH hosts, trusts their
    /// host keys, proves each answers over SSH, and writes the demo cluster definition.
    pub async fn start(settings: &Settings) -> Result<Self, SandboxError> {
        let dir = settings.data_dir.join("sandbox");
        create_dir(&dir).await?;

        let (moto, ec2_endpoint) = match &settings.ec2_endpoint {
            Some(endpoint) => (None, endpoint.clone()),
            None => {
                let moto = Moto::start(&settings.moto_server, &dir.join("moto.log")).await?;
                let endpoint = moto.endpoint();
                (Some(moto), endpoint)
            }
        };

        let user = sandbox_user()?;
        let names = demo::host_names(settings.sandbox_hosts);
        let web_hosts = names.iter().filter(|name| name.starts_with("web")).count();
        let site = Site::plan(&account::home_of(&user)?, &settings.data_dir, web_hosts)?;
        // Daemons of an earlier start that did not end cleanly would hold the site's files.
        stop_site_services(&site).await;
        let client_key = ssh::ensure_key_pair(&dir.join("client_ed25519"), "knit-sandbox").await?;
        let client_public_key = client_key.public_key().await?;
        let known_hosts = KnownHosts::new(settings.known_hosts());
        let identity = Identity::isolated(client_key.private.clone(), known_hosts.clone());

        let mut hosts = Vec::new();
        for name in names {
            let host_dir = dir.join("hosts").join(&name);
            create_dir(&host_dir).await?;
            let host = SshHost::start(&host_dir, &name, &user, &client_public_key).await?;
            known_hosts
                .trust(&ssh::host_pattern("127.0.0.1", host.port), &host.public_key)
                .await?;
            hosts.push(host);
        }
        prove_reachable(&hosts, &identity).await?;
        // Before the machines: their git server serves the folder these are made in.
        site.make_repository(&hosts[0], &identity).await?;
        let (machines, machines_said) = start_machines(settings, &site.root).await?;
        // With machines, EC2 is moto behind a front that tells them reboots and shows their
        // consoles; everyone (knit, a person's AWS CLI) is given the front.
        let (mut front, mut asks) = (None, None);
        let ec2_endpoint = match &machines {
            Some(_) => {
                let (asking, inbox) = tokio::sync::mpsc::unbounded_channel();
                let started = ec2_front::Ec2Front::start(&ec2_endpoint, asking)
                    .await
                    .map_err(|error| SandboxError::Start {
                        program: "the sandbox's EC2 front".to_owned(),
                        detail: error.to_string(),
                    })?;
                let endpoint = started.endpoint.clone();
                (front, asks) = (Some(started), Some(inbox));
                endpoint
            }
            None => ec2_endpoint,
        };

        // With machines, the demo is launched onto them and its site is their balancer.
        let balancer =
            match &machines {
                Some(_) => Some(balancer::Balancer::start().await.map_err(|error| {
                    SandboxError::Start {
                        program: "the demo site's balancer".to_owned(),
                        detail: error.to_string(),
                    }
                })?),
                None => None,
            };
        let clusters = dir.join("clusters");
        create_dir(&clusters).await?;
        let written = match &balancer {
            Some(_) => demo::write_machines_cluster(&clusters, &identity).await,
            None => demo::write_cluster(&clusters, &hosts, &identity, &site).await,
        };
        written.map_err(|source| SandboxError::Folder {
            path: clusters.clone(),
            source,
        })?;
        let secrets = settings.secrets_dir();
        demo::write_password(&secrets)
            .await
            .map_err(|source| SandboxError::Folder {
                path: secrets,
                source,
            })?;

        let info = SandboxInfo {
            ec2_endpoint: ec2_endpoint.clone(),
            site: balancer
                .as_ref()
                .map_or_else(|| site.url(), balancer::Balancer::url),
            hosts: match &balancer {
                Some(_) => Vec::new(),
                None => hosts
                    .iter()
                    .map(SshHost::describe)
                    .collect::<Vec<SandboxHost>>(),
            },
            machines: balancer.is_some(),
        };
        Ok(Self {
            moto,
            hosts,
            site,
            ec2_endpoint,
            client_public_key,
            clusters_dir: clusters,
            dir,
            known_hosts,
            known_hosts_path: settings.known_hosts(),
            machines,
            launched: None,
            front,
            asks,
            balancer,
            machines_said,
            identity,
            info,
        })
    }

    /// From now on each instance of the sandbox's EC2 boots a machine of its own, if machines
    /// run here; knit dials their ports through `reach`.
    pub fn follow_instances(&mut self, ec2: aws_sdk_ec2::Client, target: Ec2Target, reach: Reach) {
        if let (Some(machines), Some(asks)) = (self.machines.take(), self.asks.take()) {
            let wiring = launched::Wiring {
                ec2,
                target,
                reach,
                known_hosts: self.known_hosts.clone(),
                ssh_config: launched::SshConfig {
                    path: self.dir.join("ssh_config"),
                    identity_file: self.dir.join("client_ed25519"),
                    known_hosts: self.known_hosts_path.clone(),
                },
                frontends: self
                    .balancer
                    .as_ref()
                    .map(|balancer| balancer.frontends.clone())
                    .unwrap_or_default(),
            };
            self.launched = Some(launched::Launched::start(machines, wiring, asks));
        }
    }

    /// Where the demo cluster's definition is written.
    pub fn clusters_dir(&self) -> PathBuf {
        self.clusters_dir.clone()
    }

    pub fn ec2_endpoint(&self) -> &str {
        &self.ec2_endpoint
    }

    /// Gives the local EC2 server a key pair, a security group and images, so the console has
    /// something to show and the launch wizard something to choose; and, where no machines
    /// run, three instances (with machines, the demo's `launch` makes real ones).
    pub async fn seed(&self, ec2: &aws_sdk_ec2::Client) -> Result<(), SandboxError> {
        seed::seed(ec2, &self.client_public_key, self.machines.is_none()).await
    }

    /// Stops every process the sandbox started, and the daemons its runs started, and waits
    /// until they are gone.
    pub async fn stop(self) {
        if let Some(launched) = self.launched {
            launched.stop().await;
        }
        drop(self.front);
        drop(self.balancer);
        if let Some(machines) = self.machines {
            machines.stop().await;
        }
        stop_site_services(&self.site).await;
        for host in self.hosts {
            host.stop().await;
        }
        if let Some(moto) = self.moto {
            moto.stop().await;
        }
    }
}

/// The machines of this sandbox, if they run here and are wanted, and a line that says so.
async fn start_machines(
    settings: &Settings,
    repositories: &std::path::Path,
) -> Result<(Option<machines::Machines>, String), SandboxError> {
    let off = "launched instances are moto's rows only";
    if settings.sandbox_machines == SandboxMachines::Off {
        return Ok((None, format!("off (--sandbox-machines off): {off}")));
    }
    if let (Some(reason), SandboxMachines::Auto) =
        (machines::unavailable(), settings.sandbox_machines)
    {
        return Ok((None, format!("none, {reason}: {off}")));
    }
    let dir = settings.data_dir.join("sandbox").join("machines");
    let name = machines_network(&settings.data_dir);
    let machines = machines::Machines::start(&settings.cache(), &dir, &name, repositories).await?;
    let said = format!(
        "each launched instance boots a Debian 12 machine (image {})",
        machines.image.root.display()
    );
    Ok((Some(machines), said))
}

/// The name of the machines' network of data folder `data_dir`, which starts the names of
/// its namespaces and cgroups: one network per data folder, so two sandboxes never meet.
pub fn machines_network(data_dir: &std::path::Path) -> String {
    let digest = sha2::Sha256::digest(data_dir.as_os_str().as_encoded_bytes());
    let hex: String = digest[..4].iter().map(|b| format!("{b:02x}")).collect();
    format!("knit-{hex}")
}

/// Logs in to every host with strict host key checking: a sandbox that starts is one that works.
async fn prove_reachable(hosts: &[SshHost], identity: &Identity) -> Result<(), SandboxError> {
    for host in hosts {
        let session = ssh::connect(&host.target(), identity).await?;
        let _ = session.close().await;
    }
    Ok(())
}

/// The folder of the demo site of data folder `data_dir`, where its daemons keep their files.
pub fn site_root(data_dir: &std::path::Path) -> Result<PathBuf, SandboxError> {
    let home = account::home_of(&sandbox_user()?)?;
    Ok(site::root(&home, data_dir))
}

/// Stops the daemons the demo site of data folder `data_dir` runs, for whoever stops a sandbox
/// that could not stop them itself (a test that kills knit).
pub fn stop_site(data_dir: &std::path::Path) {
    if let Ok(root) = site_root(data_dir) {
        site::stop_services(&root);
    }
}

async fn stop_site_services(site: &Site) {
    let site = site.clone();
    let _ = tokio::task::spawn_blocking(move || site.stop_services()).await;
}

async fn create_dir(path: &std::path::Path) -> Result<(), SandboxError> {
    tokio::fs::create_dir_all(path)
        .await
        .map_err(|source| SandboxError::Folder {
            path: path.to_owned(),
            source,
        })
}
