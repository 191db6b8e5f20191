//! The bell's notifications as plain data: the server's stored list, what it
//! pushes, and what was read. Kept on this device too, so the bell still
//! lists them after a reload while offline.

use baton_shared::ids::DocumentId;
use baton_shared::model::Millis;
use serde::{Deserialize, Serialize};

/// The bell keeps at most this many, newest first.
const KEPT: usize = 200;

/// One notification, stored by the server or just pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: String,
    pub doc: DocumentId,
    pub text: String,
    /// How many conversations it stands for: a bulk or workflow batch
    /// grows after its first push, and the server pushes it again.
    pub count: u32,
    pub at: Millis,
    pub read: bool,
}

/// What adding a notice did to the bell.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Added {
    /// A notification the bell did not hold.
    New,
    /// A later word on one it held, with a larger count: its words replaced.
    Grew,
    /// Nothing the agent would see changed (a repeat, or an older count
    /// arriving after a newer one).
    Unchanged,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Notices {
    pub items: Vec<Notice>,
}

/// A notice as IndexedDB keeps it.
#[derive(Serialize, Deserialize)]
struct Saved {
    id: String,
    doc: String,
    text: String,
    /// Not kept by older apps: any count the server sends replaces theirs.
    #[serde(default)]
    count: u32,
    at: Millis,
    read: bool,
}

impl Notices {
    pub fn unread(&self) -> usize {
        self.items.iter().filter(|n| !n.read).count()
    }

    /// Adds a notice, or updates the one with its id: a push and a fetch
    /// can overlap, and a batch is pushed again as its count grows, so the
    /// larger count (and its words) wins whatever order they arrive in.
    pub fn add(&mut self, notice: Notice) -> Added {
        if let Some(known) = self.items.iter_mut().find(|n| n.id == notice.id) {
            let grew = notice.count > known.count;
            if grew {
                known.text = notice.text;
                known.count = notice.count;
            }
            known.read |= notice.read;
            return if grew { Added::Grew } else { Added::Unchanged };
        }
        self.items.push(notice);
        self.items.sort_by_key(|n| std::cmp::Reverse(n.at));
        self.items.truncate(KEPT);
        Added::New
    }

    pub fn mark_read(&mut self, ids: &[String]) {
        for item in &mut self.items {
            if ids.contains(&item.id) {
                item.read = true;
            }
        }
    }

    /// The ids of the notices not read yet.
    pub fn unread_ids(&self) -> Vec<String> {
        self.items
            .iter()
            .filter(|n| !n.read)
            .map(|n| n.id.clone())
            .collect()
    }

    /// The list as JSON, for IndexedDB.
    pub fn to_json(&self) -> String {
        let saved: Vec<Saved> = self
            .items
            .iter()
            .map(|n| Saved {
                id: n.id.clone(),
                doc: n.doc.to_string(),
                text: n.text.clone(),
                count: n.count,
                at: n.at,
                read: n.read,
            })
            .collect();
        serde_json::to_string(&saved).unwrap_or_default()
    }

    /// The list [`Notices::to_json`] wrote (empty if it does not parse).
    pub fn from_json(json: &str) -> Notices {
        let saved: Vec<Saved> = serde_json::from_str(json).unwrap_or_default();
        let mut notices = Notices::default();
        for n in saved {
            if let Ok(doc) = n.doc.parse() {
                notices.add(Notice {
                    id: n.id,
                    doc,
                    text: n.text,
                    count: n.count,
                    at: n.at,
                    read: n.read,
                });
            }
        }
        notices
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn notice(id: &str, at: Millis) -> Notice {
        Notice {
            id: id.into(),
            doc: DocumentId::random(),
            text: format!("Ben assigned you {id}"),
            count: 1,
            at,
            read: false,
        }
    }

    fn batch(count: u32) -> Notice {
        Notice {
            text: format!("Ben assigned you {count} conversations"),
            count,
            ..notice("batch", 1)
        }
    }

    #[test]
    fn the_bell_is_kept_newest_first_with_what_was_read() {
        let mut notices = Notices::default();
        assert_eq!(notices.add(notice("a", 1)), Added::New);
        assert_eq!(notices.add(notice("b", 2)), Added::New);
        notices.mark_read(&["a".into()]);
        let kept = Notices::from_json(&notices.to_json());
        assert_eq!(kept, notices);
        assert_eq!(kept.items[0].id, "b");
        assert_eq!(kept.unread(), 1);
        assert_eq!(kept.unread_ids(), ["b"]);
        assert!(Notices::from_json("not json").items.is_empty());
    }

    #[test]
    fn a_batch_pushed_again_shows_its_largest_count_whatever_the_order() {
        let mut notices = Notices::default();
        assert_eq!(notices.add(batch(20)), Added::New);
        assert_eq!(notices.add(batch(40)), Added::Grew);
        // The push for 20 overtaken by the one for 40 (or a fetch that
        // read the row before it grew) does not take the bell back.
        assert_eq!(notices.add(batch(20)), Added::Unchanged);
        assert_eq!(notices.add(batch(40)), Added::Unchanged);
        assert_eq!(notices.items.len(), 1);
        assert_eq!(notices.items[0].text, "Ben assigned you 40 conversations");
        assert_eq!(notices.items[0].count, 40);
    }

    #[test]
    fn a_notice_read_elsewhere_stays_read() {
        let mut notices = Notices::default();
        notices.add(batch(5));
        let read = Notice {
            read: true,
            ..batch(5)
        };
        assert_eq!(notices.add(read), Added::Unchanged);
        assert!(notices.items[0].read);
        assert_eq!(notices.add(batch(6)), Added::Grew);
        assert!(notices.items[0].read, "a larger count does not unread it");
    }

    #[test]
    fn a_bell_kept_by_an_older_app_takes_the_count_the_server_sends() {
        let doc = DocumentId::random();
        let older = format!(
            r#"[{{"id":"batch","doc":"{doc}","text":"Ben assigned you 3 conversations","at":1,"read":false}}]"#
        );
        let mut notices = Notices::from_json(&older);
        assert_eq!(notices.items.len(), 1);
        assert_eq!(notices.add(batch(3)), Added::Grew);
        assert_eq!(notices.items[0].count, 3);
    }
}
