//! The bar at the top of every page: the name and the main sections.

use leptos::prelude::*;
use leptos_router::components::A;

#[component]
pub fn TopBar() -> impl IntoView {
    view! {
        <header class="top-bar">
            <a class="brand" href="/instances">
                <img src="/favicon.svg" alt="" width="22" height="22" />
                "knit"
            </a>
            <nav aria-label="Sections">
                <A href="/instances">"Instances"</A>
                <A href="/launch">"Launch"</A>
                <A href="/clusters">"Clusters"</A>
                <A href="/runs">"Runs"</A>
            </nav>
        </header>
    }
}
