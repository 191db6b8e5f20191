//! Believable people, questions and answers for the demo workspace.

pub const AGENTS: &[(&str, &str, bool)] = &[
    ("Alex Morgan", "alex@demo.baton.test", true),
    ("Ana Silva", "ana@demo.baton.test", false),
    ("Ben Okafor", "ben@demo.baton.test", false),
    ("Chloé Martin", "chloe@demo.baton.test", false),
    ("Dev Patel", "dev@demo.baton.test", false),
    ("Emma Larsen", "emma@demo.baton.test", false),
    ("Farid Haddad", "farid@demo.baton.test", false),
];

/// Name, kind, and which agents (by index into `AGENTS`) are signed up.
pub const CHANNELS: &[(&str, &str, &[usize])] = &[
    ("Email support", "email", &[0, 1, 2, 3, 4, 5, 6]),
    ("Live chat", "chat", &[2, 3, 5, 6]),
    ("Billing", "form", &[0, 1, 4]),
];

pub const FIRST_NAMES: &[&str] = &[
    "Dana", "Marcus", "Priya", "Tomás", "Yuki", "Olivia", "Kwame", "Sofia", "Liam", "Aisha",
    "Noah", "Mei", "Lucas", "Fatima", "Ethan", "Ingrid", "Mateo", "Zara", "Hugo", "Amara",
];

pub const LAST_NAMES: &[&str] = &[
    "Reyes", "Chen", "Kowalski", "Nguyen", "Haddad", "Fischer", "Adeyemi", "Rossi", "Murphy",
    "Tanaka", "Dubois", "Novak", "Silva", "Berg", "Okonkwo", "Jensen",
];

pub const DOMAINS: &[&str] = &[
    "gmail.example",
    "outlook.example",
    "acme-corp.example",
    "northwind.example",
    "fastmail.example",
];

/// Subject and the customer's first message.
pub const QUESTIONS: &[(&str, &str)] = &[
    (
        "Order #48213 hasn't arrived",
        "Hi, I ordered a standing desk two weeks ago and the tracking page hasn't moved since Monday. Can you check where it is?",
    ),
    (
        "Charged twice this month",
        "I see two charges of $49 on my card for the same subscription. Could you refund the duplicate?",
    ),
    (
        "Can't log in after password reset",
        "I reset my password but the new one isn't accepted. I've tried three times and now I'm locked out.",
    ),
    (
        "Invoice needs our VAT number",
        "Our accounting team needs the VAT number on last month's invoice. Can you reissue it?",
    ),
    (
        "How do I export my data?",
        "Is there a way to export all our projects to CSV? We need it for an audit.",
    ),
    (
        "Wrong size delivered",
        "I ordered the jacket in M but received an L. How do I exchange it?",
    ),
    (
        "Upgrade to the team plan",
        "We're growing to 12 people. What does the team plan cost and can we switch mid-cycle?",
    ),
    (
        "App crashes on startup",
        "Since this morning's update the iOS app closes as soon as I open it. iPhone 14, iOS 18.",
    ),
    (
        "Cancel my subscription",
        "Please cancel my subscription at the end of this billing period. Thanks for everything.",
    ),
    (
        "Discount code not working",
        "The code SPRING20 from your newsletter says it's invalid at checkout.",
    ),
    (
        "Damaged package",
        "The box arrived crushed and the lamp inside is broken. I attached photos.",
    ),
    (
        "Change delivery address",
        "I just placed order #51877 and realised it's going to my old flat. Can you change it?",
    ),
    (
        "Two-factor codes not arriving",
        "I don't receive the SMS codes anymore, so I can't get into my account.",
    ),
    (
        "Question about data retention",
        "How long do you keep customer records after an account is closed? Asking for our GDPR review.",
    ),
    (
        "Integration with our CRM",
        "Does your API support webhooks? We'd like new orders pushed into our CRM.",
    ),
    (
        "Refund still pending",
        "You approved my refund ten days ago but it still hasn't reached my account.",
    ),
    (
        "Add a second admin",
        "How can I give my colleague admin rights on our workspace?",
    ),
    (
        "Slow loading dashboard",
        "The dashboard takes over 20 seconds to load for our team since yesterday.",
    ),
    (
        "Gift card balance",
        "How can I check how much is left on a gift card I received?",
    ),
    (
        "Missing item in order",
        "My order arrived but the charging cable listed on the packing slip wasn't in the box.",
    ),
];

pub const FOLLOW_UPS: &[&str] = &[
    "Any update on this? It's getting a bit urgent.",
    "Thanks! One more question: does this also apply to my second account?",
    "I just checked again and it's still the same.",
    "That worked, thank you so much!",
    "Sorry, I forgot to mention my order number: #50412.",
    "Could you call me instead? My number is in my profile.",
];

pub const REPLIES: &[&str] = &[
    "Thanks for reaching out! I'm looking into this right now and will get back to you shortly.",
    "I'm sorry about the trouble. I've escalated this to our logistics team and asked for an update today.",
    "Good news: I've issued the refund. It usually takes 3–5 business days to appear on your statement.",
    "Could you send me the email address on the account so I can find it?",
    "I've updated that for you. You should see the change within a few minutes.",
    "Thanks for your patience. Here's a step-by-step guide that should sort it out.",
];

pub const NOTES: &[&str] = &[
    "Long-time customer, third order this year. Let's be generous here.",
    "Checked with the warehouse: the parcel is at the depot, expected tomorrow.",
    "Possible fraud pattern, double-check the card before refunding.",
    "Billing bug tracked in the engineering board, affects ~40 accounts.",
];

/// A small deterministic random source, so every demo looks the same.
pub struct Dice(u64);

impl Dice {
    pub fn new(seed: u64) -> Self {
        Dice(seed | 1)
    }

    pub fn next(&mut self) -> u64 {
        // xorshift64*
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// A number in `0..n`.
    pub fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }

    /// One of `lines`.
    pub fn line(&mut self, lines: &[&'static str]) -> &'static str {
        lines[self.below(lines.len())]
    }

    pub fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}
