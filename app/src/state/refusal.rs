//! When the server refuses one of the agent's changes (`baton/error` for a
//! document): the app reloads that document from the server, then redoes,
//! in order, every other pending action of the agent's on it that still
//! validates, drops those that no longer do, and says in words what was not
//! accepted and what was kept.

use automerge::AutoCommit;
use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::model::Millis;
use baton_shared::workspace::Workspace;
use leptos::prelude::*;

use super::client::Client;
use super::outbox::Pending;
use super::redo::Op;
use crate::time;

/// What became of a document's pending actions after a refusal.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Redone {
    /// The action the server refused: the first one its copy lacks (the
    /// server takes changes in order, and those after it wait on it).
    pub refused: Option<Op>,
    /// Actions redone on the server's copy, as new pending changes.
    pub kept: Vec<Pending>,
    /// Actions that no longer apply there, with why.
    pub dropped: Vec<(Op, String)>,
}

/// Redoes `pending` (oldest first) on `doc`, the server's copy. Actions
/// whose change the copy holds were taken and need nothing more.
pub fn redo(
    doc: &mut AutoCommit,
    workspace: &Workspace,
    me: &AgentId,
    pending: Vec<Pending>,
    now: Millis,
) -> Redone {
    let mut redone = Redone::default();
    for entry in pending {
        if doc.get_change_by_hash(&entry.hash).is_some() {
            continue;
        }
        if redone.refused.is_none() {
            redone.refused = Some(entry.op);
            continue;
        }
        if entry.op == Op::Workspace {
            let why = "it is not redone on its own; make it again".to_owned();
            redone.dropped.push((entry.op, why));
            continue;
        }
        let before = doc.get_heads();
        match entry.op.run(doc, workspace, me, now) {
            Ok(intent) => {
                // No new change: the server's copy already says so.
                if let [hash] = doc.get_heads().as_slice()
                    && doc.get_heads() != before
                {
                    redone.kept.push(Pending {
                        hash: *hash,
                        op: entry.op,
                        intent,
                        offline: entry.offline,
                    });
                }
            }
            Err(why) => redone.dropped.push((entry.op, why.to_string())),
        }
    }
    redone
}

/// "Your reply to “Refund” was not accepted: <reason>. Your note was kept."
pub fn describe(subject: &str, redone: &Redone, reason: &str, workspace: &Workspace) -> String {
    let reason = reason.trim().trim_end_matches('.');
    let what = match &redone.refused {
        Some(op) => op.on(subject, workspace),
        None => format!("your change to “{subject}”"),
    };
    let mut text = format!("{} was not accepted: {reason}.", capitalized(&what));
    for (op, why) in &redone.dropped {
        let why = why.trim_end_matches('.');
        text.push_str(&format!(
            " {} could not be redone: {why}.",
            capitalized(&op.words(workspace))
        ));
    }
    if !redone.kept.is_empty() {
        let kept: Vec<String> = redone.kept.iter().map(|p| p.op.words(workspace)).collect();
        let verb = if kept.len() == 1 { "was" } else { "were" };
        text.push_str(&format!(" {} {verb} kept.", capitalized(&listed(&kept))));
    }
    text
}

fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    chars.next().map_or_else(String::new, |first| {
        first.to_uppercase().chain(chars).collect()
    })
}

/// "a", "a and b", "a, b and c".
fn listed(items: &[String]) -> String {
    match items {
        [] => String::new(),
        [one] => one.clone(),
        [rest @ .., last] => format!("{} and {last}", rest.join(", ")),
    }
}

impl Client {
    /// The server refused a change of `doc`: take its copy, then redo.
    pub(super) fn refused(self, document: Option<DocumentId>, message: String) {
        let Some(doc) = document else {
            self.toasts.problem(message, None);
            return;
        };
        self.with_core(|core| {
            // Further refusals of the same document wait on the same reload.
            if let std::collections::btree_map::Entry::Vacant(entry) = core.refusals.entry(doc) {
                entry.insert(message);
                core.docs.reload(doc);
            }
        });
    }

