//! Where runs find their clusters: the folders of the definitions, and EC2 for the machines
//! those launch.

use std::path::PathBuf;
use std::sync::Arc;

use aws_sdk_ec2::Client;
use knit_shared::{ClusterHost, ClusterList, LaunchChanges};

use super::{StartError, machine_hosts, needs_ec2};
use crate::clusters::{self, Definition, Library, MachineHosts};
use crate::ec2::{Ec2Hub, Ec2Target};
use crate::launch;
use crate::reach::Reach;

#[derive(Debug)]
pub struct Fleet {
    /// Folders of definition files, looked through in order.
    dirs: Vec<PathBuf>,
    ec2: Arc<Ec2Hub>,
    /// Where settings like `password_file` are read: knit's secrets folder.
    secrets: PathBuf,
}

impl Fleet {
    pub fn new(dirs: Vec<PathBuf>, ec2: Arc<Ec2Hub>, secrets: PathBuf) -> Self {
        Self { dirs, ec2, secrets }
    }

    pub fn dirs(&self) -> &[PathBuf] {
        &self.dirs
    }

    /// Every cluster of the folders, and the mistakes of the files that are not one.
    pub async fn list(&self) -> ClusterList {
        let dirs = self.dirs.clone();
        tokio::task::spawn_blocking(move || clusters::list(&dirs))
            .await
            .unwrap_or_else(|error| ClusterList {
                clusters: Vec::new(),
                errors: vec![format!("reading the definitions failed: {error}")],
            })
    }

    /// The definition of cluster `name`, read now.
    pub async fn definition(&self, name: &str) -> Result<Definition, StartError> {
        let dirs = self.dirs.clone();
        let name = name.to_owned();
        tokio::task::spawn_blocking(move || {
            let library = Library::builtin();
            let mut broken = 0;
            for dir in dirs.iter().filter(|dir| dir.exists()) {
                let loaded = clusters::load_dir(dir, library);
                if let Some(found) = loaded.definitions.into_iter().find(|d| d.name() == name) {
                    return Ok(found);
                }
                broken += loaded.errors.len();
            }
            Err(StartError::UnknownCluster { name, broken })
        })
        .await
        .unwrap_or_else(|error| Err(StartError::Unreadable(error.to_string())))
    }

    /// `definition` as a run needs it: its secret settings given by their source
    /// (`password_env`, `password_file`) read now.
    pub async fn with_secrets(&self, mut definition: Definition) -> Result<Definition, StartError> {
        let secrets = self.secrets.clone();
        tokio::task::spawn_blocking(move || {
            definition.read_secrets(&secrets)?;
            Ok(definition)
        })
        .await
        .unwrap_or_else(|error| Err(StartError::Unreadable(error.to_string())))
    }

    /// The hosts of each machine of `definition`: its listed ones, or those EC2 runs now.
    pub async fn hosts(&self, definition: &Definition) -> Result<MachineHosts, StartError> {
        if !needs_ec2(definition) {
            return Ok(definition.static_hosts());
        }
        let (client, target) = self.ec2(definition).await?;
        let mut hosts = machine_hosts(definition, Some((&client, &target))).await?;
        for host in hosts.values_mut().flatten() {
            let target = &mut host.target;
            target.dial = self.reach().relay_of(&target.host, target.port);
        }
        Ok(hosts)
    }

    /// Where the instances' ports are dialled.
    pub fn reach(&self) -> &Reach {
        self.ec2.reach()
    }

    /// The EC2 client of the cluster's profile and region.
    pub async fn ec2(&self, definition: &Definition) -> Result<(Client, Ec2Target), StartError> {
        let cluster = &definition.file.cluster;
        let scope = self
            .ec2
            .resolve(cluster.profile.as_deref(), cluster.region.as_deref())
            .await?;
        Ok((self.ec2.client(&scope).await, self.ec2.target(&scope)))
    }

    /// The hosts a run of cluster `name` would use now, with their machines' roles.
    pub async fn cluster_hosts(&self, name: &str) -> Result<Vec<ClusterHost>, StartError> {
        let definition = self.definition(name).await?;
        let hosts = self.hosts(&definition).await?;
        Ok(definition
            .named_hosts(&hosts)
            .into_iter()
            .map(|host| ClusterHost {
                roles: definition.file.machines[&host.machine]
                    .get_ref()
                    .roles
                    .keys()
                    .cloned()
                    .collect(),
                name: host.name,
                address: host.target.to_string(),
                machine: host.machine,
            })
            .collect())
    }

    /// What `launch` would change for cluster `name`.
    pub async fn launch_changes(&self, name: &str) -> Result<LaunchChanges, StartError> {
        let definition = self.definition(name).await?;
        let (client, target) = self.ec2(&definition).await?;
        Ok(launch::changes(&definition, &client, &target).await?)
    }
}
