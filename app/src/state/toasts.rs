//! Short-lived messages at the bottom of the window: what the app says to
//! the agent (a done action, a problem, a notification). The list's rules
//! are plain data; the service times each toast out.

use std::time::Duration;

use baton_shared::ids::DocumentId;
use leptos::prelude::*;

/// Toasts kept at most; the view shows the newest few and "+N more".
const KEPT: usize = 20;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ToastKind {
    Info,
    Notice,
    Problem,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Toast {
    pub id: u64,
    pub kind: ToastKind,
    pub text: String,
    pub doc: Option<DocumentId>,
    /// The notification it tells of: a later word on it replaces this toast.
    pub notice: Option<String>,
}

impl Toast {
    pub(super) fn lasts(&self) -> Duration {
        Duration::from_secs(if self.kind == ToastKind::Problem {
            10
        } else {
            6
        })
    }
}

/// The toasts on screen, oldest first.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ToastList {
    items: Vec<Toast>,
    last_id: u64,
}

impl ToastList {
    pub fn items(&self) -> &[Toast] {
        &self.items
    }

    /// Adds a toast; past [`KEPT`], the oldest go.
    pub fn push(
        &mut self,
        kind: ToastKind,
        text: String,
        doc: Option<DocumentId>,
        notice: Option<String>,
    ) -> &Toast {
        self.last_id += 1;
        self.items.push(Toast {
            id: self.last_id,
            kind,
            text,
            doc,
            notice,
        });
        let excess = self.items.len().saturating_sub(KEPT);
        self.items.drain(..excess);
        &self.items[self.items.len() - 1]
    }

    /// New words for the toast of notification `notice`, if it is still on
    /// screen: it takes a new id, so its time starts again.
    pub fn replace(&mut self, notice: &str, text: String) -> Option<&Toast> {
        self.last_id += 1;
        let id = self.last_id;
        let toast = self
            .items
            .iter_mut()
            .find(|t| t.notice.as_deref() == Some(notice))?;
        toast.text = text;
        toast.id = id;
        Some(toast)
    }

    pub fn dismiss(&mut self, id: u64) {
        self.items.retain(|t| t.id != id);
    }

    pub fn clear(&mut self) {
        self.items.clear();
    }
}

/// The toasts service (`use_toasts()`).
#[derive(Clone, Copy)]
pub struct Toasts {
    list: RwSignal<ToastList>,
}

impl Toasts {
    pub(crate) fn new() -> Toasts {
        Toasts {
            list: RwSignal::new(ToastList::default()),
        }
    }

    /// Reactive: the toasts on screen, oldest first.
    pub fn with<T>(&self, read: impl FnOnce(&[Toast]) -> T) -> T {
        self.list.with(|l| read(l.items()))
    }

    pub fn info(&self, text: impl Into<String>) {
        self.show(ToastKind::Info, text, None);
    }

    /// A problem, with the conversation it is about (an "Open" link).
    pub fn problem(&self, text: impl Into<String>, doc: Option<DocumentId>) {
        self.show(ToastKind::Problem, text, doc);
    }

    pub fn show(&self, kind: ToastKind, text: impl Into<String>, doc: Option<DocumentId>) {
        self.add(kind, text.into(), doc, None);
    }

    fn add(&self, kind: ToastKind, text: String, doc: Option<DocumentId>, notice: Option<String>) {
        let timed = self.edit(|l| {
            let toast = l.push(kind, text, doc, notice);
            (toast.id, toast.lasts())
        });
        if let Some((id, lasts)) = timed {
            self.expire(id, lasts);
        }
    }

    /// Changes the list (the state layer's own toasts, e.g. a
    /// notification's); time out what it added with [`Toasts::expire`].
    pub(super) fn edit<T>(&self, change: impl FnOnce(&mut ToastList) -> T) -> Option<T> {
        self.list.try_update(change)
    }

    /// Takes toast `id` away once `after` has passed (unless it was
    /// replaced or dismissed meanwhile).
    pub(super) fn expire(&self, id: u64, after: Duration) {
        let list = self.list;
        set_timeout(move || list.update(|l| l.dismiss(id)), after);
    }

    pub fn dismiss(&self, id: u64) {
        self.list.update(|l| l.dismiss(id));
    }

    pub fn dismiss_all(&self) {
        self.list.update(ToastList::clear);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_notification_that_grows_replaces_its_toast() {
        let mut list = ToastList::default();
        let doc = DocumentId::random();
        list.push(ToastKind::Info, "Assigned to Ben".into(), None, None);
        let first = list
            .push(
                ToastKind::Notice,
                "Ben assigned you 20 conversations".into(),
                Some(doc),
                Some("n1".into()),
            )
            .id;
        let grown = list.replace("n1", "Ben assigned you 40 conversations".into());
        assert!(
            grown.is_some_and(|t| t.id != first),
            "its time starts again"
        );
        let texts: Vec<&str> = list.items().iter().map(|t| t.text.as_str()).collect();
        assert_eq!(
            texts,
            ["Assigned to Ben", "Ben assigned you 40 conversations"]
        );
        // Once it has gone, a later word pops nothing up: the bell has it.
        list.dismiss(list.items()[1].id);
        assert!(
            list.replace("n1", "Ben assigned you 60 conversations".into())
                .is_none()
        );
        assert_eq!(list.items().len(), 1);
    }

    #[test]
    fn only_the_newest_toasts_are_kept() {
        let mut list = ToastList::default();
        for n in 0..25 {
            list.push(ToastKind::Info, format!("{n}"), None, None);
        }
        assert_eq!(list.items().len(), KEPT);
        assert_eq!(list.items()[0].text, "5");
    }
}
