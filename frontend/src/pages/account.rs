//! `/account`: your API tokens (made with your password again, for a number of days), and for
//! admins every account: add one, change its role, remove it.
//! The server checks everything again; this page only saves a round trip.

use knit_shared::{NewToken, NewUser, Role, TokenSummary, UserSummary, validate};
use leptos::prelude::*;

use crate::api;
use crate::components::Loaded;
use crate::session;

#[component]
pub fn AccountPage() -> impl IntoView {
    view! {
        <h1>"Account"</h1>
        <Tokens />
        <Show when=|| session::may(Role::Admin)>
            <Users />
        </Show>
    }
}

#[component]
fn Tokens() -> impl IntoView {
    let changed = RwSignal::new(0u32);
    let tokens = api::resource(move || {
        changed.track();
        api::tokens()
    });
    let label = RwSignal::new(String::new());
    let days = RwSignal::new(validate::TOKEN_DAYS.to_string());
    let password = RwSignal::new(String::new());
    let create = Action::new_local(move |token: &NewToken| {
        let token = token.clone();
        async move {
            let created = api::create_token(&token).await;
            changed.update(|n| *n += 1);
            created
        }
    });
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        create.dispatch(NewToken {
            label: label.get_untracked(),
            expires_in_days: days.get_untracked().parse().ok(),
            password: Some(password.get_untracked()),
        });
        password.set(String::new());
    };
    let problem = move || {
        validate::token_label(&label.get())
            .err()
            .map(|invalid| invalid.message)
            .or_else(|| match days.get().parse::<u32>() {
                Ok(days) if days > 0 => None,
                _ => Some("say how many days the token works".to_owned()),
            })
            .or_else(|| {
                password
                    .get()
                    .is_empty()
                    .then(|| "give your password again".to_owned())
            })
    };
    view! {
        <section>
            <h2>"API tokens"</h2>
            <p class="hint">"A script sends one as " <code>"Authorization: Bearer <token>"</code> " and acts as you."</p>
            <form class="inline-form" on:submit=submit>
                <label>"What it is for" <input id="token-label" bind:value=label /></label>
                <label>"Days it works" <input id="token-days" type="number" min="1" bind:value=days /></label>
                <label>"Your password"
                    <input id="token-password" type="password" autocomplete="current-password" bind:value=password />
                </label>
                <button class="button primary" id="token-create" type="submit"
                    disabled=move || problem().is_some() || create.pending().get()>"Create token"</button>
            </form>
            {move || create.value().get().map(|created| match created {
                Ok(created) => view! {
                    <p class="notice ok" role="status">
                        "Token " {created.id} " (works until " {created.expires_at} "), shown only now: "
                        <code id="token-secret">{created.token}</code>
                    </p>
                }.into_any(),
                Err(failure) => view! { <p class="notice failed" role="alert">{failure.message}</p> }.into_any(),
            })}
            <Loaded resource=tokens reading="your tokens" let:list>
            {if list.tokens.is_empty() {
                view! { <p class="hint" id="token-table">"No tokens yet."</p> }.into_any()
            } else {
                view! {
                    <table class="tokens" id="token-table">
                        <thead><tr><th>"Id"</th><th>"Account"</th><th>"For"</th><th>"Created"</th><th>"Last used"</th><th>"Expires"</th><th></th></tr></thead>
                        <tbody>
                            {list.tokens.into_iter().map(|token| view! { <TokenRow token changed /> }).collect_view()}
                        </tbody>
                    </table>
                }.into_any()
            }}
            </Loaded>
        </section>
    }
}

#[component]
fn TokenRow(token: TokenSummary, changed: RwSignal<u32>) -> impl IntoView {
    let id = token.id;
    let revoke = Action::new_local(move |_: &()| async move {
        let done = api::revoke_token(id).await;
        changed.update(|n| *n += 1);
        done
    });
    view! {
        <tr data-token=id>
            <td>{id}</td>
            <td>{token.user}</td>
            <td>{token.label}</td>
            <td>{token.created_at}</td>
            <td>{token.last_used_at.unwrap_or_else(|| "never".to_owned())}</td>
            <td>{token.expires_at}</td>
            <td><button class="button danger" on:click=move |_| { revoke.dispatch(()); }>"Revoke"</button></td>
        </tr>
    }
}

