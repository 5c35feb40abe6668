//! The machines behind the sandbox's EC2 instances: each instance moto says is running gets a
//! real machine and boots it; a stopped one is powered off (its disk kept), a started one boots
//! again, a terminated one is destroyed. moto changes states at once, so a look every second is
//! the whole of EC2's state machine here.
//!
//! A machine's SSH host key is trusted in knit's known_hosts when the sandbox makes it, and its
//! ports 22 and 80 are reached through `Reach`, by the instance's private and public addresses.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::time::Duration;

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::InstanceAttributeName;
use base64::Engine;
use knit_shared::{Instance, InstanceState};
use tokio::sync::{mpsc, oneshot};
use tokio_util::sync::CancellationToken;

use super::balancer::Frontends;
use super::demo;
use super::machines::{Machine, MachineSpec, Machines};
use crate::ec2::{self, Ec2Target};
use crate::reach::Reach;
use crate::ssh::{self, KnownHosts};

const EVERY: Duration = Duration::from_secs(1);

/// What the sandbox's EC2 front asks of the machines, for what moto cannot know.
#[derive(Debug)]
pub enum Ask {
    /// EC2 accepted a reboot of these instances.
    Reboot(Vec<String>),
    /// The console output of an instance's machine, or None when it has none.
    Console(String, oneshot::Sender<Option<String>>),
}

/// Where the sandbox writes an ssh_config with a `Host` for each machine (by instance id and by
/// address), for a person's own `ssh -F`.
#[derive(Debug, Clone)]
pub struct SshConfig {
    pub path: std::path::PathBuf,
    pub identity_file: std::path::PathBuf,
    pub known_hosts: std::path::PathBuf,
}

/// What the machines follow and are written into: the sandbox's EC2, the reach knit dials
/// their ports through, knit's known_hosts, and the ssh_config for people.
#[derive(Debug)]
pub struct Wiring {
    pub ec2: Client,
    pub target: Ec2Target,
    pub reach: Reach,
    pub known_hosts: KnownHosts,
    pub ssh_config: SshConfig,
    /// Where the demo site's balancer relays to: the running frontends of the demo cluster.
    pub frontends: Frontends,
}

/// The keeper of the instances' machines, looking every second until stopped.
#[derive(Debug)]
pub struct Launched {
    stop: CancellationToken,
    keeping: tokio::task::JoinHandle<Keeper>,
}

#[derive(Debug)]
struct Keeper {
    machines: Machines,
    wiring: Wiring,
    /// Every instance's machine, by instance id.
    booted: HashMap<String, Machine>,
    /// Public keys of key pairs, by name, as EC2 gives them.
    keys: HashMap<String, String>,
}

impl Launched {
    /// Keeps the machines, answering what `asks` brings from the EC2 front.
    pub fn start(machines: Machines, wiring: Wiring, asks: mpsc::UnboundedReceiver<Ask>) -> Self {
        let keeper = Keeper {
            machines,
            wiring,
            booted: HashMap::new(),
            keys: HashMap::new(),
        };
        let stop = CancellationToken::new();
        let keeping = tokio::spawn(keeper.keep(stop.clone(), asks));
        Self { stop, keeping }
    }

    /// Powers every machine off and removes it, its disk and the network.
    pub async fn stop(self) {
        self.stop.cancel();
        let Ok(keeper) = self.keeping.await else {
            return;
        };
        let destroyed = keeper.booted.into_values().map(|machine| async move {
            let name = machine.name.clone();
            if let Err(error) = machine.destroy().await {
                tracing::warn!(%error, machine = %name, "a sandbox machine was not removed");
            }
        });
        futures_util::future::join_all(destroyed).await;
        keeper.machines.stop().await;
    }
}

