//! The bar at the top of every page: the name and the main sections.

use leptos::prelude::*;
use leptos_router::components::A;
use leptos_router::hooks::use_query_map;

use super::RegionPicker;

#[component]
pub fn TopBar() -> impl IntoView {
    // The section links keep the chosen region.
    let query = use_query_map();
    let href = move |path: &'static str| {
        move || match query.get().get("region") {
            Some(region) => format!("{path}?region={region}"),
            None => path.to_owned(),
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
            </nav>
            <RegionPicker />
        </header>
    }
}
