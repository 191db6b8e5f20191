//! The fleet's documents, held once for every simulated agent.
//!
//! Five hundred agents that each kept a private Automerge copy of every
//! conversation would apply every change five hundred times, and the load
//! generator, not the server, would be what a run measures. So each agent
//! keeps its own *view* of a document, the version it stands at and its own
//! sync state with the server, while versions are shared: an agent that
//! reaches heads another agent already reached uses that agent's copy.
//!
//! Automerge's sync is a function of the document, the sync state and the
//! message received, so a step one agent took (version, state, message →
//! version, state, reply) is replayed for every other agent about to take
//! the same step. What each agent sends is byte for byte what a private copy
//! would send; only the work is done once. The server does the same for its
//! side of a fan-out (`SyncMemo`).

use std::collections::HashMap;
use std::hash::{DefaultHasher, Hash, Hasher};
use std::sync::{Arc, Mutex, MutexGuard, Weak};

use anyhow::Context;
use automerge::sync::{self, State, SyncDoc};
use automerge::{AutoCommit, ChangeHash};
use baton_shared::ids::DocumentId;

/// Steps remembered per document before they are all forgotten (a run's
/// fan-out needs a handful; only an agent far behind misses).
const MAX_STEPS: usize = 512;
/// Versions indexed per document before the dropped ones are swept out.
const SWEEP_VERSIONS_AT: usize = 256;

/// Where one agent stands with one document. Agents that took the same
/// steps share every part of it, so moving an agent on copies no data.
#[derive(Clone)]
pub struct View {
    doc: Arc<AutoCommit>,
    heads: Arc<[ChangeHash]>,
    state: Arc<State>,
}

impl View {
    pub fn heads(&self) -> &[ChangeHash] {
        &self.heads
    }
}

/// What receiving one sync message did for one agent.
#[derive(Debug, Default)]
pub struct Received {
    /// The answer to send, if any.
    pub reply: Option<Vec<u8>>,
    /// Changes the agent did not hold before.
    pub applied: Arc<[ChangeHash]>,
}

/// A step already taken by some agent, to replay for the next.
struct Step {
    before: View,
    message: Vec<u8>,
    after: View,
    reply: Option<Vec<u8>>,
    applied: Arc<[ChangeHash]>,
}

/// One document as the whole fleet holds it.
#[derive(Default)]
struct Shared {
    /// Every version some agent may still stand at, by heads.
    versions: HashMap<Vec<ChangeHash>, Weak<AutoCommit>>,
    /// Steps by a hash of (heads, message); the candidates are compared in
    /// full, state included (hashing every state cost more than comparing).
    steps: HashMap<u64, Vec<Step>>,
    remembered: usize,
}

impl Shared {
    /// The fleet's copy at `doc`'s heads, or `doc` itself if it is the first.
    fn version(&mut self, heads: &[ChangeHash], doc: AutoCommit) -> Arc<AutoCommit> {
        if let Some(known) = self.versions.get(heads).and_then(Weak::upgrade) {
            return known;
        }
        if self.versions.len() >= SWEEP_VERSIONS_AT {
            self.versions.retain(|_, v| v.strong_count() > 0);
        }
        let doc = Arc::new(doc);
        self.versions.insert(heads.to_vec(), Arc::downgrade(&doc));
        doc
    }

    fn remember(&mut self, key: u64, step: Step) {
        if self.remembered >= MAX_STEPS {
            self.steps.clear();
            self.remembered = 0;
        }
        self.remembered += 1;
        self.steps.entry(key).or_default().push(step);
    }

    fn recall(&self, key: u64, view: &View, message: &[u8]) -> Option<&Step> {
        self.steps.get(&key)?.iter().find(|s| {
            s.before.heads == view.heads
                && (Arc::ptr_eq(&s.before.state, &view.state) || s.before.state == view.state)
                && s.message.as_slice() == message
        })
    }
}

fn step_key(view: &View, message: &[u8]) -> u64 {
    let mut hasher = DefaultHasher::new();
    view.heads.hash(&mut hasher);
    message.hash(&mut hasher);
    hasher.finish()
}

/// Counts of computed and replayed steps, to tell how much was shared.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct Work {
    pub computed: u64,
    pub replayed: u64,
}

/// Every document of the fleet.
#[derive(Default)]
pub struct Replicas {
    docs: HashMap<DocumentId, Shared>,
    pub work: Work,
}

