//! Running workflows: a [`Runner`] that applies every enabled workflow whose
//! trigger fires on an event (`events`), in order, to the conversation
//! document, and what each run did. The server persists each [`Run`]
//! under its key in the same commit as its effect, so no event runs a
//! workflow twice; the runner itself skips keys it is told are done.

use std::collections::{BTreeMap, BTreeSet};

use automerge::AutoCommit;
use serde::{Deserialize, Serialize};

use super::{
    Condition, EventKind, Facts, NoOneAvailable, Step, TriggerEvent, Workflow, first_unmet,
    least_busy, pool, round_robin,
};
use crate::clock::next_at;
use crate::conversation::{self, push_message};
use crate::doc_io::commit_options;
use crate::error::OpError;
use crate::ids::{AgentId, BatchId, ConversationId, MessageId, WorkflowId};
use crate::model::{Author, By, Conversation, Message, MessageKind, Millis};
use crate::operations::{assign, new_batch_id};
use crate::rules;
use crate::workspace::Workspace;

/// How an Assign step chose its agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Pick {
    /// The step named the agent.
    Chosen,
    /// Round-robin picked the agent.
    RoundRobin,
    /// Least-busy picked the agent.
    LeastBusy,
}

/// What one step did.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum StepResult {
    /// The conversation was assigned.
    Assigned {
        /// To whom.
        agent: AgentId,
        /// How they were chosen.
        pick: Pick,
    },
    /// The conversation already had an assignee; workflows never take a
    /// conversation from the person holding it.
    KeptAssignee {
        /// Who holds it.
        agent: AgentId,
    },
    /// The agent the step names is deactivated.
    AgentUnavailable {
        /// The agent.
        agent: AgentId,
    },
    /// Round-robin or least-busy found nobody to take it.
    NoOneAvailable {
        /// How many in the pool were out, and why.
        why: NoOneAvailable,
    },
    /// The conversation was unassigned.
    Unassigned {
        /// Who held it.
        previous: AgentId,
    },
    /// An Unassign step on a conversation nobody held.
    AlreadyUnassigned,
    /// The note was added.
    Noted,
    /// The conversation is resolved; nothing is assigned.
    Resolved,
    /// The conversation is at its size limit; nothing more is written.
    Full,
}

impl StepResult {
    /// Whether the step wrote anything.
    pub fn changed(&self) -> bool {
        matches!(
            self,
            StepResult::Assigned { .. } | StepResult::Unassigned { .. } | StepResult::Noted
        )
    }
}

/// What a workflow did about one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Outcome {
    /// A condition did not hold; no step ran.
    Skipped {
        /// The first condition that did not hold.
        unmet: Condition,
    },
    /// The conditions held and the steps ran (some may have done nothing).
    Ran {
        /// What each step did, in order.
        steps: Vec<StepResult>,
    },
}

/// One workflow run on one event.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Run {
    /// `{workflow}/{event key}`: at most one run per workflow and event.
    pub key: String,
    /// The workflow that ran.
    pub workflow: WorkflowId,
    /// The conversation it ran on.
    pub conversation: ConversationId,
    /// The event that triggered it.
    pub event: EventKind,
    /// When the event happened.
    pub at: Millis,
    /// Groups the notifications this run caused.
    pub batch: BatchId,
    /// What it did.
    pub outcome: Outcome,
}

impl Run {
    /// `ran` (something was written), `no_change` or `skipped`.
    pub fn outcome_name(&self) -> &'static str {
        match &self.outcome {
            Outcome::Skipped { .. } => "skipped",
            Outcome::Ran { steps } if steps.iter().any(StepResult::changed) => "ran",
            Outcome::Ran { .. } => "no_change",
        }
    }
}

/// Applies workflows to one conversation document at a time.
#[derive(Debug, Clone)]
pub struct Runner<'a> {
    /// The workspace the workflows are in.
    pub workspace: &'a Workspace,
    /// The agent each round-robin workflow picked last; updated as it picks.
    pub cursors: BTreeMap<WorkflowId, AgentId>,
    /// Open conversations per agent; updated as steps assign and unassign.
    pub open: BTreeMap<AgentId, u32>,
    /// Keys of runs already made; they are never made again.
    pub done: BTreeSet<String>,
    /// The time the runs are made at.
    pub now: Millis,
}

impl<'a> Runner<'a> {
    /// A runner with no run made yet and nothing picked; the server fills
    /// `cursors`, `open` and `done` from what it stored.
    pub fn new(workspace: &'a Workspace, now: Millis) -> Self {
        Runner {
            workspace,
            cursors: BTreeMap::new(),
            open: BTreeMap::new(),
            done: BTreeSet::new(),
            now,
        }
    }

