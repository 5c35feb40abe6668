//! Clusters from the definition files, with one button per scenario.

use leptos::prelude::*;

use crate::components::EmptyState;

#[component]
pub fn ClustersPage() -> impl IntoView {
    view! {
        <h1>"Clusters"</h1>
        <EmptyState title="No clusters shown yet">
            <p>
                "Clusters are read from the definition files in the folder given by "
                <code>"--clusters"</code>
                ". Their machines, roles and scenarios will be shown here, with a button per "
                "scenario."
            </p>
        </EmptyState>
    }
}
