//! Who an Assign round-robin or Assign to least busy step picks. Pure: the
//! caller passes each agent's count of open conversations and, for
//! round-robin, the agent the workflow picked last (its cursor).

use std::collections::BTreeMap;
use std::fmt;

use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, ChannelId};
use crate::workspace::Workspace;

/// Whether an agent can take a conversation from a workflow now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Availability {
    /// Can take it.
    Available,
    /// Deactivated, or not an agent of this workspace.
    Inactive,
    /// Marked themselves away.
    Away,
    /// Holds as many open conversations as their capacity.
    AtCapacity,
}

/// How available `agent` is, given each agent's open conversations.
pub fn availability(
    workspace: &Workspace,
    agent: &AgentId,
    open: &BTreeMap<AgentId, u32>,
) -> Availability {
    match workspace.agent(agent) {
        Some(a) if !a.active => Availability::Inactive,
        None => Availability::Inactive,
        Some(a) if a.away => Availability::Away,
        Some(a) if a.capacity.is_some_and(|cap| open_of(open, agent) >= cap) => {
            Availability::AtCapacity
        }
        Some(_) => Availability::Available,
    }
}

fn open_of(open: &BTreeMap<AgentId, u32>, agent: &AgentId) -> u32 {
    open.get(agent).copied().unwrap_or(0)
}

/// The agents a step chooses among: the ones it names, or, when it names
/// none, the active agents signed up for `channel` (by id).
pub fn pool(named: &[AgentId], channel: &ChannelId, workspace: &Workspace) -> Vec<AgentId> {
    if named.is_empty() {
        workspace.subscribers(channel).cloned().collect()
    } else {
        let mut seen = std::collections::BTreeSet::new();
        named.iter().filter(|a| seen.insert(*a)).cloned().collect()
    }
}

/// Nobody in the pool could take the conversation, and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct NoOneAvailable {
    /// Agents in the pool.
    pub pool: usize,
    /// Of them, deactivated (or no longer on the team).
    pub inactive: usize,
    /// Of them, away.
    pub away: usize,
    /// Of them, holding as many open conversations as their capacity.
    pub at_capacity: usize,
}

impl fmt::Display for NoOneAvailable {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.pool == 0 {
            f.write_str("there is no agent to choose from (nobody is signed up for the channel)")
        } else if self.inactive == self.pool {
            f.write_str("every agent it names is deactivated")
        } else {
            write!(
                f,
                "every agent is away or at capacity ({} away, {} at capacity)",
                self.away, self.at_capacity
            )
        }
    }
}

fn nobody(
    pool: &[AgentId],
    workspace: &Workspace,
    open: &BTreeMap<AgentId, u32>,
) -> NoOneAvailable {
    let mut why = NoOneAvailable {
        pool: pool.len(),
        inactive: 0,
        away: 0,
        at_capacity: 0,
    };
    for agent in pool {
        match availability(workspace, agent, open) {
            Availability::Inactive => why.inactive += 1,
            Availability::Away => why.away += 1,
            Availability::AtCapacity => why.at_capacity += 1,
            Availability::Available => {}
        }
    }
    why
}

/// The next available agent after `last` (the workflow's previous pick) in
/// `pool`, wrapping around; from the start of the pool when `last` is `None`
/// or no longer in it. Agents who are away, at capacity or deactivated are
/// skipped, so the available ones take turns.
pub fn round_robin(
    pool: &[AgentId],
    last: Option<&AgentId>,
    workspace: &Workspace,
    open: &BTreeMap<AgentId, u32>,
) -> Result<AgentId, NoOneAvailable> {
    let start = last
        .and_then(|last| pool.iter().position(|a| a == last))
        .map_or(0, |i| i + 1);
    (0..pool.len())
        .map(|step| &pool[(start + step) % pool.len()])
        .find(|a| availability(workspace, a, open) == Availability::Available)
        .cloned()
        .ok_or_else(|| nobody(pool, workspace, open))
}

