//! Local changes the server has not confirmed yet: the action each one was
//! (so it can be redone if the server refuses an earlier one) and what it
//! was meant to do to the assignee, so the agent learns afterwards when
//! concurrency decided otherwise ("Ben claimed 2 conversations you
//! reassigned while offline"). It is kept in IndexedDB with the documents,
//! in the same transaction, so a reload while offline still shows what
//! waits to sync, and still tells what lost once it does.

use std::collections::{BTreeMap, BTreeSet};

use automerge::ChangeHash;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::model::{Assignment, AssignmentKind};
use baton_shared::workspace::Workspace;
use serde::{Deserialize, Serialize};

use super::redo::Op;

/// What a local change was meant to do to the assignee.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Intent {
    /// Assign / Reassign / Unassign (`None`).
    Assign(Option<AgentId>),
    /// A reply that claimed the conversation for its author.
    Claim(AgentId),
    /// Anything else (a note, a reply to an assigned conversation, a status).
    Other,
}

/// One local change the server has not confirmed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Pending {
    pub hash: ChangeHash,
    pub op: Op,
    pub intent: Intent,
    pub offline: bool,
}

/// One pending change as IndexedDB keeps it.
#[derive(Debug, Serialize, Deserialize)]
struct Saved {
    doc: String,
    hash: String,
    op: Op,
    intent: Intent,
    offline: bool,
}

/// A change of the agent's that the server took, whose assignee came out
/// differently because of someone else's concurrent change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Overridden {
    pub doc: DocumentId,
    pub intent: Intent,
    pub winner: Option<Assignment>,
}

#[derive(Debug, Default)]
pub struct Outbox {
    pending: BTreeMap<DocumentId, Vec<Pending>>,
}

impl Outbox {
    pub fn push(&mut self, doc: DocumentId, pending: Pending) {
        self.pending.entry(doc).or_default().push(pending);
    }

    /// The pending changes of `doc`, oldest first.
    pub fn of(&self, doc: &DocumentId) -> &[Pending] {
        self.pending.get(doc).map_or(&[], Vec::as_slice)
    }

    pub fn docs(&self) -> BTreeSet<DocumentId> {
        self.pending.keys().copied().collect()
    }

    pub fn has(&self, doc: &DocumentId) -> bool {
        self.pending.contains_key(doc)
    }

    pub fn is_empty(&self) -> bool {
        self.pending.is_empty()
    }

    /// Drops the changes of `doc` the server holds (`confirmed(hash)`), and
    /// returns the offline ones whose intent lost to `effective`.
    pub fn confirm(
        &mut self,
        doc: DocumentId,
        effective: Option<&Assignment>,
        mut confirmed: impl FnMut(&ChangeHash) -> bool,
    ) -> Vec<Overridden> {
        let Some(entries) = self.pending.get_mut(&doc) else {
            return Vec::new();
        };
        let mut lost = Vec::new();
        entries.retain(|entry| {
            if !confirmed(&entry.hash) {
                return true;
            }
            let now = effective.and_then(|a| a.agent.as_ref());
            let kept = match &entry.intent {
                Intent::Assign(to) => now == to.as_ref(),
                Intent::Claim(me) => now == Some(me),
                Intent::Other => true,
            };
            if entry.offline && !kept {
                lost.push(Overridden {
                    doc,
                    intent: entry.intent.clone(),
                    winner: effective.cloned(),
                });
            }
            false
        });
        // Only the last intent on a document matters to the agent.
        lost.truncate(1);
        if entries.is_empty() {
            self.pending.remove(&doc);
        }
        lost
    }

    /// Keeps the changes `keep` answers true for.
    pub fn retain(&mut self, mut keep: impl FnMut(&DocumentId, &ChangeHash) -> bool) {
        self.pending.retain(|doc, entries| {
            entries.retain(|entry| keep(doc, &entry.hash));
            !entries.is_empty()
        });
    }

