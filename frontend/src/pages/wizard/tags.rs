//! Step 4: tags, the Name tag first, AWS's limits checked as the person types.

use knit_shared::validate;
use knit_shared::wizard::MAX_TAGS;
use leptos::prelude::*;

use super::{Draft, FieldError};

#[component]
pub fn Tags(draft: RwSignal<Draft>) -> impl IntoView {
    let error = Signal::derive(move || {
        draft.with(|d| {
            validate::tags(&d.request.tags, MAX_TAGS)
                .err()
                .map(|e| e.message)
        })
    });
    let count = move || draft.with(|d| d.request.tags.len());
    view! {
        <h2>"Tags"</h2>
        <p class="muted">"Put on the instances and on their volumes. At most 50; keys of 1–128 characters, values up to 256, no aws: prefix."</p>
        <table class="tags-editor" id="tags-editor">
            <thead><tr><th>"Key"</th><th>"Value"</th><th></th></tr></thead>
            <tbody>
                {move || (0..count()).map(|index| {
                    let key = move || draft.with(|d| d.request.tags.get(index).map(|t| t.0.clone()).unwrap_or_default());
                    let value = move || draft.with(|d| d.request.tags.get(index).map(|t| t.1.clone()).unwrap_or_default());
                    view! {
                        <tr>
                            <td><input class="tag-key" type="text" aria-label=format!("tag {} key", index + 1) prop:value=key
                                on:change=move |e| draft.update(|d| if let Some(t) = d.request.tags.get_mut(index) { t.0 = event_target_value(&e) }) /></td>
                            <td><input class="tag-value" type="text" aria-label=format!("tag {} value", index + 1) prop:value=value
                                on:change=move |e| draft.update(|d| if let Some(t) = d.request.tags.get_mut(index) { t.1 = event_target_value(&e) }) /></td>
                            <td><button class="button small" on:click=move |_| draft.update(|d| { d.request.tags.remove(index); })>"Remove"</button></td>
                        </tr>
                    }
                }).collect_view()}
            </tbody>
        </table>
        <button class="button" id="tag-add" on:click=move |_| draft.update(|d| d.request.tags.push((String::new(), String::new())))>"Add a tag"</button>
        <FieldError message=error />
    }
}
