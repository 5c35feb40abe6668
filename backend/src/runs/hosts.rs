//! Where each machine of a cluster is: the listed hosts of a static machine, or the running
//! instances of a launched one at the address the cluster's `connect` names.

use aws_sdk_ec2::Client;

use crate::clusters::{Definition, FoundHost, MachineHosts};
use crate::ec2::{self, Ec2Error, Ec2Target, MachineOf};
use crate::ssh::SshTarget;

#[derive(Debug, thiserror::Error)]
pub enum HostsError {
    #[error("machine {0} is launched in EC2, and no EC2 client was given to find it")]
    NoEc2(String),
    #[error("cannot find the instances of machine {machine}: {source}")]
    Ec2 { machine: String, source: Ec2Error },
    #[error(
        "instance {instance} of machine {machine} has no {connect}; set `connect` in [cluster]"
    )]
    NoAddress {
        machine: String,
        instance: String,
        connect: String,
    },
}

/// The hosts of every machine. `ec2` is asked only about launched machines; without it, a
/// cluster that has some cannot be reached.
pub async fn machine_hosts(
    definition: &Definition,
    ec2: Option<(&Client, &Ec2Target)>,
) -> Result<MachineHosts, HostsError> {
    let mut hosts = definition.static_hosts();
    let cluster = &definition.file.cluster;
    let connect = cluster.connect_by();
    for (machine, spec) in &definition.file.machines {
        if spec.get_ref().hosts.is_some() {
            continue;
        }
        let (client, target) = ec2.ok_or_else(|| HostsError::NoEc2(machine.clone()))?;
        let of = MachineOf {
            cluster: definition.name(),
            tags: &cluster.tags,
            machine,
        };
        let instances = ec2::machine_instances(client, target, of, &["running"])
            .await
            .map_err(|source| HostsError::Ec2 {
                machine: machine.clone(),
                source,
            })?;
        let mut targets = Vec::new();
        for instance in instances {
            let Some(host) = ec2::connect_address(&instance, connect) else {
                return Err(HostsError::NoAddress {
                    machine: machine.clone(),
                    instance: instance.id,
                    connect: connect.to_owned(),
                });
            };
            let target = SshTarget {
                user: cluster.user.clone(),
                host,
                port: 22,
                dial: None,
            };
            targets.push(FoundHost {
                target,
                private_ip: instance.private_ip,
            });
        }
        hosts.insert(machine.clone(), targets);
    }
    Ok(hosts)
}

/// Whether any machine of the cluster is launched (so finding its hosts needs EC2).
pub fn needs_ec2(definition: &Definition) -> bool {
    definition
        .file
        .machines
        .values()
        .any(|machine| machine.get_ref().hosts.is_none())
}
