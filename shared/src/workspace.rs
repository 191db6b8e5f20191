//! The workspace document: agents, channels, notification subscriptions,
//! workflows and settings. Admins change anything; an agent changes only
//! their own subscriptions and away state (enforced by `validate`).
//!
//! Layout (root map): `name`, `settings {only_assignee_replies,
//! business_hours}`, `agents {id → {name, email, role, active, away,
//! capacity}}`, `channels {id → {name, kind}}`, `subscriptions {agent →
//! {channel → bool}}`, `workflows {id → …}` (see `workflow::stored`).
//! Workflows are written with the functions in `workspace::workflows`.

mod workflows;

pub use workflows::{
    delete_workflow, ensure_workflows, put_workflow, reorder_workflows, set_workflow_enabled,
};

use std::collections::{BTreeMap, BTreeSet};

use automerge::transaction::Transactable;
use automerge::{AutoCommit, AutomergeError, ObjId, ObjType, ROOT, ReadDoc, ScalarValue, Value};
use serde::{Deserialize, Serialize};

use crate::doc_io::commit_options;
use crate::doc_io::{self as io, ReadError};
use crate::error::OpError;
use crate::ids::{AgentId, ChannelId, WorkflowId};
use crate::model::{Agent, Channel, Millis, Role, Settings};
use crate::workflow::{Workflow, stored};

pub(crate) mod key {
    pub const NAME: &str = "name";
    pub const SETTINGS: &str = "settings";
    pub const AGENTS: &str = "agents";
    pub const CHANNELS: &str = "channels";
    pub const SUBSCRIPTIONS: &str = "subscriptions";
    pub const WORKFLOWS: &str = "workflows";
    pub const ROOT_KEYS: &[&str] = &[NAME, SETTINGS, AGENTS, CHANNELS, SUBSCRIPTIONS, WORKFLOWS];
    pub const AGENT_KEYS: &[&str] = &["name", "email", "role", "active", "away", "capacity"];
    pub const CHANNEL_KEYS: &[&str] = &["name", "kind"];
    pub const SETTINGS_KEYS: &[&str] = &["only_assignee_replies", "business_hours"];
}

/// The workspace document, read.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Workspace {
    /// Workspace-wide settings.
    pub settings: Settings,
    /// Every agent ever added, deactivated ones included, by id.
    pub agents: BTreeMap<AgentId, Agent>,
    /// Every channel customers write to, by id.
    pub channels: BTreeMap<ChannelId, Channel>,
    /// The channels each agent is signed up for notifications on.
    pub subscriptions: BTreeMap<AgentId, BTreeSet<ChannelId>>,
    /// Automation rules, enabled or not, by id.
    pub workflows: BTreeMap<WorkflowId, Workflow>,
}

impl Workspace {
    /// The agent with this id, active or not.
    pub fn agent(&self, id: &AgentId) -> Option<&Agent> {
        self.agents.get(id)
    }

    /// The agent whose email is `email` (case-insensitive), active or not.
    pub fn agent_by_email(&self, email: &str) -> Option<&Agent> {
        self.agents
            .values()
            .find(|a| a.email.eq_ignore_ascii_case(email.trim()))
    }

    /// Whether `id` names an active agent (one who may hold conversations).
    pub fn is_active(&self, id: &AgentId) -> bool {
        self.agent(id).is_some_and(|a| a.active)
    }

    /// Whether `id` is an active admin.
    pub fn is_admin(&self, id: &AgentId) -> bool {
        self.agent(id)
            .is_some_and(|a| a.active && a.role == Role::Admin)
    }

    /// Active agents signed up for notifications on `channel`.
    pub fn subscribers(&self, channel: &ChannelId) -> impl Iterator<Item = &AgentId> {
        self.subscriptions
            .iter()
            .filter(move |(agent, channels)| channels.contains(channel) && self.is_active(agent))
            .map(|(agent, _)| agent)
    }

    /// Every workflow in the order they run (by `order`, then id).
    pub fn workflows_in_order(&self) -> impl Iterator<Item = &Workflow> {
        let mut all: Vec<&Workflow> = self.workflows.values().collect();
        all.sort_by(|a, b| (a.order, &a.id).cmp(&(b.order, &b.id)));
        all.into_iter()
    }

    /// The `order` that puts a new workflow after every existing one.
    pub fn next_workflow_order(&self) -> u32 {
        self.workflows
            .values()
            .map(|w| w.order.saturating_add(1))
            .max()
            .unwrap_or(0)
    }

    /// Whether `agent` is signed up for notifications on `channel`.
    pub fn is_subscribed(&self, agent: &AgentId, channel: &ChannelId) -> bool {
        self.subscriptions
            .get(agent)
            .is_some_and(|channels| channels.contains(channel))
    }
}

