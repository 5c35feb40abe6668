//! The region switcher of the top bar. The chosen region lives in the URL (`?region=`), so a
//! link or a reload keeps it.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};

use crate::api;

#[component]
pub fn RegionPicker() -> impl IntoView {
    let regions = LocalResource::new(api::regions);
    let query = use_query_map();
    let location = use_location();
    let navigate = use_navigate();
    let choose = move |event| {
        let region = event_target_value(&event);
        let mut params = query.get_untracked();
        params.replace("region", region);
        let url = format!(
            "{}{}",
            location.pathname.get_untracked(),
            params.to_query_string()
        );
        navigate(&url, NavigateOptions::default());
    };
    move || {
        let Some(Ok(regions)) = regions.get() else {
            return None;
        };
        let current = query.get().get("region").unwrap_or(regions.default.clone());
        Some(view! {
            <label class="region-picker">
                <span class="visually-hidden">"Region"</span>
                <select id="region" on:change=choose.clone() prop:value=current.clone()>
                    {regions
                        .regions
                        .into_iter()
                        .map(|region| {
                            let selected = region == current;
                            view! { <option value=region.clone() selected=selected>{region.clone()}</option> }
                        })
                        .collect_view()}
                </select>
            </label>
        })
    }
}
