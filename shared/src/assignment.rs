//! The assignment rules of DESIGN §3, used identically by the app and the server.
//!
//! Concurrent writes leave several values for a conversation's `assignee`.
//! The effective assignee is a pure function of those values: rank by kind
//! (`manual` = `settled` > `workflow` > `reply`); among claims by replying
//! the earliest wins (the first to reply), otherwise the latest wins; ties
//! break on the agent id. Automerge's own winner is never consulted.
//!
//! Pure: the server's write that settles a conflict is
//! [`crate::operations::correct`].

use std::cmp::Ordering;

use crate::ids::AgentId;
use crate::model::{Assignment, AssignmentKind, By, Conversation};

impl AssignmentKind {
    /// Rank among concurrent writes: a person's decision beats an automation,
    /// which beats a claim by replying.
    pub fn rank(self) -> u8 {
        match self {
            AssignmentKind::Manual | AssignmentKind::Settled => 3,
            AssignmentKind::Workflow => 2,
            AssignmentKind::Reply => 1,
        }
    }

    /// The kind of an Assign, Reassign or Unassign decided by `by`.
    pub(crate) fn decided_by(by: &By) -> Self {
        match by {
            By::Agent(_) => AssignmentKind::Manual,
            By::Workflow(_) => AssignmentKind::Workflow,
            By::Server => AssignmentKind::Settled,
        }
    }
}

impl Conversation {
    /// The assignment in force under DESIGN §3's rules.
    pub fn effective_assignment(&self) -> Option<&Assignment> {
        effective_assignee(&self.assignments)
    }

    /// The agent in charge, or `None` while unassigned.
    pub fn assignee(&self) -> Option<&AgentId> {
        self.effective_assignment().and_then(|a| a.agent.as_ref())
    }
}

/// The assignment in force among competing values, or `None` if there are none.
pub fn effective_assignee(values: &[Assignment]) -> Option<&Assignment> {
    values.iter().max_by(|a, b| precedence(a, b))
}

/// `Greater` when `a` beats `b`.
fn precedence(a: &Assignment, b: &Assignment) -> Ordering {
    a.kind
        .rank()
        .cmp(&b.kind.rank())
        .then_with(|| {
            if a.kind == AssignmentKind::Reply && b.kind == AssignmentKind::Reply {
                // First to reply wins: the earlier claim ranks higher.
                b.at.cmp(&a.at)
            } else {
                a.at.cmp(&b.at)
            }
        })
        // Ties: the smaller agent id wins (unassigned sorts before any agent).
        .then_with(|| b.agent.cmp(&a.agent))
        .then_with(|| b.by.cmp(&a.by))
}

/// Concurrent assignments: who competed and who won.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Conflict {
    /// The value in force, as the server writes it again.
    pub winner: Assignment,
    /// Agents a losing value named, without the winner and without
    /// duplicates (the activity trail lists them).
    pub losers: Vec<AgentId>,
    /// Agents whose own decision lost (who wrote a losing value), without
    /// the winner's author: these are the people to tell.
    pub overruled: Vec<AgentId>,
}

