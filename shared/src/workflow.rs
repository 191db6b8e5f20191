//! Workflows: automation rules an admin keeps in the workspace document. A
//! workflow is a trigger, conditions that must all hold, and ordered steps
//! (Assign, Assign round-robin, Assign to least busy, Unassign, Add internal
//! note). The server runs them; the app edits them with the writers in
//! [`crate::workspace`] and can preview them with the pure functions here.
//! Business hours, which conditions test, are a workspace setting
//! ([`BusinessHours`]).
//!
//! - `conditions`: whether a workflow's conditions hold for an event;
//! - `choose`: who round-robin and least-busy pick, skipping away agents and
//!   agents at capacity;
//! - `events`: the events a change produced, and which triggers fire on them;
//! - `run`: applying workflows to those events, and what each run did;
//! - `describe`: the text the editor and the run log show.

mod choose;
mod conditions;
mod describe;
mod events;
mod run;
pub(crate) mod stored;

pub use crate::error::WorkflowError;
pub use crate::hours::{BusinessHours, Weekday};
pub use choose::{Availability, NoOneAvailable, availability, least_busy, pool, round_robin};
pub use conditions::{Facts, condition_holds, first_unmet};
pub use describe::{describe_condition, describe_step, describe_trigger};
pub use events::{EventKind, TriggerEvent, events_between};
pub use run::{Outcome, Pick, Run, Runner, StepResult};

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, ChannelId, WorkflowId};
use crate::limits;
use crate::workspace::Workspace;

/// One automation rule.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workflow {
    /// Its id.
    pub id: WorkflowId,
    /// What the admin calls it.
    pub name: String,
    /// Disabled workflows are kept but never run.
    pub enabled: bool,
    /// Workflows run in ascending `order` (then id) for the same event.
    pub order: u32,
    /// What starts it.
    pub trigger: Trigger,
    /// All must hold for the steps to run; none means always.
    pub conditions: Vec<Condition>,
    /// Applied in order.
    pub steps: Vec<Step>,
}

/// What starts a workflow.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Trigger {
    /// A customer opened a new conversation (once per conversation).
    ConversationCreated,
    /// Any customer message, the one that opens a conversation included.
    CustomerMessage,
    /// A resolved conversation was reopened (by the customer or an agent).
    ConversationReopened,
    /// An open conversation has had no assignee for `minutes`.
    UnassignedFor {
        /// How long, in minutes.
        minutes: u32,
    },
}

/// A test on the event and its conversation.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Condition {
    /// The conversation's channel is one of these.
    ChannelIn {
        /// The channels.
        channels: Vec<ChannelId>,
    },
    /// The customer's message (or the subject) contains `text`, ignoring case.
    TextContains {
        /// The text looked for.
        text: String,
    },
    /// The customer's email is at one of these domains (or a subdomain).
    EmailDomain {
        /// The domains, like `example.com`.
        domains: Vec<String>,
    },
    /// The event happened within the workspace's business hours.
    WithinBusinessHours,
    /// The event happened outside the workspace's business hours.
    OutsideBusinessHours,
}

/// What a workflow does, picked from the editor's dropdown.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Step {
    /// Assign to this agent (an explicit choice: away and capacity do not apply).
    Assign {
        /// The agent.
        agent: AgentId,
    },
    /// Take turns among `agents` (or the channel's subscribers when empty),
    /// skipping agents who are away or at capacity.
    RoundRobin {
        /// The agents to take turns among.
        agents: Vec<AgentId>,
    },
    /// The available agent among `agents` (or the channel's subscribers when
    /// empty) holding the fewest open conversations.
    LeastBusy {
        /// The agents to choose among.
        agents: Vec<AgentId>,
    },
    /// Leave the conversation without an assignee.
    Unassign,
    /// Add an internal note (seen by agents only).
    Note {
        /// The note's text.
        body: String,
    },
}

impl Workflow {
    /// A new, enabled workflow with a fresh id, run after every existing one.
    /// Fill in `conditions` and `steps`, then save it with
    /// [`crate::workspace::put_workflow`].
    pub fn new(name: &str, trigger: Trigger, workspace: &Workspace) -> Self {
        Workflow {
            id: WorkflowId::random(),
            name: name.trim().to_owned(),
            enabled: true,
            order: workspace.next_workflow_order(),
            trigger,
            conditions: Vec::new(),
            steps: Vec::new(),
        }
    }

    /// Checks the workflow on its own and against `workspace` (every agent
    /// and channel it names must exist).
    pub fn check(&self, workspace: &Workspace) -> Result<(), WorkflowError> {
        self.check_shape()?;
        for condition in &self.conditions {
            if let Condition::ChannelIn { channels } = condition
                && let Some(unknown) = channels
                    .iter()
                    .find(|c| !workspace.channels.contains_key(*c))
            {
                return Err(WorkflowError::UnknownChannel(unknown.clone()));
            }
        }
        for step in &self.steps {
            let named: &[AgentId] = match step {
                Step::Assign { agent } => std::slice::from_ref(agent),
                Step::RoundRobin { agents } | Step::LeastBusy { agents } => agents,
                Step::Unassign | Step::Note { .. } => &[],
            };
            if let Some(unknown) = named.iter().find(|a| workspace.agent(a).is_none()) {
                return Err(WorkflowError::UnknownAgent(unknown.clone()));
            }
        }
        Ok(())
    }

