//! The `/sync` wire protocol: automerge-repo's websocket protocol v1 (CBOR
//! maps with a `type` field) plus Baton's own `baton/` messages, sent only to
//! peers that announced them in `join`.
//!
//! Decoding never panics on untrusted bytes: anything that is not one of
//! these messages is a [`ProtocolError`].

mod scan;
mod sync_frame;

use ciborium::Value;
use serde::{Deserialize, Serialize};

use crate::ids::{AgentId, ConversationId, DocumentId};
use crate::model::Millis;
use crate::notify::NoticeKind;

pub use sync_frame::{sync_frame, sync_lead, sync_tail};

/// The only automerge-repo protocol version there is.
pub const PROTOCOL_V1: &str = "1";
/// Baton's extension version, announced in `join`.
pub const BATON_V1: u32 = 1;
/// Most CBOR items a frame may hold: a catch-up page of a few thousand
/// documents is far below it.
pub const MAX_FRAME_ITEMS: usize = 100_000;
/// Most CBOR items a frame from a peer may hold: its largest message (marking
/// a thousand notifications read) has about a thousand.
pub const MAX_PEER_FRAME_ITEMS: usize = 4_096;

/// What a peer says about itself in `join` and `peer`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PeerMetadata {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub storage_id: Option<String>,
    #[serde(default)]
    pub is_ephemeral: bool,
}

/// Heads of a document as one peer's storage holds them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RemoteHeads {
    pub heads: Vec<String>,
    pub timestamp: Millis,
}

/// One document that changed since a catch-up sequence.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ChangedDocument {
    pub document_id: DocumentId,
    /// The server's heads, hex-encoded change hashes.
    pub heads: Vec<String>,
    /// The commit sequence of the document's latest change.
    pub seq: u64,
}

/// A notification pushed to one agent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Notification {
    pub id: String,
    pub agent: AgentId,
    pub conversation: ConversationId,
    pub document_id: DocumentId,
    pub kind: NoticeKind,
    /// What the agent reads, e.g. "Ben assigned you 40 conversations".
    pub text: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub batch: Option<String>,
    /// How many conversations the notification stands for (bulk, workflows).
    pub count: u32,
    pub at: Millis,
    pub read: bool,
}

/// What an agent is doing in a conversation, shared over `ephemeral`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum PresenceState {
    Viewing,
    Typing,
    Left,
}

/// Presence of one agent in one conversation; never stored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Presence {
    pub agent: AgentId,
    pub state: PresenceState,
}

/// Every message of the sync protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all_fields = "camelCase")]
pub enum Message {
    #[serde(rename = "join")]
    Join {
        sender_id: String,
        supported_protocol_versions: Vec<String>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer_metadata: Option<PeerMetadata>,
        /// Baton's extension version, when the peer speaks it.
        #[serde(default, skip_serializing_if = "Option::is_none")]
        baton: Option<u32>,
    },
    #[serde(rename = "peer")]
    Peer {
        sender_id: String,
        target_id: String,
        selected_protocol_version: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        peer_metadata: Option<PeerMetadata>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        baton: Option<u32>,
    },
    #[serde(rename = "leave")]
    Leave { sender_id: String },
    #[serde(rename = "error")]
    Error { sender_id: String, message: String },
    #[serde(rename = "request")]
    Request {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        #[serde(with = "strict_bytes")]
        data: Vec<u8>,
    },
    #[serde(rename = "sync")]
    Sync {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        #[serde(with = "strict_bytes")]
        data: Vec<u8>,
    },
    #[serde(rename = "doc-unavailable")]
    DocUnavailable {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
    },
    #[serde(rename = "ephemeral")]
    Ephemeral {
        sender_id: String,
        target_id: String,
        count: u64,
        session_id: String,
        document_id: DocumentId,
        #[serde(with = "strict_bytes")]
        data: Vec<u8>,
    },
    #[serde(rename = "remote-subscription-change")]
    RemoteSubscriptionChange {
        sender_id: String,
        target_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        add: Option<Vec<String>>,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        remove: Option<Vec<String>>,
    },
    #[serde(rename = "remote-heads-changed")]
    RemoteHeadsChanged {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        new_heads: std::collections::BTreeMap<String, RemoteHeads>,
    },
    /// Client → server: "I have seen every commit up to `since`".
    #[serde(rename = "baton/catch-up")]
    BatonCatchUp {
        sender_id: String,
        target_id: String,
        since: u64,
    },
    /// Server → client: the heads summary answering a catch-up: the in-scope
    /// documents committed after `since`, up to `seq`.
    #[serde(rename = "baton/heads")]
    BatonHeads {
        sender_id: String,
        target_id: String,
        seq: u64,
        documents: Vec<ChangedDocument>,
        /// More documents changed than one answer lists: ask again from `seq`.
        #[serde(default, skip_serializing_if = "std::ops::Not::not")]
        more: bool,
    },
    /// Server → client: a notification for the signed-in agent.
    #[serde(rename = "baton/notification")]
    BatonNotification {
        sender_id: String,
        target_id: String,
        notification: Notification,
    },
    /// Client → server: the agent read these notifications (and server → other
    /// tabs of the same agent, so read state stays in step).
    #[serde(rename = "baton/notification-read")]
    BatonNotificationRead {
        sender_id: String,
        target_id: String,
        ids: Vec<String>,
    },
    /// Server → client: an agent's presence in a conversation.
    #[serde(rename = "baton/presence")]
    BatonPresence {
        sender_id: String,
        target_id: String,
        document_id: DocumentId,
        presence: Presence,
    },
    /// Server → client: a request or change was refused.
    #[serde(rename = "baton/error")]
    BatonError {
        sender_id: String,
        target_id: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        document_id: Option<DocumentId>,
        code: String,
        message: String,
    },
}

