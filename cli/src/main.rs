//! `fraudshield`: the client-side command line.
//!
//! Every command prints human-readable text by default and JSON with `--json`. Bad input exits
//! with status 1 and a one-line reason on stderr; usage errors exit with status 2 (clap).

mod cmd;
mod output;

use clap::{Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// fraudshield: anti-fraud lookups, offline.
#[derive(Debug, Parser)]
#[command(name = "fraudshield", version, about)]
struct Cli {
    /// Print machine-readable JSON instead of text.
    #[arg(long, global = true)]
    json: bool,

    /// State directory of the on-device store (blocklist, overlay, user lists).
    #[arg(long, global = true, value_name = "DIR")]
    dir: Option<PathBuf>,

    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Normalize an identifier to its canonical form.
    Normalize(cmd::normalize::Args),
    /// Find phone numbers, bank accounts, QQ and Alipay accounts in a message.
    Scan(cmd::scan::Args),
    /// Check an identifier against the store: allow, warn or block, and why.
    Check(cmd::check::Args),
    /// Show the store's state: entries, list version, digest, sizes.
    Status(cmd::status::Args),
    /// Import blocklist entries from a CSV file (kind,value,category,risk[,reports]).
    Import(cmd::import::Args),
    /// A tour of fraudshield on built-in examples.
    Demo(cmd::demo::Args),
    /// Fetch, verify and apply the newest signed blocklist release.
    Sync(cmd::sync::Args),
    /// Check every byte and entry of the store; exits non-zero when it is damaged.
    Verify(cmd::verify::Args),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let out = output::Output::new(cli.json);
    let result = match cli.command {
        Command::Normalize(args) => cmd::normalize::run(&out, args),
        Command::Scan(args) => cmd::scan::run(&out, args),
        Command::Check(args) => cmd::check::run(&out, cli.dir, args),
        Command::Status(args) => cmd::status::run(&out, cli.dir, args),
        Command::Import(args) => cmd::import::run(&out, cli.json, cli.dir, args),
        Command::Demo(args) => cmd::demo::run(&out, cli.json, cli.dir, args),
        Command::Sync(args) => cmd::sync::run(&out, cli.dir, args),
        Command::Verify(args) => cmd::verify::run(&out, cli.dir, args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        // The reader of our output went away (`| head`): nothing left to say.
        Err(failure) if failure.is_closed_pipe() => ExitCode::SUCCESS,
        Err(failure) => {
            eprintln!("fraudshield: {failure}");
            ExitCode::FAILURE
        }
    }
}
