//! Step 6: existing security groups of the VPC the instances go in, or a new one with its rules
//! (created in that VPC, only at launch).

use knit_shared::{NewRule, validate};
use leptos::prelude::*;

use super::{Draft, FieldError};
use crate::api;
use crate::components::Loaded;

#[component]
pub fn Network(draft: RwSignal<Draft>) -> impl IntoView {
    let subnets = api::resource(api::subnets);
    // `None` while the subnets load; `Some(None)` when no VPC follows from the choices.
    let vpc = move || {
        let subnet = draft.with(|d| d.request.subnet_id.clone());
        subnets.get().map(|list| {
            list.ok()
                .and_then(|l| l.vpc_for(subnet.as_deref()).map(str::to_owned))
        })
    };
    let groups = api::resource(move || {
        let vpc = vpc().flatten();
        async move {
            match vpc {
                Some(vpc) => api::vpc_security_groups(vpc).await.map(Some),
                None => Ok(None),
            }
        }
    });
    // Groups of another VPC (chosen before the subnet changed) cannot go with these instances.
    Effect::new(move |_| {
        if let Some(Ok(Some(list))) = groups.get() {
            let ids: Vec<String> = list.groups.into_iter().map(|g| g.id).collect();
            if draft.with_untracked(|d| d.request.security_groups.iter().any(|g| !ids.contains(g)))
            {
                draft.update(|d| d.request.security_groups.retain(|g| ids.contains(g)));
            }
        }
    });
    let my_address = api::resource(api::client_address);
    let rule_count =
        move || draft.with(|d| d.request.new_group.as_ref().map_or(0, |g| g.rules.len()));
    let problems = Signal::derive(move || {
        draft.with(|d| {
            let group = d.request.new_group.as_ref()?;
            let mut found = Vec::new();
            if let Err(e) = validate::group_name(&group.name) {
                found.push(e.message);
            }
            for rule in &group.rules {
                if let Err(e) = validate::port_range(&rule.ports) {
                    found.push(e.message);
                }
                if let Err(e) = validate::rule_source(&rule.source) {
                    found.push(e.message);
                }
            }
            (!found.is_empty()).then(|| found.join("; "))
        })
    });
    let warnings = move || {
        draft.with(|d| {
            d.request
                .new_group
                .iter()
                .flat_map(|g| g.rules.iter().filter_map(NewRule::warning))
                .collect::<Vec<_>>()
        })
    };
    view! {
        <h2>"Security group"</h2>
        <p id="network-vpc">{move || match vpc() {
            None => "Reading the region's subnets…".to_owned(),
            Some(Some(vpc)) => format!("The instances go in {vpc}; its groups are offered, and a new group is made in it."),
            Some(None) => String::new(),
        }}</p>
        {move || (vpc() == Some(None)).then(|| view! {
            <p class="notice failed" id="network-no-vpc">
                "This region has no default VPC: go back to Configure and choose a subnet, "
                "which says the VPC the instances go in."
            </p>
        })}
        <h3>"Existing groups"</h3>
        <Loaded resource=groups reading="the security groups" let:found>
            {match found {
                None => view! { <p class="muted">"No VPC chosen."</p> }.into_any(),
                Some(list) => view! {
                    <ul class="group-choices" id="group-choices">
                        {list.groups.into_iter().map(|group| {
                            let id = group.id.clone();
                            let checked = {
                                let id = id.clone();
                                move || draft.with(|d| d.request.security_groups.contains(&id))
                            };
                            let toggle = move |e| {
                                let on = event_target_checked(&e);
                                let id = id.clone();
                                draft.update(|d| {
                                    d.request.security_groups.retain(|g| *g != id);
                                    if on {
                                        d.request.security_groups.push(id);
                                    }
                                });
                            };
                            let rules: Vec<String> = group.inbound.iter().map(|rule| {
                                let ports = match (rule.from_port, rule.to_port) {
                                    (Some(from), Some(to)) if from == to => from.to_string(),
                                    (Some(from), Some(to)) => format!("{from}–{to}"),
                                    _ => "all ports".to_owned(),
                                };
                                format!("{} {ports} from {}", rule.protocol, rule.sources.join(", "))
                            }).collect();
                            view! {
                                <li>
                                    <label class="check">
                                        <input type="checkbox" data-group=group.name.clone() prop:checked=checked on:change=toggle />
                                        {format!(" {} ({})", group.name, group.id)}
                                    </label>
                                    <span class="muted">{rules.join(" · ")}</span>
                                </li>
                            }
                        }).collect_view()}
                    </ul>
                }.into_any(),
            }}
        </Loaded>
        <h3>"Or create a new group"</h3>
        <label for="group-name">"Name"</label>
        <input id="group-name" type="text"
            prop:value=move || draft.with(|d| d.request.new_group.as_ref().map(|g| g.name.clone()).unwrap_or_default())
            on:change=move |e| {
                let name = event_target_value(&e);
                draft.update(|d| {
                    if name.is_empty() && d.request.new_group.as_ref().is_none_or(|g| g.rules.is_empty()) {
                        d.request.new_group = None;
                    } else {
                        d.new_group().name = name;
                    }
                });
            } />
        <table class="rules-editor" id="rules-editor">
            <thead><tr><th>"Protocol"</th><th>"Ports"</th><th>"Source: CIDR block or sg-… group"</th><th></th></tr></thead>
            <tbody>
                {move || (0..rule_count()).map(|index| {
                    let field = move |pick: fn(&NewRule) -> String| {
                        move || draft.with(|d| d.request.new_group.as_ref().and_then(|g| g.rules.get(index)).map(pick).unwrap_or_default())
                    };
                    let set = move |apply: fn(&mut NewRule, String)| {
                        move |e: leptos::ev::Event| {
                            let value = event_target_value(&e);
                            draft.update(|d| if let Some(rule) = d.new_group().rules.get_mut(index) { apply(rule, value) });
                        }
                    };
                    view! {
                        <tr>
                            <td><select class="rule-protocol" prop:value=field(|r| r.protocol.clone()) on:change=set(|r, v| r.protocol = v)>
                                <option value="tcp">"tcp"</option><option value="udp">"udp"</option>
                                <option value="icmp">"icmp"</option><option value="all">"all"</option>
                            </select></td>
                            <td><input class="rule-ports" type="text" prop:value=field(|r| r.ports.clone()) on:change=set(|r, v| r.ports = v) /></td>
                            <td>
                                <input class="rule-source" type="text" list="group-ids" prop:value=field(|r| r.source.clone()) on:change=set(|r, v| r.source = v) />
                                <button class="button small rule-my-ip" title="The address this browser reaches knit from"
                                    disabled=move || !matches!(my_address.get(), Some(Ok(_)))
                                    on:click=move |_| {
                                        if let Some(Ok(mine)) = my_address.get_untracked() {
                                            draft.update(|d| if let Some(rule) = d.new_group().rules.get_mut(index) { rule.source = mine.cidr });
                                        }
                                    }>"My IP"</button>
                            </td>
                            <td><button class="button small" on:click=move |_| draft.update(|d| { d.new_group().rules.remove(index); })>"Remove"</button></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <button class="button" id="rule-add" on:click=move |_| draft.update(|d| d.new_group().rules.push(NewRule {
            protocol: "tcp".to_owned(),
            ports: "22".to_owned(),
            source: String::new(),
        }))>"Add a rule"</button>
        // Other groups as rule sources: the same list, offered as the source field is typed.
        <datalist id="group-ids">
            {move || groups.get().and_then(Result::ok).flatten().map(|list| list.groups.into_iter().map(|group| {
                view! { <option value=group.id.clone()>{group.name.clone()}</option> }
            }).collect_view())}
        </datalist>
        <FieldError message=problems />
        {move || warnings().into_iter().map(|w| view! { <p class="notice warning">{w}</p> }).collect_view()}
    }
}
