//! How the demo talks to a person: verdicts in plain words, masked identifiers, byte and time
//! figures, and progress bars that only a terminal sees.

use fraudshield_core::entry::Category;
use fraudshield_core::kind::Kind;
use fraudshield_core::verdict::{Action, Direction, Source, Verdict};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::Duration;

/// Where the demo's text goes: to a person (text, progress bars when stdout is a terminal) or
/// nowhere but the final JSON summary.
#[derive(Debug, Clone, Copy)]
pub struct Screen {
    /// Print the running text.
    pub text: bool,
    /// Draw progress bars (text mode on a terminal).
    pub bars: bool,
}

impl Screen {
    /// Text unless `json`; progress bars only on a terminal.
    pub fn new(json: bool) -> Screen {
        Screen {
            text: !json,
            bars: !json && std::io::stdout().is_terminal(),
        }
    }

    /// A progress bar over `len` steps (hidden when bars are off).
    pub fn bar(&self, len: u64, what: &str) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(Some(len), self.target());
        bar.set_style(
            ProgressStyle::with_template("  {msg:<34} [{bar:30}] {pos}/{len} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_bar())
                .progress_chars("=> "),
        );
        bar.set_message(what.to_owned());
        bar
    }

    /// A spinner for a step whose length is unknown (hidden when bars are off).
    pub fn spinner(&self, what: &str) -> ProgressBar {
        let bar = ProgressBar::with_draw_target(None, self.target());
        bar.set_style(
            ProgressStyle::with_template("  {spinner} {msg} ({elapsed})")
                .unwrap_or_else(|_| ProgressStyle::default_spinner()),
        );
        bar.set_message(what.to_owned());
        bar.enable_steady_tick(Duration::from_millis(100));
        bar
    }

    fn target(&self) -> ProgressDrawTarget {
        if self.bars {
            ProgressDrawTarget::stdout()
        } else {
            ProgressDrawTarget::hidden()
        }
    }
}

/// A canonical identifier with its middle hidden, as a screen shows it: `+86 138 **** 8000`,
/// `6222 **** **** 0123`, `87****21`, `a***@qq.com`. The demo's lists are synthetic, but the
/// demo shows them the way an app must show real ones.
pub fn mask(kind: Kind, canonical: &str) -> String {
    let chars: Vec<char> = canonical.chars().collect();
    let n = chars.len();
    let text = |r: std::ops::Range<usize>| chars[r].iter().collect::<String>();
    match kind {
        Kind::Alipay if canonical.contains('@') => {
            let at = chars.iter().position(|c| *c == '@').unwrap_or(0);
            let first = text(0..at.min(1));
            format!("{first}***{}", text(at..n))
        }
        // A Chinese mobile number, also as an Alipay login.
        Kind::Phone | Kind::Alipay if canonical.starts_with("+86") && n == 14 => {
            format!("+86 {} **** {}", text(3..6), text(10..14))
        }
        Kind::Phone if canonical.starts_with('+') && n > 8 => {
            format!("{} **** {}", text(0..4), text(n - 4..n))
        }
        Kind::Bank if n >= 12 => format!("{} **** **** {}", text(0..4), text(n - 4..n)),
        _ if n > 6 => format!("{}****{}", text(0..2), text(n - 2..n)),
        _ => canonical.to_owned(),
    }
}

/// The start of a message for a one-line preview, every digit hidden (the identifiers in it
/// are shown masked on their own lines).
pub fn preview(text: &str, chars: usize) -> String {
    let mut out: String = text
        .chars()
        .take(chars)
        .map(|c| if c.is_numeric() { '*' } else { c })
        .collect();
    if text.chars().count() > chars {
        out.push('…');
    }
    out
}

