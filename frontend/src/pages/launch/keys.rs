//! Step 5: the key pair to log in with, or none after an explicit acknowledgement.

use leptos::prelude::*;

use super::{Draft, DraftCheck, FieldError};
use crate::api;

#[component]
pub fn Keys(draft: RwSignal<Draft>) -> impl IntoView {
    let keys = LocalResource::new(api::key_pairs);
    let error = Signal::derive(move || {
        draft.with(|d| {
            (d.request.key_name.is_none() && !d.request.no_key_acknowledged)
                .then(|| "choose a key pair, or acknowledge launching without one".to_owned())
        })
    });
    view! {
        <h2>"SSH keys"</h2>
        {move || match keys.get() {
            None => view! { <p class="loading">"Reading key pairs…"</p> }.into_any(),
            Some(Err(failure)) => view! { <p class="notice failed">{failure.to_string()}</p> }.into_any(),
            Some(Ok(list)) => view! {
                <label for="key-pair">"Key pair"</label>
                <select id="key-pair" on:change=move |e| {
                    let name = event_target_value(&e);
                    draft.update(|d| d.request.key_name = (!name.is_empty()).then_some(name));
                }>
                    <option value="" selected=move || draft.with(|d| d.request.key_name.is_none())>"No key pair"</option>
                    {list.key_pairs.into_iter().map(|name| {
                        let selected = {
                            let name = name.clone();
                            move || draft.with(|d| d.request.key_name.as_deref() == Some(name.as_str()))
                        };
                        view! { <option value=name.clone() selected=selected>{name.clone()}</option> }
                    }).collect_view()}
                </select>
            }.into_any(),
        }}
        <DraftCheck draft id="no-key-ack" get={|r| r.no_key_acknowledged} set={|r, on| r.no_key_acknowledged = on}
            label="I understand that without a key pair nobody can log in to these instances over SSH." />
        <FieldError message=error />
    }
}
