//! Baton in the browser: a Leptos single-page app over Automerge documents.
//! `state` owns the documents and the connection, and provides one service
//! per concern; `components` draw them.

pub mod api;
pub mod components;
pub mod desktop;
pub mod error;
pub mod perf;
pub mod selection;
pub mod socket;
pub mod state;
pub mod storage;
pub mod time;
pub mod words;

use leptos::prelude::*;

use components::login::Login;
use components::shell::Shell;
use components::toasts::Toasts;
use state::Phase;

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    state::provide();
    desktop::register_service_worker();
    let session = state::use_session();
    view! {
        {move || match session.phase() {
            Phase::Booting => view! {
                <main class="boot" aria-busy="true">
                    <p class="brand">"Baton"</p>
                    <p class="muted" role="status">"Opening your inbox…"</p>
                </main>
            }.into_any(),
            Phase::SignedOut { problem } => view! { <Login problem=problem /> }.into_any(),
            Phase::Ready(_) => view! { <Shell /> }.into_any(),
        }}
        <Toasts />
    }
}
