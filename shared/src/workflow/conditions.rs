//! Whether a workflow's conditions hold for one event on one conversation.
//! Pure, so the app can preview a workflow against a conversation it holds.

use super::{BusinessHours, Condition, Workflow, normalize_domain};
use crate::ids::ChannelId;
use crate::model::{Author, Conversation, MessageKind, Millis};

/// What conditions look at: the facts of one event.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Facts<'a> {
    /// The conversation's channel.
    pub channel: &'a ChannelId,
    /// The customer's email.
    pub customer_email: &'a str,
    /// The conversation's subject.
    pub subject: &'a str,
    /// The customer's message the event is about (the latest one when the
    /// event has none of its own, like "unassigned for N minutes").
    pub text: &'a str,
    /// When the event happened (ms since the epoch).
    pub at: Millis,
}

impl<'a> Facts<'a> {
    /// The facts of an event at `at` on `conversation`, about `text` or, when
    /// `None`, the customer's latest message.
    pub fn of(conversation: &'a Conversation, text: Option<&'a str>, at: Millis) -> Self {
        let latest = || {
            conversation
                .messages
                .iter()
                .rev()
                .find(|m| m.author == Author::Customer && m.kind == MessageKind::Message)
                .map_or("", |m| m.body.as_str())
        };
        Facts {
            channel: &conversation.channel,
            customer_email: &conversation.customer.email,
            subject: &conversation.subject,
            text: text.unwrap_or_else(latest),
            at,
        }
    }
}

/// Whether one condition holds.
pub fn condition_holds(condition: &Condition, facts: &Facts<'_>, hours: &BusinessHours) -> bool {
    match condition {
        Condition::ChannelIn { channels } => channels.contains(facts.channel),
        Condition::TextContains { text } => {
            let wanted = text.trim().to_lowercase();
            facts.text.to_lowercase().contains(&wanted)
                || facts.subject.to_lowercase().contains(&wanted)
        }
        Condition::EmailDomain { domains } => {
            let email = facts.customer_email.trim().to_lowercase();
            let Some((_, domain)) = email.rsplit_once('@') else {
                return false;
            };
            domains.iter().map(|d| normalize_domain(d)).any(|wanted| {
                domain == wanted
                    || domain
                        .strip_suffix(&wanted)
                        .is_some_and(|rest| rest.ends_with('.'))
            })
        }
        Condition::WithinBusinessHours => hours.is_open(facts.at),
        Condition::OutsideBusinessHours => !hours.is_open(facts.at),
    }
}

/// The first of `workflow`'s conditions that does not hold, or `None` when
/// they all do (and its steps should run).
pub fn first_unmet<'w>(
    workflow: &'w Workflow,
    facts: &Facts<'_>,
    hours: &BusinessHours,
) -> Option<&'w Condition> {
    workflow
        .conditions
        .iter()
        .find(|c| !condition_holds(c, facts, hours))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MONDAY_NOON: Millis = 1_704_067_200_000 + 12 * 3_600_000;

    fn facts<'a>(channel: &'a ChannelId, email: &'a str, text: &'a str) -> Facts<'a> {
        Facts {
            channel,
            customer_email: email,
            subject: "Order 1182",
            text,
            at: MONDAY_NOON,
        }
    }

    fn holds(condition: Condition, facts: &Facts<'_>) -> bool {
        condition_holds(&condition, facts, &BusinessHours::default())
    }

    #[test]
    fn channel_is_one_of() {
        let billing: ChannelId = "chn_billing".parse().unwrap();
        let chat: ChannelId = "chn_chat".parse().unwrap();
        let f = facts(&billing, "dana@example.com", "hi");
        let channels = vec![chat.clone(), billing.clone()];
        assert!(holds(Condition::ChannelIn { channels }, &f));
        let channels = vec![chat];
        assert!(!holds(Condition::ChannelIn { channels }, &f));
    }

    #[test]
    fn text_contains_ignores_case_and_looks_at_the_subject_too() {
        let channel: ChannelId = "chn_email".parse().unwrap();
        let f = facts(
            &channel,
            "dana@example.com",
            "I want a REFUND for my Überweisung",
        );
        let contains = |text: &str| {
            holds(
                Condition::TextContains {
                    text: text.to_owned(),
                },
                &f,
            )
        };
        assert!(contains("refund"));
        assert!(contains("Refund"));
        assert!(contains(" überweisung "));
        assert!(contains("order 1182"), "the subject counts");
        assert!(!contains("invoice"));
    }

    #[test]
    fn email_domain_matches_the_domain_and_its_subdomains_only() {
        let channel: ChannelId = "chn_email".parse().unwrap();
        let domains = vec!["@Acme.com".to_owned()];
        let at = |email: &str| {
            holds(
                Condition::EmailDomain {
                    domains: domains.clone(),
                },
                &facts(&channel, email, ""),
            )
        };
        assert!(at("dana@acme.com"));
        assert!(at("Dana@ACME.COM"));
        assert!(at("dana@eu.acme.com"));
        assert!(!at("dana@notacme.com"));
        assert!(!at("acme.com@example.org"));
        assert!(!at("no-at-sign"));
    }

    #[test]
    fn business_hours_use_the_event_time() {
        let channel: ChannelId = "chn_email".parse().unwrap();
        let mut f = facts(&channel, "dana@example.com", "");
        assert!(holds(Condition::WithinBusinessHours, &f));
        assert!(!holds(Condition::OutsideBusinessHours, &f));
        f.at += 10 * 3_600_000; // 22:00
        assert!(!holds(Condition::WithinBusinessHours, &f));
        assert!(holds(Condition::OutsideBusinessHours, &f));
    }
}