/// Creates an empty workspace document in one change.
pub fn create(name: &str, at: Millis) -> Result<AutoCommit, AutomergeError> {
    let mut doc = AutoCommit::new();
    doc.put(ROOT, key::NAME, name)?;
    let settings = doc.put_object(ROOT, key::SETTINGS, ObjType::Map)?;
    doc.put(&settings, "only_assignee_replies", false)?;
    stored::write_hours(&mut doc, &settings, &Default::default())?;
    doc.put_object(ROOT, key::AGENTS, ObjType::Map)?;
    doc.put_object(ROOT, key::CHANNELS, ObjType::Map)?;
    doc.put_object(ROOT, key::SUBSCRIPTIONS, ObjType::Map)?;
    doc.put_object(ROOT, key::WORKFLOWS, ObjType::Map)?;
    doc.commit_with(commit_options("create workspace", at));
    Ok(doc)
}

/// Reads the whole workspace.
pub fn read<D: ReadDoc>(doc: &D) -> Result<Workspace, ReadError> {
    io::only_keys(doc, &ROOT, key::ROOT_KEYS)?;
    let settings_obj = io::object(doc, &ROOT, key::SETTINGS, ObjType::Map)?;
    io::only_keys(doc, &settings_obj, key::SETTINGS_KEYS)?;
    let settings = Settings {
        name: io::string(doc, &ROOT, key::NAME)?,
        only_assignee_replies: io::boolean(doc, &settings_obj, "only_assignee_replies")?,
        business_hours: stored::read_hours(doc, &settings_obj)?,
    };

    let mut agents = BTreeMap::new();
    let agents_obj = io::object(doc, &ROOT, key::AGENTS, ObjType::Map)?;
    for id in doc.keys(&agents_obj) {
        let obj = io::object(doc, &agents_obj, &id, ObjType::Map)?;
        io::only_keys(doc, &obj, key::AGENT_KEYS)?;
        let id: AgentId = io::parse(key::AGENTS, &id)?;
        let capacity = io::opt_int(doc, &obj, "capacity")?
            .map(|c| {
                u32::try_from(c).map_err(|_| ReadError::Invalid {
                    field: "capacity".to_owned(),
                    reason: format!("{c} is not a number of conversations"),
                })
            })
            .transpose()?;
        let agent = Agent {
            id: id.clone(),
            name: io::string(doc, &obj, "name")?,
            email: io::string(doc, &obj, "email")?,
            role: io::parsed(doc, &obj, "role")?,
            active: io::boolean(doc, &obj, "active")?,
            away: io::boolean(doc, &obj, "away")?,
            capacity,
        };
        agents.insert(id, agent);
    }

    let mut channels = BTreeMap::new();
    let channels_obj = io::object(doc, &ROOT, key::CHANNELS, ObjType::Map)?;
    for id in doc.keys(&channels_obj) {
        let obj = io::object(doc, &channels_obj, &id, ObjType::Map)?;
        io::only_keys(doc, &obj, key::CHANNEL_KEYS)?;
        let id: ChannelId = io::parse(key::CHANNELS, &id)?;
        let channel = Channel {
            id: id.clone(),
            name: io::string(doc, &obj, "name")?,
            kind: io::string(doc, &obj, "kind")?,
        };
        channels.insert(id, channel);
    }

    let mut subscriptions = BTreeMap::new();
    let subs_obj = io::object(doc, &ROOT, key::SUBSCRIPTIONS, ObjType::Map)?;
    for agent in doc.keys(&subs_obj) {
        let obj = io::object(doc, &subs_obj, &agent, ObjType::Map)?;
        let agent: AgentId = io::parse(key::SUBSCRIPTIONS, &agent)?;
        let mut set = BTreeSet::new();
        for channel in doc.keys(&obj) {
            if io::boolean(doc, &obj, &channel)? {
                set.insert(io::parse::<ChannelId>(key::SUBSCRIPTIONS, &channel)?);
            }
        }
        subscriptions.insert(agent, set);
    }

    Ok(Workspace {
        settings,
        agents,
        channels,
        subscriptions,
        workflows: stored::read_all(doc, &ROOT)?,
    })
}

pub(crate) fn map_at(doc: &AutoCommit, obj: &ObjId, field: &str) -> Result<ObjId, OpError> {
    match doc.get(obj, field)? {
        Some((Value::Object(ObjType::Map), id)) => Ok(id),
        _ => Err(OpError::Read(ReadError::Missing(field.to_owned()))),
    }
}

/// Adds an agent, or replaces every field of an existing one (admin).
pub fn put_agent(doc: &mut AutoCommit, agent: &Agent, at: Millis) -> Result<(), OpError> {
    let agents = map_at(doc, &ROOT, key::AGENTS)?;
    let obj = match doc.get(&agents, agent.id.as_str())? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => doc.put_object(&agents, agent.id.as_str(), ObjType::Map)?,
    };
    doc.put(&obj, "name", agent.name.as_str())?;
    doc.put(&obj, "email", agent.email.as_str())?;
    doc.put(&obj, "role", agent.role.as_str())?;
    doc.put(&obj, "active", agent.active)?;
    doc.put(&obj, "away", agent.away)?;
    match agent.capacity {
        Some(capacity) => doc.put(&obj, "capacity", i64::from(capacity))?,
        None => doc.put(&obj, "capacity", ScalarValue::Null)?,
    }
    doc.commit_with(commit_options("put agent", at));
    Ok(())
}

