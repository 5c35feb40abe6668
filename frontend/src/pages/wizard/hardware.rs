//! Step 2: the instance type with its hourly prices; types that cannot run the chosen AMI are
//! shown disabled.

use leptos::prelude::*;

use super::Draft;
use crate::api;
use crate::components::Loaded;

#[component]
pub fn Hardware(draft: RwSignal<Draft>) -> impl IntoView {
    let types = api::resource(api::instance_types);
    let family = RwSignal::new(String::new());
    let order = RwSignal::new("name".to_owned());
    let chosen = move || draft.with(|d| d.request.instance_type.clone());
    let image_arch = move || draft.with(|d| d.image_architecture.clone());
    view! {
        <h2>"Choose the hardware (instance type)"</h2>
        <div class="toolbar">
            <label for="type-family">"Family or size"</label>
            <input id="type-family" type="search" placeholder="t3, micro, m7g…"
                on:input=move |e| family.set(event_target_value(&e)) />
            <label for="type-order">"Sort by"</label>
            <select id="type-order" on:change=move |e| order.set(event_target_value(&e))>
                <option value="name">"name"</option>
                <option value="vcpus">"vCPUs"</option>
                <option value="memory">"memory"</option>
                <option value="price">"on-demand price"</option>
            </select>
        </div>
        <Loaded resource=types reading="the instance types" let:list>
            {
                let filter = family.get();
                let sources = list.prices.clone();
                let mut kinds: Vec<_> = list.instance_types.into_iter().filter(|t| t.name.contains(filter.trim())).collect();
                let price = |t: &knit_shared::InstanceTypeSummary| {
                    t.on_demand_hourly.as_deref().and_then(|p| p.parse::<f64>().ok()).unwrap_or(f64::MAX)
                };
                match order.get().as_str() {
                    // Ties in name order, as listed.
                    "vcpus" => kinds.sort_unstable_by(|a, b| (a.vcpus, a.memory_mib, &a.name).cmp(&(b.vcpus, b.memory_mib, &b.name))),
                    "memory" => kinds.sort_unstable_by(|a, b| (a.memory_mib, a.vcpus, &a.name).cmp(&(b.memory_mib, b.vcpus, &b.name))),
                    "price" => kinds.sort_unstable_by(|a, b| price(a).total_cmp(&price(b)).then_with(|| a.name.cmp(&b.name))),
                    _ => {}
                }
                view! {
                    <p class="muted" id="price-sources">
                        {format!("On-demand: {}. Spot: {}.", sources.on_demand, sources.spot)}
                    </p>
                    <table class="choices" id="type-table">
                        <thead><tr><th></th><th>"Type"</th><th>"vCPUs"</th><th>"Memory"</th><th>"Network"</th><th>"Architectures"</th><th>"On-demand $/h"</th><th>"Spot $/h"</th></tr></thead>
                        <tbody>
                            {kinds.into_iter().map(|kind| {
                                let arch = image_arch();
                                let incompatible = (!arch.is_empty() && !kind.architectures.contains(&arch))
                                    .then(|| format!("cannot run the {arch} AMI"));
                                let name = kind.name.clone();
                                let selected = {
                                    let name = name.clone();
                                    move || chosen() == name
                                };
                                let pick = {
                                    let name = name.clone();
                                    move |_| draft.update(|d| d.request.instance_type = name.clone())
                                };
                                let disabled = incompatible.is_some();
                                let reason = incompatible.clone().map(|why| format!(" — {why}"));
                                view! {
                                    <tr data-type=name.clone() class:disabled=disabled title=incompatible>
                                        <td><input type="radio" name="type" prop:checked=selected
                                            disabled=disabled on:change=pick
                                            aria-label=format!("choose {name}") /></td>
                                        <td>{name.clone()}</td>
                                        <td>{kind.vcpus}</td>
                                        <td>{format!("{:.1} GiB", kind.memory_mib as f64 / 1024.0)}</td>
                                        <td>{kind.network}</td>
                                        <td>{kind.architectures.join(", ")}{reason}</td>
                                        <td class="price-on-demand">{kind.on_demand_hourly.unwrap_or_else(|| "–".to_owned())}</td>
                                        <td class="price-spot">{kind.spot_hourly.unwrap_or_else(|| "–".to_owned())}</td>
                                    </tr>
                                }
                            }).collect_view()}
                        </tbody>
                    </table>
                }
            }
        </Loaded>
    }
}
