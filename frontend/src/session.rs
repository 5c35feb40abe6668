//! Who is signed in, for the whole console: the top bar names them, and pages hide what their
//! role may not do (the server refuses it anyway).

use knit_shared::{Me, Role};
use leptos::prelude::*;

use crate::api;

#[derive(Debug, Clone, Copy)]
struct SignedIn(RwSignal<Option<Me>>);

/// Asks the server who is signed in and shares the answer with every component.
pub fn provide() {
    let me = RwSignal::new(None);
    provide_context(SignedIn(me));
    leptos::task::spawn_local(async move {
        if let Ok(found) = api::me().await {
            me.set(Some(found));
        }
    });
}

/// The signed-in account, once known.
pub fn me() -> Option<Me> {
    use_context::<SignedIn>().and_then(|SignedIn(me)| me.get())
}

/// Whether the signed-in account may do what `role` may; false until that is known.
pub fn may(role: Role) -> bool {
    me().is_some_and(|me| me.role.may(role))
}
