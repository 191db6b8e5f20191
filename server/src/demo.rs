//! `serve --demo`: a workspace a new user can explore at once (an admin, six
//! agents, three channels, a few hundred conversations in every state), and
//! a simulator of customers writing in every few seconds.

mod content;

use std::sync::Arc;
use std::time::Duration;

use baton_shared::conversation::NewConversation;
use baton_shared::ids::{AgentId, ChannelId, ConversationId};
use baton_shared::model::{By, Customer, Role};
use baton_shared::operations::{ReplyMode, assign, customer_message, note, reply, resolve};
use baton_shared::workflow::{Condition, Step, Trigger, Workflow};
use baton_shared::workspace;
use content::Dice;
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

use crate::hub::{Hub, HubError};
use crate::ingest::{self, Incoming, IncomingCustomer};
use crate::store::{ConversationQuery, View, Wait, Write};
use crate::team;

/// Why seeding or simulating the demo failed.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Hub(#[from] HubError),
    #[error(transparent)]
    Store(#[from] crate::store::StoreError),
    #[error(transparent)]
    Team(#[from] crate::team::TeamError),
    #[error(transparent)]
    Op(#[from] baton_shared::operations::OpError),
    #[error(transparent)]
    Ingest(#[from] crate::ingest::IngestError),
    #[error("demo logins: {0}")]
    Logins(#[from] serde_json::Error),
    #[error("a seeding task stopped: {0}")]
    Task(#[from] tokio::task::JoinError),
}

type Result<T, E = DemoError> = std::result::Result<T, E>;

/// Every demo account uses this password.
pub const DEMO_PASSWORD: &str = "baton-demo";
const SEEDED_KEY: &str = "demo_logins";

/// What a new user needs to try the demo.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoLogins {
    pub agents: Vec<DemoAgent>,
    pub channels: Vec<DemoChannel>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoAgent {
    pub name: String,
    pub email: String,
    pub password: String,
    pub admin: bool,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DemoChannel {
    pub name: String,
    pub id: ChannelId,
    /// Demo only: kept so every start can print it. Real channels' secrets
    /// are shown once and stored hashed.
    pub secret: String,
}

impl DemoLogins {
    /// The text printed at start.
    pub fn describe(&self, url: &str) -> String {
        let mut out = String::from("\nDemo workspace — sign in with any of these:\n");
        for a in &self.agents {
            let role = if a.admin { " (admin)" } else { "" };
            out.push_str(&format!("  {:<28} {}{role}\n", a.email, a.password));
        }
        out.push_str(
            "\nChannels and their ingest secrets (for POST /api/channels/{id}/messages):\n",
        );
        for c in &self.channels {
            out.push_str(&format!("  {:<14} {}  {}\n", c.name, c.id, c.secret));
        }
        if let Some(first) = self.channels.first() {
            out.push_str(&format!(
                "\nSend a customer message yourself:\n  curl -X POST {url}/api/channels/{}/messages \\\n    \
                 -H 'Authorization: Bearer {}' -H 'Content-Type: application/json' \\\n    \
                 -d '{{\"customer\":{{\"email\":\"sam@example.com\",\"name\":\"Sam\"}},\"body\":\"Hello!\"}}'\n",
                first.id, first.secret
            ));
        }
        out
    }
}

/// Seeds the demo workspace with `conversations` conversations on first
/// start; later starts return the same logins. Nodes starting together
/// take turns (a lock every process on the store shares): one seeds, the
/// others find it seeded.
pub async fn seed(hub: &Arc<Hub>, conversations: usize) -> Result<DemoLogins> {
    let turn = hub.store().lock("demo", Wait::Block).await?;
    let logins = seed_once(hub, conversations).await;
    if let Some(turn) = turn {
        turn.release().await;
    }
    logins
}

async fn seed_once(hub: &Arc<Hub>, conversations: usize) -> Result<DemoLogins> {
    if let Some(saved) = hub.reads().meta(SEEDED_KEY).await? {
        return Ok(serde_json::from_str(&saved)?);
    }
    eprintln!("Seeding the demo workspace (first start only)…");
    let mut agents = Vec::new();
    let mut ids: Vec<AgentId> = Vec::new();
    for (name, email, admin) in content::AGENTS {
        let role = if *admin { Role::Admin } else { Role::Agent };
        let added = team::add_agent(hub, email, name, role, Some(DEMO_PASSWORD), None).await?;
        ids.push(added.id);
        agents.push(DemoAgent {
            name: name.to_string(),
            email: email.to_string(),
            password: DEMO_PASSWORD.to_owned(),
            admin: *admin,
        });
    }
    let mut channels = Vec::new();
    for (name, kind, _) in content::CHANNELS {
        let added = team::add_channel(hub, name, kind).await?;
        channels.push(DemoChannel {
            name: name.to_string(),
            id: added.id,
            secret: added.secret,
        });
    }
    // Who is signed up where, and one agent away with a capacity.
    let now = baton_shared::clock::now();
    hub.change_workspace(Vec::new(), |doc, current| {
        for ((_, _, members), channel) in content::CHANNELS.iter().zip(&channels) {
            for (index, agent) in ids.iter().enumerate() {
                let on = members.contains(&index);
                workspace::set_subscription(doc, agent, &channel.id, on, now)?;
            }
        }
        if let Some(farid) = current.agent(&ids[6]) {
            let mut farid = farid.clone();
            farid.away = true;
            farid.capacity = Some(15);
            workspace::put_agent(doc, &farid, now)?;
        }
        let mut settings = current.settings.clone();
        settings.name = "Northwind Support".to_owned();
        Ok(workspace::put_settings(doc, &settings, now)?)
    })
    .await?;
    add_example_workflow(hub, &ids, &channels, now).await?;

    let mut dice = Dice::new(0x00ba_7042);
    let plans: Vec<Plan> = (0..conversations)
        .map(|n| plan(&mut dice, (n, conversations), &ids, &channels, now))
        .collect();
    // Concurrent writes share transactions (group commit): seconds, not minutes.
    let mut writes = tokio::task::JoinSet::new();
    for p in plans {
        let hub = hub.clone();
        writes.spawn(async move { seed_conversation(&hub, p).await });
    }
    while let Some(done) = writes.join_next().await {
        done??;
    }
    let logins = DemoLogins { agents, channels };
    hub.commit(vec![Write::Meta {
        key: SEEDED_KEY.to_owned(),
        value: serde_json::to_string(&logins)?,
    }])
    .await?;
    Ok(logins)
}

/// One enabled workflow, so the feature is there to see: new Billing
/// conversations take turns between Ana and Dev.
async fn add_example_workflow(
    hub: &Hub,
    agents: &[AgentId],
    channels: &[DemoChannel],
    now: i64,
) -> Result<()> {
    let Some(billing) = channels.iter().find(|c| c.name == "Billing") else {
        return Ok(());
    };
    let specialists = vec![agents[1].clone(), agents[4].clone()];
    hub.change_workspace(Vec::new(), |doc, current| {
        let mut workflow = Workflow::new(
            "Billing → round-robin",
            Trigger::ConversationCreated,
            current,
        );
        workflow.conditions = vec![Condition::ChannelIn {
            channels: vec![billing.id.clone()],
        }];
        workflow.steps = vec![Step::RoundRobin {
            agents: specialists.clone(),
        }];
        Ok(workspace::put_workflow(doc, &workflow, now)?)
    })
    .await?;
    Ok(())
}

/// Everything random about one seeded conversation, drawn in order so the
/// demo is the same every time while the writes run concurrently.
struct Plan {
    new: NewConversation,
    body: &'static str,
    helper: AgentId,
    other: AgentId,
    admin: AgentId,
    roll: usize,
    with_note: bool,
    reply_text: &'static str,
    follow_up: &'static str,
    note_text: &'static str,
}

const MINUTE: i64 = 60_000;
const TWO_WEEKS: i64 = 14 * 24 * 60 * MINUTE;

fn plan(
    dice: &mut Dice,
    (n, total): (usize, usize),
    agents: &[AgentId],
    channels: &[DemoChannel],
    now: i64,
) -> Plan {
    let channel_index = dice.below(channels.len());
    let members = content::CHANNELS[channel_index].2;
    let first = dice.pick(content::FIRST_NAMES);
    let last = dice.pick(content::LAST_NAMES);
    let (subject, body) = *dice.pick(content::QUESTIONS);
    // Spread over the last two weeks; the first conversations are the oldest.
    let step = TWO_WEEKS / total.max(1) as i64;
    let start = now - ((total - n) as i64) * step - dice.below(40) as i64 * MINUTE;
    let domain = dice.pick(content::DOMAINS);
    Plan {
        new: NewConversation {
            id: ConversationId::random(),
            channel: channels[channel_index].id.clone(),
            subject: subject.to_owned(),
            customer: Customer {
                id: format!("cus_{n}"),
                name: format!("{first} {last}"),
                email: format!("{}.{}@{domain}", first.to_lowercase(), last.to_lowercase()),
            },
            at: start,
        },
        body,
        // Agents answering this channel (Farid, the last one, is away).
        helper: agents[members[dice.below(members.len())].min(agents.len() - 2)].clone(),
        other: agents[1 + dice.below(agents.len() - 2)].clone(),
        admin: agents[0].clone(),
        roll: dice.below(100),
        with_note: dice.below(100) < 15,
        reply_text: dice.line(content::REPLIES),
        follow_up: dice.line(content::FOLLOW_UPS),
        note_text: dice.line(content::NOTES),
    }
}

async fn seed_conversation(hub: &Hub, p: Plan) -> Result<()> {
    let start = p.new.at;
    hub.import_conversation(&p.new, |doc, ws| {
        let mut at = start;
        let mut next = || {
            at += 7 * MINUTE;
            at
        };
        customer_message(doc, ws, p.body, start)?;
        match p.roll {
            // Unassigned, waiting for someone.
            0..=29 => {
                if p.roll.is_multiple_of(3) {
                    customer_message(doc, ws, p.follow_up, next())?;
                }
            }
            // Answered but deliberately left unassigned.
            30..=37 => {
                reply(
                    doc,
                    ws,
                    &p.helper,
                    p.reply_text,
                    ReplyMode::LeaveUnassigned,
                    next(),
                )?;
            }
            // Claimed by the first reply.
            38..=64 => {
                reply(doc, ws, &p.helper, p.reply_text, ReplyMode::Claim, next())?;
                if p.roll.is_multiple_of(2) {
                    customer_message(doc, ws, p.follow_up, next())?;
                }
            }
            // Assigned by the admin, sometimes reassigned.
            65..=74 => {
                assign(
                    doc,
                    ws,
                    &By::Agent(p.admin.clone()),
                    Some(&p.helper),
                    None,
                    next(),
                )?;
                if p.roll.is_multiple_of(2) {
                    let by = By::Agent(p.helper.clone());
                    assign(doc, ws, &by, Some(&p.other), None, next())?;
                }
            }
            // Resolved.
            _ => {
                reply(doc, ws, &p.helper, p.reply_text, ReplyMode::Claim, next())?;
                customer_message(doc, ws, "That worked, thank you so much!", next())?;
                resolve(doc, &By::Agent(p.helper.clone()), next())?;
            }
        }
        if p.with_note {
            note(doc, ws, &p.helper, p.note_text, next())?;
        }
        Ok(())
    })
    .await?;
    Ok(())
}

/// Posts a simulated customer message `per_minute` times a minute until shutdown.
pub fn simulate(hub: Arc<Hub>, per_minute: u32, shutdown: CancellationToken) {
    let every = Duration::from_millis(60_000 / u64::from(per_minute.max(1)));
    tokio::spawn(async move {
        let mut dice = Dice::new(baton_shared::clock::now() as u64);
        let mut ticks = tokio::time::interval(every);
        ticks.tick().await;
        loop {
            tokio::select! {
                () = shutdown.cancelled() => return,
                _ = ticks.tick() => {}
            }
            if let Err(err) = simulate_one(&hub, &mut dice).await {
                tracing::warn!(error = %err, "demo customer could not write");
            }
        }
    });
}

async fn simulate_one(hub: &Hub, dice: &mut Dice) -> Result<()> {
    let channels = hub.reads().channels().await?;
    let channel = dice.pick(&channels).id.clone();
    let first = dice.pick(content::FIRST_NAMES);
    let last = dice.pick(content::LAST_NAMES);
    let mut incoming = Incoming {
        customer: IncomingCustomer {
            email: format!(
                "{}.{}@{}",
                first.to_lowercase(),
                last.to_lowercase(),
                dice.pick(content::DOMAINS)
            ),
            name: format!("{first} {last}"),
        },
        subject: None,
        body: String::new(),
        conversation: None,
    };
    let follow_up = dice.below(100) < 55;
    let recent = if follow_up {
        let agent = AgentId::from_bytes([0; 16]);
        hub.reads()
            .conversations(&ConversationQuery {
                view: View::All,
                agent,
                channel: Some(channel.clone()),
                status: "open".to_owned(),
                search: None,
                limit: 30,
                after: None,
            })
            .await?
    } else {
        Vec::new()
    };
    if recent.is_empty() {
        let (subject, body) = *dice.pick(content::QUESTIONS);
        incoming.subject = Some(subject.to_owned());
        incoming.body = body.to_owned();
    } else {
        let row = dice.pick(&recent);
        incoming.customer.email = row.customer_email.clone();
        incoming.customer.name = row.customer_name.clone();
        incoming.conversation = Some(row.id.to_string());
        incoming.body = dice.pick(content::FOLLOW_UPS).to_string();
    }
    ingest::receive(hub, &channel, &incoming).await?;
    Ok(())
}