    /// Once the server's copy of a refused document is in, redoes the
    /// agent's other pending actions on it and says what became of them.
    pub(super) fn redo_refused(self, doc: DocumentId) {
        let workspace = self.workspace.get_untracked();
        let outcome = self.with_core(|core| {
            core.refusals.get(&doc)?;
            let heads = core.docs.doc_mut(&doc)?.get_heads();
            if heads.is_empty() || !heads.iter().all(|h| core.docs.server_has(&doc, h)) {
                return None;
            }
            let reason = core.refusals.remove(&doc)?;
            let pending = core.outbox.take(&doc);
            let me = core.me.clone();
            let copy = core.docs.doc_mut(&doc)?;
            let redone = redo(copy, &workspace, &me, pending, time::now());
            for entry in &redone.kept {
                core.outbox.push(doc, entry.clone());
            }
            if !redone.kept.is_empty() {
                core.docs.sync(doc);
            }
            Some((reason, redone))
        });
        let Some(Some((reason, redone))) = outcome else {
            return;
        };
        let subject = self
            .inbox
            .rows
            .with_untracked(|i| i.get(&doc).map(|r| r.subject.clone()))
            .unwrap_or_else(|| "the workspace".to_owned());
        self.flush();
        self.refresh(&[doc]);
        self.draw_pending();
        let row = self.row_json(doc);
        leptos::task::spawn_local(self.keep(vec![(doc, row)]));
        self.toasts
            .problem(describe(&subject, &redone, &reason, &workspace), Some(doc));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixtures;
    use crate::state::outbox::Intent;

    /// Runs `op` on `doc` as `me` and records it as pending, as the app does.
    fn act(doc: &mut AutoCommit, workspace: &Workspace, me: &AgentId, op: Op) -> Pending {
        let intent = op.run(doc, workspace, me, time::now()).unwrap();
        Pending {
            hash: doc.get_heads()[0],
            op,
            intent,
            offline: true,
        }
    }

    #[test]
    fn the_refused_action_is_dropped_and_the_rest_redone_in_order() {
        let (workspace, agents) = fixtures::workspace(&["Ana", "Ben"]);
        let (ana, ben) = (&agents[0], &agents[1]);
        let server = fixtures::document("Refund", "Where is my refund?");
        let mut local = server.clone();
        let reply = Op::Reply {
            body: "Refunded today".into(),
            leave_unassigned: false,
        };
        let to_ben = Op::Assign {
            to: Some(ben.clone()),
            batch: None,
        };
        let note = Op::Note {
            body: "Customer is a VIP".into(),
        };
        let pending = vec![
            act(&mut local, &workspace, ana, reply.clone()),
            act(&mut local, &workspace, ana, to_ben.clone()),
            act(&mut local, &workspace, ana, note.clone()),
        ];

        let mut copy = server.clone();
        let redone = redo(&mut copy, &workspace, ana, pending, time::now());
        assert_eq!(redone.refused, Some(reply));
        assert!(redone.dropped.is_empty());
        let kept: Vec<&Op> = redone.kept.iter().map(|p| &p.op).collect();
        assert_eq!(kept, [&to_ben, &note]);
        assert_eq!(redone.kept[0].intent, Intent::Assign(Some(ben.clone())));
        // The redone changes are new ones, in the server's copy.
        for entry in &redone.kept {
            assert!(copy.get_change_by_hash(&entry.hash).is_some());
        }
        let read = baton_shared::conversation::read(&copy).unwrap();
        assert_eq!(read.assignee(), Some(ben));
        assert_eq!(
            read.messages.len(),
            2,
            "the customer's message and the note"
        );
        assert_eq!(
            describe("Refund", &redone, "a reply must be your own.", &workspace),
            "Your reply to “Refund” was not accepted: a reply must be your own. \
             Your reassign to Ben and your note were kept."
        );
    }

    #[test]
    fn actions_the_server_took_need_nothing_more() {
        let (workspace, agents) = fixtures::workspace(&["Ana"]);
        let ana = &agents[0];
        let mut local = fixtures::document("Login", "I cannot sign in");
        let note = act(
            &mut local,
            &workspace,
            ana,
            Op::Note {
                body: "Seen".into(),
            },
        );
        // The server took the note; its copy is where the agent left off.
        let server = local.clone();
        let reply = Op::Reply {
            body: "Fixed".into(),
            leave_unassigned: true,
        };
        let pending = vec![
            note,
            act(&mut local, &workspace, ana, reply.clone()),
            act(&mut local, &workspace, ana, Op::Resolve),
        ];

        let mut copy = server.clone();
        let redone = redo(&mut copy, &workspace, ana, pending, time::now());
        assert_eq!(redone.refused, Some(reply));
        assert!(redone.dropped.is_empty());
        let kept: Vec<&Op> = redone.kept.iter().map(|p| &p.op).collect();
        assert_eq!(kept, [&Op::Resolve]);
        assert_eq!(
            describe("Login", &redone, "not allowed", &workspace),
            "Your reply to “Login” was not accepted: not allowed. Resolving it was kept."
        );
    }

    #[test]
    fn an_action_that_no_longer_validates_is_dropped_and_said() {
        let (workspace, agents) = fixtures::workspace(&["Ana"]);
        let ana = &agents[0];
        let server = fixtures::document("Invoice", "Wrong amount");
        let mut local = server.clone();
        let note = Op::Note { body: "x".into() };
        let pending = vec![
            act(&mut local, &workspace, ana, Op::Resolve),
            act(&mut local, &workspace, ana, Op::Reopen),
            act(&mut local, &workspace, ana, note.clone()),
        ];
        let mut copy = server.clone();
        let redone = redo(&mut copy, &workspace, ana, pending, time::now());
        // Without the resolve, reopening an open conversation does not apply.
        assert_eq!(redone.refused, Some(Op::Resolve));
        assert_eq!(redone.dropped.len(), 1);
        assert_eq!(redone.dropped[0].0, Op::Reopen);
        assert_eq!(redone.kept.len(), 1);
        assert_eq!(redone.kept[0].op, note);
        assert_eq!(
            describe("Invoice", &redone, "refused", &workspace),
            "Resolving “Invoice” was not accepted: refused. Reopening it could not be \
             redone: the conversation is already open. Your note was kept."
        );
    }
}
