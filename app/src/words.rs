//! How the app says things: the activity trail in sentences.

use baton_shared::ids::AgentId;
use baton_shared::model::{ActivityEvent, By};
use baton_shared::workspace::Workspace;

fn name(workspace: &Workspace, agent: &AgentId) -> String {
    workspace
        .agent(agent)
        .map_or_else(|| "a former agent".to_owned(), |a| a.name.clone())
}

fn who(workspace: &Workspace, by: &By) -> String {
    match by {
        By::Agent(agent) => name(workspace, agent),
        By::Workflow(id) => format!("workflow {id}"),
        By::Server => "Baton".to_owned(),
    }
}

/// "assigned to Ana by Ben", "Ben claimed by replying", "reassigned to Ana by
/// workflow W", "unassigned by Ana".
pub fn activity(workspace: &Workspace, by: &By, event: &ActivityEvent) -> String {
    let by_whom = || format!("by {}", who(workspace, by));
    match event {
        ActivityEvent::Created => "Conversation started".to_owned(),
        ActivityEvent::Assigned {
            agent, previous, ..
        } => {
            let verb = if previous.is_some() {
                "Reassigned"
            } else {
                "Assigned"
            };
            format!("{verb} to {} {}", name(workspace, agent), by_whom())
        }
        ActivityEvent::Claimed { agent } => {
            format!("{} claimed by replying", name(workspace, agent))
        }
        ActivityEvent::Unassigned { .. } => format!("Unassigned {}", by_whom()),
        ActivityEvent::Settled { winner, losers } => {
            let winner = winner
                .as_ref()
                .map_or_else(|| "nobody".to_owned(), |w| name(workspace, w));
            let losers: Vec<String> = losers.iter().map(|l| name(workspace, l)).collect();
            if losers.is_empty() {
                format!("Concurrent changes settled: {winner} holds it")
            } else {
                format!(
                    "Concurrent changes settled: {winner} holds it (over {})",
                    losers.join(", ")
                )
            }
        }
        ActivityEvent::Resolved => format!("Resolved {}", by_whom()),
        ActivityEvent::Reopened => match by {
            By::Server => "Reopened by a customer message".to_owned(),
            _ => format!("Reopened {}", by_whom()),
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::state::fixtures;

    #[test]
    fn the_trail_reads_as_sentences() {
        let (workspace, ids) = fixtures::workspace(&["Ana", "Ben"]);
        let (ana, ben) = (ids[0].clone(), ids[1].clone());
        let assigned = ActivityEvent::Assigned {
            agent: ana.clone(),
            previous: None,
            batch: None,
        };
        assert_eq!(
            activity(&workspace, &By::Agent(ben.clone()), &assigned),
            "Assigned to Ana by Ben"
        );
        let reassigned = ActivityEvent::Assigned {
            agent: ben.clone(),
            previous: Some(ana.clone()),
            batch: None,
        };
        assert_eq!(
            activity(&workspace, &By::Agent(ana.clone()), &reassigned),
            "Reassigned to Ben by Ana"
        );
        assert_eq!(
            activity(
                &workspace,
                &By::Agent(ben.clone()),
                &ActivityEvent::Claimed { agent: ben.clone() }
            ),
            "Ben claimed by replying"
        );
        assert_eq!(
            activity(&workspace, &By::Server, &ActivityEvent::Reopened),
            "Reopened by a customer message"
        );
        let settled = ActivityEvent::Settled {
            winner: Some(ana),
            losers: vec![ben],
        };
        assert_eq!(
            activity(&workspace, &By::Server, &settled),
            "Concurrent changes settled: Ana holds it (over Ben)"
        );
    }
}
