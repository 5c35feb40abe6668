//! What each host of a cluster runs now: the release, commit and ref it last reported, from
//! which run; a host whose commit differs from most hosts' is marked, so one left behind by a
//! failed or partial deploy stands out.

use knit_shared::HostRelease;
use leptos::prelude::*;

use crate::api;
use crate::components::Loaded;

#[component]
pub fn LiveReleases(cluster: String) -> impl IntoView {
    let releases = api::resource(move || api::releases(cluster.clone()));
    view! {
        <Loaded resource=releases reading="what the hosts run" let:list>
            {if list.hosts.is_empty() {
                view! { <p class="hint live-releases">"No host has reported a release yet."</p> }.into_any()
            } else {
                table(list.hosts).into_any()
            }}
        </Loaded>
    }
}

fn table(hosts: Vec<HostRelease>) -> impl IntoView {
    let usual = most_common(&hosts);
    view! {
        <table class="live-releases">
            <thead><tr>
                <th>"Host"</th><th>"Release"</th><th>"Commit"</th><th>"Ref"</th><th>"Since"</th>
            </tr></thead>
            <tbody>
                {hosts.into_iter().map(|live| {
                    let value = |name: &str| live.outputs.get(name).cloned().unwrap_or_default();
                    let release = value("release");
                    let differs = usual.as_ref().is_some_and(|usual| *usual != identity(&live));
                    let commit: String = value("commit").chars().take(12).collect();
                    view! {
                        <tr data-host=live.host.clone() class:differs=differs>
                            <td>{live.host.clone()}</td>
                            <td>{release}{differs.then_some(" (differs)")}</td>
                            <td><code>{commit}</code></td>
                            <td>{value("ref")}</td>
                            <td>
                                <a href=format!("/runs/{}", live.run)>{format!("run {}", live.run)}</a>
                                {format!(" by {} at {}", live.actor, live.at)}
                            </td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
    }
}

/// The commit most hosts serve, when hosts reported any.
fn most_common(hosts: &[HostRelease]) -> Option<String> {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for key in hosts.iter().map(identity) {
        match counts.iter_mut().find(|(seen, _)| *seen == key) {
            Some((_, count)) => *count += 1,
            None => counts.push((key, 1)),
        }
    }
    counts
        .into_iter()
        .max_by_key(|(_, count)| *count)
        .map(|(key, _)| key)
}

/// What tells one host's code from another's: its commit (release folders are named per host).
fn identity(live: &HostRelease) -> String {
    live.outputs.get("commit").cloned().unwrap_or_default()
}
