//! The home page: every EC2 instance of the chosen region.

use leptos::prelude::*;

use crate::components::EmptyState;

#[component]
pub fn InstancesPage() -> impl IntoView {
    view! {
        <h1>"Instances"</h1>
        <EmptyState title="No instances listed yet">
            <p>
                "This page lists every EC2 instance of a region, with their state, and lets you "
                "start, stop, reboot and terminate them. The instance list is not built yet."
            </p>
        </EmptyState>
    }
}
