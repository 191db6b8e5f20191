//! Sync answers shared between peers in the same state.
//!
//! After a change, every other holder of a document stands in the same sync
//! state with the server: the server would compute the same message for each
//! of them, and each of them answers with the same acknowledgement. Automerge's
//! sync is a function of the document, the state and the message received,
//! so while the document's heads stay put one computation serves them all.
//! With hundreds of agents holding a conversation this turns a change's
//! fan-out from hundreds of bloom filters into one, plus copies.

use automerge::sync::{self, State, SyncDoc};
use automerge::{AutoCommit, AutomergeError, ChangeHash};
use axum::body::Bytes;

/// Answers remembered per kind while the heads stay put; peers in more
/// distinct states than this are computed as before.
const MAX_ANSWERS: usize = 8;
/// Largest message remembered (its changes, bloom filters and needs): the
/// memo is for the small, identical messages of a fan-out, and must not let
/// a peer park large messages in memory for every held document.
const MAX_REMEMBERED_BYTES: usize = 16 * 1024;

/// Whether `message` (or its absence) is small enough to remember.
fn rememberable(message: Option<&sync::Message>) -> bool {
    message.is_none_or(|m| weight(m) <= MAX_REMEMBERED_BYTES)
}

/// Roughly what `message` holds in memory.
fn weight(message: &sync::Message) -> usize {
    let changes: usize = message.changes.iter().map(<[u8]>::len).sum();
    let blooms: usize = message.have.iter().map(|h| h.bloom.to_bytes().len()).sum();
    changes + blooms + 32 * (message.heads.len() + message.need.len())
}

/// What the server said to a peer in state `before`.
struct Generated {
    before: State,
    after: State,
    message: Option<sync::Message>,
    /// The message as it goes on the wire, made by the first peer that
    /// asks for it encoded; every later one shares these bytes.
    encoded: Option<Bytes>,
}

/// A message the memo remembers (by index), or one made for a single peer.
enum Answer {
    Known(usize),
    Alone(Option<sync::Message>),
}

/// What the server did with `message` from a peer in state `before`.
struct Acknowledged {
    before: State,
    message: sync::Message,
    after: State,
    reply: Option<sync::Message>,
}

/// The answers computed at `heads`.
#[derive(Default)]
pub struct SyncMemo {
    heads: Vec<ChangeHash>,
    generated: Vec<Generated>,
    acknowledged: Vec<Acknowledged>,
}

impl SyncMemo {
    /// The next message for a peer in `state` (and the state after it), as
    /// `generate_sync_message` would give.
    pub fn generate(&mut self, doc: &mut AutoCommit, state: &mut State) -> Option<sync::Message> {
        match self.answer(doc, state) {
            Answer::Known(known) => self.generated[known].message.clone(),
            Answer::Alone(message) => message,
        }
    }

    /// [`SyncMemo::generate`]'s message as `encode` puts it on the wire,
    /// encoded once for every peer in the same state.
    pub fn generate_encoded(
        &mut self,
        doc: &mut AutoCommit,
        state: &mut State,
        encode: impl FnOnce(&sync::Message) -> Bytes,
    ) -> Option<Bytes> {
        match self.answer(doc, state) {
            Answer::Known(known) => {
                let generated = &mut self.generated[known];
                let message = generated.message.as_ref()?;
                Some(
                    generated
                        .encoded
                        .get_or_insert_with(|| encode(message))
                        .clone(),
                )
            }
            Answer::Alone(message) => message.as_ref().map(encode),
        }
    }