    /// Runs every enabled workflow whose trigger fires on each of `events`,
    /// in workflow order, on `doc`; returns the runs made.
    pub fn run(
        &mut self,
        doc: &mut AutoCommit,
        events: &[TriggerEvent],
    ) -> Result<Vec<Run>, OpError> {
        let mut runs = Vec::new();
        let workspace = self.workspace;
        for event in events {
            for workflow in workspace.workflows_in_order().filter(|w| w.enabled) {
                if !workflow.trigger.fires_on(&event.kind, self.now) {
                    continue;
                }
                let key = format!("{}/{}", workflow.id, event.key);
                if self.done.contains(&key) {
                    continue;
                }
                let current = conversation::read(doc)?;
                if matches!(event.kind, EventKind::Unassigned { .. })
                    && TriggerEvent::unassigned(&current).is_none_or(|now| now.key != event.key)
                {
                    // Assigned (or resolved) since the event was seen: it is over.
                    continue;
                }
                let at = match event.kind {
                    EventKind::Unassigned { .. } => self.now,
                    _ => event.at,
                };
                let facts = Facts::of(&current, event.text.as_deref(), at);
                let batch = new_batch_id();
                let hours = &workspace.settings.business_hours;
                let outcome = match first_unmet(workflow, &facts, hours) {
                    Some(unmet) => Outcome::Skipped {
                        unmet: unmet.clone(),
                    },
                    None => {
                        let mut steps = Vec::new();
                        for step in &workflow.steps {
                            steps.push(self.step(doc, workflow, step, &batch)?);
                        }
                        Outcome::Ran { steps }
                    }
                };
                self.done.insert(key.clone());
                runs.push(Run {
                    key,
                    workflow: workflow.id.clone(),
                    conversation: current.id.clone(),
                    event: event.kind,
                    at: self.now,
                    batch,
                    outcome,
                });
            }
        }
        Ok(runs)
    }

    fn step(
        &mut self,
        doc: &mut AutoCommit,
        workflow: &Workflow,
        step: &Step,
        batch: &BatchId,
    ) -> Result<StepResult, OpError> {
        let current = conversation::read(doc)?;
        let workspace = self.workspace;
        let note = match step {
            Step::Note { body } => Some(body.as_str()),
            _ => None,
        };
        if crate::operations::check_room(&current, note, note.is_none()).is_err() {
            return Ok(StepResult::Full);
        }
        if let Some(body) = note {
            add_note(doc, &current, body, self.now)?;
            return Ok(StepResult::Noted);
        }
        if rules::check_open(current.status).is_err() {
            return Ok(StepResult::Resolved);
        }
        let by = By::Workflow(workflow.id.clone());
        let (agent, pick) = match (step, current.assignee()) {
            (Step::Unassign, None) => return Ok(StepResult::AlreadyUnassigned),
            (Step::Unassign, Some(previous)) => {
                assign(doc, workspace, &by, None, Some(batch), self.now)?;
                self.count(previous, -1);
                return Ok(StepResult::Unassigned {
                    previous: previous.clone(),
                });
            }
            (_, Some(holder)) => {
                return Ok(StepResult::KeptAssignee {
                    agent: holder.clone(),
                });
            }
            (Step::Assign { agent }, None) => {
                if rules::check_active(workspace, agent).is_err() {
                    return Ok(StepResult::AgentUnavailable {
                        agent: agent.clone(),
                    });
                }
                (agent.clone(), Pick::Chosen)
            }
            (Step::RoundRobin { agents }, None) => {
                let pool = pool(agents, &current.channel, workspace);
                let last = self.cursors.get(&workflow.id);
                match round_robin(&pool, last, workspace, &self.open) {
                    Ok(agent) => {
                        self.cursors.insert(workflow.id.clone(), agent.clone());
                        (agent, Pick::RoundRobin)
                    }
                    Err(why) => return Ok(StepResult::NoOneAvailable { why }),
                }
            }
            (Step::LeastBusy { agents }, None) => {
                let pool = pool(agents, &current.channel, workspace);
                match least_busy(&pool, workspace, &self.open) {
                    Ok(agent) => (agent, Pick::LeastBusy),
                    Err(why) => return Ok(StepResult::NoOneAvailable { why }),
                }
            }
            (Step::Note { .. }, None) => return Ok(StepResult::Noted),
        };
        assign(doc, workspace, &by, Some(&agent), Some(batch), self.now)?;
        self.count(&agent, 1);
        Ok(StepResult::Assigned { agent, pick })
    }

    fn count(&mut self, agent: &AgentId, delta: i32) {
        let open = self.open.entry(agent.clone()).or_default();
        *open = open.saturating_add_signed(delta);
    }
}

/// An internal note written by a workflow: a note by the system, in its own change.
fn add_note(
    doc: &mut AutoCommit,
    current: &Conversation,
    body: &str,
    now: Millis,
) -> Result<(), OpError> {
    let at = next_at(now, current.latest_at());
    push_message(
        doc,
        &Message {
            id: MessageId::random(),
            kind: MessageKind::Note,
            author: Author::System,
            body: body.to_owned(),
            at,
            leave_unassigned: false,
        },
    )?;
    doc.commit_with(commit_options("workflow note", at));
    Ok(())
}
