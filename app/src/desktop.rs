//! The browser around the app: desktop notifications while the tab is
//! hidden, and the service worker that keeps the app shell for offline boots.

use baton_shared::ids::DocumentId;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{Notification, NotificationOptions, NotificationPermission, VisibilityState};

use crate::state::{Navigation, Route};

/// Whether desktop notifications are allowed, refused, or not asked yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Permission {
    Granted,
    Denied,
    Ask,
    Unsupported,
}

pub fn permission() -> Permission {
    let supported = web_sys::window()
        .map(|w| js_sys::Reflect::has(&w, &JsValue::from_str("Notification")).unwrap_or(false))
        .unwrap_or(false);
    if !supported {
        return Permission::Unsupported;
    }
    match Notification::permission() {
        NotificationPermission::Granted => Permission::Granted,
        NotificationPermission::Denied => Permission::Denied,
        _ => Permission::Ask,
    }
}

/// Asks for permission; call it only from a click (browsers ignore, and
/// agents resent, a prompt at load).
pub async fn ask_permission() -> Permission {
    if permission() != Permission::Ask {
        return permission();
    }
    if let Ok(promise) = Notification::request_permission() {
        let _ = wasm_bindgen_futures::JsFuture::from(promise).await;
    }
    permission()
}

fn tab_hidden() -> bool {
    web_sys::window()
        .and_then(|w| w.document())
        .is_some_and(|d| d.visibility_state() == VisibilityState::Hidden)
}

/// Shows a desktop notification when the tab is in the background; a click
/// brings the tab forward on the conversation.
pub fn notify_if_hidden(text: &str, doc: DocumentId, nav: Navigation) {
    if !tab_hidden() || permission() != Permission::Granted {
        return;
    }
    let options = NotificationOptions::new();
    options.set_body(text);
    options.set_tag(&doc.to_string());
    let Ok(notification) = Notification::new_with_options("Baton", &options) else {
        return;
    };
    let shown = notification.clone();
    let on_click = Closure::<dyn FnMut()>::new(move || {
        if let Some(window) = web_sys::window() {
            let _ = window.focus();
        }
        nav.go(Route::Conversation(doc));
        shown.close();
    });
    notification.set_onclick(Some(on_click.as_ref().unchecked_ref()));
    // The closure lives as long as the notification may be clicked.
    on_click.forget();
}

/// Registers `/sw.js`, which caches the app shell so a reload works offline.
pub fn register_service_worker() {
    let Some(window) = web_sys::window() else {
        return;
    };
    let container = window.navigator().service_worker();
    let _ = container.register("/sw.js");
}
