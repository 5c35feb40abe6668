//! Text filters kept in the URL's query, so a filtered list can be reloaded, shared and walked
//! back through.

use leptos::prelude::*;
use leptos_router::hooks::{use_navigate, use_query_map};

/// One search field per `(query key, label)` of `filters`, on the page at `path`.
#[component]
pub fn QueryFilters(
    path: &'static str,
    filters: &'static [(&'static str, &'static str)],
) -> impl IntoView {
    let query = use_query_map();
    let navigate = use_navigate();
    let set_filter = move |key: &'static str, value: String| {
        let mut params: Vec<(String, String)> = filters
            .iter()
            .filter(|(name, _)| *name != key)
            .filter_map(|(name, _)| {
                query
                    .read_untracked()
                    .get(name)
                    .map(|v| ((*name).to_owned(), v))
            })
            .collect();
        if !value.trim().is_empty() {
            params.push((key.to_owned(), value.trim().to_owned()));
        }
        let search: Vec<String> = params
            .iter()
            .map(|(k, v)| format!("{k}={}", js_sys::encode_uri_component(v)))
            .collect();
        navigate(&format!("{path}?{}", search.join("&")), Default::default());
    };
    let prefix = path.trim_start_matches('/');
    view! {
        <form class="toolbar" on:submit=|event| event.prevent_default()>
            {filters.iter().map(|(key, label)| {
                let set_filter = set_filter.clone();
                let id = format!("{prefix}-{key}");
                view! {
                    <label for=id.clone()>{*label}</label>
                    <input id=id type="search"
                        prop:value=move || query.read().get(key).unwrap_or_default()
                        on:change=move |event| set_filter(key, event_target_value(&event)) />
                }
            }).collect_view()}
        </form>
    }
}
