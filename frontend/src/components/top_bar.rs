//! The bar at the top of every page: the name and the main sections.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use super::ScopePicker;

#[component]
pub fn TopBar() -> impl IntoView {
    // The section links keep the chosen profile and region.
    let query = use_query_map();
    let href = move |path: &'static str| {
        move || {
            let mut scope = leptos_router::params::ParamsMap::new();
            for key in ["profile", "region"] {
                if let Some(value) = query.get().get(key) {
                    scope.replace(key, value);
                }
            }
            format!("{path}{}", scope.to_query_string())
        }
    };
    view! {
        <header class="top-bar">
            <a class="brand" href="/instances">
                <img src="/favicon.svg" alt="" width="22" height="22" />
                "knit"
            </a>
            <nav aria-label="Sections">
                <A href=href("/instances")>"Instances"</A>
                <A href=href("/launch")>"Launch"</A>
                <A href=href("/clusters")>"Clusters"</A>
                <A href=href("/runs")>"Runs"</A>
                <A href=href("/audit")>"Audit"</A>
            </nav>
            <div class="scope">
                <ScopePicker />
            </div>
        </header>
    }
}
