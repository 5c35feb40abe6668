//! Step 7: everything chosen, with what is still wrong, then the launch.

use knit_shared::LaunchResponse;
use leptos::prelude::*;

use super::{Draft, STEPS};
use crate::api;

#[component]
pub fn Review(draft: RwSignal<Draft>, on_launched: Callback<()>) -> impl IntoView {
    let launching = RwSignal::new(false);
    let outcome = RwSignal::new(None::<Result<LaunchResponse, String>>);
    let problems = move || draft.with(|d| d.request.problems());
    let launch = move |_| {
        let request = draft.get_untracked().request;
        launching.set(true);
        leptos::task::spawn_local(async move {
            let result = api::launch(&request).await.map_err(|e| e.to_string());
            if result.is_ok() {
                on_launched.run(());
            }
            outcome.set(Some(result));
            launching.set(false);
        });
    };
    let row = |step: usize, label: &'static str, value: String| {
        view! {
            <tr><th>{label}</th><td>{value}</td><td><a href=format!("/launch/{}", STEPS[step].0)>"Edit"</a></td></tr>
        }
    };
    view! {
        <h2>"Review and launch"</h2>
        {move || {
            let d = draft.get();
            let r = &d.request;
            let group = r.new_group.as_ref().map(|g| {
                let rules: Vec<String> = g.rules.iter().map(|x| format!("{} {} from {}", x.protocol, x.ports, x.source)).collect();
                format!("new group {} ({})", g.name, rules.join(", "))
            });
            let groups: Vec<String> = r.security_groups.iter().cloned().chain(group).collect();
            let tags: Vec<String> = r.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
            view! {
                <table class="review" id="review">
                    {row(0, "AMI", r.image_id.clone())}
                    {row(1, "Instance type", r.instance_type.clone())}
                    {row(2, "Count", r.count.to_string())}
                    {row(2, "Monitoring", if r.detailed_monitoring { "detailed (1 minute)" } else { "basic (5 minutes)" }.to_owned())}
                    {row(2, "Zone", r.zone.clone().unwrap_or_else(|| "any".to_owned()))}
                    {row(2, "On shutdown", if r.terminate_on_shutdown { "terminate" } else { "stop" }.to_owned())}
                    {row(2, "Termination protection", if r.termination_protection { "on" } else { "off" }.to_owned())}
                    {row(3, "Tags", tags.join(", "))}
                    {row(4, "Key pair", r.key_name.clone().unwrap_or_else(|| "none".to_owned()))}
                    {row(5, "Security groups", groups.join("; "))}
                </table>
            }
        }}
        {move || {
            let found = problems();
            (!found.is_empty()).then(|| view! {
                <section class="notice failed" id="review-problems">
                    <p>"Fix these first:"</p>
                    <ul>{found.into_iter().map(|p| view! { <li>{p.to_string()}</li> }).collect_view()}</ul>
                </section>
            })
        }}
        <button class="button primary" id="launch-go"
            disabled=move || launching.get() || !problems().is_empty() on:click=launch>
            "Launch"
        </button>
        {move || outcome.get().map(|result| match result {
            Ok(done) => view! {
                <section class="notice ok" id="launch-result">
                    <p>{format!("Started {}", done.instance_ids.join(", "))}</p>
                    {(!done.created.is_empty()).then(|| view! { <p>{format!("Created {}", done.created.join(", "))}</p> })}
                    <p><a href="/instances">"See them in the instance list"</a></p>
                </section>
            }.into_any(),
            Err(message) => view! { <p class="notice failed" id="launch-failed" role="alert">{message}</p> }.into_any(),
        })}
    }
}
