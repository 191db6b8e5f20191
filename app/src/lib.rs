//! Baton in the browser: a Leptos single-page app over Automerge documents.
//! `state` owns the documents and the connection; `components` draw them.

pub mod api;
pub mod components;
pub mod desktop;
pub mod perf;
pub mod selection;
pub mod socket;
pub mod state;
pub mod storage;
pub mod time;
pub mod words;

use leptos::prelude::*;

use components::login::Login;
use components::shell::{Shell, start_clock};
use components::toasts::Toasts;
use state::{AppState, Phase, Route};

/// The whole app.
#[component]
pub fn App() -> impl IntoView {
    let state = AppState::new();
    provide_context(state);
    let read_route = move || {
        let hash = web_sys::window()
            .and_then(|w| w.location().hash().ok())
            .unwrap_or_default();
        state.route.set(Route::parse(&hash));
    };
    read_route();
    let hash_change = window_event_listener(leptos::ev::hashchange, move |_| read_route());
    let online = window_event_listener(leptos::ev::online, move |_| state.retry_now());
    on_cleanup(move || {
        hash_change.remove();
        online.remove();
    });
    start_clock(state);
    desktop::register_service_worker();
    leptos::task::spawn_local(state.boot());
    view! {
        {move || match state.phase.get() {
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
