//! Workflows and their runs in words, for the editor's summaries and the
//! admin's run log. Agents and channels are named as the workspace calls them.

use super::{Condition, Outcome, Pick, Run, Step, StepResult, Trigger};
use crate::ids::{AgentId, ChannelId};
use crate::workspace::Workspace;

fn agent_name(workspace: &Workspace, agent: &AgentId) -> String {
    workspace
        .agent(agent)
        .map_or_else(|| agent.to_string(), |a| a.name.clone())
}

fn channel_name(workspace: &Workspace, channel: &ChannelId) -> String {
    workspace
        .channels
        .get(channel)
        .map_or_else(|| channel.to_string(), |c| c.name.clone())
}

fn agents(workspace: &Workspace, list: &[AgentId]) -> String {
    if list.is_empty() {
        "the channel's subscribed agents".to_owned()
    } else {
        let names: Vec<_> = list.iter().map(|a| agent_name(workspace, a)).collect();
        names.join(", ")
    }
}

/// "When a customer sends a message", …
pub fn describe_trigger(trigger: &Trigger) -> String {
    match trigger {
        Trigger::ConversationCreated => "When a conversation is created".to_owned(),
        Trigger::CustomerMessage => "When a customer message arrives".to_owned(),
        Trigger::ConversationReopened => "When a conversation is reopened".to_owned(),
        Trigger::UnassignedFor { minutes } => {
            format!("When a conversation is still unassigned after {minutes} min")
        }
    }
}

/// "channel is one of Email, Chat", …
pub fn describe_condition(condition: &Condition, workspace: &Workspace) -> String {
    match condition {
        Condition::ChannelIn { channels } => {
            let names: Vec<_> = channels
                .iter()
                .map(|c| channel_name(workspace, c))
                .collect();
            format!("channel is one of {}", names.join(", "))
        }
        Condition::TextContains { text } => format!("message text contains “{}”", text.trim()),
        Condition::EmailDomain { domains } => {
            format!("customer email domain is {}", domains.join(", "))
        }
        Condition::WithinBusinessHours => "within business hours".to_owned(),
        Condition::OutsideBusinessHours => "outside business hours".to_owned(),
    }
}

/// "Assign to Ana", "Assign round-robin among Ana, Ben", …
pub fn describe_step(step: &Step, workspace: &Workspace) -> String {
    match step {
        Step::Assign { agent } => format!("Assign to {}", agent_name(workspace, agent)),
        Step::RoundRobin { agents: list } => {
            format!("Assign round-robin among {}", agents(workspace, list))
        }
        Step::LeastBusy { agents: list } => {
            format!("Assign to the least busy of {}", agents(workspace, list))
        }
        Step::Unassign => "Unassign".to_owned(),
        Step::Note { .. } => "Add an internal note".to_owned(),
    }
}

fn describe_result(result: &StepResult, workspace: &Workspace) -> String {
    match result {
        StepResult::Assigned { agent, pick } => {
            let how = match pick {
                Pick::Chosen => "",
                Pick::RoundRobin => " (round-robin)",
                Pick::LeastBusy => " (least busy)",
            };
            format!("assigned to {}{how}", agent_name(workspace, agent))
        }
        StepResult::KeptAssignee { agent } => format!(
            "left it with {}, who already holds it",
            agent_name(workspace, agent)
        ),
        StepResult::AgentUnavailable { agent } => format!(
            "assigned nobody: {} is deactivated",
            agent_name(workspace, agent)
        ),
        StepResult::NoOneAvailable { why } => format!("assigned nobody: {why}"),
        StepResult::Unassigned { previous } => {
            format!("unassigned it from {}", agent_name(workspace, previous))
        }
        StepResult::AlreadyUnassigned => "it was already unassigned".to_owned(),
        StepResult::Noted => "added an internal note".to_owned(),
        StepResult::Resolved => "assigned nobody: the conversation is resolved".to_owned(),
        StepResult::Full => "did nothing: the conversation is at its size limit".to_owned(),
    }
}

impl Run {
    /// What the run did, or why it did nothing, in one sentence.
    pub fn describe(&self, workspace: &Workspace) -> String {
        let text = match &self.outcome {
            Outcome::Skipped { unmet } => format!(
                "skipped: the condition “{}” did not hold",
                describe_condition(unmet, workspace)
            ),
            Outcome::Ran { steps } => {
                let done: Vec<_> = steps
                    .iter()
                    .map(|s| describe_result(s, workspace))
                    .collect();
                done.join("; ")
            }
        };
        let mut chars = text.chars();
        match chars.next() {
            Some(first) => first.to_uppercase().chain(chars).collect(),
            None => text,
        }
    }
}