    /// The checks that need nothing but the workflow itself.
    pub fn check_shape(&self) -> Result<(), WorkflowError> {
        let name = self.name.trim();
        if name.is_empty() || self.name.len() > limits::MAX_FIELD_BYTES {
            return Err(WorkflowError::Name {
                max: limits::MAX_FIELD_BYTES,
            });
        }
        if self.steps.is_empty() {
            return Err(WorkflowError::NoSteps);
        }
        let max = limits::MAX_WORKFLOW_PARTS;
        if self.steps.len() > max || self.conditions.len() > max {
            return Err(WorkflowError::TooManyParts { max });
        }
        if let Trigger::UnassignedFor { minutes } = self.trigger
            && !(1..=limits::MAX_UNASSIGNED_MINUTES).contains(&minutes)
        {
            return Err(WorkflowError::Minutes {
                max: limits::MAX_UNASSIGNED_MINUTES,
            });
        }
        let long = |n: usize| n > limits::MAX_WORKFLOW_LIST;
        let lists = self.conditions.iter().map(|c| match c {
            Condition::ChannelIn { channels } => channels.len(),
            Condition::EmailDomain { domains } => domains.len(),
            _ => 0,
        });
        let named = self.steps.iter().map(|s| match s {
            Step::RoundRobin { agents } | Step::LeastBusy { agents } => agents.len(),
            _ => 0,
        });
        if lists.chain(named).any(long) {
            return Err(WorkflowError::LongList {
                max: limits::MAX_WORKFLOW_LIST,
            });
        }
        for condition in &self.conditions {
            match condition {
                Condition::ChannelIn { channels } if channels.is_empty() => {
                    return Err(WorkflowError::NoChannels);
                }
                Condition::TextContains { text }
                    if text.trim().is_empty() || text.len() > limits::MAX_FIELD_BYTES =>
                {
                    return Err(WorkflowError::Text {
                        max: limits::MAX_FIELD_BYTES,
                    });
                }
                Condition::EmailDomain { domains } => {
                    if domains.is_empty() {
                        return Err(WorkflowError::NoDomains);
                    }
                    if let Some(bad) = domains.iter().find(|d| !is_domain(d)) {
                        return Err(WorkflowError::Domain(bad.clone()));
                    }
                }
                _ => {}
            }
        }
        for step in &self.steps {
            if let Step::Note { body } = step
                && (body.trim().is_empty() || body.len() > limits::MAX_WORKFLOW_NOTE_BYTES)
            {
                return Err(WorkflowError::NoteBody {
                    max: limits::MAX_WORKFLOW_NOTE_BYTES,
                });
            }
        }
        Ok(())
    }
}

/// `example.com`, `mail.example.co.uk`: letters, digits, `-` and dots, with a dot.
fn is_domain(text: &str) -> bool {
    let text = text.trim().trim_start_matches('@');
    text.contains('.')
        && text.len() <= 253
        && !text.starts_with('.')
        && !text.ends_with('.')
        && text
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '.')
}

/// A domain as conditions compare it: lowercase, without a leading `@`.
pub fn normalize_domain(text: &str) -> String {
    text.trim().trim_start_matches('@').to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn workflow() -> Workflow {
        Workflow {
            id: "wf_billing".parse().unwrap(),
            name: "Billing".to_owned(),
            enabled: true,
            order: 0,
            trigger: Trigger::CustomerMessage,
            conditions: vec![Condition::TextContains {
                text: "refund".to_owned(),
            }],
            steps: vec![Step::Unassign],
        }
    }

    #[test]
    fn a_workflow_without_a_name_or_steps_is_refused_with_a_reason() {
        let mut w = workflow();
        w.name = "  ".to_owned();
        assert!(matches!(w.check_shape(), Err(WorkflowError::Name { .. })));
        let mut w = workflow();
        w.steps.clear();
        assert_eq!(w.check_shape(), Err(WorkflowError::NoSteps));
        assert_eq!(
            WorkflowError::NoSteps.to_string(),
            "a workflow needs at least one step"
        );
    }

    #[test]
    fn bad_conditions_and_steps_are_refused() {
        let mut w = workflow();
        w.trigger = Trigger::UnassignedFor { minutes: 0 };
        assert!(matches!(
            w.check_shape(),
            Err(WorkflowError::Minutes { .. })
        ));
        let mut w = workflow();
        w.conditions = vec![Condition::EmailDomain {
            domains: vec!["not a domain".to_owned()],
        }];
        assert_eq!(
            w.check_shape(),
            Err(WorkflowError::Domain("not a domain".to_owned()))
        );
        let mut w = workflow();
        w.steps = vec![Step::Note {
            body: String::new(),
        }];
        assert!(matches!(
            w.check_shape(),
            Err(WorkflowError::NoteBody { .. })
        ));
        let mut w = workflow();
        w.steps = vec![Step::Assign {
            agent: "agt_nobody".parse().unwrap(),
        }];
        assert_eq!(
            w.check(&Workspace::default()),
            Err(WorkflowError::UnknownAgent("agt_nobody".parse().unwrap()))
        );
    }

    #[test]
    fn domains_accept_a_leading_at_and_any_case() {
        assert!(is_domain("@Example.com"));
        assert!(is_domain("mail.example.co.uk"));
        assert!(!is_domain("example"));
        assert!(!is_domain("a@b.com"));
        assert_eq!(normalize_domain(" @Example.COM "), "example.com");
    }
}
