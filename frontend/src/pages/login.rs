//! `/login`: sign in with an account's name and password, then back to the page asked for.

use knit_shared::LogIn;
use leptos::prelude::*;
use leptos_router::hooks::use_query_map;

use crate::api;

/// Where to go once signed in: the whole URL `next` resolves to, when the browser's own URL
/// parser, reading it against this console's address, keeps it on this console, else the
/// instance list. Parsing as the browser will navigate matters: it drops tabs and newlines and
/// reads a backslash as `/`, so `/\t/evil.example` is another site. Only the resolved URL is
/// navigated to: its path alone may start with `//` (`/.//evil.example`), which a browser
/// reads as another site again.
fn safe_next(next: Option<String>) -> String {
    let origin = window().location().origin().ok();
    next.and_then(|next| {
        let origin = origin?;
        let url = web_sys::Url::new_with_base(&next, &origin).ok()?;
        let path = url.pathname();
        (url.origin() == origin && !path.starts_with("//") && !path.starts_with("/login"))
            .then(|| url.href())
    })
    .unwrap_or_else(|| "/instances".to_owned())
}

#[component]
pub fn LoginPage() -> impl IntoView {
    let query = use_query_map();
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let sign_in = Action::new_local(move |form: &LogIn| {
        let form = form.clone();
        async move { api::log_in(&form).await }
    });
    Effect::new(move || {
        if let Some(Ok(_)) = sign_in.value().get() {
            // A fresh load, so every part of the console sees the new session.
            let next = safe_next(query.get_untracked().get("next"));
            let _ = window().location().set_href(&next);
        }
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        sign_in.dispatch(LogIn {
            name: name.get_untracked(),
            password: password.get_untracked(),
        });
    };
    view! {
        <section class="login">
            <h1>"Sign in"</h1>
            <form on:submit=submit>
                <label>"Account" <input id="login-name" autocomplete="username" required bind:value=name /></label>
                <label>"Password"
                    <input id="login-password" type="password" autocomplete="current-password" required bind:value=password />
                </label>
                <button class="button primary" id="login-submit" type="submit" disabled=move || sign_in.pending().get()>
                    {move || if sign_in.pending().get() { "Signing in…" } else { "Sign in" }}
                </button>
            </form>
            {move || sign_in.value().get().and_then(Result::err).map(|failure| view! {
                <p class="notice failed" role="alert" id="login-error">{failure.message}</p>
            })}
            <p class="hint">
                "No account yet? An admin makes one with "<code>"knit user add NAME --role viewer"</code>
                ". The sandbox prints its admin's password when it starts."
            </p>
        </section>
    }
}