    /// The outbox as JSON, for IndexedDB.
    pub fn to_json(&self) -> String {
        let saved: Vec<Saved> = self
            .pending
            .iter()
            .flat_map(|(doc, entries)| {
                entries.iter().map(move |entry| Saved {
                    doc: doc.to_string(),
                    hash: entry.hash.to_string(),
                    op: entry.op.clone(),
                    intent: entry.intent.clone(),
                    offline: entry.offline,
                })
            })
            .collect();
        serde_json::to_string(&saved).unwrap_or_default()
    }

    /// The outbox [`Outbox::to_json`] wrote. Entries that no longer parse
    /// (an older app's, which did not keep the action) are skipped: their
    /// changes still sync, only their "not yet synced" mark is lost.
    pub fn from_json(json: &str) -> Outbox {
        let saved: Vec<serde_json::Value> = serde_json::from_str(json).unwrap_or_default();
        let mut outbox = Outbox::default();
        for entry in saved {
            let Ok(entry) = serde_json::from_value::<Saved>(entry) else {
                continue;
            };
            if let (Ok(doc), Ok(hash)) = (entry.doc.parse(), entry.hash.parse()) {
                outbox.push(
                    doc,
                    Pending {
                        hash,
                        op: entry.op,
                        intent: entry.intent,
                        offline: entry.offline,
                    },
                );
            }
        }
        outbox
    }

    /// Takes a document's pending changes out (to redo them on the server's
    /// copy after a refusal), oldest first.
    pub fn take(&mut self, doc: &DocumentId) -> Vec<Pending> {
        self.pending.remove(doc).unwrap_or_default()
    }
}

