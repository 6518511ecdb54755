//! `fraudshield`: the client-side command line.
//!
//! Every command prints human-readable text by default and JSON with `--json`. Bad input exits
//! with status 1 and a one-line reason on stderr; usage errors (an unknown flag, a missing
//! argument) exit with status 2 and one line too ([`usage_error`]). No message, ours or the
//! argument parser's, ever repeats a value the user typed: it may be a phone number.

mod cmd;
mod output;

use clap::error::{ContextKind, ContextValue, ErrorKind};
use clap::{CommandFactory, Parser, Subcommand};
use std::ffi::OsString;
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
    /// The whole system in one command: a real server, a signed list, a phone, a citizen's
    /// tip under four eyes, and a tampered update refused.
    Demo(cmd::demo::Args),
    /// Fetch, verify and apply the newest signed blocklist release.
    Sync(cmd::sync::Args),
    /// Check every byte and entry of the store; exits non-zero when it is damaged.
    Verify(cmd::verify::Args),
}

/// The one line printed for an argument the parser refused, built from the kind of error and
/// the names of flags, never from the value typed (clap's own message quotes it, and it may be
/// a phone number, an account or a message).
fn usage_error(e: &clap::Error) -> String {
    let arg = match e.get(ContextKind::InvalidArg) {
        Some(ContextValue::String(name)) => Some(name.as_str()),
        _ => None,
    };
    let valid = match e.get(ContextKind::ValidValue) {
        Some(ContextValue::Strings(values)) if !values.is_empty() => {
            format!(" (one of: {})", values.join(", "))
        }
        _ => String::new(),
    };
    let no_value =
        matches!(e.get(ContextKind::InvalidValue), Some(ContextValue::String(v)) if v.is_empty());
    let what = match e.kind() {
        ErrorKind::UnknownArgument => match arg.filter(|a| is_flag_name(a)) {
            Some(flag) => format!("unknown option {flag}"),
            None => "unexpected argument".to_string(),
        },
        ErrorKind::InvalidValue | ErrorKind::ValueValidation => match arg {
            Some(name) if no_value => format!("{name} needs a value{valid}"),
            Some(name) => format!("invalid value for {name}{valid}"),
            None => format!("invalid value{valid}"),
        },
        ErrorKind::NoEquals => "an option needs `=` before its value".to_string(),
        ErrorKind::InvalidSubcommand => {
            "unknown command (normalize, scan, check, status, import, sync, demo)".to_string()
        }
        ErrorKind::MissingRequiredArgument => match e.get(ContextKind::InvalidArg) {
            Some(ContextValue::Strings(names)) => format!("missing {}", names.join(", ")),
            _ => "a required argument is missing".to_string(),
        },
        ErrorKind::MissingSubcommand => "a command is missing".to_string(),
        ErrorKind::ArgumentConflict => match arg {
            Some(name) => format!("{name} cannot be used with an option given before it"),
            None => "two options that cannot be used together".to_string(),
        },
        ErrorKind::TooManyValues | ErrorKind::WrongNumberOfValues => match arg {
            Some(name) => format!("wrong number of values for {name}"),
            None => "wrong number of values".to_string(),
        },
        ErrorKind::TooFewValues => "too few values".to_string(),
        ErrorKind::InvalidUtf8 => "an argument is not valid UTF-8".to_string(),
        _ => "invalid arguments".to_string(),
    };
    format!("{what}; see `fraudshield --help` (or `fraudshield COMMAND --help`)")
}

/// `--` followed by a letter, then letters, digits, dashes and an optional `=value`.
fn looks_like_option(arg: &str) -> bool {
    let Some(name) = arg.strip_prefix("--") else {
        return false;
    };
    let name = name.split_once('=').map_or(name, |(n, _)| n);
    name.starts_with(|c: char| c.is_ascii_alphabetic())
        && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'-')
}

