//! Running the workspace's workflows on the server, exactly once per event.
//!
//! Events come from ingest (a new conversation, a customer message, a
//! reopening by the customer), from live sync (an agent reopening a
//! conversation) and from a sweep every few seconds ("still unassigned after
//! N minutes"). Each run is recorded under the key `{workflow}/{event key}`
//! in the same commit as its effect on the conversation: the key is unique in
//! the store, so a retried event, or a second node racing this one, cannot
//! commit a second run — its whole commit fails and its copy of the document
//! is dropped. Ingest runs workflows in the very change that records the
//! customer's message, so the message and what the workflows did to it are
//! durable together and only the chosen agent is told.

use std::collections::BTreeMap;
use std::sync::atomic::Ordering;
use std::time::Duration;

use automerge::AutoCommit;
use baton_shared::conversation;
use baton_shared::ids::{AgentId, DocumentId, WorkflowId};
use baton_shared::model::{Conversation, Millis};
use baton_shared::operations::OpError;
use baton_shared::workflow::{Run, Runner, Trigger, TriggerEvent, events_between};
use baton_shared::workspace::Workspace;
use tokio::sync::MutexGuard;
use tokio_util::sync::CancellationToken;

use crate::hub::change::redo;
use crate::hub::watch::OUTBOX_KEEP;
use crate::hub::{Hub, HubError};
use crate::store::{StoreError, StoreLock, Wait, WorkflowRunRow, Write};

/// Conversations the sweep reads per query.
const SWEEP_PAGE: u32 = 200;
/// Most pages one sweep reads; the rest wait for the next sweep.
const SWEEP_PAGES: usize = 50;

/// What a run needs besides the document: the round-robin turns and open
/// counts, read while holding this node's run lock (released on drop).
pub struct Prepared<'h> {
    turn: Option<MutexGuard<'h, ()>>,
    cursors: BTreeMap<WorkflowId, AgentId>,
    open: BTreeMap<AgentId, u32>,
    done: Vec<String>,
    now: Millis,
}

impl Prepared<'_> {
    /// Nothing to run: no workflow is enabled.
    fn idle(now: Millis) -> Self {
        Prepared {
            turn: None,
            cursors: BTreeMap::new(),
            open: BTreeMap::new(),
            done: Vec::new(),
            now,
        }
    }

    /// Runs the workflows that the change from `before` to the document's
    /// current state fires, on `doc`; returns the runs and the writes that
    /// must commit with them.
    pub fn apply(
        &self,
        doc: &mut AutoCommit,
        workspace: &Workspace,
        before: Option<&Conversation>,
        document: DocumentId,
    ) -> Result<(Vec<Run>, Vec<Write>), OpError> {
        let after = conversation::read(doc)?;
        let events = events_between(before, &after);
        self.apply_events(doc, workspace, &events, document)
    }

    /// Runs the workflows `events` fire, on `doc`.
    pub fn apply_events(
        &self,
        doc: &mut AutoCommit,
        workspace: &Workspace,
        events: &[TriggerEvent],
        document: DocumentId,
    ) -> Result<(Vec<Run>, Vec<Write>), OpError> {
        if self.turn.is_none() || events.is_empty() {
            return Ok((Vec::new(), Vec::new()));
        }
        let mut runner = Runner::new(workspace, self.now);
        runner.cursors = self.cursors.clone();
        runner.open = self.open.clone();
        runner.done = self.done.iter().cloned().collect();
        let runs = runner.run(doc, events)?;
        let mut writes = Vec::new();
        for run in &runs {
            writes.push(Write::WorkflowRun(run_row(run, workspace, document)));
            if let Some(agent) = runner.cursors.get(&run.workflow)
                && self.cursors.get(&run.workflow) != Some(agent)
            {
                writes.push(Write::WorkflowCursor {
                    workflow: run.workflow.clone(),
                    agent: agent.clone(),
                    previous: self.cursors.get(&run.workflow).cloned(),
                });
            }
        }
        Ok((runs, writes))
    }
}

