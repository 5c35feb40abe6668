//! The instance table: sortable columns, row selection, one page of rows at a time.

use knit_shared::Instance;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::{ListState, PAGE_SIZE};
use crate::components::StateBadge;

/// Column titles and the `sort` value (a `SortKey`) each sorts by.
const COLUMNS: [(&str, &str); 7] = [
    ("Name", "name"),
    ("Instance", "id"),
    ("State", "state"),
    ("Type", "instance_type"),
    ("Zone", "availability_zone"),
    ("Public IP", "public_ip"),
    ("Private IP", "private_ip"),
];

#[component]
pub fn InstanceTable(state: ListState) -> impl IntoView {
    let query = use_query_map();
    let sorted_by = move || query.get().get("sort").unwrap_or_else(|| "name".to_owned());
    let descending = move || query.get().get("order").as_deref() == Some("desc");
    let sort = move |key: &'static str| {
        let order = if sorted_by() == key && !descending() {
            "desc"
        } else {
            "asc"
        };
        state.set_param.run(("sort", key.to_owned()));
        state.set_param.run(("order", order.to_owned()));
    };
    let visible = move || {
        state.rows.with(|rows| {
            let start = state.page.get() * PAGE_SIZE;
            rows.iter()
                .skip(start)
                .take(PAGE_SIZE)
                .cloned()
                .collect::<Vec<_>>()
        })
    };
    let all_selected = move || {
        let shown = visible();
        !shown.is_empty()
            && state
                .selected
                .with(|s| shown.iter().all(|i| s.contains(&i.id)))
    };
    let toggle_all = move |_| {
        let shown = visible();
        let select = !all_selected();
        state.selected.update(|s| {
            for instance in shown {
                if select {
                    s.insert(instance.id);
                } else {
                    s.remove(&instance.id);
                }
            }
        });
    };

    view! {
        <table class="instances">
            <thead>
                <tr>
                    <th class="select">
                        <input type="checkbox" aria-label="Select all shown" prop:checked=all_selected on:change=toggle_all />
                    </th>
                    {COLUMNS.into_iter().map(|(title, key)| {
                        let arrow = move || match (sorted_by() == key, descending()) {
                            (true, false) => " ▲",
                            (true, true) => " ▼",
                            _ => "",
                        };
                        view! {
                            <th>
                                <button class="sort" data-sort=key on:click=move |_| sort(key)>{title}{arrow}</button>
                            </th>
                        }
                    }).collect_view()}
                </tr>
            </thead>
            <tbody>
                <For each=visible key=|instance| format!("{}:{:?}:{:?}", instance.id, instance.state, instance.ssh) let:instance>
                    <Row instance state />
                </For>
            </tbody>
        </table>
        <Pager state />
    }
}

#[component]
fn Row(instance: Instance, state: ListState) -> impl IntoView {
    let id = instance.id.clone();
    let checked = {
        let id = id.clone();
        move || state.selected.with(|s| s.contains(&id))
    };
    let toggle = {
        let id = id.clone();
        move |_| {
            state.selected.update(|s| {
                if !s.remove(&id) {
                    s.insert(id.clone());
                }
            })
        }
    };
    let open = {
        let id = id.clone();
        move |_| state.detail.set(Some(id.clone()))
    };
    let dash = |value: Option<String>| value.unwrap_or_else(|| "—".to_owned());
    let row_selected = checked.clone();
    view! {
        <tr data-id=id.clone() class:selected=row_selected>
            <td class="select">
                <input type="checkbox" aria-label=format!("Select {id}") prop:checked=checked on:change=toggle />
            </td>
            <td class="name">{dash(instance.name)}</td>
            <td><button class="link" on:click=open>{id.clone()}</button></td>
            <td><StateBadge state=instance.state />" "<SshBadge ssh=instance.ssh /></td>
            <td>{instance.instance_type}</td>
            <td>{dash(instance.availability_zone)}</td>
            <td class="ip">{dash(instance.public_ip)}</td>
            <td class="ip">{dash(instance.private_ip)}</td>
        </tr>
    }
}

/// Whether a running instance answered SSH: ready to deploy to, or not (yet).
#[component]
fn SshBadge(ssh: Option<bool>) -> impl IntoView {
    ssh.map(|answered| match answered {
        true => view! {
            <span class="badge ssh-ready" data-ssh="ready" title="port 22 answers SSH">"SSH"</span>
        },
        false => view! {
            <span class="badge ssh-silent" data-ssh="silent" title="port 22 does not answer SSH (yet)">"no SSH"</span>
        },
    })
}

#[component]
fn Pager(state: ListState) -> impl IntoView {
    let count = move || state.rows.with(Vec::len);
    let pages = move || count().div_ceil(PAGE_SIZE).max(1);
    view! {
        <Show when=move || { pages() > 1 }>
            <nav class="pager" aria-label="Pages">
                <button class="button" disabled=move || state.page.get() == 0 on:click=move |_| state.page.update(|p| *p -= 1)>
                    "Previous"
                </button>
                <span>
                    {move || {
                        let start = state.page.get() * PAGE_SIZE;
                        format!("{}–{} of {}", start + 1, (start + PAGE_SIZE).min(count()), count())
                    }}
                </span>
                <button class="button" disabled=move || state.page.get() + 1 >= pages() on:click=move |_| state.page.update(|p| *p += 1)>
                    "Next"
                </button>
            </nav>
        </Show>
    }
}