/// Whether an argument the parser did not know is safe to name: a long option made of letters
/// and dashes (`--verbose`), which no identifier is.
fn is_flag_name(arg: &str) -> bool {
    arg.strip_prefix("--").is_some_and(|name| {
        !name.is_empty()
            && name.len() <= 32
            && name.bytes().all(|b| b.is_ascii_lowercase() || b == b'-')
    })
}

/// The commands whose free-text argument (an identifier, a message) is taken as words.
const WORD_COMMANDS: [&str; 3] = ["normalize", "check", "scan"];

/// Moves the words of a [`WORD_COMMANDS`] command behind a `--`, after its options, so that
/// a word may start with `-` (`-138…`, `--紧急通知--`) and an option may come after the words
/// (`check 138 0013 8000 --outgoing`). Options are recognised by clap's own definition of the
/// command (long and short names, whether they take a value); everything else is a word.
/// Without this, clap either reads `-138` as an unknown flag or, told to accept hyphen values,
/// swallows the options after the first word.
fn words_after_options(mut root: clap::Command, args: Vec<OsString>) -> Vec<OsString> {
    root.build();
    let mut out = Vec::with_capacity(args.len() + 1);
    let mut rest = args.into_iter();
    out.extend(rest.next()); // the program name
    // Up to the command name: global options, as they are.
    let mut command = None;
    while let Some(arg) = rest.next() {
        let takes_value = option_taking(&root, &arg);
        out.push(arg.clone());
        match takes_value {
            Some(true) => out.extend(rest.next()),
            Some(false) => {}
            None => {
                command = arg
                    .to_str()
                    .filter(|a| WORD_COMMANDS.contains(a))
                    .and_then(|a| root.find_subcommand(a));
                break;
            }
        }
    }
    let Some(command) = command else {
        out.extend(rest);
        return out;
    };
    let mut words = Vec::new();
    while let Some(arg) = rest.next() {
        if arg == "--" {
            words.extend(rest.by_ref());
            break;
        }
        match option_taking(command, &arg) {
            Some(takes_value) => {
                out.push(arg);
                if takes_value {
                    out.extend(rest.next());
                }
            }
            // `--something` that is not an option of the command: a mistyped or misplaced
            // option (`check --list-version 5 …`), left for clap to refuse by its name.
            None if arg.to_str().is_some_and(looks_like_option) => out.push(arg),
            None => words.push(arg),
        }
    }
    if !words.is_empty() {
        out.push("--".into());
        out.extend(words);
    }
    out
}

/// If `arg` is one of `cmd`'s options: whether the next argument is its value (`--kind qq`,
/// `-k qq`; not `--kind=qq`, `-kqq` or a flag). `None` for anything else.
fn option_taking(cmd: &clap::Command, arg: &OsString) -> Option<bool> {
    let arg = arg.to_str()?;
    if let Some(long) = arg.strip_prefix("--") {
        let (name, attached) = match long.split_once('=') {
            Some((name, _)) => (name, true),
            None => (long, false),
        };
        let opt = cmd.get_arguments().find(|a| a.get_long() == Some(name))?;
        return Some(opt.get_action().takes_values() && !attached);
    }
    let mut chars = arg.strip_prefix('-')?.chars();
    let short = chars.next()?;
    let opt = cmd.get_arguments().find(|a| a.get_short() == Some(short))?;
    let attached = chars.next().is_some();
    if attached && !opt.get_action().takes_values() {
        return None;
    }
    Some(opt.get_action().takes_values() && !attached)
}

fn main() -> ExitCode {
    let args = words_after_options(Cli::command(), std::env::args_os().collect());
    let cli = match Cli::try_parse_from(args) {
        Ok(cli) => cli,
        Err(e) => match e.kind() {
            // --help, --version, and help shown for a bare `fraudshield`: clap's own text.
            ErrorKind::DisplayHelp
            | ErrorKind::DisplayVersion
            | ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand => e.exit(),
            _ => {
                eprintln!("fraudshield: {}", usage_error(&e));
                return ExitCode::from(2);
            }
        },
    };
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
