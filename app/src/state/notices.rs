//! The bell's notifications: the server's stored list, what it pushes, and
//! what was read. Kept on this device too, so the bell still lists them
//! after a reload while offline.

use baton_shared::ids::DocumentId;
use baton_shared::model::Millis;
use serde::{Deserialize, Serialize};

/// One notification, stored by the server or just pushed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Notice {
    pub id: String,
    pub doc: DocumentId,
    pub text: String,
    pub at: Millis,
    pub read: bool,
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
    at: Millis,
    read: bool,
}

impl Notices {
    pub fn unread(&self) -> usize {
        self.items.iter().filter(|n| !n.read).count()
    }

    /// Adds a notice, or updates the one with its id (a push and a fetch can
    /// overlap, and a batch's count grows after its first push). True when new.
    pub fn add(&mut self, notice: Notice) -> bool {
        if let Some(known) = self.items.iter_mut().find(|n| n.id == notice.id) {
            known.text = notice.text;
            known.read |= notice.read;
            return false;
        }
        self.items.push(notice);
        self.items.sort_by_key(|n| std::cmp::Reverse(n.at));
        self.items.truncate(200);
        true
    }

    pub fn mark_read(&mut self, ids: &[String]) {
        for item in &mut self.items {
            if ids.contains(&item.id) {
                item.read = true;
            }
        }
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
            at,
            read: false,
        }
    }

    #[test]
    fn the_bell_is_kept_newest_first_with_what_was_read() {
        let mut notices = Notices::default();
        assert!(notices.add(notice("a", 1)));
        assert!(notices.add(notice("b", 2)));
        notices.mark_read(&["a".into()]);
        let kept = Notices::from_json(&notices.to_json());
        assert_eq!(kept, notices);
        assert_eq!(kept.items[0].id, "b");
        assert_eq!(kept.unread(), 1);
        assert!(Notices::from_json("not json").items.is_empty());
    }

    #[test]
    fn a_notice_seen_twice_is_updated_not_repeated() {
        let mut notices = Notices::default();
        notices.add(notice("batch", 1));
        let mut grown = notice("batch", 1);
        grown.text = "Ben assigned you 5 conversations".into();
        grown.read = true;
        assert!(!notices.add(grown));
        assert_eq!(notices.items.len(), 1);
        assert!(notices.items[0].read);
        assert_eq!(notices.items[0].text, "Ben assigned you 5 conversations");
    }
}
