//! Short-lived messages, read out by screen readers. They take a strip of
//! their own at the bottom of the page instead of floating over it, so they
//! never cover a control (an open dropdown, a dialog, the bulk bar, the
//! reply box); the newest few show, the rest as "+N more".

use leptos::prelude::*;

use crate::state::{Route, ToastKind, use_navigation, use_toasts};

/// Toasts on screen at once; older ones wait behind "+N more".
const SHOWN: usize = 3;

#[component]
pub fn Toasts() -> impl IntoView {
    let (toasts, nav) = (use_toasts(), use_navigation());
    let shown = move || {
        toasts.with(|toasts| {
            let from = toasts.len().saturating_sub(SHOWN);
            toasts[from..].to_vec()
        })
    };
    let more = move || toasts.with(|t| t.len().saturating_sub(SHOWN));
    view! {
        <div class="toasts" class:has-toasts=move || toasts.with(|t| !t.is_empty())
            role="status" aria-live="polite" data-testid="toasts">
            <Show when=move || { more() > 0 }>
                <div class="toast-more" data-testid="toast-more">
                    <span>{move || format!("+{} more", more())}</span>
                    <button class="link" on:click=move |_| toasts.dismiss_all()>"Dismiss all"</button>
                </div>
            </Show>
            <For
                each=shown
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
                                    nav.go(Route::Conversation(doc));
                                    toasts.dismiss(id);
                                }>"Open"</button>
                            })}
                            <button class="icon" aria-label="Dismiss" on:click=move |_| toasts.dismiss(id)>
                                "×"
                            </button>
                        </div>
                    }
                }
            />
        </div>
    }
}
