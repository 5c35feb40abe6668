//! Any path the console does not know.

use leptos::prelude::*;

#[component]
pub fn NotFoundPage() -> impl IntoView {
    view! {
        <h1>"Page not found"</h1>
        <p>"There is no page at this address. " <a href="/instances">"Go to the instances"</a> "."</p>
    }
}
