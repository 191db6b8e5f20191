//! Channels: adding one (every active agent signed up for its
//! notifications) and rotating its ingest secret.

use baton_shared::ids::ChannelId;
use baton_shared::model::Channel;
use baton_shared::workspace;
use serde::Serialize;

use super::{TeamError, check_name};
use crate::hub::Hub;
use crate::secrets;
use crate::store::{ChannelRow, Write};

/// A new channel and its ingest secret (shown once).
#[derive(Debug, Clone, Serialize)]
pub struct NewChannel {
    pub id: ChannelId,
    pub name: String,
    pub kind: String,
    pub secret: String,
}

/// Adds a channel; every active agent is signed up for its notifications.
pub async fn add_channel(hub: &Hub, name: &str, kind: &str) -> Result<NewChannel, TeamError> {
    let name = check_name("a channel name", name)?;
    let kind = check_name("a channel kind", kind)?;
    let id = ChannelId::random();
    let secret = secrets::new_token("bsec_");
    let row = ChannelRow {
        id: id.clone(),
        name: name.clone(),
        secret_hash: secrets::token_hash(&secret),
    };
    let channel = Channel {
        id: id.clone(),
        name: name.clone(),
        kind: kind.clone(),
    };
    let now = baton_shared::clock::now();
    hub.change_workspace(vec![Write::Channel(row)], |doc, current| {
        workspace::put_channel(doc, &channel, now)?;
        for agent in current.agents.values().filter(|a| a.active) {
            workspace::set_subscription(doc, &agent.id, &id, true, now)?;
        }
        Ok(())
    })
    .await?;
    Ok(NewChannel {
        id,
        name,
        kind,
        secret,
    })
}

/// Gives a channel a new ingest secret (shown once); the old one stops
/// working with this commit.
pub async fn rotate_channel_secret(hub: &Hub, id: &ChannelId) -> Result<String, TeamError> {
    let row = hub
        .reads()
        .channel(id)
        .await?
        .ok_or_else(|| TeamError::NotFound(format!("no channel {id}")))?;
    let secret = secrets::new_token("bsec_");
    hub.commit(vec![Write::Channel(ChannelRow {
        secret_hash: secrets::token_hash(&secret),
        ..row
    })])
    .await?;
    Ok(secret)
}