impl Keeper {
    async fn keep(
        mut self,
        stop: CancellationToken,
        mut asks: mpsc::UnboundedReceiver<Ask>,
    ) -> Self {
        let mut looks = tokio::time::interval(EVERY);
        looks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tokio::select! {
                () = stop.cancelled() => return self,
                Some(ask) = asks.recv() => self.answer(ask).await,
                _ = looks.tick() => self.look().await,
            }
        }
    }

    async fn answer(&mut self, ask: Ask) {
        match ask {
            Ask::Reboot(ids) => {
                for id in ids {
                    let Some(machine) = self.booted.get_mut(&id) else {
                        continue;
                    };
                    if machine.is_running()
                        && let Err(error) = machine.reboot().await
                    {
                        tracing::warn!(%error, instance = %id, "a sandbox machine did not reboot");
                    }
                }
            }
            Ask::Console(id, answer) => {
                let console = match self.booted.get(&id) {
                    Some(machine) => Some(machine.console().await),
                    None => None,
                };
                let _ = answer.send(console);
            }
        }
    }

    /// Makes each machine's state follow its instance's.
    async fn look(&mut self) {
        let instances = match ec2::describe_all(&self.wiring.ec2, &self.wiring.target, 1000).await {
            Ok(instances) => instances,
            Err(error) => {
                tracing::debug!(%error, "cannot read the sandbox's instances; trying again");
                return;
            }
        };
        let before: std::collections::BTreeSet<String> = self.booted.keys().cloned().collect();
        // The site leaves a frontend as soon as its instance stops running, before its machine
        // powers off.
        let frontends = instances
            .iter()
            .filter(|instance| instance.state == InstanceState::Running)
            .filter(|instance| demo::is_frontend(&instance.tags))
            .filter_map(|instance| self.booted.get(&instance.id))
            .filter(|machine| machine.is_running())
            .map(|machine| machine.http.port)
            .collect();
        self.wiring.frontends.set(frontends);
        for instance in &instances {
            let outcome = match instance.state {
                InstanceState::Pending | InstanceState::Running => self.run(instance).await,
                InstanceState::Stopping | InstanceState::Stopped => {
                    if let Some(machine) = self.booted.get_mut(&instance.id) {
                        machine.power_off().await;
                    }
                    Ok(())
                }
                InstanceState::ShuttingDown | InstanceState::Terminated => {
                    self.destroy(instance).await
                }
                InstanceState::Unknown => Ok(()),
            };
            if let Err(error) = outcome {
                tracing::warn!(%error, instance = %instance.id, "a sandbox machine does not follow its instance");
            }
        }
        if self
            .booted
            .keys()
            .cloned()
            .collect::<std::collections::BTreeSet<_>>()
            != before
        {
            self.write_ssh_config().await;
        }
    }

    /// Writes a `Host` for each machine, reached by its relay, as `admin` with the sandbox's key.
    async fn write_ssh_config(&self) {
        let config = &self.wiring.ssh_config;
        let mut text =
            String::from("# Written by knit's sandbox: ssh -F <this file> <instance id>\n");
        let mut machines: Vec<&Machine> = self.booted.values().collect();
        machines.sort_by(|a, b| a.name.cmp(&b.name));
        for machine in machines {
            text.push_str(&format!(
                "\nHost {} {} {}\n  HostName 127.0.0.1\n  Port {}\n  HostKeyAlias {}\n  User admin\n  IdentityFile {}\n  IdentitiesOnly yes\n  UserKnownHostsFile {}\n  StrictHostKeyChecking yes\n",
                machine.name,
                machine.hostname,
                machine.address,
                machine.ssh.port,
                machine.address,
                config.identity_file.display(),
                config.known_hosts.display(),
            ));
        }
        if let Err(error) = tokio::fs::write(&config.path, text).await {
            tracing::warn!(%error, path = %config.path.display(), "cannot write the machines' ssh_config");
        }
    }

    /// Boots the instance's machine, made first if it has none.
    async fn run(&mut self, instance: &Instance) -> Result<(), String> {
        if !self.booted.contains_key(&instance.id) {
            let machine = self.create(instance).await?;
            self.booted.insert(instance.id.clone(), machine);
        }
        let machine = self.booted.get_mut(&instance.id).expect("made above");
        machine.boot().map_err(|error| error.to_string())
    }

    async fn create(&mut self, instance: &Instance) -> Result<Machine, String> {
        let address: Ipv4Addr = instance
            .private_ip
            .as_deref()
            .and_then(|ip| ip.parse().ok())
            .ok_or("the instance has no private IPv4 address")?;
        let spec = MachineSpec {
            name: instance.id.clone(),
            hostname: format!("ip-{}", address.to_string().replace('.', "-")),
            address,
            authorized_key: match &instance.key_name {
                Some(name) => self.public_key(name).await?,
                None => String::new(),
            },
            user_data: self.user_data(&instance.id).await,
        };
        let machine = self
            .machines
            .create(&spec)
            .await
            .map_err(|error| error.to_string())?;
        let relay = |port| SocketAddr::from((Ipv4Addr::LOCALHOST, port));
        for ip in addresses(instance) {
            self.wiring
                .known_hosts
                .trust(&ssh::host_pattern(&ip.to_string(), 22), &machine.host_key)
                .await
                .map_err(|error| error.to_string())?;
            self.wiring.reach.relay(ip, 22, relay(machine.ssh.port));
            self.wiring.reach.relay(ip, 80, relay(machine.http.port));
        }
        Ok(machine)
    }

    async fn destroy(&mut self, instance: &Instance) -> Result<(), String> {
        let Some(machine) = self.booted.remove(&instance.id) else {
            return Ok(());
        };
        for ip in addresses(instance) {
            self.wiring.reach.forget(ip);
        }
        machine.destroy().await.map_err(|error| error.to_string())
    }

    /// The public key of key pair `name`, as EC2 keeps it.
    async fn public_key(&mut self, name: &str) -> Result<String, String> {
        if let Some(key) = self.keys.get(name) {
            return Ok(key.clone());
        }
        let pairs = self
            .wiring
            .ec2
            .describe_key_pairs()
            .key_names(name)
            .include_public_key(true)
            .send()
            .await
            .map_err(|error| format!("cannot read key pair {name}: {error}"))?;
        let key = pairs
            .key_pairs()
            .iter()
            .find_map(|pair| pair.public_key())
            .ok_or_else(|| format!("EC2 keeps no public key of key pair {name}"))?
            .to_owned();
        self.keys.insert(name.to_owned(), key.clone());
        Ok(key)
    }

    /// The launch's user data, if it has any.
    async fn user_data(&self, id: &str) -> Option<String> {
        let read = self
            .wiring
            .ec2
            .describe_instance_attribute()
            .instance_id(id)
            .attribute(InstanceAttributeName::UserData)
            .send()
            .await
            .ok()?;
        let encoded = read.user_data()?.value()?;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .ok()?;
        String::from_utf8(bytes).ok()
    }
}

/// The addresses knit may dial the instance by: its private and its public one.
fn addresses(instance: &Instance) -> Vec<IpAddr> {
    [&instance.private_ip, &instance.public_ip]
        .into_iter()
        .flatten()
        .filter_map(|ip| ip.parse().ok())
        .collect()
}