/// The replicas shared by every client of a fleet.
pub type SharedReplicas = Arc<Mutex<Replicas>>;

/// Locks the replicas (a poisoned lock still holds valid documents).
pub fn lock(replicas: &SharedReplicas) -> MutexGuard<'_, Replicas> {
    replicas.lock().unwrap_or_else(|e| e.into_inner())
}

impl Replicas {
    pub fn shared() -> SharedReplicas {
        Arc::new(Mutex::new(Replicas::default()))
    }

    /// Takes an agent's own copy of `id` (and its sync state) into the
    /// fleet; the copy is dropped if the fleet already holds that version.
    pub fn adopt(&mut self, id: DocumentId, mut doc: AutoCommit, state: State) -> View {
        let heads = doc.get_heads();
        let doc = self.docs.entry(id).or_default().version(&heads, doc);
        View {
            doc,
            heads: heads.into(),
            state: Arc::new(state),
        }
    }

    /// Receives `message` for `id` as the agent at `view`, and moves the
    /// agent on; the reply is what its own copy would answer.
    pub fn receive(
        &mut self,
        id: DocumentId,
        view: &mut View,
        message: &[u8],
    ) -> anyhow::Result<Received> {
        let shared = self.docs.entry(id).or_default();
        let key = step_key(view, message);
        if let Some(step) = shared.recall(key, view, message) {
            self.work.replayed += 1;
            *view = step.after.clone();
            return Ok(Received {
                reply: step.reply.clone(),
                applied: step.applied.clone(),
            });
        }
        self.work.computed += 1;
        let decoded = sync::Message::decode(message)
            .with_context(|| format!("undecodable sync message for {id}"))?;
        let mut doc = (*view.doc).clone();
        let mut state = (*view.state).clone();
        doc.sync()
            .receive_sync_message(&mut state, decoded)
            .with_context(|| format!("the server sent changes to {id} that do not apply"))?;
        let heads = doc.get_heads();
        let moved = *heads != *view.heads;
        let applied: Arc<[ChangeHash]> = if moved {
            doc.get_changes_meta(&view.heads)
                .iter()
                .map(|c| c.hash)
                .collect()
        } else {
            Arc::new([])
        };
        let reply = doc
            .sync()
            .generate_sync_message(&mut state)
            .map(sync::Message::encode);
        let after = View {
            doc: if moved {
                shared.version(&heads, doc)
            } else {
                view.doc.clone()
            },
            heads: if moved {
                heads.into()
            } else {
                view.heads.clone()
            },
            state: Arc::new(state),
        };
        shared.remember(
            key,
            Step {
                before: view.clone(),
                message: message.to_vec(),
                after: after.clone(),
                reply: reply.clone(),
                applied: applied.clone(),
            },
        );
        *view = after;
        Ok(Received { reply, applied })
    }

    /// A private copy of the version at `view`, for an agent about to change it.
    pub fn checkout(view: &View) -> AutoCommit {
        (*view.doc).clone()
    }