/// The conflict among `values`, if more than one value competes.
pub fn conflict(values: &[Assignment]) -> Option<Conflict> {
    if values.len() < 2 {
        return None;
    }
    let winner = effective_assignee(values)?.clone();
    let mut losers: Vec<AgentId> = values
        .iter()
        .filter_map(|value| value.agent.clone())
        .filter(|agent| Some(agent) != winner.agent.as_ref())
        .collect();
    losers.sort();
    losers.dedup();
    let mut overruled: Vec<AgentId> = values
        .iter()
        .filter(|value| value.by != winner.by && value.agent != winner.agent)
        .filter_map(|value| value.by.agent().cloned())
        .collect();
    overruled.sort();
    overruled.dedup();
    Some(Conflict {
        winner,
        losers,
        overruled,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Millis;

    fn agent(n: u8) -> AgentId {
        format!("agt_{n}").parse().unwrap()
    }

    fn value(kind: AssignmentKind, who: Option<u8>, by: u8, at: Millis) -> Assignment {
        Assignment {
            agent: who.map(agent),
            kind,
            by: By::Agent(agent(by)),
            at,
        }
    }

    use AssignmentKind::{Manual, Reply, Settled, Workflow};

    #[test]
    fn the_first_reply_wins_among_claims() {
        let values = [value(Reply, Some(2), 2, 200), value(Reply, Some(1), 1, 100)];
        assert_eq!(effective_assignee(&values), Some(&values[1]));
    }

    #[test]
    fn a_manual_assignment_beats_a_claim_even_if_earlier() {
        let values = [
            value(Reply, Some(1), 1, 900),
            value(Manual, Some(2), 3, 100),
        ];
        assert_eq!(effective_assignee(&values).unwrap().agent, Some(agent(2)));
    }

    #[test]
    fn the_latest_manual_reassign_wins() {
        let values = [
            value(Manual, Some(1), 3, 100),
            value(Manual, Some(2), 4, 200),
        ];
        assert_eq!(effective_assignee(&values).unwrap().agent, Some(agent(2)));
    }

    #[test]
    fn manual_beats_a_concurrent_workflow_and_workflow_beats_a_claim() {
        let workflow = Assignment {
            agent: Some(agent(5)),
            kind: Workflow,
            by: By::Workflow("wf_round".parse().unwrap()),
            at: 500,
        };
        let values = [workflow.clone(), value(Manual, Some(2), 3, 100)];
        assert_eq!(effective_assignee(&values).unwrap().agent, Some(agent(2)));
        let values = [workflow.clone(), value(Reply, Some(1), 1, 900)];
        assert_eq!(effective_assignee(&values), Some(&workflow));
    }

    #[test]
    fn settled_ranks_with_manual_and_the_latest_wins() {
        let settled = Assignment {
            agent: Some(agent(1)),
            kind: Settled,
            by: By::Server,
            at: 300,
        };
        let values = [value(Manual, Some(2), 3, 200), settled.clone()];
        assert_eq!(effective_assignee(&values), Some(&settled));
    }

    #[test]
    fn an_unassign_is_a_manual_decision_too() {
        let values = [value(Reply, Some(1), 1, 100), value(Manual, None, 2, 50)];
        assert_eq!(effective_assignee(&values).unwrap().agent, None);
    }

    #[test]
    fn ties_break_on_agent_id_whatever_the_order() {
        let a = value(Manual, Some(1), 3, 100);
        let b = value(Manual, Some(2), 4, 100);
        let one = [a.clone(), b.clone()];
        let other = [b, a.clone()];
        assert_eq!(effective_assignee(&one), Some(&a));
        assert_eq!(effective_assignee(&other), Some(&a));
    }

    #[test]
    fn whoever_decided_a_losing_reassign_is_overruled_not_whom_it_named() {
        // Agent 3 moved it to 1 while agent 4 moved it to 2, later: 4 wins.
        let values = [
            value(Manual, Some(1), 3, 100),
            value(Manual, Some(2), 4, 200),
        ];
        let found = conflict(&values).unwrap();
        assert_eq!(found.losers, vec![agent(1)]);
        assert_eq!(found.overruled, vec![agent(3)]);
    }

    #[test]
    fn conflict_names_the_winner_and_the_distinct_losers() {
        let values = [
            value(Reply, Some(1), 1, 100),
            value(Reply, Some(2), 2, 200),
            value(Reply, Some(1), 1, 150),
        ];
        let found = conflict(&values).unwrap();
        assert_eq!(found.winner.agent, Some(agent(1)));
        assert_eq!(found.losers, vec![agent(2)]);
        assert_eq!(found.overruled, vec![agent(2)]);
        assert_eq!(conflict(&values[..1]), None);
    }
}
