//! A value read from the server, shown the same way everywhere: a status line while it is read,
//! the refusal as an alert naming what could not be read, and the caller's view of the value once
//! it is there. While it is read again, the view of the previous value stays.

use leptos::prelude::*;

use crate::api::ApiFailure;

#[component]
pub fn Loaded<T, V, F>(
    resource: LocalResource<Result<T, ApiFailure>>,
    /// What is read, as in "Reading the runs…" and "The runs could not be read".
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
    let heading = format!("{} could not be read:", capitalized(reading));
    view! {
        <Transition fallback>
            <ErrorBoundary fallback=move |errors| {
                let heading = heading.clone();
                view! {
                    <p class="notice failed" role="alert">
                        <strong>{heading}</strong>" "
                        {move || errors.get().into_iter().map(|(_, error)| error.to_string()).collect::<Vec<_>>().join(" ")}
                    </p>
                }
            }>
                {move || resource.get().map(|answer| answer.map(&children))}
            </ErrorBoundary>
        </Transition>
    }
}

fn capitalized(text: &str) -> String {
    let mut letters = text.chars();
    letters
        .next()
        .map(|first| first.to_ascii_uppercase().to_string() + letters.as_str())
        .unwrap_or_default()
}