    /// Moves the agent at `view` to `doc` (its checkout, changed) and
    /// returns the sync message that tells the server.
    pub fn commit(
        &mut self,
        id: DocumentId,
        view: &mut View,
        mut doc: AutoCommit,
    ) -> Option<Vec<u8>> {
        let heads = doc.get_heads();
        let message = doc
            .sync()
            .generate_sync_message(Arc::make_mut(&mut view.state))
            .map(sync::Message::encode);
        if *heads != *view.heads {
            view.doc = self.docs.entry(id).or_default().version(&heads, doc);
            view.heads = heads.into();
        }
        message
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use automerge::transaction::Transactable;
    use automerge::{ActorId, ROOT};

    fn id() -> DocumentId {
        DocumentId::from_bytes([7; 16])
    }

    /// A private copy and its state, the way a `DocSet` holds them.
    struct Private {
        doc: AutoCommit,
        state: State,
    }

    impl Private {
        fn receive(&mut self, message: &[u8]) -> Option<Vec<u8>> {
            let message = sync::Message::decode(message).unwrap();
            self.doc
                .sync()
                .receive_sync_message(&mut self.state, message)
                .unwrap();
            self.doc
                .sync()
                .generate_sync_message(&mut self.state)
                .map(sync::Message::encode)
        }
    }

    /// The server's copy, synced with one agent until both are quiet.
    fn sync_pair(server: &mut AutoCommit, server_state: &mut State, agent: &mut Private) {
        for _ in 0..10 {
            let a = server.sync().generate_sync_message(server_state);
            let b = agent.doc.sync().generate_sync_message(&mut agent.state);
            if a.is_none() && b.is_none() {
                return;
            }
            if let Some(a) = a {
                agent
                    .doc
                    .sync()
                    .receive_sync_message(&mut agent.state, a)
                    .unwrap();
            }
            if let Some(b) = b {
                server.sync().receive_sync_message(server_state, b).unwrap();
            }
        }
        panic!("no quiet after 10 rounds");
    }

    /// The server's copy and two agents in sync with it, each agent with a
    /// private copy and, alike, a view in the same replicas.
    struct Agents {
        server: AutoCommit,
        server_states: [State; 2],
        privates: [Private; 2],
        replicas: Replicas,
        views: Vec<View>,
    }

    fn two_agents() -> Agents {
        let mut server = AutoCommit::new();
        server.put(ROOT, "assignee", "ana").unwrap();
        let mut server_states = [State::new(), State::new()];
        let mut privates = [(); 2].map(|()| Private {
            doc: AutoCommit::new(),
            state: State::new(),
        });
        for (private, state) in privates.iter_mut().zip(server_states.iter_mut()) {
            sync_pair(&mut server, state, private);
        }
        let mut replicas = Replicas::default();
        let views = privates
            .iter()
            .map(|p| replicas.adopt(id(), p.doc.clone(), p.state.clone()))
            .collect();
        Agents {
            server,
            server_states,
            privates,
            replicas,
            views,
        }
    }

    #[test]
    fn agents_in_the_same_place_share_one_copy_and_answer_as_their_own_would() {
        let Agents {
            mut server,
            server_states: mut states,
            mut privates,
            mut replicas,
            mut views,
        } = two_agents();
        assert!(
            Arc::ptr_eq(&views[0].doc, &views[1].doc),
            "one copy for both"
        );

        // The server reassigns; both agents hear the same message.
        server.put(ROOT, "assignee", "ben").unwrap();
        let change = server.get_last_local_change().unwrap().hash();
        let message = server
            .sync()
            .generate_sync_message(&mut states[0])
            .unwrap()
            .encode();
        for (view, private) in views.iter_mut().zip(privates.iter_mut()) {
            let shared = replicas.receive(id(), view, &message).unwrap();
            let own = private.receive(&message);
            assert_eq!(shared.reply, own, "the reply a private copy gives");
            assert_eq!(*shared.applied, [change]);
            assert_eq!(view.heads(), private.doc.get_heads().as_slice());
            assert_eq!(*view.state, private.state);
        }
        assert_eq!(
            replicas.work,
            Work {
                computed: 1,
                replayed: 1
            }
        );
        assert!(Arc::ptr_eq(&views[0].doc, &views[1].doc), "still one copy");
    }

    #[test]
    fn an_agents_change_reaches_the_server_and_others_share_its_version() {
        let Agents {
            mut server,
            mut server_states,
            mut privates,
            mut replicas,
            mut views,
        } = two_agents();

        // Agent 0 reassigns with its own actor.
        let mut doc = Replicas::checkout(&views[0]);
        doc.set_actor(ActorId::from(b"agent-0".as_slice()));
        doc.put(ROOT, "assignee", "cy").unwrap();
        let hash = doc.get_last_local_change().unwrap().hash();
        let message = replicas.commit(id(), &mut views[0], doc).unwrap();
        server
            .sync()
            .receive_sync_message(
                &mut server_states[0],
                sync::Message::decode(&message).unwrap(),
            )
            .unwrap();
        assert_eq!(
            server.get_heads(),
            vec![hash],
            "the server holds the change"
        );

        // The server passes it on to agent 1, who lands on agent 0's copy.
        let fan_out = server
            .sync()
            .generate_sync_message(&mut server_states[1])
            .unwrap()
            .encode();
        let received = replicas.receive(id(), &mut views[1], &fan_out).unwrap();
        assert_eq!(*received.applied, [hash]);
        assert!(Arc::ptr_eq(&views[0].doc, &views[1].doc));
        let own = privates[1].receive(&fan_out);
        assert_eq!(received.reply, own);
    }
}
