//! `fraudshield-server`: the sync service and its admin commands.
//!
//! ```text
//! fraudshield-server [--data-dir DIR] [--config FILE] init [--list-id ID]
//! fraudshield-server [--data-dir DIR] serve [--listen ADDR] [--addr-file FILE] [--single-reviewer]
//! fraudshield-server [--data-dir DIR] token create --role ROLE --name NAME [--expires 30d]
//! fraudshield-server [--data-dir DIR] token list [--json]
//! fraudshield-server [--data-dir DIR] token revoke ID
//! fraudshield-server [--data-dir DIR] import --reason TEXT [--encoding gb18030] [--skip-bad-rows] FILE.csv
//! fraudshield-server [--data-dir DIR] publish [--reason TEXT] [--name NAME]
//! fraudshield-server [--data-dir DIR] keys rotate
//! fraudshield-server [--data-dir DIR] backup DEST
//! fraudshield-server [--data-dir DIR] config
//! ```
//! Logs go to stderr (`FRAUDSHIELD_LOG=debug` for more); results and secrets shown once go
//! to stdout.

use clap::{Parser, Subcommand};
use fraudshield_server::auth::{self, Role};
use fraudshield_server::clock::Clock;
use fraudshield_server::config::{Config, Overrides};
use fraudshield_server::datadir::DataDir;
use fraudshield_server::db::Db;
use fraudshield_server::{App, AppState};
use std::io::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

#[derive(Debug, Parser)]
#[command(
    name = "fraudshield-server",
    version,
    about = "fraudshield sync service: tips, review, signed releases"
)]
struct Cli {
    /// Data directory (default `fraudshield-data`; env FRAUDSHIELD_DATA_DIR).
    #[arg(long, global = true, value_name = "DIR")]
    data_dir: Option<PathBuf>,
    /// TOML configuration file (default `<data-dir>/server.toml` if present; env FRAUDSHIELD_CONFIG).
    #[arg(long, global = true, value_name = "FILE")]
    config: Option<PathBuf>,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create the data directory: signing key (owner-only), trust file, database, the empty
    /// first release and an admin token (printed once).
    Init {
        /// The list id written into manifests (default `cn-police`).
        #[arg(long, value_name = "ID")]
        list_id: Option<String>,
    },
    /// Serve the API until SIGINT/SIGTERM, then finish in-flight requests.
    Serve {
        /// Address to listen on (default 127.0.0.1:8080; port 0 picks a free one).
        #[arg(long, value_name = "ADDR")]
        listen: Option<String>,
        /// Also write the bound address (`127.0.0.1:PORT`) to this file once listening.
        #[arg(long, value_name = "FILE")]
        addr_file: Option<PathBuf>,
        /// Let one analyst approve their own proposals (development and demo only; audited).
        #[arg(long)]
        single_reviewer: bool,
    },
    /// Manage API tokens.
    #[command(subcommand)]
    Token(TokenCommand),
    /// Propose the rows of a CSV file of case data as one batch that another analyst approves
    /// or rejects as a unit. Authenticates with the analyst token in the environment variable
    /// FRAUDSHIELD_TOKEN (never on the command line). A file with any bad row proposes nothing
    /// unless --skip-bad-rows; every bad row is reported with its line. Prints a JSON report.
    /// May run while the server serves.
    Import {
        /// Why (recorded on every proposal and in the audit log).
        #[arg(long)]
        reason: String,
        /// The file's text encoding: utf-8 (default; a byte-order mark and UTF-16 with one are
        /// recognised) or gb18030 (also reads GBK, Excel's "CSV" on a Chinese system).
        #[arg(long, value_enum, default_value_t = Encoding::Utf8)]
        encoding: Encoding,
        /// Propose the good rows even if some rows are bad (they are still reported).
        #[arg(long)]
        skip_bad_rows: bool,
        /// The CSV file: kind,value,category,risk[,reports] (see the README).
        file: PathBuf,
    },
    /// Cut the next release from every approved change (the server must not be running on
    /// this directory: with it running, use POST /v1/publish).
    Publish {
        /// Why (recorded in the audit log).
        #[arg(long)]
        reason: Option<String>,
        /// The name recorded as the publisher in the audit log.
        #[arg(long, default_value = "cli")]
        name: String,
    },
    /// Signing keys.
    #[command(subcommand)]
    Keys(KeysCommand),
    /// Copy the data directory consistently, even while the server runs.
    Backup {
        /// Destination directory (must not exist or be empty).
        dest: PathBuf,
    },
    /// Print the effective configuration (object store credentials shown as "<redacted>").
    Config,
}

/// The encodings `import --encoding` accepts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum Encoding {
    /// UTF-8 (with or without a byte-order mark), or UTF-16 with a byte-order mark.
    #[value(name = "utf-8", alias = "utf8")]
    Utf8,
    /// GB18030, which contains GBK and GB2312.
    #[value(name = "gb18030", alias = "gbk")]
    Gb18030,
}

#[derive(Debug, Subcommand)]
enum KeysCommand {
    /// Hand trust to a new signing key (server stopped): a rotation statement signed by the
    /// current key, then an empty release signed by the new one. Apps keep their pinned trust
    /// file: the manifest carries the chain.
    Rotate,
}