#[component]
fn Users() -> impl IntoView {
    let changed = RwSignal::new(0u32);
    let users = api::resource(move || {
        changed.track();
        api::users()
    });
    let name = RwSignal::new(String::new());
    let password = RwSignal::new(String::new());
    let role = RwSignal::new(Role::Viewer);
    let add = Action::new_local(move |user: &NewUser| {
        let user = user.clone();
        async move {
            let added = api::add_user(&user).await;
            changed.update(|n| *n += 1);
            added
        }
    });
    let problem = move || {
        validate::user_name(&name.get())
            .and_then(|()| validate::password(&password.get()))
            .err()
            .map(|invalid| invalid.to_string())
    };
    let submit = move |event: leptos::ev::SubmitEvent| {
        event.prevent_default();
        add.dispatch(NewUser {
            name: name.get_untracked(),
            role: role.get_untracked(),
            password: password.get_untracked(),
        });
    };
    view! {
        <section>
            <h2>"Accounts"</h2>
            <Loaded resource=users reading="the accounts" let:list>
                <table class="users" id="user-table">
                    <thead><tr><th>"Name"</th><th>"Role"</th><th>"Created"</th><th></th></tr></thead>
                    <tbody>
                        {list.users.into_iter().map(|user| view! { <UserRow user changed /> }).collect_view()}
                    </tbody>
                </table>
            </Loaded>
            <h3>"Add an account"</h3>
            <form class="inline-form" on:submit=submit>
                <label>"Name" <input id="user-name" bind:value=name /></label>
                <label>"Role" <RolePicker id="user-role" role /></label>
                <label>"First password" <input id="user-password" type="password" autocomplete="new-password" bind:value=password /></label>
                <button class="button primary" id="user-add" type="submit"
                    disabled=move || problem().is_some() || add.pending().get()>"Add"</button>
            </form>
            <p class="hint">{move || problem().filter(|_| !name.get().is_empty())}</p>
            {move || add.value().get().and_then(Result::err).map(|failure| view! {
                <p class="notice failed" role="alert">{failure.message}</p>
            })}
        </section>
    }
}

#[component]
fn RolePicker(id: &'static str, role: RwSignal<Role>) -> impl IntoView {
    view! {
        <select id=id on:change=move |event| {
            if let Ok(chosen) = event_target_value(&event).parse() {
                role.set(chosen);
            }
        }>
            {Role::ALL.into_iter().map(|each| view! {
                <option value=each.name() selected=move || role.get() == each>{each.name()}</option>
            }).collect_view()}
        </select>
    }
}

#[component]
fn UserRow(user: UserSummary, changed: RwSignal<u32>) -> impl IntoView {
    let role = RwSignal::new(user.role);
    let failure = RwSignal::new(None::<String>);
    let name = user.name.clone();
    let change = Action::new_local(move |(name, new): &(String, Role)| {
        let (name, new) = (name.clone(), *new);
        async move {
            if let Err(refused) = api::set_role(&name, new).await {
                failure.set(Some(refused.message));
            }
            changed.update(|n| *n += 1);
        }
    });
    let remove = Action::new_local(move |name: &String| {
        let name = name.clone();
        async move {
            if let Err(refused) = api::remove_user(&name).await {
                failure.set(Some(refused.message));
            }
            changed.update(|n| *n += 1);
        }
    });
    Effect::new({
        let name = name.clone();
        move |previous: Option<Role>| {
            let now = role.get();
            if previous.is_some_and(|previous| previous != now) {
                change.dispatch((name.clone(), now));
            }
            now
        }
    });
    let (key, shown) = (name.clone(), name.clone());
    view! {
        <tr data-user=key>
            <td>{shown}</td>
            <td><RolePicker id="role" role /></td>
            <td>{user.created_at}</td>
            <td>
                <button class="button danger" on:click=move |_| { remove.dispatch(name.clone()); }>"Remove"</button>
                {move || failure.get().map(|text| view! { <span class="notice failed">{text}</span> })}
            </td>
        </tr>
    }
}
