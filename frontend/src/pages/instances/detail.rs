//! The side panel with every field of one instance.

use knit_shared::{Instance, InstanceAction, Role};
use leptos::prelude::*;

use super::ListState;
use crate::components::{Loaded, StateBadge};
use crate::{api, session};

#[component]
pub fn InstanceDetail(state: ListState) -> impl IntoView {
    let instance = move || {
        let id = state.detail.get()?;
        state
            .rows
            .with(|rows| rows.iter().find(|r| r.id == id).cloned())
    };
    move || instance().map(|instance| view! { <Panel instance state /> })
}

#[component]
fn Panel(instance: Instance, state: ListState) -> impl IntoView {
    let field = |label: &'static str, value: Option<String>| {
        view! {
            <dt>{label}</dt>
            <dd>{value.unwrap_or_else(|| "—".to_owned())}</dd>
        }
    };
    let id = instance.id.clone();
    let protect = {
        let id = id.clone();
        move |on: bool| {
            let id = id.clone();
            move |_| {
                let action = if on {
                    InstanceAction::Protect
                } else {
                    InstanceAction::Unprotect
                };
                state.act.run((action, vec![id.clone()], Vec::new()));
            }
        }
    };
    view! {
        <aside class="detail" aria-label="Instance details" id="instance-detail">
            <header>
                <h2>{instance.name.clone().unwrap_or_else(|| instance.id.clone())}</h2>
                <button class="button" aria-label="Close" on:click=move |_| state.detail.set(None)>"×"</button>
            </header>
            <StateBadge state=instance.state />
            <dl>
                {field("Instance id", Some(instance.id.clone()))}
                {field("Type", Some(instance.instance_type.clone()))}
                {field("AMI", instance.image_id.clone())}
                {field("Zone", instance.availability_zone.clone())}
                {field("Launched", instance.launch_time.clone())}
                {field("Public IP", instance.public_ip.clone())}
                {field("Private IP", instance.private_ip.clone())}
                {field("Public DNS", instance.public_dns.clone())}
                {field("Private DNS", instance.private_dns.clone())}
                {field("Key pair", instance.key_name.clone())}
                {field("Monitoring", Some(instance.monitoring.clone()))}
                {field("Lifecycle", Some(instance.lifecycle.clone()))}
                {field("Platform", Some(instance.platform.clone()))}
            </dl>
            <h3>"Security groups"</h3>
            <GroupRules ids=instance.security_groups.iter().map(|g| g.id.clone()).collect() />
            <h3>"Tags"</h3>
            <table class="tags">
                {instance.tags.iter().map(|(k, v)| view! {
                    <tr><th>{k.clone()}</th><td>{v.clone()}</td></tr>
                }).collect_view()}
            </table>
            <SystemLog id=id.clone() />
            <Show when=|| session::may(Role::Admin)>
                <div class="detail-actions">
                    <button class="button" on:click=protect(true)>"Protect from termination"</button>
                    <button class="button" on:click=protect(false)>"Remove protection"</button>
                    <a class="button" href=format!("/wizard/ami?like={id}")>"Launch a similar instance"</a>
                </div>
            </Show>
        </aside>
    }
}

/// The end of the instance's system log (EC2's console output), read when asked, and again on
/// each press: where a failed boot is read.
#[component]
fn SystemLog(id: String) -> impl IntoView {
    let params = leptos_router::hooks::use_query_map().get_untracked();
    let scope = api::scope_query(params.get("profile"), params.get("region"));
    let asked = RwSignal::new(0u32);
    let log = api::resource(move || {
        let (id, scope, asked) = (id.clone(), scope.clone(), asked.get());
        async move {
            match asked {
                0 => Ok(None),
                _ => api::console_output(&id, &scope).await.map(Some),
            }
        }
    });
    view! {
        <h3>"System log"</h3>
        <button class="button" id="instance-console-read" on:click=move |_| asked.update(|n| *n += 1)>
            {move || if asked.get() == 0 { "Show the system log" } else { "Read it again" }}
        </button>
        <Loaded resource=log reading="the system log" let:shown>
            {shown.map(|log| {
                let said = match (log.output.is_empty(), log.truncated) {
                    (true, _) => "EC2 has no console output for it yet.",
                    (false, true) => "The last 64 KiB:",
                    (false, false) => "",
                };
                view! {
                    <p class="muted">{said}</p>
                    <pre class="system-log" id="instance-console">{log.output}</pre>
                }
            })}
        </Loaded>
    }
}

/// The inbound rules of the instance's groups, read when the panel opens.
#[component]
fn GroupRules(ids: Vec<String>) -> impl IntoView {
    let params = leptos_router::hooks::use_query_map().get_untracked();
    let scope = api::scope_query(params.get("profile"), params.get("region"));
    let groups = api::resource(move || api::security_groups(scope.clone(), ids.clone()));
    view! {
        <Loaded resource=groups reading="the groups' rules" let:list>
            {list.groups.into_iter().map(|group| view! {
                <div class="group" data-group=group.id.clone()>
                    <p><code>{group.id.clone()}</code>" "<strong>{group.name}</strong></p>
                    <table class="rules">
                        <tr><th>"Protocol"</th><th>"Ports"</th><th>"From"</th></tr>
                        {group.inbound.into_iter().map(|rule| view! {
                            <tr>
                                <td>{rule.protocol.clone()}</td>
                                <td>{rule.ports()}</td>
                                <td>{rule.sources.join(", ")}</td>
                            </tr>
                        }).collect_view()}
                    </table>
                </div>
            }).collect_view()}
        </Loaded>
    }
}
