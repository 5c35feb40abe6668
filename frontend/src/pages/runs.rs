//! The history of every run of a scenario.

use leptos::prelude::*;

use crate::components::EmptyState;

#[component]
pub fn RunsPage() -> impl IntoView {
    view! {
        <h1>"Runs"</h1>
        <EmptyState title="No runs yet">
            <p>"Every launch, install and scenario run, from the CLI or the console, is listed here."</p>
        </EmptyState>
    }
}
