//! Identifiers for agents, channels, conversations, workflows and documents.
//!
//! Agent, channel, conversation and workflow ids are short prefixed strings
//! (`agt_…`, `chn_…`, `cnv_…`, `wf_…`) so a log line or a URL says what it
//! names. Document ids use automerge-repo's format: bs58check of a 16-byte
//! UUID, so a stock automerge-repo client can ask for them.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

/// Why a string is not a valid id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IdError {
    #[error("{kind} id {value:?} must start with {prefix:?}")]
    /// The id lacks its kind's prefix (`agt_`, `cnv_`, …).
    Prefix {
        /// What the id names ("agent", "conversation", …).
        kind: &'static str,
        /// The prefix it must start with.
        prefix: &'static str,
        /// The text given.
        value: String,
    },
    #[error("{kind} id {value:?} must be 1 to 48 letters, digits, '-' or '_' after {prefix:?}")]
    /// The part after the prefix is empty, too long or has other characters.
    Body {
        /// What the id names.
        kind: &'static str,
        /// The prefix.
        prefix: &'static str,
        /// The text given.
        value: String,
    },
    #[error("document id {0:?} is not base58check of a 16-byte id")]
    /// A document id that does not decode.
    Document(String),
}

/// 16 random bytes from the platform's source (the browser's crypto in wasm).
pub fn random_bytes() -> [u8; 16] {
    let mut bytes = [0u8; 16];
    // The OS or browser RNG failing is not recoverable; every id would collide.
    #[allow(clippy::expect_used)]
    getrandom::fill(&mut bytes).expect("the platform random number generator is unavailable");
    bytes
}

const MAX_BODY: usize = 48;

fn check(kind: &'static str, prefix: &'static str, value: &str) -> Result<(), IdError> {
    let Some(body) = value.strip_prefix(prefix) else {
        return Err(IdError::Prefix {
            kind,
            prefix,
            value: value.to_owned(),
        });
    };
    let ok = !body.is_empty()
        && body.len() <= MAX_BODY
        && body
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(IdError::Body {
            kind,
            prefix,
            value: value.to_owned(),
        })
    }
}

