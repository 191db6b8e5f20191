//! Screen state that is not the agent's data: which dropdown or overlay is
//! open, and requests between components (focus the reply box).

use leptos::prelude::*;

/// Where the agent picker is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Picker {
    Closed,
    /// In the open conversation's toolbar.
    Conversation,
    /// In the bulk bar, for the selection.
    Bulk,
}

#[derive(Clone, Copy)]
pub struct Ui {
    pub picker: RwSignal<Picker>,
    pub help: RwSignal<bool>,
    pub bell: RwSignal<bool>,
    /// The views and filters, as a drawer on a phone.
    pub menu: RwSignal<bool>,
    /// The next row ticked selects the range from the last one (what
    /// Shift+Click does, for touch).
    pub range: RwSignal<bool>,
    /// Bumped to ask the composer to take focus.
    pub focus_reply: RwSignal<u32>,
}

impl Ui {
    pub fn new() -> Ui {
        Ui {
            picker: RwSignal::new(Picker::Closed),
            help: RwSignal::new(false),
            bell: RwSignal::new(false),
            menu: RwSignal::new(false),
            range: RwSignal::new(false),
            focus_reply: RwSignal::new(0),
        }
    }

    /// Closes the topmost thing; false when nothing was open.
    pub fn close_top(&self) -> bool {
        if self.help.get_untracked() {
            self.help.set(false);
        } else if self.picker.get_untracked() != Picker::Closed {
            self.picker.set(Picker::Closed);
        } else if self.bell.get_untracked() {
            self.bell.set(false);
        } else if self.menu.get_untracked() {
            self.menu.set(false);
        } else {
            return false;
        }
        true
    }
}

impl Default for Ui {
    fn default() -> Self {
        Ui::new()
    }
}
