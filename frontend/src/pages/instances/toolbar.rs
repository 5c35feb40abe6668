//! Filters above the list: free text, state, tag; and a refresh that reads EC2 now.

use knit_shared::{InstanceList, InstanceState};
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use super::ListState;

#[component]
pub fn Toolbar(state: ListState, fetched: Signal<Option<InstanceList>>) -> impl IntoView {
    let query = use_query_map();
    let param = move |key: &'static str| move || query.get().get(key).unwrap_or_default();
    let set = move |key: &'static str| {
        move |event| state.set_param.run((key, event_target_value(&event)))
    };
    view! {
        <div class="toolbar" role="search">
            <input
                id="filter"
                type="search"
                placeholder="Filter by id, name, IP, DNS or tag"
                aria-label="Filter"
                prop:value=param("q")
                on:input=set("q")
            />
            <select id="state-filter" aria-label="State" prop:value=param("state") on:change=set("state")>
                <option value="">"Any state"</option>
                {InstanceState::ALL
                    .into_iter()
                    .map(|s| view! { <option value=s.as_str()>{s.as_str()}</option> })
                    .collect_view()}
            </select>
            <input
                id="tag-filter"
                type="text"
                placeholder="Tag key=value"
                aria-label="Tag"
                prop:value=param("tag")
                on:change=set("tag")
            />
            <button class="button" on:click=move |_| state.refresh.run(()) title="Read EC2 now">
                "Refresh"
            </button>
            <span class="fetched" id="list-summary">
                {move || fetched.get().map(|list| {
                    format!(
                        "{} of {} instances in {} · read {}",
                        list.instances.len(),
                        list.total,
                        list.region,
                        // `2026-11-23T11:03:40.02Z` as `2026-11-23 11:03:40 UTC`
                        list.fetched_at.get(..19).unwrap_or(&list.fetched_at).replace('T', " ") + " UTC",
                    )
                })}
            </span>
        </div>
    }
}
