//! The instances of clusters' launched machines, from the cached list of their region.

use knit_shared::{ClusterList, MachineInstance};

use super::Inventory;
use crate::ec2::MachineOf;

impl Inventory {
    /// Fills in the instances of every launched machine of `list`: those of the cluster's
    /// region carrying its name, its tags and the machine's name. A region that cannot be read leaves
    /// its machines without instances (the instance list shows why).
    pub async fn attach_instances(&self, list: &mut ClusterList) {
        for cluster in &mut list.clusters {
            if cluster
                .machines
                .iter()
                .all(|machine| !machine.hosts.is_empty())
            {
                continue;
            }
            let Ok(scope) = self.hub.resolve(None, cluster.region.as_deref()).await else {
                continue;
            };
            let Ok(snapshot) = self.snapshot(&scope, false).await else {
                continue;
            };
            let tags = cluster.tags.iter().cloned().collect();
            for machine in cluster.machines.iter_mut().filter(|m| m.hosts.is_empty()) {
                let of = MachineOf {
                    cluster: &cluster.name,
                    tags: &tags,
                    machine: &machine.name,
                };
                machine.instances = snapshot
                    .instances
                    .iter()
                    .filter(|instance| {
                        of.matches(&instance.tags) && instance.state.as_str() != "terminated"
                    })
                    .map(|instance| MachineInstance {
                        id: instance.id.clone(),
                        state: instance.state.as_str().to_owned(),
                        address: instance
                            .public_ip
                            .clone()
                            .or_else(|| instance.private_ip.clone()),
                        hourly_price: crate::ec2::prices::on_demand(&instance.instance_type)
                            .map(str::to_owned),
                    })
                    .collect();
            }
        }
    }
}
