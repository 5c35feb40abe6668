//! Step 7: everything chosen, what is still wrong, what to know, EC2's dry run, then the
//! launch, and the private key of a new key pair offered once.

use knit_shared::catalog::{HOURS_PER_MONTH, cost};
use knit_shared::{InstanceTypeList, WizardLaunched, WizardRequest};
use leptos::prelude::*;

use super::{Draft, STEPS};
use crate::api;

#[component]
pub fn Review(draft: RwSignal<Draft>, on_launched: Callback<()>) -> impl IntoView {
    let launching = RwSignal::new(false);
    // What the launch did, with the file name for a new key pair's private key.
    let outcome = RwSignal::new(None::<Result<(WizardLaunched, String), String>>);
    let problems = move || draft.with(|d| d.request.problems());
    // EC2's dry run of the request as it stands (not of the rest of the draft); nothing is
    // created.
    let request = Memo::new(move |_| draft.with(|d| d.request.clone()));
    let dry_run = api::resource(move || {
        let request = request.get();
        async move {
            if !request.problems().is_empty() {
                return None;
            }
            Some(api::wizard_check(&request).await.map_err(|e| e.to_string()))
        }
    });
    let accepted = move || matches!(dry_run.get(), Some(Some(Ok(_))));
    // A refusal is kept with the draft, to be shown again on the step it concerns.
    Effect::new(move |_| match dry_run.get() {
        Some(Some(Err(message))) => draft.update(|d| d.failure = Some(message)),
        Some(Some(Ok(_))) => draft.update(|d| d.failure = None),
        _ => {}
    });
    let types = api::resource(api::instance_types);
    let subnets = api::resource(api::subnets);
    let vpc = move || {
        let subnet = draft.with(|d| d.request.subnet_id.clone());
        match subnets.get() {
            None => "…".to_owned(),
            Some(Err(failure)) => failure.to_string(),
            Some(Ok(list)) => list
                .vpc_for(subnet.as_deref())
                .map_or_else(|| "none: choose a subnet".to_owned(), str::to_owned),
        }
    };
    let launch = move |_| {
        let request = draft.get_untracked().request;
        let key_file = request
            .new_key
            .as_ref()
            .map_or_else(String::new, |key| format!("{}.pem", key.name));
        launching.set(true);
        leptos::task::spawn_local(async move {
            let result = api::wizard_launch(&request)
                .await
                .map(|done| (done, key_file))
                .map_err(|e| e.to_string());
            match &result {
                Ok(_) => on_launched.run(()),
                Err(message) => draft.update(|d| d.failure = Some(message.clone())),
            }
            outcome.set(Some(result));
            launching.set(false);
        });
    };
    view! {
        <h2>"Review and launch"</h2>
        {move || draft.with(|d| summary(&d.request, vpc()))}
        {move || types.get().and_then(Result::ok).map(|list| draft.with(|d| price(&d.request, &list)))}
        {move || {
            let found = problems();
            (!found.is_empty()).then(|| view! {
                <section class="notice failed" id="review-problems">
                    <p>"Fix these first:"</p>
                    <ul>{found.into_iter().map(|p| view! { <li>{p.to_string()}</li> }).collect_view()}</ul>
                </section>
            })
        }}
        {move || {
            let warnings = draft.with(|d| d.request.warnings());
            (!warnings.is_empty()).then(|| view! {
                <section class="notice warning" id="review-warnings">
                    <ul>{warnings.into_iter().map(|w| view! { <li>{w}</li> }).collect_view()}</ul>
                </section>
            })
        }}
        {move || match dry_run.get() {
            Some(Some(Ok(check))) => view! { <p class="notice ok" id="dry-run">{check.message}</p> }.into_any(),
            Some(Some(Err(message))) => view! {
                <p class="notice failed" id="dry-run" role="alert">{message.clone()}</p>
                {fix_link(&message)}
            }.into_any(),
            Some(None) => ().into_any(),
            None => view! { <p class="loading" id="dry-run">"Asking EC2 for a dry run…"</p> }.into_any(),
        }}
        <button class="button primary" id="launch-go"
            disabled=move || launching.get() || !problems().is_empty() || !accepted() on:click=launch>
            "Launch"
        </button>
        {move || outcome.get().map(|result| match result {
            Ok((done, key_file)) => launched(done, key_file).into_any(),
            Err(message) => view! {
                <p class="notice failed" id="launch-failed" role="alert">{message.clone()}</p>
                {fix_link(&message)}
            }.into_any(),
        })}
    }
}

/// A link to the step an error concerns, when it names one.
fn fix_link(message: &str) -> Option<impl IntoView + use<>> {
    let step = knit_shared::wizard::step_of(message)?;
    let (index, (slug, title)) = STEPS
        .iter()
        .enumerate()
        .find(|(_, (slug, _))| *slug == step)?;
    Some(view! {
        <p><a class="button" id="failure-step" href=format!("/wizard/{slug}")>{format!("Fix it in step {}: {title}", index + 1)}</a></p>
    })
}

