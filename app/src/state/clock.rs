//! A clock the views read for ages, fading presence and the retry
//! countdown: one tick a second, so they redraw without each keeping a timer.

use baton_shared::model::Millis;
use leptos::prelude::*;

use crate::time;

/// The clock service (`use_clock()`).
#[derive(Clone, Copy)]
pub struct Clock {
    now: RwSignal<Millis>,
}

impl Clock {
    pub(crate) fn new() -> Clock {
        Clock {
            now: RwSignal::new(time::now()),
        }
    }

    /// Reactive: the time of the last tick.
    pub fn now(&self) -> Millis {
        self.now.get()
    }

    pub(crate) fn start(self) {
        let _ = set_interval_with_handle(
            move || self.now.set(time::now()),
            std::time::Duration::from_secs(1),
        );
    }
}
