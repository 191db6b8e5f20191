//! Where the app is: hash routes (`#/c/<document>`, `#/settings`), so a
//! reload or a notification's click lands on the same screen.

use baton_shared::ids::DocumentId;
use leptos::prelude::*;

/// The screen.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Route {
    Inbox,
    Conversation(DocumentId),
    Settings,
}

impl Route {
    pub fn parse(hash: &str) -> Route {
        let path = hash.trim_start_matches('#');
        if let Some(id) = path.strip_prefix("/c/")
            && let Ok(doc) = id.parse()
        {
            return Route::Conversation(doc);
        }
        if path == "/settings" {
            Route::Settings
        } else {
            Route::Inbox
        }
    }

    pub fn hash(&self) -> String {
        match self {
            Route::Inbox => "#/".to_owned(),
            Route::Conversation(doc) => format!("#/c/{doc}"),
            Route::Settings => "#/settings".to_owned(),
        }
    }
}

/// The navigation service (`use_navigation()`).
#[derive(Clone, Copy)]
pub struct Navigation {
    route: RwSignal<Route>,
}

impl Navigation {
    pub(crate) fn new() -> Navigation {
        Navigation {
            route: RwSignal::new(Route::Inbox),
        }
    }

    /// Reactive: the current route.
    pub fn route(&self) -> Route {
        self.route.get()
    }

    pub fn route_untracked(&self) -> Route {
        self.route.get_untracked()
    }

    /// Reactive: whether the current route is `route`.
    pub fn is(&self, route: &Route) -> bool {
        self.route.with(|r| r == route)
    }

    pub fn go(&self, route: Route) {
        if let Some(window) = web_sys::window() {
            let _ = window.location().set_hash(&route.hash());
        }
        self.route.set(route);
    }

    /// Takes the route from the URL now and whenever its hash changes.
    pub(crate) fn follow_hash(self) {
        let read = move || {
            let hash = web_sys::window()
                .and_then(|w| w.location().hash().ok())
                .unwrap_or_default();
            self.route.set(Route::parse(&hash));
        };
        read();
        let listener = window_event_listener(leptos::ev::hashchange, move |_| read());
        on_cleanup(move || listener.remove());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_survive_the_round_trip_through_the_hash() {
        let doc = DocumentId::random();
        for route in [Route::Inbox, Route::Conversation(doc), Route::Settings] {
            assert_eq!(Route::parse(&route.hash()), route);
        }
        assert_eq!(Route::parse("#/c/not-a-document"), Route::Inbox);
        assert_eq!(Route::parse(""), Route::Inbox);
    }
}
