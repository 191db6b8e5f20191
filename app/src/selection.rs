//! Which conversations are selected in the inbox, with Shift+Click ranges:
//! a plain click toggles one row and becomes the anchor; a Shift+Click selects
//! every row from the anchor to the clicked one, in the order the list shows.

use std::collections::BTreeSet;

/// The inbox selection of rows keyed by `K`. Plain data, so the rules are
/// tested without a browser.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selection<K> {
    selected: BTreeSet<K>,
    anchor: Option<K>,
}

impl<K> Default for Selection<K> {
    fn default() -> Self {
        Selection {
            selected: BTreeSet::new(),
            anchor: None,
        }
    }
}

impl<K: Ord + Clone> Selection<K> {
    /// A plain click on a row's checkbox: toggles it and makes it the anchor.
    pub fn toggle(&mut self, id: &K) {
        if !self.selected.remove(id) {
            self.selected.insert(id.clone());
        }
        self.anchor = Some(id.clone());
    }

    /// Shift+Click: selects every row between the anchor and `id` in `order`
    /// (the rows as the list shows them). Without an anchor it is a toggle.
    pub fn extend_to(&mut self, id: &K, order: &[K]) {
        let anchor_at = self
            .anchor
            .as_ref()
            .and_then(|anchor| order.iter().position(|row| row == anchor));
        let (Some(from), Some(to)) = (anchor_at, order.iter().position(|row| row == id)) else {
            self.toggle(id);
            return;
        };
        let (low, high) = (from.min(to), from.max(to));
        self.selected.extend(order[low..=high].iter().cloned());
        self.anchor = Some(id.clone());
    }

    /// Selects every row in view.
    pub fn select_all(&mut self, order: &[K]) {
        self.selected.extend(order.iter().cloned());
    }

    /// Clears the selection (after a bulk action, or Esc).
    pub fn clear(&mut self) {
        self.selected.clear();
        self.anchor = None;
    }

    pub fn contains(&self, id: &K) -> bool {
        self.selected.contains(id)
    }

    pub fn len(&self) -> usize {
        self.selected.len()
    }

    pub fn is_empty(&self) -> bool {
        self.selected.is_empty()
    }

    /// The selected conversations in `order`'s order.
    pub fn in_order<'a>(&self, order: &'a [K]) -> Vec<&'a K> {
        order.iter().filter(|id| self.contains(id)).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use baton_shared::ids::ConversationId;

    fn rows(n: u8) -> Vec<ConversationId> {
        (0..n)
            .map(|i| ConversationId::from_bytes([i; 16]))
            .collect()
    }

    #[test]
    fn shift_click_four_below_selects_five() {
        let order = rows(10);
        let mut selection = Selection::<ConversationId>::default();
        selection.toggle(&order[2]);
        selection.extend_to(&order[6], &order);
        assert_eq!(selection.len(), 5);
        assert_eq!(
            selection.in_order(&order),
            order[2..=6].iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn shift_click_upwards_and_from_the_last_clicked_row() {
        let order = rows(10);
        let mut selection = Selection::<ConversationId>::default();
        selection.toggle(&order[7]);
        selection.extend_to(&order[5], &order);
        assert_eq!(selection.len(), 3);
        // The anchor moved to row 5: the next range starts there.
        selection.extend_to(&order[1], &order);
        assert_eq!(
            selection.in_order(&order),
            order[1..=7].iter().collect::<Vec<_>>()
        );
    }

    #[test]
    fn shift_click_without_an_anchor_selects_one_row() {
        let order = rows(4);
        let mut selection = Selection::<ConversationId>::default();
        selection.extend_to(&order[3], &order);
        assert_eq!(selection.in_order(&order), vec![&order[3]]);
    }

    #[test]
    fn toggling_twice_deselects_and_clear_forgets_the_anchor() {
        let order = rows(4);
        let mut selection = Selection::<ConversationId>::default();
        selection.toggle(&order[1]);
        selection.toggle(&order[1]);
        assert!(selection.is_empty());
        selection.select_all(&order);
        assert_eq!(selection.len(), 4);
        selection.clear();
        selection.extend_to(&order[2], &order);
        assert_eq!(selection.len(), 1);
    }
}