const KNOWN_TYPES: &[&str] = &[
    "join",
    "peer",
    "leave",
    "error",
    "request",
    "sync",
    "doc-unavailable",
    "ephemeral",
    "remote-subscription-change",
    "remote-heads-changed",
    "baton/catch-up",
    "baton/heads",
    "baton/notification",
    "baton/notification-read",
    "baton/presence",
    "baton/error",
];

/// Why bytes are not a protocol message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    #[error("not CBOR: {0}")]
    Cbor(String),
    #[error("a message must be a CBOR map with a text \"type\"")]
    NotAMessage,
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    #[error("invalid {kind:?} message: {reason}")]
    Invalid { kind: String, reason: String },
}

impl Message {
    /// The message's `type` as it appears on the wire.
    pub fn kind(&self) -> &'static str {
        match self {
            Message::Join { .. } => "join",
            Message::Peer { .. } => "peer",
            Message::Leave { .. } => "leave",
            Message::Error { .. } => "error",
            Message::Request { .. } => "request",
            Message::Sync { .. } => "sync",
            Message::DocUnavailable { .. } => "doc-unavailable",
            Message::Ephemeral { .. } => "ephemeral",
            Message::RemoteSubscriptionChange { .. } => "remote-subscription-change",
            Message::RemoteHeadsChanged { .. } => "remote-heads-changed",
            Message::BatonCatchUp { .. } => "baton/catch-up",
            Message::BatonHeads { .. } => "baton/heads",
            Message::BatonNotification { .. } => "baton/notification",
            Message::BatonNotificationRead { .. } => "baton/notification-read",
            Message::BatonPresence { .. } => "baton/presence",
            Message::BatonError { .. } => "baton/error",
        }
    }

    /// Whether only peers that announced Baton's extension may receive it.
    pub fn is_baton(&self) -> bool {
        self.kind().starts_with("baton/")
    }

    /// The CBOR bytes of this message.
    pub fn encode(&self) -> Vec<u8> {
        let mut bytes = Vec::new();
        // Writing to a Vec cannot fail, and every field serializes.
        #[allow(clippy::expect_used)]
        ciborium::into_writer(self, &mut bytes).expect("messages always encode");
        bytes
    }

    /// Decodes one message from untrusted bytes.
    pub fn decode(bytes: &[u8]) -> Result<Message, ProtocolError> {
        Self::decode_limited(bytes, MAX_FRAME_ITEMS)
    }

    /// Decodes one message of at most `max_items` CBOR items, counted
    /// before anything is built.
    pub fn decode_limited(bytes: &[u8], max_items: usize) -> Result<Message, ProtocolError> {
        scan::count_items(bytes, max_items).map_err(|e| {
            ProtocolError::Cbor(match e {
                scan::ScanError::TooManyItems => format!("more than {max_items} items"),
                scan::ScanError::TooDeep => "nested too deeply".to_owned(),
                scan::ScanError::Truncated => "truncated or malformed".to_owned(),
            })
        })?;
        let value: Value =
            ciborium::from_reader(bytes).map_err(|e| ProtocolError::Cbor(e.to_string()))?;
        let value = untag_bytes(value);
        let Value::Map(entries) = &value else {
            return Err(ProtocolError::NotAMessage);
        };
        let kind = entries
            .iter()
            .find_map(|(k, v)| match (k, v) {
                (Value::Text(k), Value::Text(v)) if k == "type" => Some(v.clone()),
                _ => None,
            })
            .ok_or(ProtocolError::NotAMessage)?;
        if !KNOWN_TYPES.contains(&kind.as_str()) {
            return Err(ProtocolError::UnknownType(kind));
        }
        value
            .deserialized()
            .map_err(|e: ciborium::value::Error| ProtocolError::Invalid {
                kind,
                reason: e.to_string(),
            })
    }
}

/// Byte strings only: a text where bytes belong is a malformed message.
mod strict_bytes {
    use serde::Serializer;
    use serde::de::{Deserializer, Error, Visitor};

    pub fn serialize<S: Serializer>(bytes: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(bytes)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct Bytes;
        impl Visitor<'_> for Bytes {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a byte string")
            }
            fn visit_bytes<E: Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E: Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_byte_buf(Bytes)
    }
}

/// JavaScript encoders may tag a `Uint8Array` (RFC 8746 tag 64); read it as bytes.
fn untag_bytes(value: Value) -> Value {
    match value {
        Value::Tag(64, inner) if matches!(*inner, Value::Bytes(_)) => *inner,
        Value::Map(entries) => Value::Map(
            entries
                .into_iter()
                .map(|(k, v)| (k, untag_bytes(v)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(items.into_iter().map(untag_bytes).collect()),
        other => other,
    }
}

/// Encodes presence for the `data` of an `ephemeral` message.
pub fn encode_presence(presence: &Presence) -> Vec<u8> {
    let mut bytes = Vec::new();
    #[allow(clippy::expect_used)]
    ciborium::into_writer(presence, &mut bytes).expect("presence always encodes");
    bytes
}

/// Decodes presence from an `ephemeral` message's `data`.
pub fn decode_presence(bytes: &[u8]) -> Result<Presence, ProtocolError> {
    ciborium::from_reader(bytes).map_err(|e| ProtocolError::Cbor(e.to_string()))
}
