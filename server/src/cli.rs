//! The `baton` command line (DESIGN §9).

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// Baton: a shared inbox where every conversation is in someone's hands.
#[derive(Debug, Parser)]
#[command(name = "baton", version, about, propagate_version = true)]
pub struct Cli {
    #[command(flatten)]
    pub global: Global,
    #[command(subcommand)]
    pub command: Command,
}

/// Options every command takes.
#[derive(Debug, Args)]
pub struct Global {
    /// Directory of the embedded database.
    #[arg(long, global = true, default_value = "./data", value_name = "DIR")]
    pub data: PathBuf,
    /// Database URL instead of --data: postgres://user@host/database (several
    /// nodes may share it) or sqlite:///path/to/baton.db. From the
    /// environment, it stays out of the process list.
    #[arg(
        long,
        global = true,
        value_name = "URL",
        env = "BATON_DATABASE_URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Print machine-readable JSON.
    #[arg(long, global = true)]
    pub json: bool,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the app, the HTTP API and live sync.
    Serve(Serve),
    /// Add or deactivate agents.
    #[command(subcommand)]
    Agent(AgentCommand),
    /// Add channels customers write to.
    #[command(subcommand)]
    Channel(ChannelCommand),
    /// Create API tokens for integrations.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Copy everything one database keeps into another, empty one (e.g.
    /// from SQLite to PostgreSQL); stop every `baton serve` first.
    MigrateStore(MigrateStore),
}

#[derive(Debug, Args)]
pub struct MigrateStore {
    /// The database to copy: a sqlite: or postgres:// URL.
    #[arg(long, value_name = "URL")]
    pub from: String,
    /// The database to copy into; it must hold no workspace yet.
    #[arg(
        long,
        value_name = "URL",
        env = "BATON_MIGRATE_TO",
        hide_env_values = true
    )]
    pub to: String,
}

#[derive(Debug, Args)]
pub struct Serve {
    /// Address to listen on; port 0 picks a free port.
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// The built app to serve (trunk's dist/).
    #[arg(long, value_name = "DIR")]
    pub dist: Option<PathBuf>,
    /// Another origin whose pages may use the API and open the live sync
    /// socket (repeatable).
    #[arg(long, value_name = "URL")]
    pub origin: Vec<String>,
    /// A reverse proxy (address or CIDR network) whose `X-Forwarded-For`
    /// names the client, for sign-in rate limits (repeatable).
    #[arg(long, value_name = "CIDR")]
    pub trusted_proxy: Vec<String>,
    /// Seed a demo workspace (first start only) and simulate customers.
    #[arg(long)]
    pub demo: bool,
    /// Simulated customer messages per minute with --demo; 0 turns it off.
    #[arg(long, default_value_t = 12, value_name = "PER_MINUTE")]
    pub demo_rate: u32,
    /// How many conversations the demo workspace starts with (first start only).
    #[arg(long, default_value_t = 300, value_name = "N", value_parser = clap::value_parser!(u32).range(1..=200_000))]
    pub demo_conversations: u32,
    /// How long a sign-in lasts, in seconds.
    #[arg(long, default_value_t = 7 * 24 * 3600, value_name = "SECONDS")]
    pub session_ttl: u64,
    /// Seconds between pings (and checks that a socket's sign-in holds).
    #[arg(long, default_value_t = 20, hide = true)]
    pub heartbeat_seconds: u64,
    /// Documents one catch-up answer lists.
    #[arg(long, default_value_t = 2_000, hide = true)]
    pub catch_up_page: u32,
    /// Documents one connection may hold.
    #[arg(long, default_value_t = 100_000, hide = true)]
    pub max_documents: usize,
    /// Seconds between sweeps for conversations still unassigned.
    #[arg(long, default_value_t = 15, hide = true)]
    pub sweep_every: u64,
}

#[derive(Debug, Subcommand)]
pub enum AgentCommand {
    /// Add an agent; prints a generated password unless --password is given.
    Add {
        #[arg(long)]
        email: String,
        #[arg(long)]
        name: String,
        /// Make the agent an admin.
        #[arg(long)]
        admin: bool,
        /// At least 8 characters; `-` reads it from standard input, which
        /// keeps it out of the process list.
        #[arg(long)]
        password: Option<String>,
    },
    /// Deactivate an agent: revokes their sessions and tokens and unassigns
    /// their open conversations.
    Deactivate {
        #[arg(long)]
        email: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum ChannelCommand {
    /// Add a channel; prints its id and ingest secret (shown once).
    Add {
        #[arg(long)]
        name: String,
        /// What sort of channel: email, chat, form, …
        #[arg(long, default_value = "email")]
        kind: String,
    },
}

#[derive(Debug, Subcommand)]
pub enum TokenCommand {
    /// Create an API token acting as the agent with this email.
    Create {
        #[arg(long)]
        email: String,
        /// Days until the token expires; without it, it lasts until revoked.
        #[arg(long, value_name = "DAYS", value_parser = clap::value_parser!(u32).range(1..=3650))]
        expires_in_days: Option<u32>,
    },
    /// List the API tokens of the agent with this email (ids, not tokens).
    List {
        #[arg(long)]
        email: String,
    },
    /// Revoke one API token by the id `create` and `list` print.
    Revoke {
        #[arg(long)]
        id: String,
    },
}
