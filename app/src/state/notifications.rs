//! The bell: what the server pushes and stores for the agent, merged by
//! notification id (a batch is pushed again with its stored count as it
//! grows, and the larger count wins), told as a toast (and on the desktop
//! while the tab is hidden), marked read here, on the server and in the
//! agent's other tabs.

use std::time::Duration;

use baton_shared::protocol::Notification;
use leptos::prelude::*;

use super::client::Client;
use super::notices::{Added, Notice, Notices};
use super::toasts::{ToastKind, ToastList};
use crate::{api, desktop};

/// The notifications service (`use_notifications()`).
#[derive(Clone, Copy)]
pub struct Notifications(pub(super) Client);

impl Notifications {
    /// Reactive: the bell's notifications, newest first.
    pub fn with<T>(&self, read: impl FnOnce(&[Notice]) -> T) -> T {
        self.0.bell.with(|n| read(&n.items))
    }

    /// Reactive: how many are unread.
    pub fn unread(&self) -> usize {
        self.0.bell.with(Notices::unread)
    }

    /// Marks them read here, on the server, and in the agent's other tabs.
    pub fn mark_read(&self, ids: Vec<String>) {
        self.0.mark_notices_read(ids);
    }

    pub fn mark_all_read(&self) {
        let ids = self.0.bell.with_untracked(Notices::unread_ids);
        self.0.mark_notices_read(ids);
    }
}

/// What hearing of `notice` does to the bell and to the toasts: a new one
/// is added to both, one that grew replaces its words in both (its toast
/// only if still on screen). The toast to time out, if any.
pub(super) fn heard(
    bell: &mut Notices,
    toasts: &mut ToastList,
    notice: Notice,
) -> (Added, Option<(u64, Duration)>) {
    let (id, text, doc) = (notice.id.clone(), notice.text.clone(), notice.doc);
    let added = bell.add(notice);
    let toast = match added {
        Added::New => Some(toasts.push(ToastKind::Notice, text, Some(doc), Some(id))),
        Added::Grew => toasts.replace(&id, text),
        Added::Unchanged => None,
    };
    (added, toast.map(|t| (t.id, t.lasts())))
}

fn notice(notification: Notification) -> Notice {
    Notice {
        id: notification.id,
        doc: notification.document_id,
        text: notification.text,
        count: notification.count,
        at: notification.at,
        read: notification.read,
    }
}

impl Client {
    /// A notification pushed by the server.
    pub(super) fn notified(self, notification: Notification) {
        let notice = notice(notification);
        let (text, doc) = (notice.text.clone(), notice.doc);
        let heard = self
            .bell
            .try_update(|bell| self.toasts.edit(|toasts| heard(bell, toasts, notice)))
            .flatten();
        self.schedule_persist();
        let Some((added, toast)) = heard else { return };
        if let Some((id, lasts)) = toast {
            self.toasts.expire(id, lasts);
        }
        if added != Added::Unchanged {
            desktop::notify_if_hidden(&text, doc, self.nav);
        }
    }

    /// Loads the stored notifications (at boot and after every join, since
    /// pushes sent while offline were missed).
    pub(super) fn fetch_notifications(self) {
        leptos::task::spawn_local(async move {
            let Ok(list) = api::notifications().await else {
                return;
            };
            self.bell.update(|bell| {
                for stored in list.notifications {
                    bell.add(Notice {
                        id: stored.id,
                        doc: stored.document,
                        text: stored.text,
                        count: stored.count,
                        at: stored.at,
                        read: stored.read,
                    });
                }
            });
            self.schedule_persist();
        });
    }

    fn mark_notices_read(self, ids: Vec<String>) {
        if ids.is_empty() {
            return;
        }
        self.bell.update(|n| n.mark_read(&ids));
        self.schedule_persist();
        if self.is_online() {
            self.with_core(|core| core.docs.notifications_read(ids));
            self.flush();
        } else {
            self.with_core(|core| core.unsent_reads.extend(ids));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_shared::ids::DocumentId;

    /// The server's push of a batch notification standing for `count`.
    fn push(doc: DocumentId, count: u32) -> Notice {
        Notice {
            id: "ntf_batch".into(),
            doc,
            text: format!("Ben assigned you {count} conversations"),
            count,
            at: 1_000,
            read: false,
        }
    }

    #[test]
    fn the_bell_and_the_toast_show_a_batch_at_its_final_count() {
        let doc = DocumentId::random();
        let (mut bell, mut toasts) = (Notices::default(), ToastList::default());
        let (added, first) = heard(&mut bell, &mut toasts, push(doc, 20));
        assert_eq!(added, Added::New);
        let (added, grown) = heard(&mut bell, &mut toasts, push(doc, 40));
        assert_eq!(added, Added::Grew);
        assert_ne!(
            grown.map(|t| t.0),
            first.map(|t| t.0),
            "its time starts again"
        );
        // A stale count arriving late (or a fetch that read the row before
        // it grew) changes neither.
        let (added, toast) = heard(&mut bell, &mut toasts, push(doc, 20));
        assert_eq!((added, toast), (Added::Unchanged, None));
        assert_eq!(bell.items.len(), 1);
        assert_eq!(bell.items[0].text, "Ben assigned you 40 conversations");
        let shown: Vec<&str> = toasts.items().iter().map(|t| t.text.as_str()).collect();
        assert_eq!(shown, ["Ben assigned you 40 conversations"]);
    }
}
