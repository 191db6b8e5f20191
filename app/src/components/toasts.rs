//! Short-lived messages in the corner, read out by screen readers.

use leptos::prelude::*;

use crate::state::{AppState, Route, ToastKind};

#[component]
pub fn Toasts() -> impl IntoView {
    let state = expect_context::<AppState>();
    view! {
        <div class="toasts" role="status" aria-live="polite" data-testid="toasts">
            <For
                each=move || state.toasts.get()
                key=|toast| toast.id
                children=move |toast| {
                    let id = toast.id;
                    let doc = toast.doc;
                    let kind = match toast.kind {
                        ToastKind::Info => "toast info",
                        ToastKind::Notice => "toast notice",
                        ToastKind::Problem => "toast problem",
                    };
                    view! {
                        <div class=kind data-testid="toast">
                            <span class="toast-text">{toast.text}</span>
                            {doc.map(|doc| view! {
                                <button class="link" on:click=move |_| {
                                    state.go(Route::Conversation(doc));
                                    state.dismiss_toast(id);
                                }>"Open"</button>
                            })}
                            <button class="icon" aria-label="Dismiss" on:click=move |_| state.dismiss_toast(id)>
                                "×"
                            </button>
                        </div>
                    }
                }
            />
        </div>
    }
}
