//! A value read from the server, shown the same way on every page: a status line while it is
//! read, the server's refusal as an alert, and the page's view of it once it is there. While it
//! is read again, the view of the previous value stays.

use leptos::prelude::*;

use crate::api::ApiFailure;

#[component]
pub fn Loaded<T, V, F>(
    resource: LocalResource<Result<T, ApiFailure>>,
    /// What is read, as in "Reading the runs…".
    reading: &'static str,
    /// The view of the value.
    children: F,
) -> impl IntoView
where
    T: Clone + Send + Sync + 'static,
    F: Fn(T) -> V + Send + Sync + 'static,
    V: IntoView + 'static,
{
    let fallback =
        move || view! { <p class="loading" role="status">{format!("Reading {reading}…")}</p> };
    view! {
        <Transition fallback>
            <ErrorBoundary fallback=|errors| view! {
                <section class="error-state" role="alert">
                    {move || errors.get().into_iter().map(|(_, error)| view! { <p>{error.to_string()}</p> }).collect_view()}
                </section>
            }>
                {move || resource.get().map(|answer| answer.map(&children))}
            </ErrorBoundary>
        </Transition>
    }
}