#[derive(Debug, Subcommand)]
enum TokenCommand {
    /// Create a token; it is printed once and stored only hashed.
    Create {
        /// reporter, analyst, publisher or admin.
        #[arg(long)]
        role: Role,
        /// Who holds it (the four-eyes rule compares names: one name per person).
        #[arg(long)]
        name: String,
        /// Lifetime, e.g. `90d`, `12h`, `3600` (seconds); default: no expiry.
        #[arg(long, value_name = "DURATION")]
        expires: Option<String>,
    },
    /// List tokens (never their secrets).
    List {
        /// One JSON array instead of a table.
        #[arg(long)]
        json: bool,
    },
    /// Revoke a token by id.
    Revoke {
        /// The token id (the 12 hex digits after `fs1.`).
        id: String,
    },
}

fn main() -> ExitCode {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FRAUDSHIELD_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let cli = Cli::parse();
    match run(cli) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

type Result<T> = std::result::Result<T, Box<dyn std::error::Error>>;

fn run(cli: Cli) -> Result<()> {
    let mut flags = Overrides {
        data_dir: cli.data_dir.clone(),
        ..Overrides::default()
    };
    if let Command::Serve {
        listen,
        single_reviewer,
        ..
    } = &cli.command
    {
        flags.listen = listen.clone();
        flags.single_reviewer = single_reviewer.then_some(true);
    }
    let mut config = Config::load(cli.config.as_deref(), &flags)?;
    let clock = Clock::system();
    match cli.command {
        Command::Init { list_id } => {
            if let Some(l) = list_id {
                config.list_id = l;
            }
            let done = fraudshield_server::init(&config, &clock)?;
            println!("initialized {}", config.data_dir.display());
            println!("trust file for apps: {}", done.trust_file.display());
            println!("first release: {}", done.release);
            println!(
                "admin token (shown once, keep it safe): {}",
                done.admin_token
            );
            Ok(())
        }
        Command::Serve { addr_file, .. } => serve(config, clock, addr_file),
        Command::Token(t) => token(&config, &clock, t),
        Command::Import {
            reason,
            encoding,
            skip_bad_rows,
            file,
        } => import(&config, &clock, &reason, encoding, skip_bad_rows, &file),
        Command::Publish { reason, name } => {
            let dir = DataDir::new(&config.data_dir);
            dir.require_initialized()?;
            let _lock = dir.lock()?;
            let app = App::open(config, clock)?;
            let caller = auth::Caller {
                token_id: "cli".into(),
                name,
                role: Role::Publisher,
                request_id: None,
            };
            let r = fraudshield_server::release::publish(
                &app,
                &caller,
                fraudshield_server::release::PublishKind::Publish,
                reason.as_deref(),
            )?;
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        Command::Keys(KeysCommand::Rotate) => {
            let dir = DataDir::new(&config.data_dir);
            dir.require_initialized()?;
            let _lock = dir.lock()?;
            let (old, new) = fraudshield_server::keys::rotate(
                &dir,
                fraudshield_server::app::publish_config(&config),
            )?;
            let app = App::open(config, clock)?;
            let caller = auth::Caller {
                token_id: "cli".into(),
                name: "keys rotate".into(),
                role: Role::Admin,
                request_id: None,
            };
            let reason = format!("signing key rotated from {old} to {new}");
            let r = fraudshield_server::release::publish(
                &app,
                &caller,
                fraudshield_server::release::PublishKind::Refresh,
                Some(&reason),
            )?;
            println!(
                "{}",
                serde_json::json!({"old_key": old, "new_key": new, "release": r.release})
            );
            Ok(())
        }
        Command::Backup { dest } => {
            let r = fraudshield_server::backup::backup(&DataDir::new(&config.data_dir), &dest)?;
            println!("{}", serde_json::to_string(&r)?);
            Ok(())
        }
        Command::Config => {
            println!("{}", serde_json::to_string_pretty(&config)?);
            Ok(())
        }
    }
}

fn open_db(config: &Config) -> Result<Db> {
    let dir = DataDir::new(&config.data_dir);
    dir.require_initialized()?;
    Ok(Db::open(&dir.database())?)
}

/// Bad rows printed on stderr (the JSON report on stdout lists every one).
const SHOWN_BAD_ROWS: usize = 20;

fn import(
    config: &Config,
    clock: &Clock,
    reason: &str,
    encoding: Encoding,
    skip_bad_rows: bool,
    file: &std::path::Path,
) -> Result<()> {
    use fraudshield_server::import::{ImportFile, import_file};
    use std::io::IsTerminal as _;
    let db = open_db(config)?;
    let now = clock.now();
    let token = std::env::var("FRAUDSHIELD_TOKEN").map_err(
        |_| "set FRAUDSHIELD_TOKEN to your analyst token (it is not taken on the command line)",
    )?;
    let caller = db
        .blocking(|c| auth::authenticate(c, token.trim(), now))?
        .ok_or("FRAUDSHIELD_TOKEN is not a valid token (unknown, revoked or expired)")?;
    if caller.role != Role::Analyst {
        return Err("only an analyst token may import case data as proposals".into());
    }
    let protected = fraudshield_server::protected::ProtectedList::from_config(&config.protected)?;
    let request = ImportFile {
        path: file,
        encoding: match encoding {
            Encoding::Utf8 => fraudshield_server::core::import::TextEncoding::Utf8,
            Encoding::Gb18030 => fraudshield_server::core::import::TextEncoding::Gb18030,
        },
        reason,
        skip_bad_rows,
        progress: std::io::stderr().is_terminal(),
    };
    let report = import_file(&db, &caller, &protected, &request, now)?;
    for b in report.bad_rows.iter().take(SHOWN_BAD_ROWS) {
        eprintln!("line {}: {}", b.line, b.reason);
    }
    if report.bad_rows.len() > SHOWN_BAD_ROWS {
        eprintln!(
            "… and {} more bad rows (all are in the JSON report)",
            report.bad_rows.len() - SHOWN_BAD_ROWS
        );
    }
    eprintln!("{}", report.file.describe());
    println!("{}", serde_json::to_string(&report)?);
    match (&report.batch, &report.refused) {
        (Some(b), _) => {
            eprintln!(
                "batch {} proposed by {}: {} proposals ({} already listed or proposed, {} repeats,                  {} bad rows skipped); another analyst approves it with POST /v1/batches/{}/approve",
                b.batch_id,
                caller.name,
                b.proposed,
                b.skipped_listed,
                b.skipped_repeats,
                b.skipped_bad_rows,
                b.batch_id
            );
            Ok(())
        }
        (None, Some(why)) => Err(why.clone().into()),
        (None, None) => Err("nothing was imported".into()),
    }
}

fn token(config: &Config, clock: &Clock, cmd: TokenCommand) -> Result<()> {
    let db = open_db(config)?;
    let now = clock.now();
    match cmd {
        TokenCommand::Create {
            role,
            name,
            expires,
        } => {
            let expires_at = match expires {
                Some(e) => Some(
                    now + auth::parse_duration(&e)
                        .ok_or("--expires must look like 90d, 12h, 30m or a number of seconds")?,
                ),
                None => None,
            };
            let (id, token) = db.blocking(|c| auth::create(c, role, &name, expires_at, now))?;
            eprintln!("created {role} token {id} for {name} (shown once):");
            println!("{token}");
        }
        TokenCommand::List { json } => {
            let tokens = db.blocking(|c| auth::list(c))?;
            if json {
                println!("{}", serde_json::to_string(&tokens)?);
            } else {
                println!("{:<14} {:<10} {:<20} {:<8}", "ID", "ROLE", "NAME", "STATE");
                for t in tokens {
                    let state = if t.revoked_at.is_some() {
                        "revoked"
                    } else if t.expires_at.is_some_and(|e| e <= now) {
                        "expired"
                    } else {
                        "active"
                    };
                    println!("{:<14} {:<10} {:<20} {:<8}", t.id, t.role, t.name, state);
                }
            }
        }
        TokenCommand::Revoke { id } => {
            if db.blocking(|c| auth::revoke(c, &id, now))? {
                println!("revoked {id}");
            } else {
                return Err("no active token with that id".into());
            }
        }
    }
    Ok(())
}

fn serve(config: Config, clock: Clock, addr_file: Option<PathBuf>) -> Result<()> {
    let listen = config.listen.clone();
    if config.single_reviewer {
        tracing::warn!(
            "--single-reviewer: the four-eyes rule is relaxed (development/demo only); every affected audit row says so"
        );
    }
    let dir = DataDir::new(&config.data_dir);
    dir.require_initialized()?;
    // Held until the process ends: no CLI publish or key rotation on a served directory.
    let _lock = dir.lock()?;
    let app = App::open(config, clock)?;
    let state = AppState(Arc::new(app));
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    rt.block_on(async move {
        let shutdown = shutdown_signal()?;
        let listener = tokio::net::TcpListener::bind(&listen).await?;
        let addr = listener.local_addr()?;
        if let Some(f) = addr_file {
            fraudshield_core::release::publisher::write_atomic(&f, addr.to_string().as_bytes())?;
        }
        println!("listening on http://{addr}/");
        std::io::stdout().flush()?;
        tracing::info!(%addr, "serving");
        fraudshield_server::serve(state, listener, shutdown).await?;
        tracing::info!("stopped");
        Ok(())
    })
}

/// Registers the SIGINT/SIGTERM handlers at once (called before the address is announced, so a
/// signal sent right after start is never the default kill but a graceful shutdown), and
/// resolves at the first of them.
#[cfg(unix)]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut term = signal(SignalKind::terminate())?;
    let mut int = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = term.recv() => {},
            _ = int.recv() => {},
        }
        tracing::info!("shutting down: finishing in-flight requests");
    })
}

/// Resolves at Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> std::io::Result<impl std::future::Future<Output = ()> + Send + 'static> {
    Ok(async {
        let _ = tokio::signal::ctrl_c().await;
        tracing::info!("shutting down: finishing in-flight requests");
    })
}
