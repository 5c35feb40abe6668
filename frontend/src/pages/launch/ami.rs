//! Step 1: the AMI, searched among Amazon's, your own or all public images, or pasted.

use knit_shared::validate;
use leptos::prelude::*;

use super::{Draft, FieldError};
use crate::api;

#[component]
pub fn Ami(draft: RwSignal<Draft>) -> impl IntoView {
    let owner = RwSignal::new("amazon".to_owned());
    let words = RwSignal::new(String::new());
    let arch = RwSignal::new(String::new());
    let images = LocalResource::new(move || {
        let query = format!(
            "?owner={}&q={}&arch={}",
            owner.get(),
            words.get().replace(' ', "+"),
            arch.get()
        );
        api::images(query)
    });
    let chosen = move || draft.with(|d| d.request.image_id.clone());
    let error = Signal::derive(move || {
        let id = chosen();
        (!id.is_empty())
            .then(|| validate::image_id(&id).err().map(|e| e.message))
            .flatten()
    });
    view! {
        <h2>"Choose an image (AMI)"</h2>
        <div class="toolbar">
            <label for="ami-owner">"Owner"</label>
            <select id="ami-owner" on:change=move |e| owner.set(event_target_value(&e))>
                <option value="amazon">"Amazon"</option>
                <option value="self">"My own"</option>
                <option value="all">"Community and public"</option>
            </select>
            <label for="ami-search">"Search"</label>
            <input id="ami-search" type="search" placeholder="name, description or id"
                on:change=move |e| words.set(event_target_value(&e)) />
            <label for="ami-arch">"Architecture"</label>
            <select id="ami-arch" on:change=move |e| arch.set(event_target_value(&e))>
                <option value="">"Any"</option>
                <option value="x86_64">"x86_64"</option>
                <option value="arm64">"arm64"</option>
            </select>
        </div>
        <p class="muted">
            "EBS-backed images can be stopped and started again with their disk; instance-store "
            "images cannot be stopped, and their disk is gone when the instance ends."
        </p>
        <label for="ami-id">"Or paste an AMI id"</label>
        <input id="ami-id" type="text" prop:value=chosen
            on:input=move |e| draft.update(|d| {
                d.request.image_id = event_target_value(&e).trim().to_owned();
                d.image_architecture.clear();
            }) />
        <FieldError message=error />
        {move || match images.get() {
            None => view! { <p class="loading">"Reading images…"</p> }.into_any(),
            Some(Err(failure)) => view! { <p class="notice failed">{failure.to_string()}</p> }.into_any(),
            Some(Ok(list)) => view! {
                <p class="muted">{format!("{} of {} images", list.images.len(), list.total)}</p>
                <table class="choices" id="ami-table">
                    <thead><tr>
                        <th></th><th>"Name"</th><th>"Id"</th><th>"Owner"</th><th>"Created"</th>
                        <th>"Root device"</th><th>"Virtualization"</th><th>"Architecture"</th>
                    </tr></thead>
                    <tbody>
                        {list.images.into_iter().map(|image| {
                            let id = image.id.clone();
                            let selected = {
                                let id = id.clone();
                                move || chosen() == id
                            };
                            let pick = {
                                let (id, arch) = (image.id.clone(), image.architecture.clone());
                                move |_| draft.update(|d| {
                                    d.request.image_id = id.clone();
                                    d.image_architecture = arch.clone();
                                })
                            };
                            let highlighted = selected.clone();
                            view! {
                                <tr data-image=id.clone() class:selected=highlighted>
                                    <td><input type="radio" name="ami" prop:checked=selected on:change=pick
                                        aria-label=format!("choose {}", image.name) /></td>
                                    <td>{image.name}<br/><span class="muted">{image.description}</span></td>
                                    <td class="ip">{image.id}</td>
                                    <td>{image.owner}</td>
                                    <td>{image.creation_date}</td>
                                    <td>{image.root_device_type}</td>
                                    <td>{image.virtualization}</td>
                                    <td>{image.architecture}</td>
                                </tr>
                            }
                        }).collect_view()}
                    </tbody>
                </table>
            }.into_any(),
        }}
    }
}