/// The table of choices, each with a link back to its step.
fn summary(r: &WizardRequest, vpc: String) -> impl IntoView + use<> {
    let row = |step: usize, label: &'static str, value: String| {
        view! {
            <tr><th>{label}</th><td>{value}</td><td><a href=format!("/wizard/{}", STEPS[step].0)>"Edit"</a></td></tr>
        }
    };
    let group = r.new_group.as_ref().map(|g| {
        let rules: Vec<String> = g
            .rules
            .iter()
            .map(|x| format!("{} {} from {}", x.protocol, x.ports, x.source))
            .collect();
        format!("new group {} ({})", g.name, rules.join(", "))
    });
    let groups: Vec<String> = r.security_groups.iter().cloned().chain(group).collect();
    let tags: Vec<String> = r.tags.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let key = match (&r.key_name, &r.new_key) {
        (Some(name), _) => name.clone(),
        (None, Some(key)) if key.public_key.is_some() => {
            format!("{} (imported at launch)", key.name)
        }
        (None, Some(key)) => format!("{} (created at launch)", key.name),
        (None, None) => "none".to_owned(),
    };
    let purchase = match (r.spot, r.spot_max_price.as_str()) {
        (false, _) => "on-demand".to_owned(),
        (true, "") => "spot, up to the on-demand price".to_owned(),
        (true, max) => format!("spot, at most ${max} per hour"),
    };
    view! {
        <table class="review" id="review">
            {row(0, "AMI", r.image_id.clone())}
            {row(1, "Instance type", r.instance_type.clone())}
            {row(2, "Count", r.count.to_string())}
            {row(2, "Purchase", purchase)}
            {row(2, "Monitoring", if r.detailed_monitoring { "detailed (1 minute)" } else { "basic (5 minutes)" }.to_owned())}
            {row(2, "Zone", r.zone.clone().unwrap_or_else(|| "any".to_owned()))}
            {row(2, "Subnet", r.subnet_id.clone().unwrap_or_else(|| "default".to_owned()))}
            <tr><th>"VPC"</th><td id="review-vpc">{vpc}</td><td></td></tr>
            {row(2, "Instance profile", r.instance_profile.clone().unwrap_or_else(|| "none".to_owned()))}
            {row(2, "On shutdown", if r.terminate_on_shutdown { "terminate" } else { "stop" }.to_owned())}
            {row(2, "Termination protection", if r.termination_protection { "on" } else { "off" }.to_owned())}
            {row(3, "Tags", tags.join(", "))}
            {row(4, "Key pair", key)}
            {row(5, "Security groups", groups.join("; "))}
        </table>
    }
}

/// What the launch will cost per hour and per month, and where the price comes from.
fn price(r: &WizardRequest, list: &InstanceTypeList) -> impl IntoView + use<> {
    let kind = list
        .instance_types
        .iter()
        .find(|t| t.name == r.instance_type);
    let (hourly, source) = if r.spot {
        (
            kind.and_then(|t| t.spot_hourly.clone()),
            format!("spot price now; it changes. {}", list.prices.spot),
        )
    } else {
        (
            kind.and_then(|t| t.on_demand_hourly.clone()),
            list.prices.on_demand.clone(),
        )
    };
    let text = match hourly
        .as_deref()
        .and_then(|h| Some((cost(h, r.count, 1.0)?, cost(h, r.count, HOURS_PER_MONTH)?)))
    {
        Some((hour, month)) => format!(
            "${hour:.4} per hour, ${month:.2} per month for {} × {} (instances only: storage and traffic are extra; {source})",
            r.count, r.instance_type
        ),
        None => format!("no price known for {} here", r.instance_type),
    };
    view! { <p class="notice" id="review-cost">{text}</p> }
}

/// What the launch did, with the new key pair's private key offered this once.
fn launched(done: WizardLaunched, key_file: String) -> impl IntoView {
    let key = done.private_key.map(|pem| {
        let href = format!(
            "data:application/x-pem-file;charset=utf-8,{}",
            String::from(js_sys::encode_uri_component(&pem))
        );
        view! {
            <section class="notice warning" id="private-key-offer">
                <p>"The private key of the new key pair. Download it now: it is shown only this once, and neither knit nor AWS keeps a copy."</p>
                <a class="button primary" id="private-key-download" href=href download=key_file>"Download the private key"</a>
                <textarea id="private-key" readonly rows="4">{pem}</textarea>
            </section>
        }
    });
    view! {
        <section class="notice ok" id="launch-result">
            <p>{format!("Started {}", done.instance_ids.join(", "))}</p>
            {(!done.created.is_empty()).then(|| view! { <p>{format!("Created {}", done.created.join(", "))}</p> })}
            {done.repeated.then(|| view! { <p>"This launch had been made already; nothing new was started."</p> })}
            <p><a href=format!("/launched?ids={}", done.instance_ids.join(",")) id="launch-follow">"Follow them until SSH answers"</a></p>
        </section>
        {key}
    }
}
