//! The profile and region switchers of the top bar. The choice lives in the URL (`?profile=`,
//! `?region=`), so a link or a reload keeps it.

use leptos::prelude::*;
use leptos_router::NavigateOptions;
use leptos_router::hooks::{use_location, use_navigate, use_query_map};

use crate::api;

#[component]
pub fn ScopePicker() -> impl IntoView {
    let regions = api::resource(api::regions);
    let profiles = api::resource(api::profiles);
    view! {
        {move || profiles.get().and_then(Result::ok).filter(|p| !p.profiles.is_empty()).map(|p| {
            let default = p.default.unwrap_or_else(|| "default".to_owned());
            view! { <QuerySelect param="profile" label="AWS profile" options=p.profiles default /> }
        })}
        {move || regions.get().and_then(Result::ok).map(|r| {
            view! { <QuerySelect param="region" label="Region" options=r.regions default=r.default /> }
        })}
    }
}

/// A select whose value is the URL parameter `param`; choosing navigates to the same page with
/// the new value.
#[component]
fn QuerySelect(
    param: &'static str,
    label: &'static str,
    options: Vec<String>,
    default: String,
) -> impl IntoView {
    let query = use_query_map();
    let location = use_location();
    let navigate = use_navigate();
    let current = move || query.get().get(param).unwrap_or_else(|| default.clone());
    let choose = move |event| {
        let mut params = query.get_untracked();
        params.replace(param, event_target_value(&event));
        let url = format!(
            "{}{}",
            location.pathname.get_untracked(),
            params.to_query_string()
        );
        navigate(&url, NavigateOptions::default());
    };
    view! {
        <label class="scope-picker">
            <span class="visually-hidden">{label}</span>
            <select id=param title=label on:change=choose prop:value=current.clone()>
                {options
                    .into_iter()
                    .map(|option| {
                        let selected = option == current();
                        view! { <option value=option.clone() selected=selected>{option.clone()}</option> }
                    })
                    .collect_view()}
            </select>
        </label>
    }
}
