//! What an agent does with the documents its client holds, as the app
//! would: read a conversation, reply, note or reassign stamped now, and
//! read what the server pushed back.

use std::time::Duration;

use anyhow::Context;
use baton_shared::conversation::read;
use baton_shared::docset::Event;
use baton_shared::ids::{AgentId, DocumentId, MessageId};
use baton_shared::model::{By, Conversation};
use baton_shared::operations::{
    AssignOutcome, ReplyMode, ReplyOutcome, assign, bulk_assign, new_batch_id, note, reply,
};
use baton_shared::protocol::Notification;
use baton_shared::workspace::{self, Workspace};

use super::SyncClient;

/// How long a test waits for what the server should do at once.
pub const WAIT: Duration = Duration::from_secs(10);

impl SyncClient {
    /// The workspace as this client holds it (document `id`).
    pub fn workspace(&self, id: DocumentId) -> anyhow::Result<Workspace> {
        let doc = self.docs.doc(&id).context("the workspace is not held")?;
        Ok(workspace::read(doc)?)
    }

    /// The id of the member signed in as `email`, as this client's copy of
    /// the workspace (document `id`) has it.
    pub fn agent_id(&self, id: DocumentId, email: &str) -> anyhow::Result<AgentId> {
        let member = self.workspace(id)?.agent_by_email(email).cloned();
        Ok(member
            .with_context(|| format!("{email} is not a member"))?
            .id)
    }

    /// The conversation `doc` as this client holds it, if it holds it.
    pub fn conversation(&self, doc: DocumentId) -> Option<Conversation> {
        self.docs.doc(&doc).and_then(|d| read(d).ok())
    }

    /// Who this client sees as the assignee of `doc`.
    pub fn assignee(&self, doc: DocumentId) -> Option<AgentId> {
        self.conversation(doc).and_then(|c| c.assignee().cloned())
    }

    /// Waits until this client holds `count` messages (the customer's
    /// included) in `doc`.
    pub async fn wait_for_messages(&mut self, doc: DocumentId, count: usize) -> anyhow::Result<()> {
        self.wait(WAIT, |c| {
            c.conversation(doc)
                .is_some_and(|conv| conv.messages.len() == count)
        })
        .await
        .with_context(|| format!("{doc} never held {count} messages"))
    }

    /// `agent` replies in `doc` now (not yet sent: `settle` or `flush`).
    pub fn reply_now(
        &mut self,
        doc: DocumentId,
        ws: &Workspace,
        agent: &AgentId,
        body: &str,
        mode: ReplyMode,
    ) -> anyhow::Result<ReplyOutcome> {
        let held = self
            .docs
            .doc_mut(&doc)
            .context("the conversation is not held")?;
        Ok(reply(
            held,
            ws,
            agent,
            body,
            mode,
            baton_shared::clock::now(),
        )?)
    }

    /// `agent` writes an internal note in `doc` now (not yet sent).
    pub fn note_now(
        &mut self,
        doc: DocumentId,
        ws: &Workspace,
        agent: &AgentId,
        body: &str,
    ) -> anyhow::Result<MessageId> {
        let held = self
            .docs
            .doc_mut(&doc)
            .context("the conversation is not held")?;
        Ok(note(held, ws, agent, body, baton_shared::clock::now())?)
    }

    /// Agent `by` reassigns `doc` to `to` now (not yet sent).
    pub fn reassign_now(
        &mut self,
        doc: DocumentId,
        ws: &Workspace,
        by: &AgentId,
        to: &AgentId,
    ) -> anyhow::Result<AssignOutcome> {
        let held = self
            .docs
            .doc_mut(&doc)
            .context("the conversation is not held")?;
        let by = By::Agent(by.clone());
        Ok(assign(
            held,
            ws,
            &by,
            Some(to),
            None,
            baton_shared::clock::now(),
        )?)
    }

    /// Agent `by` reassigns all of `docs` to `to` in one bulk action and
    /// waits until the server has them all; how many the action changed.
    pub async fn bulk_reassign(
        &mut self,
        docs: &[DocumentId],
        ws: &Workspace,
        by: &AgentId,
        to: &AgentId,
    ) -> anyhow::Result<usize> {
        let batch = new_batch_id();
        let selected = self
            .docs
            .docs_mut(docs)
            .filter_map(|(_, d)| Some((read(d).ok()?.id, d)));
        let by = By::Agent(by.clone());
        let now = baton_shared::clock::now();
        let outcomes = bulk_assign(selected, ws, &by, Some(to), &batch, now);
        for id in docs {
            self.docs.sync(*id);
        }
        self.acknowledged(docs, WAIT).await?;
        Ok(outcomes.iter().filter(|o| o.result.is_ok()).count())
    }

    /// The notifications pushed to this client so far, oldest first.
    pub fn pushed(&self) -> Vec<Notification> {
        self.events
            .iter()
            .filter_map(|e| match e {
                Event::Notification(n) => Some(n.clone()),
                _ => None,
            })
            .collect()
    }

    /// The pushed notifications that speak for a batch (a bulk action).
    pub fn pushed_for_batches(&self) -> Vec<Notification> {
        let mut pushed = self.pushed();
        pushed.retain(|n| n.batch.is_some());
        pushed
    }

    /// Asks for a catch-up from this client's position and returns every
    /// document its answers listed (new documents are also announced at
    /// sequence 0; those are left out).
    pub async fn caught_up(&mut self) -> anyhow::Result<Vec<DocumentId>> {
        let from = self.events.len();
        let listed = |c: &SyncClient| -> Option<Vec<DocumentId>> {
            let mut answered = false;
            let mut documents = Vec::new();
            for event in &c.events[from..] {
                if let Event::CaughtUp { seq, documents: d } = event
                    && *seq > 0
                {
                    answered = true;
                    documents.extend(d.iter().copied());
                }
            }
            answered.then_some(documents)
        };
        self.docs.catch_up();
        self.wait(WAIT, |c| listed(c).is_some())
            .await
            .context("no answer to the catch-up")?;
        Ok(listed(self).unwrap_or_default())
    }
}