    /// Moves `state` on as generating a message would, and gives the
    /// remembered answer, or the message itself when it cannot be
    /// remembered (too large, or peers in too many states).
    fn answer(&mut self, doc: &mut AutoCommit, state: &mut State) -> Answer {
        self.follow(doc);
        if let Some(known) = self.generated.iter().position(|g| g.before == *state) {
            state.clone_from(&self.generated[known].after);
            return Answer::Known(known);
        }
        let before = state.clone();
        let message = doc.sync().generate_sync_message(state);
        if !rememberable(message.as_ref()) || self.generated.len() >= MAX_ANSWERS {
            return Answer::Alone(message);
        }
        self.generated.push(Generated {
            before,
            after: state.clone(),
            message,
            encoded: None,
        });
        Answer::Known(self.generated.len() - 1)
    }

    /// Receives `message`, which carries no changes, and returns the reply,
    /// as `receive_sync_message` then `generate_sync_message` would.
    pub fn acknowledge(
        &mut self,
        doc: &mut AutoCommit,
        state: &mut State,
        message: sync::Message,
    ) -> Result<Option<sync::Message>, AutomergeError> {
        debug_assert!(message.changes.is_empty());
        self.follow(doc);
        if let Some(known) = self
            .acknowledged
            .iter()
            .find(|a| a.before == *state && a.message == message)
        {
            *state = known.after.clone();
            return Ok(known.reply.clone());
        }
        let before = state.clone();
        let kept = (self.acknowledged.len() < MAX_ANSWERS && rememberable(Some(&message)))
            .then(|| message.clone());
        doc.sync().receive_sync_message(state, message)?;
        let reply = doc.sync().generate_sync_message(state);
        if let Some(message) = kept.filter(|_| rememberable(reply.as_ref())) {
            self.acknowledged.push(Acknowledged {
                before,
                message,
                after: state.clone(),
                reply: reply.clone(),
            });
        }
        Ok(reply)
    }

    /// Forgets every answer once the document has moved on.
    fn follow(&mut self, doc: &mut AutoCommit) {
        let heads = doc.get_heads();
        if heads != self.heads {
            self.heads = heads;
            self.generated.clear();
            self.acknowledged.clear();
        }
    }
}

#[cfg(test)]
mod tests {
    use automerge::transaction::Transactable;
    use automerge::{ROOT, ReadDoc};

    use super::*;

    fn doc_with(key: &str) -> AutoCommit {
        let mut doc = AutoCommit::new();
        doc.put(ROOT, key, "value").unwrap();
        doc.commit();
        doc
    }

    /// Syncs `peer` with `server` through the memo until neither has more
    /// to say; returns how many messages the server sent.
    fn sync_through_memo(
        memo: &mut SyncMemo,
        server: &mut AutoCommit,
        state: &mut State,
        peer: &mut AutoCommit,
        peer_state: &mut State,
    ) -> usize {
        let mut sent = 0;
        for _ in 0..10 {
            let from_server = memo.generate(server, state);
            if let Some(m) = &from_server {
                sent += 1;
                peer.sync()
                    .receive_sync_message(peer_state, m.clone())
                    .unwrap();
            }
            let from_peer = peer.sync().generate_sync_message(peer_state);
            if let Some(m) = from_peer {
                if m.changes.is_empty() {
                    if let Some(reply) = memo.acknowledge(server, state, m).unwrap() {
                        sent += 1;
                        peer.sync().receive_sync_message(peer_state, reply).unwrap();
                    }
                } else {
                    server.sync().receive_sync_message(state, m).unwrap();
                }
            } else if from_server.is_none() {
                break;
            }
        }
        sent
    }