/// The available agent in `pool` with the fewest open conversations; a tie
/// goes to the one listed first.
pub fn least_busy(
    pool: &[AgentId],
    workspace: &Workspace,
    open: &BTreeMap<AgentId, u32>,
) -> Result<AgentId, NoOneAvailable> {
    pool.iter()
        .enumerate()
        .filter(|(_, a)| availability(workspace, a, open) == Availability::Available)
        .min_by_key(|(index, a)| (open_of(open, a), *index))
        .map(|(_, a)| a.clone())
        .ok_or_else(|| nobody(pool, workspace, open))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::{Agent, Role};

    fn id(name: &str) -> AgentId {
        format!("agt_{name}").parse().unwrap()
    }

    /// Ana, Ben (capacity 300), Cy and Dee available; Eve away; Fay at her
    /// capacity of 2; Gus deactivated.
    fn team() -> (Workspace, BTreeMap<AgentId, u32>) {
        let mut workspace = Workspace::default();
        for (name, away, capacity, active) in [
            ("ana", false, None, true),
            ("ben", false, Some(300), true),
            ("cy", false, None, true),
            ("dee", false, None, true),
            ("eve", true, None, true),
            ("fay", false, Some(2), true),
            ("gus", false, None, false),
        ] {
            workspace.agents.insert(
                id(name),
                Agent {
                    id: id(name),
                    name: name.to_owned(),
                    email: format!("{name}@acme.test"),
                    role: Role::Agent,
                    active,
                    away,
                    capacity,
                },
            );
        }
        let open = [(id("fay"), 2)].into_iter().collect();
        (workspace, open)
    }

    fn everyone() -> Vec<AgentId> {
        ["ana", "ben", "eve", "fay", "gus", "cy", "dee"]
            .into_iter()
            .map(id)
            .collect()
    }

    #[test]
    fn round_robin_is_fair_over_a_thousand_events_and_skips_the_unavailable() {
        let (workspace, mut open) = team();
        let pool = everyone();
        let mut last = None;
        let mut picks: BTreeMap<AgentId, u32> = BTreeMap::new();
        for _ in 0..1_000 {
            let agent = round_robin(&pool, last.as_ref(), &workspace, &open).unwrap();
            *picks.entry(agent.clone()).or_default() += 1;
            *open.entry(agent.clone()).or_default() += 1;
            last = Some(agent);
        }
        let eligible = ["ana", "ben", "cy", "dee"].map(id);
        assert_eq!(
            picks.keys().cloned().collect::<Vec<_>>(),
            {
                let mut e = eligible.to_vec();
                e.sort();
                e
            },
            "only available agents are picked"
        );
        let (min, max) = (picks.values().min(), picks.values().max());
        assert!(
            max.unwrap() - min.unwrap() <= 1,
            "every eligible agent within ±1: {picks:?}"
        );
        assert_eq!(picks.values().sum::<u32>(), 1_000);
    }

    #[test]
    fn an_agent_who_reaches_capacity_is_skipped_from_then_on() {
        let (mut workspace, mut open) = team();
        if let Some(ben) = workspace.agents.get_mut(&id("ben")) {
            ben.capacity = Some(3);
        }
        let pool = vec![id("ana"), id("ben")];
        let mut last = None;
        let mut picks = Vec::new();
        for _ in 0..8 {
            let agent = round_robin(&pool, last.as_ref(), &workspace, &open).unwrap();
            *open.entry(agent.clone()).or_default() += 1;
            picks.push(agent.clone());
            last = Some(agent);
        }
        let bens = picks.iter().filter(|a| **a == id("ben")).count();
        assert_eq!(bens, 3, "{picks:?}");
        assert_eq!(picks[6..], [id("ana"), id("ana")]);
    }

    #[test]
    fn round_robin_continues_after_the_last_pick_and_wraps() {
        let (workspace, open) = team();
        let pool = vec![id("ana"), id("eve"), id("cy")];
        let pick = |last: Option<&str>| {
            round_robin(&pool, last.map(id).as_ref(), &workspace, &open).unwrap()
        };
        assert_eq!(pick(None), id("ana"));
        assert_eq!(pick(Some("ana")), id("cy"), "Eve is away");
        assert_eq!(pick(Some("cy")), id("ana"));
        assert_eq!(
            pick(Some("gone")),
            id("ana"),
            "unknown cursor: from the top"
        );
    }

    #[test]
    fn nobody_available_says_why() {
        let (workspace, open) = team();
        let pool = vec![id("eve"), id("fay")];
        let why = round_robin(&pool, None, &workspace, &open).unwrap_err();
        assert_eq!(
            (why.pool, why.away, why.at_capacity, why.inactive),
            (2, 1, 1, 0)
        );
        assert_eq!(
            why.to_string(),
            "every agent is away or at capacity (1 away, 1 at capacity)"
        );
        assert_eq!(least_busy(&pool, &workspace, &open), Err(why));
        let empty = round_robin(&[], None, &workspace, &open).unwrap_err();
        assert!(empty.to_string().contains("no agent to choose from"));
    }

    #[test]
    fn least_busy_picks_the_minimum_among_the_available() {
        let (workspace, mut open) = team();
        open.insert(id("ana"), 4);
        open.insert(id("ben"), 2);
        open.insert(id("cy"), 3);
        open.insert(id("dee"), 2);
        open.insert(id("eve"), 0); // away: never picked however idle
        let pool = everyone();
        assert_eq!(least_busy(&pool, &workspace, &open), Ok(id("ben")));
        open.insert(id("ben"), 9);
        assert_eq!(least_busy(&pool, &workspace, &open), Ok(id("dee")));
        open.insert(id("cy"), 0);
        assert_eq!(least_busy(&pool, &workspace, &open), Ok(id("cy")));
    }

    #[test]
    fn an_empty_list_means_the_channels_subscribers() {
        let (mut workspace, _) = team();
        let channel: ChannelId = "chn_billing".parse().unwrap();
        for name in ["cy", "ana", "gus"] {
            workspace
                .subscriptions
                .entry(id(name))
                .or_default()
                .insert(channel.clone());
        }
        assert_eq!(
            pool(&[], &channel, &workspace),
            vec![id("ana"), id("cy")],
            "active subscribers, by id"
        );
        assert_eq!(
            pool(&[id("ben"), id("ben"), id("ana")], &channel, &workspace),
            vec![id("ben"), id("ana")]
        );
    }
}
