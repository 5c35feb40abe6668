//! Acting on instances, with one outcome per instance even when some of them fail.

use aws_sdk_ec2::Client;
use aws_sdk_ec2::types::{AttributeBooleanValue, InstanceAttributeName, InstanceStateChange};
use knit_shared::{ActionOutcome, InstanceAction, InstanceState};

use super::{Ec2Error, Ec2Target};

/// Carries out `action` on `ids`. One call for the whole batch when it succeeds; when it fails
/// (one unknown id fails the whole call), one call per instance, so each gets its own answer.
pub async fn act(
    client: &Client,
    target: &Ec2Target,
    action: InstanceAction,
    ids: &[String],
) -> Vec<ActionOutcome> {
    let mut outcomes = Vec::with_capacity(ids.len());
    let mut allowed = Vec::with_capacity(ids.len());
    for id in ids {
        if action == InstanceAction::Terminate {
            match protected(client, target, id).await {
                Ok(false) => {}
                Ok(true) => {
                    outcomes.push(refused(
                        id,
                        "is protected against termination; turn protection off first".to_owned(),
                    ));
                    continue;
                }
                Err(error) => {
                    outcomes.push(refused(id, error.to_string()));
                    continue;
                }
            }
        }
        allowed.push(id.clone());
    }
    if !allowed.is_empty() {
        match call(client, target, action, &allowed).await {
            Ok(done) => outcomes.extend(done),
            Err(_) if allowed.len() > 1 => {
                for id in &allowed {
                    match call(client, target, action, std::slice::from_ref(id)).await {
                        Ok(done) => outcomes.extend(done),
                        Err(error) => outcomes.push(refused(id, error.to_string())),
                    }
                }
            }
            Err(error) => outcomes.push(refused(&allowed[0], error.to_string())),
        }
    }
    // Answer in the order asked.
    outcomes.sort_by_key(|outcome| ids.iter().position(|id| *id == outcome.instance_id));
    outcomes
}

async fn protected(client: &Client, target: &Ec2Target, id: &str) -> Result<bool, Ec2Error> {
    let answer = client
        .describe_instance_attribute()
        .instance_id(id)
        .attribute(InstanceAttributeName::DisableApiTermination)
        .send()
        .await
        .map_err(|error| Ec2Error::from_sdk(error, target))?;
    Ok(answer
        .disable_api_termination()
        .and_then(AttributeBooleanValue::value)
        .unwrap_or(false))
}

async fn call(
    client: &Client,
    target: &Ec2Target,
    action: InstanceAction,
    ids: &[String],
) -> Result<Vec<ActionOutcome>, Ec2Error> {
    let changes = match action {
        InstanceAction::Start => client
            .start_instances()
            .set_instance_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|error| Ec2Error::from_sdk(error, target))?
            .starting_instances()
            .to_vec(),
        InstanceAction::Stop => client
            .stop_instances()
            .set_instance_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|error| Ec2Error::from_sdk(error, target))?
            .stopping_instances()
            .to_vec(),
        InstanceAction::Terminate => client
            .terminate_instances()
            .set_instance_ids(Some(ids.to_vec()))
            .send()
            .await
            .map_err(|error| Ec2Error::from_sdk(error, target))?
            .terminating_instances()
            .to_vec(),
        InstanceAction::Reboot => {
            client
                .reboot_instances()
                .set_instance_ids(Some(ids.to_vec()))
                .send()
                .await
                .map_err(|error| Ec2Error::from_sdk(error, target))?;
            return Ok(ids.iter().map(|id| done(id, "rebooting", None)).collect());
        }
        InstanceAction::Protect | InstanceAction::Unprotect => {
            let on = action == InstanceAction::Protect;
            // EC2 changes this attribute one instance at a time.
            let mut outcomes = Vec::new();
            for id in ids {
                client
                    .modify_instance_attribute()
                    .instance_id(id)
                    .disable_api_termination(AttributeBooleanValue::builder().value(on).build())
                    .send()
                    .await
                    .map_err(|error| Ec2Error::from_sdk(error, target))?;
                let message = if on {
                    "protected against termination"
                } else {
                    "no longer protected"
                };
                outcomes.push(done(id, message, None));
            }
            return Ok(outcomes);
        }
    };
    Ok(changes.iter().map(outcome).collect())
}

fn outcome(change: &InstanceStateChange) -> ActionOutcome {
    let state = change
        .current_state()
        .and_then(|state| state.name())
        .map(|name| InstanceState::parse(name.as_str()));
    done(
        change.instance_id().unwrap_or_default(),
        state.map_or("done", InstanceState::as_str),
        state,
    )
}

fn done(id: &str, message: &str, state: Option<InstanceState>) -> ActionOutcome {
    ActionOutcome {
        instance_id: id.to_owned(),
        ok: true,
        message: message.to_owned(),
        state,
    }
}

fn refused(id: &str, message: String) -> ActionOutcome {
    ActionOutcome {
        instance_id: id.to_owned(),
        ok: false,
        message,
        state: None,
    }
}