/// One sentence per (who won, what the agent did): "Ben claimed 2
/// conversations you reassigned while offline".
pub fn describe(lost: &[Overridden], workspace: &Workspace) -> Vec<String> {
    let mut groups: BTreeMap<(String, &'static str, &'static str), usize> = BTreeMap::new();
    for item in lost {
        let did = match item.intent {
            Intent::Assign(None) => "unassigned",
            Intent::Assign(Some(_)) => "reassigned",
            Intent::Claim(_) => "replied to",
            Intent::Other => continue,
        };
        let (who, how) = match &item.winner {
            Some(Assignment {
                agent: Some(agent),
                kind,
                ..
            }) => {
                let name = workspace
                    .agent(agent)
                    .map_or_else(|| "Someone".to_owned(), |a| a.name.clone());
                let how = if *kind == AssignmentKind::Reply {
                    "claimed"
                } else {
                    "got"
                };
                (name, how)
            }
            _ => ("Nobody".to_owned(), "holds"),
        };
        *groups.entry((who, how, did)).or_default() += 1;
    }
    groups
        .into_iter()
        .map(|((who, how, did), n)| {
            let things = if n == 1 {
                "1 conversation".to_owned()
            } else {
                format!("{n} conversations")
            };
            format!("{who} {how} {things} you {did} while offline")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixtures;
    use baton_shared::model::By;

    fn hash(n: u8) -> ChangeHash {
        ChangeHash([n; 32])
    }

    /// A pending change `n` meant as `intent` (the action matters only to redo).
    fn change(n: u8, intent: Intent, offline: bool) -> Pending {
        Pending {
            hash: hash(n),
            op: Op::Note {
                body: format!("note {n}"),
            },
            intent,
            offline,
        }
    }

    fn claim_by(agent: &AgentId) -> Assignment {
        Assignment {
            agent: Some(agent.clone()),
            kind: AssignmentKind::Reply,
            by: By::Agent(agent.clone()),
            at: 5,
        }
    }

    #[test]
    fn a_change_stays_pending_until_the_server_holds_it() {
        let mut outbox = Outbox::default();
        let doc = DocumentId::random();
        outbox.push(doc, change(1, Intent::Other, false));
        assert!(outbox.confirm(doc, None, |_| false).is_empty());
        assert_eq!(outbox.docs().len(), 1);
        assert!(outbox.confirm(doc, None, |h| *h == hash(1)).is_empty());
        assert!(outbox.is_empty());
    }

    #[test]
    fn the_outbox_survives_a_reload_with_what_each_change_meant() {
        let (workspace, agents) = fixtures::workspace(&["Ana", "Ben"]);
        let (ana, ben) = (&agents[0], &agents[1]);
        let mut outbox = Outbox::default();
        let (claimed, reassigned) = (DocumentId::random(), DocumentId::random());
        outbox.push(claimed, change(1, Intent::Claim(ana.clone()), true));
        outbox.push(
            reassigned,
            change(2, Intent::Assign(Some(ben.clone())), true),
        );
        outbox.push(reassigned, change(3, Intent::Other, false));

        let mut reloaded = Outbox::from_json(&outbox.to_json());
        assert_eq!(reloaded.docs(), outbox.docs());
        assert_eq!(reloaded.of(&reassigned), outbox.of(&reassigned));
        // An older app's entry, which did not keep the action, is skipped.
        let older = format!(
            r#"[{{"doc":"{claimed}","hash":"{}","intent":"Other","offline":true}}]"#,
            hash(4)
        );
        assert!(Outbox::from_json(&older).is_empty());
        // The reassign is still pending until the server holds both changes.
        let to_ben = claim_by(ben);
        let kept = reloaded.confirm(reassigned, Some(&to_ben), |h| *h == hash(2));
        assert!(kept.is_empty());
        assert!(reloaded.has(&reassigned));
        // The offline claim that lost is still told once it syncs.
        let lost = reloaded.confirm(claimed, Some(&claim_by(ben)), |_| true);
        assert_eq!(
            describe(&lost, &workspace),
            vec!["Ben claimed 1 conversation you replied to while offline".to_owned()]
        );
        assert!(Outbox::from_json("not json").is_empty());
        // A change that never reached the saved document is forgotten.
        reloaded.retain(|_, h| *h != hash(3));
        assert!(reloaded.is_empty());
    }

    #[test]
    fn offline_reassigns_that_lost_are_summed_up_by_winner() {
        let (workspace, agents) = fixtures::workspace(&["Ana", "Ben"]);
        let (ana, ben) = (&agents[0], &agents[1]);
        let mut outbox = Outbox::default();
        let mut lost = Vec::new();
        for n in 0..3 {
            let doc = DocumentId::random();
            outbox.push(doc, change(n, Intent::Assign(Some(ana.clone())), true));
            // Two of the three were claimed by Ben meanwhile; one kept Ana.
            let winner = if n < 2 { claim_by(ben) } else { claim_by(ana) };
            lost.extend(outbox.confirm(doc, Some(&winner), |_| true));
        }
        assert_eq!(lost.len(), 2);
        assert_eq!(
            describe(&lost, &workspace),
            ["Ben claimed 2 conversations you reassigned while offline"]
        );
    }

    #[test]
    fn online_changes_are_not_summed_up_and_a_refusal_takes_the_doc_in_order() {
        let (_, agents) = fixtures::workspace(&["Ana", "Ben"]);
        let mut outbox = Outbox::default();
        let doc = DocumentId::random();
        outbox.push(doc, change(1, Intent::Claim(agents[0].clone()), false));
        let lost = outbox.confirm(doc, Some(&claim_by(&agents[1])), |_| true);
        assert!(lost.is_empty(), "the server notifies online losers itself");
        outbox.push(doc, change(2, Intent::Other, true));
        outbox.push(doc, change(3, Intent::Other, true));
        let taken = outbox.take(&doc);
        assert_eq!(
            taken.iter().map(|p| p.hash).collect::<Vec<_>>(),
            [hash(2), hash(3)]
        );
        assert!(outbox.is_empty());
    }
}
