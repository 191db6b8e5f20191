//! Who else is viewing or typing in each conversation. Presence is never
//! stored: entries fade unless refreshed (viewers re-announce every
//! [`REFRESH_MS`], typists while they type).

use std::collections::HashMap;

use baton_shared::ids::{AgentId, DocumentId};
use baton_shared::model::Millis;
use baton_shared::protocol::{Presence, PresenceState};

/// How often an open conversation re-announces that the agent views it.
pub const REFRESH_MS: Millis = 15_000;
const VIEWING_FADES_MS: Millis = 2 * REFRESH_MS + 5_000;
const TYPING_FADES_MS: Millis = 6_000;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PresenceBoard {
    seen: HashMap<DocumentId, HashMap<AgentId, (PresenceState, Millis)>>,
}

impl PresenceBoard {
    pub fn update(&mut self, doc: DocumentId, presence: Presence, now: Millis) {
        let agents = self.seen.entry(doc).or_default();
        if presence.state == PresenceState::Left {
            agents.remove(&presence.agent);
        } else {
            agents.insert(presence.agent, (presence.state, now));
        }
    }

    /// The other agents in `doc` right now, typists first.
    pub fn others(
        &self,
        doc: &DocumentId,
        me: &AgentId,
        now: Millis,
    ) -> Vec<(AgentId, PresenceState)> {
        let mut others: Vec<(AgentId, PresenceState)> = self
            .seen
            .get(doc)
            .into_iter()
            .flatten()
            .filter(|(agent, _)| *agent != me)
            .filter_map(|(agent, (state, at))| {
                let age = now.saturating_sub(*at);
                let state = match state {
                    PresenceState::Typing if age <= TYPING_FADES_MS => PresenceState::Typing,
                    _ if age <= VIEWING_FADES_MS => PresenceState::Viewing,
                    _ => return None,
                };
                Some((agent.clone(), state))
            })
            .collect();
        others.sort_by_key(|(agent, state)| (*state != PresenceState::Typing, agent.clone()));
        others
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn typing_fades_to_viewing_and_viewing_fades_away() {
        let (me, ben, doc) = (AgentId::random(), AgentId::random(), DocumentId::random());
        let mut board = PresenceBoard::default();
        let typing = Presence {
            agent: ben.clone(),
            state: PresenceState::Typing,
        };
        board.update(doc, typing, 1_000);
        board.update(
            doc,
            Presence {
                agent: me.clone(),
                state: PresenceState::Viewing,
            },
            1_000,
        );
        assert_eq!(
            board.others(&doc, &me, 2_000),
            [(ben.clone(), PresenceState::Typing)]
        );
        assert_eq!(
            board.others(&doc, &me, 1_000 + TYPING_FADES_MS + 1),
            [(ben.clone(), PresenceState::Viewing)]
        );
        assert!(
            board
                .others(&doc, &me, 1_000 + VIEWING_FADES_MS + 1)
                .is_empty()
        );
        board.update(
            doc,
            Presence {
                agent: ben.clone(),
                state: PresenceState::Left,
            },
            2_000,
        );
        assert!(board.others(&doc, &me, 2_000).is_empty());
    }
}