    #[test]
    fn peers_in_the_same_state_get_the_same_answer_as_without_the_memo() {
        let mut server = doc_with("subject");
        let mut memo = SyncMemo::default();
        let mut peers: Vec<(AutoCommit, State)> =
            (0..3).map(|_| (AutoCommit::new(), State::new())).collect();
        let mut server_states: Vec<State> = vec![State::new(); 3];
        for ((peer, peer_state), state) in peers.iter_mut().zip(&mut server_states) {
            sync_through_memo(&mut memo, &mut server, state, peer, peer_state);
        }
        // Every peer holds the server's document, and all reached one state.
        for (peer, _) in &mut peers {
            assert_eq!(peer.get_heads(), server.get_heads());
            assert!(peer.get(ROOT, "subject").unwrap().is_some());
        }
        assert!(server_states.windows(2).all(|w| w[0] == w[1]));

        // A new change: the memo's message for each peer equals automerge's own.
        server.put(ROOT, "assignee", "ben").unwrap();
        server.commit();
        let mut plain_states = server_states.clone();
        for (memoised, plain) in server_states.iter_mut().zip(&mut plain_states) {
            let from_memo = memo.generate(&mut server, memoised);
            let from_automerge = server.sync().generate_sync_message(plain);
            assert_eq!(from_memo, from_automerge);
            assert_eq!(memoised, plain);
            assert!(from_memo.is_some_and(|m| !m.changes.is_empty()));
        }
        assert_eq!(
            memo.generated.len(),
            1,
            "one computation served three peers"
        );
    }

    #[test]
    fn peers_in_the_same_state_share_one_encoding() {
        let mut server = doc_with("subject");
        let mut memo = SyncMemo::default();
        let mut encodings = 0;
        let mut frames = Vec::new();
        for _ in 0..3 {
            let (mut state, mut plain) = (State::new(), State::new());
            let frame = memo.generate_encoded(&mut server, &mut state, |m| {
                encodings += 1;
                Bytes::from(m.clone().encode())
            });
            let expected = server.sync().generate_sync_message(&mut plain);
            assert_eq!(frame.as_deref(), expected.map(|m| m.encode()).as_deref());
            assert_eq!(state, plain);
            frames.extend(frame);
        }
        assert_eq!(encodings, 1, "encoded once for three peers");
        assert_eq!(frames.len(), 3);
        assert!(
            frames.windows(2).all(|w| w[0].as_ptr() == w[1].as_ptr()),
            "the three frames share one buffer"
        );
    }

    #[test]
    fn an_acknowledgement_moves_the_state_as_automerge_would() {
        let mut server = doc_with("subject");
        let mut memo = SyncMemo::default();
        let (mut peer, mut peer_state, mut state) = (AutoCommit::new(), State::new(), State::new());
        sync_through_memo(
            &mut memo,
            &mut server,
            &mut state,
            &mut peer,
            &mut peer_state,
        );

        server.put(ROOT, "assignee", "ben").unwrap();
        server.commit();
        let change = memo.generate(&mut server, &mut state).unwrap();
        peer.sync()
            .receive_sync_message(&mut peer_state, change)
            .unwrap();
        let ack = peer.sync().generate_sync_message(&mut peer_state).unwrap();
        assert!(ack.changes.is_empty());

        let mut plain = state.clone();
        let before_ack = state.clone();
        let from_memo = memo
            .acknowledge(&mut server, &mut state, ack.clone())
            .unwrap();
        server
            .sync()
            .receive_sync_message(&mut plain, ack.clone())
            .unwrap();
        let from_automerge = server.sync().generate_sync_message(&mut plain);
        assert_eq!(from_memo, from_automerge);
        assert_eq!(state, plain);
        // Asked again from the same state: the remembered answer.
        let mut again = before_ack;
        let remembered = memo.acknowledge(&mut server, &mut again, ack).unwrap();
        assert_eq!(remembered, from_automerge);
        assert_eq!(again, plain);
    }

    #[test]
    fn a_new_change_forgets_every_answer() {
        let mut server = doc_with("subject");
        let mut memo = SyncMemo::default();
        let mut state = State::new();
        let first = memo.generate(&mut server, &mut State::new());
        assert!(first.is_some());
        server.put(ROOT, "assignee", "ana").unwrap();
        server.commit();
        let second = memo.generate(&mut server, &mut state).unwrap();
        assert_eq!(
            second.heads,
            server.get_heads(),
            "computed for the new heads"
        );
        assert_eq!(memo.generated.len(), 1);
    }
}
