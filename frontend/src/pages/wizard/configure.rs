//! Step 3: how many, where (zone, subnet), on-demand or spot, CloudWatch monitoring, shutdown
//! behaviour, protection, user data.

use knit_shared::validate;
use knit_shared::wizard::{MAX_COUNT, MAX_USER_DATA};
use leptos::prelude::*;

use super::{Draft, DraftCheck, FieldError};
use crate::api;
use crate::components::Loaded;

#[component]
pub fn Configure(draft: RwSignal<Draft>) -> impl IntoView {
    let count_error = Signal::derive(move || {
        draft.with(|d| {
            validate::instance_count(d.request.count, MAX_COUNT)
                .err()
                .map(|e| e.message)
        })
    });
    let data_error = Signal::derive(move || {
        draft.with(|d| {
            validate::user_data(&d.request.user_data, MAX_USER_DATA)
                .err()
                .map(|e| e.message)
        })
    });
    let zones = api::resource(api::zones);
    let subnets = api::resource(api::subnets);
    let profiles = api::resource(api::instance_profiles);
    let price_error = Signal::derive(move || {
        draft.with(|d| {
            d.request
                .spot
                .then(|| validate::spot_max_price(&d.request.spot_max_price).err())
                .flatten()
                .map(|e| e.message)
        })
    });
    view! {
        <h2>"Configure and monitoring"</h2>
        <label for="count">"Number of instances"</label>
        <input id="count" type="number" min="1" max=MAX_COUNT
            prop:value=move || draft.with(|d| d.request.count.to_string())
            on:input=move |e| draft.update(|d| d.request.count = event_target_value(&e).parse().unwrap_or(0)) />
        <FieldError message=count_error />
        <label for="zone">"Availability zone"</label>
        <select id="zone" on:change=move |e| {
            let zone = event_target_value(&e);
            draft.update(|d| d.request.zone = (!zone.is_empty()).then_some(zone));
        }>
            <option value="">"Any (EC2 chooses)"</option>
            {move || zones.get().and_then(Result::ok).map(|list| list.zones.into_iter().map(|zone| {
                let selected = {
                    let zone = zone.clone();
                    move || draft.with(|d| d.request.zone.as_deref() == Some(zone.as_str()))
                };
                view! { <option value=zone.clone() selected=selected>{zone.clone()}</option> }
            }).collect_view())}
        </select>
        <label for="subnet">"Subnet"</label>
        <select id="subnet" on:change=move |e| {
            let subnet = event_target_value(&e);
            draft.update(|d| d.request.subnet_id = (!subnet.is_empty()).then_some(subnet));
        }>
            <option value="">"Default (the default VPC's subnet of the zone)"</option>
            {move || subnets.get().and_then(Result::ok).map(|list| list.subnets.into_iter().map(|subnet| {
                let selected = {
                    let id = subnet.id.clone();
                    move || draft.with(|d| d.request.subnet_id.as_deref() == Some(id.as_str()))
                };
                let label = format!(
                    "{} · {} · {} · {} free{}{}",
                    subnet.id, subnet.zone, subnet.cidr, subnet.available_addresses,
                    subnet.name.map(|n| format!(" · {n}")).unwrap_or_default(),
                    if subnet.default_for_zone { " · default" } else { "" },
                );
                view! { <option value=subnet.id.clone() selected=selected>{label}</option> }
            }).collect_view())}
        </select>
        <p class="muted">"A subnet lies in one zone and one VPC; when you choose one, its zone is used, and the instances and a new group go in its VPC."</p>
        {move || {
            let subnet = draft.with(|d| d.request.subnet_id.clone());
            let needed = subnets.get().and_then(Result::ok).is_some_and(|list| list.vpc_for(subnet.as_deref()).is_none());
            needed.then(|| view! {
                <p class="notice failed" id="subnet-needed">"This region has no default VPC: choose a subnet."</p>
            })
        }}
        <fieldset class="choices">
            <legend>"Purchase option"</legend>
            <DraftCheck draft id="spot" get={|r| r.spot} set={|r, on| r.spot = on}
                label="Spot: up to 90% cheaper, but AWS may take the instance back at two minutes' notice" />
            <div hidden=move || draft.with(|d| !d.request.spot)>
                <label for="spot-max-price">"Maximum price, dollars per hour (empty: up to the on-demand price)"</label>
                <input id="spot-max-price" type="text" inputmode="decimal"
                    prop:value=move || draft.with(|d| d.request.spot_max_price.clone())
                    on:input=move |e| draft.update(|d| d.request.spot_max_price = event_target_value(&e)) />
                <FieldError message=price_error />
            </div>
        </fieldset>
        <label for="instance-profile">"IAM instance profile (the role the instance's software acts as)"</label>
        <Loaded resource=profiles reading="the instance profiles" let:list>
            <select id="instance-profile" on:change=move |e| {
                let name = event_target_value(&e);
                draft.update(|d| d.request.instance_profile = (!name.is_empty()).then_some(name));
            }>
                <option value="">"None"</option>
                {list.instance_profiles.into_iter().map(|profile| {
                    let selected = {
                        let name = profile.name.clone();
                        move || draft.with(|d| d.request.instance_profile.as_deref() == Some(name.as_str()))
                    };
                    let label = if profile.roles.is_empty() {
                        format!("{} (no role)", profile.name)
                    } else {
                        format!("{} (role {})", profile.name, profile.roles.join(", "))
                    };
                    view! { <option value=profile.name.clone() selected=selected>{label}</option> }
                }).collect_view()}
            </select>
        </Loaded>
        <DraftCheck draft id="terminate-on-shutdown" get={|r| r.terminate_on_shutdown} set={|r, on| r.terminate_on_shutdown = on}
            label="Terminate (instead of stop) when shut down from inside the instance" />
        <DraftCheck draft id="termination-protection" get={|r| r.termination_protection} set={|r, on| r.termination_protection = on}
            label="Termination protection: refuse to terminate until it is removed" />
        <DraftCheck draft id="monitoring" get={|r| r.detailed_monitoring} set={|r, on| r.detailed_monitoring = on}
            label="Detailed CloudWatch monitoring" />
        <p class="muted">
            "Basic monitoring (free) sends metrics every 5 minutes; detailed monitoring sends them "
            "every minute and is billed per metric (about $2.10 per instance per month for the 7 "
            "default EC2 metrics, by AWS's public price list)."
        </p>
        <label for="user-data">"User data (a script cloud-init runs at first boot)"</label>
        <textarea id="user-data" rows="6"
            prop:value=move || draft.with(|d| d.request.user_data.clone())
            on:input=move |e| draft.update(|d| d.request.user_data = event_target_value(&e))></textarea>
        <p class="muted">{move || format!("{} of {MAX_USER_DATA} bytes", draft.with(|d| d.request.user_data.len()))}</p>
        <FieldError message=data_error />
    }
}
