//! Messages as CBOR bytes: encoding, and the strict decoding of untrusted
//! frames (items counted before anything is built, only the `type`s the
//! protocol has, a JavaScript `Uint8Array` read as bytes).

use ciborium::Value;

use super::{MAX_FRAME_ITEMS, Message, Presence, scan};

/// Every `type` of [`Message`]: any other is refused before serde reads it.
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
    "baton/fetch",
    "baton/documents",
    "baton/notification",
    "baton/notification-read",
    "baton/presence",
    "baton/error",
];

/// Why bytes are not a protocol message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProtocolError {
    /// The bytes are not CBOR.
    #[error("not CBOR: {0}")]
    Cbor(String),
    /// CBOR, but not a map with a `type`.
    #[error("a message must be a CBOR map with a text \"type\"")]
    NotAMessage,
    /// A `type` this protocol does not have.
    #[error("unknown message type {0:?}")]
    UnknownType(String),
    /// A known `type` with fields that do not fit it.
    #[error("invalid {kind:?} message: {reason}")]
    Invalid {
        /// The message's `type`.
        kind: String,
        /// What is wrong with it.
        reason: String,
    },
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
            Message::BatonFetch { .. } => "baton/fetch",
            Message::BatonDocuments { .. } => "baton/documents",
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
