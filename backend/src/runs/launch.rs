//! `launch` as a run: one step, on EC2 itself, whose log says what was created; recorded,
//! locked and watched like any scenario.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_ec2::Client;
use knit_shared::{CellStatus, PlannedHost, PlannedStep, RunPlan, RunStatus, Stream};

use super::mask::Mask;
use super::{RunError, RunHeader, Runs, Started};
use crate::accounts::new_secret;
use crate::clusters::{Definition, Library};
use crate::ec2::Ec2Target;
use crate::launch;
use crate::store::Actor;

/// The scenario name of a launch.
pub const LAUNCH: &str = knit_shared::runs::LAUNCH_SCENARIO;
/// The one "host" a launch runs on.
const EC2: &str = "ec2";

impl Runs {
    /// Starts making EC2 match `definition` (see `launch::apply`).
    pub async fn start_launch(
        self: &Arc<Self>,
        definition: Definition,
        client: Client,
        target: Ec2Target,
        actor: &Actor,
    ) -> Result<Started, RunError> {
        let shape = RunPlan {
            steps: vec![PlannedStep {
                name: LAUNCH.to_owned(),
                finally: false,
                hosts: vec![EC2.to_owned()],
            }],
            hosts: vec![PlannedHost {
                name: EC2.to_owned(),
                machine: String::new(),
                address: target.region.clone().unwrap_or_default(),
            }],
            batches: Vec::new(),
            stamp: crate::clusters::run_stamp(),
        };
        let cluster = definition.name().to_owned();
        let known_hosts = self.known_hosts.clone();
        let reach = self.fleet.reach().clone();
        let mask = Mask::new(definition.secret_values(Library::builtin()));
        let receivers = crate::notify::receivers(&definition.file.cluster);
        let header = RunHeader {
            cluster: &cluster,
            scenario: LAUNCH,
            shape: &shape,
            params: &BTreeMap::new(),
            retry_of: None,
            wait: false,
            approval: definition.file.cluster.approval_for(LAUNCH),
            receivers: &receivers,
        };
        self.begin(header, actor, mask, move |journal, _cancel| async move {
            journal.started(0, EC2);
            let say = |line| journal.line(0, EC2, Stream::Knit, line);
            // Run ids repeat across knit installations; the random part does not.
            let launch_id = new_secret(&format!("{}-", journal.run_id()));
            let applied = launch::apply(
                &definition,
                &launch_id,
                &client,
                &target,
                &known_hosts,
                &reach,
                say,
            );
            match applied.await {
                Ok(_) => {
                    journal.finished(0, EC2, CellStatus::Ok, None, None);
                    RunStatus::Ok
                }
                Err(error) => {
                    let reason = error.to_string();
                    journal.line(0, EC2, Stream::Knit, reason.clone());
                    journal.finished(0, EC2, CellStatus::Failed, None, Some(reason));
                    RunStatus::Failed
                }
            }
        })
        .await
    }
}
