//! The conversations service: reading a conversation this device holds,
//! every action an agent takes on one (each kept here before it shows as
//! done, see `actions.rs`), and who else is in it right now.

use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::model::{Conversation, Millis};
use baton_shared::protocol::{Presence, PresenceState};
use leptos::prelude::*;

use super::client::Client;
use super::outbox::Intent;
use super::redo::Op;
use crate::error::AppError;

/// The conversations service (`use_conversations()`).
#[derive(Clone, Copy)]
pub struct Conversations(pub(super) Client);

impl Conversations {
    /// Reactive: the conversation as this device holds it, read again
    /// whenever its row changes; `None` while it is not here.
    pub fn read(&self, doc: &DocumentId) -> Option<Conversation> {
        self.0.inbox.rows.with(|i| i.get(doc).map(|r| r.version))?;
        self.0.conversation(doc)
    }

    /// Reply (claiming an unassigned conversation) or reply and leave it
    /// unassigned. True when the reply claimed it.
    pub async fn reply(
        self,
        doc: DocumentId,
        body: String,
        leave_unassigned: bool,
    ) -> Result<bool, AppError> {
        let op = Op::Reply {
            body,
            leave_unassigned,
        };
        let intent = self.0.act(doc, op).await?;
        Ok(matches!(intent, Some(Intent::Claim(_))))
    }

    pub async fn note(self, doc: DocumentId, body: String) -> Result<(), AppError> {
        self.0.act(doc, Op::Note { body }).await.map(drop)
    }

    pub async fn resolve(self, doc: DocumentId) -> Result<(), AppError> {
        self.0.act(doc, Op::Resolve).await.map(drop)
    }

    pub async fn reopen(self, doc: DocumentId) -> Result<(), AppError> {
        self.0.act(doc, Op::Reopen).await.map(drop)
    }

    /// Assigns (or unassigns, with `None`) one conversation or many (a
    /// bulk action: one notification per agent). How many changed, and the
    /// problems of the rest.
    pub async fn assign(
        self,
        docs: Vec<DocumentId>,
        to: Option<AgentId>,
    ) -> (usize, Vec<AppError>) {
        self.0.assign(docs, to).await
    }

    /// Resolves many conversations at once (the bulk bar).
    pub async fn resolve_many(self, docs: Vec<DocumentId>) -> (usize, Vec<AppError>) {
        self.0.resolve_many(docs).await
    }

    /// The agent opened a conversation: mark it seen (on this device).
    pub fn mark_seen(&self, doc: DocumentId) {
        let inbox = self.0.inbox.rows;
        let unread_at = inbox.with_untracked(|i| {
            i.get(&doc)
                .filter(|r| i.is_unread(r))
                .map(|r| r.last_message_at)
        });
        if let Some(at) = unread_at {
            inbox.update(|i| i.mark_seen(doc, at));
            self.0.schedule_persist();
        }
    }

    /// Tells the others in `doc` what this agent is doing there.
    pub fn announce(&self, doc: DocumentId, state: PresenceState) {
        if !self.0.is_online() {
            return;
        }
        self.0.with_core(|core| {
            let presence = Presence {
                agent: core.me.clone(),
                state,
            };
            core.docs.presence(doc, &presence);
        });
        self.0.flush();
    }

    /// Reactive: the other agents in `doc` at `now`, typists first.
    pub fn others_here(&self, doc: &DocumentId, now: Millis) -> Vec<(AgentId, PresenceState)> {
        let Some(me) = self.0.me() else {
            return Vec::new();
        };
        self.0.presence.with(|p| p.others(doc, &me, now))
    }
}