/// The kind of fraud, as a person says it.
pub fn category(c: Category) -> &'static str {
    match c {
        Category::Other => "fraud",
        Category::PoliceImpersonation => "impersonating the police",
        Category::CustomerService => "fake customer service",
        Category::Refund => "fake refund",
        Category::Investment => "investment scam",
        Category::Loan => "loan scam",
        Category::Romance => "romance scam",
        Category::Job => "fake job / click farming",
    }
}

/// What the phone does, in capitals when it interrupts the user.
pub fn action(v: &Verdict, direction: Direction) -> &'static str {
    match (v.action, direction) {
        (Action::Block, _) => "BLOCKED",
        (Action::Warn, Direction::Outgoing) => "ASKS FIRST",
        (Action::Warn, Direction::Incoming) => "WARNING",
        (Action::Allow, _) => "allowed",
    }
}

/// Why, in one clause: where the answer came from and what the list says.
pub fn why(v: &Verdict) -> String {
    let listed = |what: &str| {
        let mut s = what.to_owned();
        if let Some(c) = v.category {
            s.push_str(": ");
            s.push_str(category(c));
        }
        if let Some(r) = v.risk {
            s.push_str(&format!(", {r} risk"));
        }
        match v.reports {
            Some(b) if b.get() == 0 => s.push_str(", from police case data"),
            Some(b) if b.min_reports() == 1 => s.push_str(", reported by a citizen"),
            Some(b) => s.push_str(&format!(", reported {}+ times", b.min_reports())),
            None => {}
        }
        s
    };
    match v.source {
        Source::Protected => {
            "protected line (emergency, police or government): never blocked".into()
        }
        Source::UserAllow => "on your own allow list".into(),
        Source::UserBlock => "on your own block list".into(),
        Source::Exact => listed("on the police list"),
        Source::Prefix => listed("in a flagged number range"),
        Source::UnallocatedRange => {
            "from a mobile range that does not exist: a spoofed caller id".into()
        }
        Source::None => "on no list".into(),
        Source::ListUnavailable => {
            "the list is damaged or missing: NOT checked (protection off until a sync repairs it)"
                .into()
        }
    }
}

/// `1.2 MB`, `81.0 KB`, `512 B`.
pub fn bytes(n: u64) -> String {
    if n >= 1_000_000 {
        format!("{:.2} MB", n as f64 / 1e6)
    } else if n >= 1_000 {
        format!("{:.1} KB", n as f64 / 1e3)
    } else {
        format!("{n} B")
    }
}

/// `2.31 s`, `84 ms`.
pub fn duration(d: Duration) -> String {
    if d >= Duration::from_secs(1) {
        format!("{:.2} s", d.as_secs_f64())
    } else {
        format!("{} ms", d.as_millis())
    }
}

/// `200,000`.
pub fn count(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn masks_hide_the_middle_of_every_kind() {
        assert_eq!(mask(Kind::Phone, "+8613800138000"), "+86 138 **** 8000");
        assert_eq!(mask(Kind::Phone, "+639171234567"), "+639 **** 4567");
        assert_eq!(mask(Kind::Alipay, "+8613800138000"), "+86 138 **** 8000");
        assert_eq!(
            mask(Kind::Bank, "6222021234567890123"),
            "6222 **** **** 0123"
        );
        assert_eq!(mask(Kind::Qq, "87654321"), "87****21");
        assert_eq!(mask(Kind::Alipay, "user@example.com"), "u***@example.com");
        assert_eq!(mask(Kind::Phone, "110"), "110");
        assert_eq!(preview("新号 17951 1９8", 20), "新号 ***** ***");
        assert_eq!(preview("请拨打 110 报警", 5), "请拨打 *…");
    }

    #[test]
    fn counts_and_sizes_read_naturally() {
        assert_eq!(count(200_000), "200,000");
        assert_eq!(count(999), "999");
        assert_eq!(bytes(81_000), "81.0 KB");
        assert_eq!(bytes(6_190_000), "6.19 MB");
        assert_eq!(duration(Duration::from_millis(84)), "84 ms");
    }
}
