//! What a page shows when it has nothing to list yet: what would be here, and what to do next.

use leptos::prelude::*;

#[component]
pub fn EmptyState(title: &'static str, children: Children) -> impl IntoView {
    view! {
        <section class="empty-state">
            <h2>{title}</h2>
            <div class="empty-state-body">{children()}</div>
        </section>
    }
}