/// Adds a channel, or renames an existing one (admin).
pub fn put_channel(doc: &mut AutoCommit, channel: &Channel, at: Millis) -> Result<(), OpError> {
    let channels = map_at(doc, &ROOT, key::CHANNELS)?;
    let obj = match doc.get(&channels, channel.id.as_str())? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => doc.put_object(&channels, channel.id.as_str(), ObjType::Map)?,
    };
    doc.put(&obj, "name", channel.name.as_str())?;
    doc.put(&obj, "kind", channel.kind.as_str())?;
    doc.commit_with(commit_options("put channel", at));
    Ok(())
}

/// Signs `agent` up for (or off) notifications on `channel`.
pub fn set_subscription(
    doc: &mut AutoCommit,
    agent: &AgentId,
    channel: &ChannelId,
    subscribed: bool,
    at: Millis,
) -> Result<(), OpError> {
    let subs = map_at(doc, &ROOT, key::SUBSCRIPTIONS)?;
    let obj = match doc.get(&subs, agent.as_str())? {
        Some((Value::Object(ObjType::Map), id)) => id,
        _ => doc.put_object(&subs, agent.as_str(), ObjType::Map)?,
    };
    doc.put(&obj, channel.as_str(), subscribed)?;
    doc.commit_with(commit_options("subscription", at));
    Ok(())
}

/// Marks `agent` away (skipped by round-robin) or back online.
pub fn set_away(
    doc: &mut AutoCommit,
    agent: &AgentId,
    away: bool,
    at: Millis,
) -> Result<(), OpError> {
    let agents = map_at(doc, &ROOT, key::AGENTS)?;
    let obj = map_at(doc, &agents, agent.as_str())?;
    doc.put(&obj, "away", away)?;
    doc.commit_with(commit_options("away", at));
    Ok(())
}

/// Changes workspace-wide settings, business hours included (admin).
pub fn put_settings(doc: &mut AutoCommit, settings: &Settings, at: Millis) -> Result<(), OpError> {
    settings
        .business_hours
        .check()
        .map_err(crate::workflow::WorkflowError::Hours)?;
    doc.put(ROOT, key::NAME, settings.name.as_str())?;
    let obj = map_at(doc, &ROOT, key::SETTINGS)?;
    doc.put(
        &obj,
        "only_assignee_replies",
        settings.only_assignee_replies,
    )?;
    stored::write_hours(doc, &obj, &settings.business_hours)?;
    doc.commit_with(commit_options("settings", at));
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ana() -> Agent {
        Agent {
            id: "agt_ana".parse().unwrap(),
            name: "Ana".to_owned(),
            email: "ana@example.com".to_owned(),
            role: Role::Agent,
            active: true,
            away: false,
            capacity: Some(20),
        }
    }

    #[test]
    fn agents_channels_and_subscriptions_read_back() {
        let mut doc = create("Acme support", 1).unwrap();
        let channel = Channel {
            id: "chn_email".parse().unwrap(),
            name: "Email".to_owned(),
            kind: "email".to_owned(),
        };
        put_agent(&mut doc, &ana(), 2).unwrap();
        put_channel(&mut doc, &channel, 3).unwrap();
        set_subscription(&mut doc, &ana().id, &channel.id, true, 4).unwrap();
        let workspace = read(&doc).unwrap();
        assert_eq!(workspace.settings.name, "Acme support");
        assert_eq!(workspace.agent(&ana().id), Some(&ana()));
        assert!(workspace.is_active(&ana().id));
        assert!(!workspace.is_admin(&ana().id));
        assert_eq!(
            workspace.subscribers(&channel.id).collect::<Vec<_>>(),
            vec![&ana().id]
        );

        set_subscription(&mut doc, &ana().id, &channel.id, false, 5).unwrap();
        set_away(&mut doc, &ana().id, true, 6).unwrap();
        let workspace = read(&doc).unwrap();
        assert_eq!(workspace.subscribers(&channel.id).count(), 0);
        assert!(workspace.agent(&ana().id).unwrap().away);
    }

    #[test]
    fn deactivated_agents_are_not_subscribers() {
        let mut doc = create("Acme", 1).unwrap();
        let channel: ChannelId = "chn_chat".parse().unwrap();
        let mut agent = ana();
        put_agent(&mut doc, &agent, 2).unwrap();
        set_subscription(&mut doc, &agent.id, &channel, true, 3).unwrap();
        agent.active = false;
        put_agent(&mut doc, &agent, 4).unwrap();
        let workspace = read(&doc).unwrap();
        assert_eq!(workspace.subscribers(&channel).count(), 0);
        assert!(workspace.is_subscribed(&agent.id, &channel));
    }
}