macro_rules! prefixed_id {
    ($(#[$doc:meta])* $name:ident, $kind:literal, $prefix:literal) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
        #[serde(try_from = "String", into = "String")]
        pub struct $name(String);

        impl $name {
            /// The prefix every id of this kind starts with.
            pub const PREFIX: &'static str = $prefix;

            /// A new random id.
            pub fn random() -> Self {
                Self::from_bytes(random_bytes())
            }

            /// The id whose body is the base58 of `bytes` (deterministic, for seeds and tests).
            pub fn from_bytes(bytes: [u8; 16]) -> Self {
                Self(format!("{}{}", $prefix, bs58::encode(bytes).into_string()))
            }

            /// The id as text, prefix included.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl FromStr for $name {
            type Err = IdError;
            fn from_str(s: &str) -> Result<Self, IdError> {
                check($kind, $prefix, s)?;
                Ok(Self(s.to_owned()))
            }
        }

        impl TryFrom<String> for $name {
            type Error = IdError;
            fn try_from(s: String) -> Result<Self, IdError> {
                check($kind, $prefix, &s)?;
                Ok(Self(s))
            }
        }

        impl From<$name> for String {
            fn from(id: $name) -> String {
                id.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

prefixed_id!(
    /// An agent (a person who answers customers); admins are agents too.
    AgentId, "agent", "agt_"
);
prefixed_id!(
    /// A channel customers write to (an inbox address, a chat widget, …).
    ChannelId, "channel", "chn_"
);
prefixed_id!(
    /// A conversation with one customer.
    ConversationId, "conversation", "cnv_"
);
prefixed_id!(
    /// A workflow (an automation rule).
    WorkflowId, "workflow", "wf_"
);
prefixed_id!(
    /// A message inside a conversation.
    MessageId, "message", "msg_"
);
prefixed_id!(
    /// A bulk action or a workflow run: each recipient is told of it once.
    BatchId, "batch", "bat_"
);

/// An automerge-repo document id: bs58check of a 16-byte UUID.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct DocumentId([u8; 16]);

impl DocumentId {
    /// A new random document id (a v4 UUID).
    pub fn random() -> Self {
        let mut bytes = random_bytes();
        bytes[6] = (bytes[6] & 0x0f) | 0x40;
        bytes[8] = (bytes[8] & 0x3f) | 0x80;
        Self(bytes)
    }

    /// The document id made of these 16 bytes.
    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes)
    }

    /// The 16 bytes of the UUID.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl fmt::Display for DocumentId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&bs58::encode(self.0).with_check().into_string())
    }
}

impl FromStr for DocumentId {
    type Err = IdError;
    fn from_str(s: &str) -> Result<Self, IdError> {
        // automerge-repo URLs carry the id after this prefix; accept both forms.
        let text = s.strip_prefix("automerge:").unwrap_or(s);
        if text.len() > 40 {
            return Err(IdError::Document(s.to_owned()));
        }
        let bytes = bs58::decode(text)
            .with_check(None)
            .into_vec()
            .map_err(|_| IdError::Document(s.to_owned()))?;
        let bytes: [u8; 16] = bytes
            .try_into()
            .map_err(|_| IdError::Document(s.to_owned()))?;
        Ok(Self(bytes))
    }
}

impl TryFrom<String> for DocumentId {
    type Error = IdError;
    fn try_from(s: String) -> Result<Self, IdError> {
        s.parse()
    }
}

impl Serialize for DocumentId {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for DocumentId {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let text = String::deserialize(d)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn document_id_round_trips_through_bs58check() {
        let id = DocumentId::random();
        let text = id.to_string();
        assert_eq!(text.parse::<DocumentId>(), Ok(id));
        assert_eq!(format!("automerge:{text}").parse::<DocumentId>(), Ok(id));
    }

    #[test]
    fn document_id_matches_automerge_repo_encoding() {
        // bs58check of the nil UUID, as automerge-repo's `stringifyAutomergeUrl` makes it.
        let nil = DocumentId::from_bytes([0; 16]);
        let text = nil.to_string();
        assert_eq!(text, bs58::encode([0u8; 16]).with_check().into_string());
        assert!(text.starts_with("1111111111111111"));
    }

    #[test]
    fn document_id_rejects_a_bad_checksum_with_a_clear_error() {
        let mut text = DocumentId::random().to_string();
        let last = text.pop().map(|c| if c == '2' { '3' } else { '2' });
        text.extend(last);
        let err = text.parse::<DocumentId>().unwrap_err();
        assert!(err.to_string().contains("not base58check"), "{err}");
        assert!("".parse::<DocumentId>().is_err());
        assert!("0OIl".parse::<DocumentId>().is_err());
        let short = bs58::encode([1u8; 8]).with_check().into_string();
        assert!(short.parse::<DocumentId>().is_err());
    }

    #[test]
    fn prefixed_ids_parse_and_explain_errors() {
        let agent = AgentId::random();
        assert!(agent.as_str().starts_with("agt_"));
        assert_eq!(agent.as_str().parse::<AgentId>(), Ok(agent.clone()));
        let err = "chn_abc".parse::<AgentId>().unwrap_err();
        assert_eq!(
            err.to_string(),
            "agent id \"chn_abc\" must start with \"agt_\""
        );
        assert!("agt_".parse::<AgentId>().is_err());
        assert!("agt_a b".parse::<AgentId>().is_err());
        assert!(
            format!("agt_{}", "x".repeat(49))
                .parse::<AgentId>()
                .is_err()
        );
        assert!("cnv_ok-1".parse::<ConversationId>().is_ok());
    }

    #[test]
    fn ids_serialize_as_plain_strings() {
        let id: ChannelId = "chn_support".parse().unwrap();
        let json = serde_json::to_string(&id).unwrap();
        assert_eq!(json, "\"chn_support\"");
        assert!(serde_json::from_str::<ChannelId>("\"nope\"").is_err());
    }
}