fn run_row(run: &Run, workspace: &Workspace, document: DocumentId) -> WorkflowRunRow {
    WorkflowRunRow {
        key: run.key.clone(),
        workflow: run.workflow.clone(),
        workflow_name: workspace
            .workflows
            .get(&run.workflow)
            .map_or_else(String::new, |w| w.name.clone()),
        conversation: run.conversation.clone(),
        document,
        event: run.event.as_str().to_owned(),
        outcome: run.outcome_name().to_owned(),
        run: serde_json::to_string(run).unwrap_or_default(),
        at: run.at,
    }
}

/// The run keys `events` could produce, for the store to say which are done.
fn candidate_keys(workspace: &Workspace, events: &[TriggerEvent], now: Millis) -> Vec<String> {
    let mut keys = Vec::new();
    for event in events {
        for workflow in workspace.workflows.values().filter(|w| w.enabled) {
            if workflow.trigger.fires_on(&event.kind, now) {
                keys.push(format!("{}/{}", workflow.id, event.key));
            }
        }
    }
    keys
}

impl Hub {
    /// Takes this node's run lock and reads what runs need, unless no
    /// workflow is enabled. `events`, when known, are checked against the
    /// runs already made.
    pub async fn prepare_workflows(
        &self,
        events: &[TriggerEvent],
        now: Millis,
    ) -> Result<Prepared<'_>, HubError> {
        let workspace = self.workspace().await?;
        if !workspace.workflows.values().any(|w| w.enabled) {
            return Ok(Prepared::idle(now));
        }
        let turn = self.workflow_runs.lock().await;
        let cursors = self.store.workflow_cursors().await?.into_iter().collect();
        let open = self.store.open_counts().await?.into_iter().collect();
        let keys = candidate_keys(&workspace, events, now);
        let done = if keys.is_empty() {
            Vec::new()
        } else {
            self.store.done_runs(&keys).await?
        };
        Ok(Prepared {
            turn: Some(turn),
            cursors,
            open,
            done,
            now,
        })
    }

    /// Runs the workflows `events` fire on the conversation in `document`,
    /// as a change of its own. A run another node committed first is not
    /// repeated: the answer is then empty.
    pub async fn run_workflows(
        &self,
        document: DocumentId,
        events: &[TriggerEvent],
        now: Millis,
    ) -> Result<Vec<Run>, HubError> {
        let result = redo!(self, {
            let prepared = self.prepare_workflows(events, now).await?;
            self.change_conversation_with(document, |doc, workspace| {
                prepared.apply_events(doc, workspace, events, document)
            })
            .await
        });
        runs_made(document, result)
    }

    /// Runs "still unassigned after N minutes" workflows on every open
    /// conversation that has waited long enough and has not had them run
    /// yet. Returns the runs made.
    pub async fn sweep_unassigned(&self, now: Millis) -> Result<Vec<Run>, HubError> {
        let workspace = self.workspace().await?;
        let waits: Vec<(&WorkflowId, u32)> = workspace
            .workflows
            .values()
            .filter(|w| w.enabled)
            .filter_map(|w| match w.trigger {
                Trigger::UnassignedFor { minutes } => Some((&w.id, minutes)),
                _ => None,
            })
            .collect();
        let Some(shortest) = waits.iter().map(|(_, m)| *m).min() else {
            return Ok(Vec::new());
        };
        let cutoff = now.saturating_sub(i64::from(shortest) * 60_000);
        let mut runs = Vec::new();
        let mut after = None;
        for _ in 0..SWEEP_PAGES {
            let rows = self
                .store
                .unassigned_since(cutoff, after.clone(), SWEEP_PAGE)
                .await?;
            let Some(last) = rows.last() else { break };
            after = Some((last.unassigned_since.unwrap_or_default(), last.id.clone()));
            let mut due = Vec::new();
            for row in &rows {
                let Some(since) = row.unassigned_since else {
                    continue;
                };
                let event = TriggerEvent::waiting(&row.id, since);
                let keys = candidate_keys(&workspace, std::slice::from_ref(&event), now);
                due.push((row.document, event, keys));
            }
            let all: Vec<String> = due.iter().flat_map(|d| d.2.clone()).collect();
            let done = self.store.done_runs(&all).await?;
            for (document, event, keys) in due {
                if keys.iter().all(|k| done.contains(k)) {
                    continue;
                }
                runs.extend(self.sweep_one(document, event, now).await?);
            }
            if (rows.len() as u32) < SWEEP_PAGE {
                break;
            }
        }
        Ok(runs)
    }

    /// Runs the "still unassigned" workflows on one conversation, if the
    /// document agrees with the projection about since when it waits; if not
    /// (a projection row older than workflows), corrects the row, and the
    /// next sweep uses the right time.
    async fn sweep_one(
        &self,
        document: DocumentId,
        event: TriggerEvent,
        now: Millis,
    ) -> Result<Vec<Run>, HubError> {
        let event = &event;
        let result = redo!(self, {
            let prepared = self
                .prepare_workflows(std::slice::from_ref(event), now)
                .await?;
            self.change_conversation_with(document, |doc, workspace| {
                let current = conversation::read(doc)?;
                match TriggerEvent::unassigned(&current) {
                    Some(actual) if actual.key == event.key => {
                        prepared.apply_events(doc, workspace, std::slice::from_ref(event), document)
                    }
                    actual => {
                        let fix = Write::UnassignedSince {
                            conversation: current.id.clone(),
                            since: actual.map(|e| e.at),
                        };
                        Ok((Vec::new(), vec![fix]))
                    }
                }
            })
            .await
        });
        runs_made(document, result)
    }

    /// Sweeps for unassigned conversations every `every` until shutdown,
    /// on one node at a time: the node holding the store's `sweep` lock
    /// (freed when that node dies, so another takes over at its next try).
    /// The same node prunes the outbox.
    pub fn watch_unassigned(
        self: &std::sync::Arc<Self>,
        every: Duration,
        shutdown: CancellationToken,
    ) {
        let hub = self.clone();
        tokio::spawn(async move {
            let mut ticks = tokio::time::interval(every);
            let mut lead: Option<StoreLock> = None;
            loop {
                tokio::select! {
                    () = shutdown.cancelled() => return,
                    _ = ticks.tick() => {}
                }
                if let Some(held) = lead.as_mut()
                    && !held.still_held().await
                {
                    lead = None;
                }
                if lead.is_none() {
                    lead = hub.store.lock("sweep", Wait::Try).await.ok().flatten();
                }
                hub.leading.store(lead.is_some(), Ordering::Relaxed);
                if lead.is_none() {
                    continue;
                }
                let now = baton_shared::clock::now();
                if let Err(err) = hub.sweep_unassigned(now).await {
                    tracing::warn!(error = %err, "sweep for unassigned conversations failed");
                }
                let keep = i64::try_from(OUTBOX_KEEP.as_millis()).unwrap_or(i64::MAX);
                let prune = Write::PruneOutbox {
                    before: now.saturating_sub(keep),
                };
                if let Err(err) = hub.store.commit(vec![prune]).await {
                    tracing::warn!(error = %err, "pruning the outbox failed");
                }
            }
        });
    }

    /// Whether this node sweeps (holds the `sweep` lock).
    pub fn leading(&self) -> bool {
        self.leading.load(Ordering::Relaxed)
    }
}

/// The runs a workflow change made. A conflict on a run's idempotency key
/// means another attempt (a retry, another node) ran it first: nothing to do.
fn runs_made<T>(
    document: DocumentId,
    result: Result<(Vec<Run>, T), HubError>,
) -> Result<Vec<Run>, HubError> {
    match result {
        Ok((runs, _)) => Ok(runs),
        Err(HubError::Store(StoreError::Conflict(what))) => {
            tracing::info!(%document, %what, "workflow already ran elsewhere");
            Ok(Vec::new())
        }
        Err(err) => Err(err),
    }
}
