//! Finding identifiers inside an SMS or chat message.
//!
//! [`scan_text`] returns every phone number, bank card or account, QQ number and Alipay account
//! in a message, each with its canonical form (from [`identifier::normalize`]), the byte span of
//! the raw text it came from, and the [`Reason`] it was recognised.
//!
//! ```
//! use fraudshield_core::{kind::Kind, scan::scan_text};
//!
//! let text = "【客服】退款请加QQ 87654321，或将保证金转账至卡号 6222 0212 3456 7890 123";
//! let found = scan_text(text);
//! assert_eq!(found.len(), 2);
//! assert_eq!(found[0].identifier.kind(), Kind::Qq);
//! assert_eq!(found[0].identifier.canonical(), "87654321");
//! assert_eq!(&text[found[1].span.clone()], "6222 0212 3456 7890 123");
//! assert_eq!(found[1].identifier.canonical(), "6222021234567890123");
//! ```
//!
//! # How it works
//! One pass over the text, left to right, without regular expressions:
//!
//! 1. **Lexing.** Full-width forms are folded (`１３８` reads as `138`, `ＱＱ` as `QQ`).
//!    Links (`http://…`, `www.…`, `t.cn/…`) are skipped whole: digits in a URL are never
//!    identifiers. E-mail addresses are picked out. Letters glued to digits (`SF1234567890`,
//!    `5G`) make a code, not a number — except a label such as `QQ12345678`. Everything else
//!    that is digits becomes a *chunk*: digits with inner `-`, `.` or brackets
//!    (`138-0013-8000`, `(0755)12345678`), single digits spaced one by one
//!    (`1 3 8 0 0 1 3 8 0 0 0`, a filter evasion), and an optional leading `+`.
//! 2. **Runs.** Chunks separated by exactly one space (`6222 0212 3456 7890 123`) form a run.
//!    The scanner tries the longest stretch of chunks first and shrinks it until one is
//!    recognised, then continues after it, so `QQ 12345678 13800138000` gives two findings.
//! 3. **Context.** The context word nearest before a stretch — within 10 characters (counted
//!    in characters, not bytes), never reaching back past another number, link, e-mail or
//!    the closing `】` of a sender tag (`【QQ】123456是你的验证码` is no QQ number);
//!    among words ending at the same place the longest (`支付宝账号` beats `账号`) — decides
//!    ambiguous digits. Each word gives a *cue*: QQ (`QQ`, `扣扣`, `企鹅`, `Q号`), bank (`卡号`,
//!    `账号`, `户名`, `开户行`, `转账`, `汇款`, `打款`…), Alipay (`支付宝`), phone (`电话`,
//!    `客服`, `回电`, `致电`, `热线`, `联系`, `拨打`, `微信`…), code (`验证码`, `取件码`,
//!    `尾号`, `快递`…) or reference (`订单号`, `单号`, `身份证`, `编号`, `余额`, `金额`…).
//!    Several words may precede a number (`QQ/微信：12345678`): the nearest that fits the
//!    digits decides; a code or reference word ends the search. A number listed right after a
//!    number that a word decided (`QQ：12345678、87654321`, `卡号：…/…`) shares that word,
//!    except that a listed mobile stays a phone after a QQ word.
//! 4. **Decision**, first rule that applies:
//!
//!    | rule | gives |
//!    |---|---|
//!    | reference cue | nothing |
//!    | QQ cue, 5–12 digits, no leading 0 | QQ (even 11 digits that look like a mobile) |
//!    | Alipay cue, `2088` + 12 digits, or a mobile/international number | Alipay (a phone login keeps the phone canonical form) |
//!    | phone cue, a short or service number (`110`, `95588`, `96110`, `12315`, `10086`, `1069…`) | phone |
//!    | shape: `+…`/`00…`, an 11-digit mobile from an allocated range (also after `86` or an IP-dial prefix; `160…` is an order number here, though `check` takes it as a spoofed caller id), `400`/`800` + 7 digits, trunk-`0` landline | phone |
//!    | shape: `2088` + 12 digits, unless a code word is nearest | Alipay user id (no card starts with `2088`) |
//!    | bank cue, 12–30 digits (at most 19 when written in spaced groups) | bank (a phone shape above wins: no card starts with `0` or `+`) |
//!    | code cue | nothing more |
//!    | shape: Luhn-valid 16–19 digits starting `62`, `4` or `5`, not a resident ID number | bank |
//!
//! 5. **Guards.** A stretch right after a currency sign (`¥5000`) or `第`, or right before a
//!    unit (`5000元`, `3 天`, `20%`), next to `:` between digits (times), inside a
//!    thousands-separated amount (`23,560.41`), or next to `/` when it is short (dates,
//!    fractions) or the `/` belongs to a path is not an identifier.
//!
//! Every candidate is finally passed through [`identifier::normalize`]; only what normalizes is
//! reported, and the canonical form is always that of the span's own text. Each finding's
//! [`Reason`] names the word or the shape rule that decided.
//!
//! # Speed
//! The scan is one left-to-right pass with bounded look-back (the context window) and
//! look-ahead (one character for the guards); the only allocations are the result vector and
//! the canonical strings. No regular-expression engine: the rules above are not a regular
//! language match anyway (nearest word, longest-first shrinking), and the `regex` crate would
//! add about 0.4 MiB to the mobile library (measured: 435 KiB on a stripped x86_64 binary built
//! with `opt-level = "z"` and LTO, `regex` without default features).
//!
//! # Guarantees
//! No input panics. Spans are on character boundaries, within the text, in text order and
//! non-overlapping. Time is linear in the text length, adversarial input included. Nothing is
//! logged.

mod cues;
mod rules;

use crate::identifier::{self, Identifier};
use crate::kind::Kind;
use cues::{Cue, Cues};
use std::fmt;
use std::ops::Range;

/// One identifier found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Finding {
    /// The normalized identifier.
    pub identifier: Identifier,
    /// Byte span of the raw match in the scanned text (digits and the separators between them,
    /// and a leading `+` or an area-code bracket).
    pub span: Range<usize>,
    /// Why the scanner decided this is an identifier of this kind.
    pub reason: Reason,
}

/// Why a stretch of text was recognised as an identifier of a given kind. A plain owned value
/// (it crosses the FFI unchanged).
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Reason {
    /// A context word shortly before it decided.
    Context {
        /// The word, e.g. `卡号` or `qq` (words are stored folded: ASCII lower-case, full-width
        /// forms as ASCII).
        word: String,
    },
    /// Its own shape decided, without needing a context word.
    Shape {
        /// The shape rule.
        shape: Shape,
    },
}

/// The shape rules that recognise an identifier without a context word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Shape {
    /// An 11-digit Chinese mobile number from an allocated range, possibly after `86` or an
    /// IP-dial prefix.
    Mobile,
    /// A number after `+` or the `00` international prefix.
    International,
    /// A national `400`/`800` service line.
    ServiceLine,
    /// A landline with its trunk `0` and area code.
    Landline,
    /// 16–19 digits with a card issuer prefix (`62`, `4`, `5`) and a valid Luhn checksum.
    LuhnCard,
    /// An Alipay user id: `2088` and 12 digits.
    AlipayUserId,
    /// The numeric name of a `@qq.com` mail address is a QQ number.
    QqMail,
}

impl Shape {
    /// A short English name of the rule: `mobile`, `international`, `service-line`,
    /// `landline`, `luhn-card`, `alipay-user-id`, `qq-mail`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Shape::Mobile => "mobile",
            Shape::International => "international",
            Shape::ServiceLine => "service-line",
            Shape::Landline => "landline",
            Shape::LuhnCard => "luhn-card",
            Shape::AlipayUserId => "alipay-user-id",
            Shape::QqMail => "qq-mail",
        }
    }
}

impl fmt::Display for Reason {
    /// `context 卡号` or `shape mobile`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reason::Context { word } => write!(f, "context {word}"),
            Reason::Shape { shape } => write!(f, "shape {}", shape.as_str()),
        }
    }
}

/// The scanner's own copy of a [`Reason`]: `Copy`, with the word borrowed from the cue table;
/// turned into the owned [`Reason`] only for what is reported.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Why {
    Context(&'static str),
    Shape(Shape),
}

impl Why {
    fn into_reason(self) -> Reason {
        match self {
            Why::Context(word) => Reason::Context {
                word: word.to_owned(),
            },
            Why::Shape(shape) => Reason::Shape { shape },
        }
    }
}

/// Every phone number, bank account, QQ number and Alipay account in `text`, in text order.
///
/// Never panics; see the [module docs](self) for the rules.
pub fn scan_text(text: &str) -> Vec<Finding> {
    let mut scanner = Scanner {
        text,
        found: Vec::new(),
        floor: 0,
        run: Run::default(),
        list: None,
        token: 0..0,
        token_dot: None,
    };
    scanner.scan();
    scanner.found
}

/// Folds a character as the scanner reads it: [`identifier::fold_char`] (full-width forms to
/// ASCII, the ideographic space to a space), plus the no-break space to a space and Unicode
/// dashes to `-`.
pub(crate) fn fold(c: char) -> char {
    match identifier::fold_char(c) {
        '\u{00A0}' => ' ',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        c => c,
    }
}

/// The most chunks one run holds; a longer run is cut and scanned in pieces.
const MAX_CHUNKS: usize = 8;
/// More digits than any identifier has (bank accounts go up to 30; IP-dial prefix + number 16).
const MAX_DIGITS: usize = 32;

/// Digits with their separators, e.g. `138-0013-8000`, `+86`, `(0755)12345678`.
#[derive(Debug, Clone, Copy, Default)]
struct Chunk {
    /// Where the chunk starts when it opens the match: at its `+`, or at `(` when the bracket
    /// encloses an area code followed by more digits; otherwise at the first digit.
    lead: usize,
    /// Where the chunk's `(` is, when it opens with one.
    paren: Option<usize>,
    /// The chunk's `(` closes after its first group and more digits follow in the chunk.
    paren_inner: bool,
    /// The chunk is `(digits)` and ends at its `)`, which is excluded from `end`.
    paren_whole: bool,
    /// End of the last digit.
    end: usize,
    /// How many digits.
    digits: usize,
    /// Digits of the first and last digit groups (split at inner separators).
    first_group: usize,
    last_group: usize,
    /// Starts with `+`.
    plus: bool,
}

/// Chunks separated by single spaces.
#[derive(Debug, Default)]
struct Run {
    chunks: [Chunk; MAX_CHUNKS],
    len: usize,
    /// The context floor when the run started.
    floor: usize,
}

struct Scanner<'t> {
    text: &'t str,
    found: Vec<Finding>,
    /// Context never reaches back before this byte (end of the last number, link or e-mail).
    floor: usize,
    run: Run,
    /// End of the last finding a context word decided, and those words: a number listed right
    /// after it (`QQ：12345678、87654321`) shares its label.
    list: Option<(usize, Cues)>,
    /// The last ASCII token measured (`start..end` of e-mail/link characters): every later
    /// start inside it has the same end, so measuring it once keeps the scan linear on inputs
    /// such as `a.a.a.a…`.
    token: Range<usize>,
    /// Where the last `.` of that token is, if it has one.
    token_dot: Option<usize>,
}

/// Decodes the character at byte `pos` of `text`, folded, with its byte length.
fn char_at(text: &str, pos: usize) -> Option<(char, usize)> {
    let b = *text.as_bytes().get(pos)?;
    if b.is_ascii() {
        // ASCII folds to itself; this is the hot path inside numbers and words.
        return Some((char::from(b), 1));
    }
    let c = text.get(pos..)?.chars().next()?;
    Some((fold(c), c.len_utf8()))
}

/// Whether exactly one digit starts at `pos` (the character after it is no digit).
fn single_digit_at(text: &str, pos: usize) -> bool {
    match char_at(text, pos) {
        Some((d, len)) if d.is_ascii_digit() => {
            !char_at(text, pos + len).is_some_and(|(n, _)| n.is_ascii_digit())
        }
        _ => false,
    }
}

/// The folded character ending at byte `pos`, with its byte length.
fn char_before(text: &str, pos: usize) -> Option<(char, usize)> {
    let b = *text.as_bytes().get(pos.checked_sub(1)?)?;
    if b.is_ascii() {
        return Some((char::from(b), 1));
    }
    let c = text.get(..pos)?.chars().next_back()?;
    Some((fold(c), c.len_utf8()))
}

fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// Characters of an e-mail local part or domain.
fn is_mail_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '%' | '+' | '-')
}

/// ASCII words that may be glued to the digits they label (`QQ12345678`).
fn is_glued_label(word: &str) -> bool {
    ["qq", "q", "tel", "vx", "wx", "zfb"].iter().any(|l| {
        word.chars().count() == l.len()
            && word
                .chars()
                .zip(l.chars())
                .all(|(c, l)| fold(c).eq_ignore_ascii_case(&l))
    })
}

/// Units and counters: right after a number they make it an amount, a date, a duration or a
/// count (`5000元`, `3天`, `20%`, `2号楼`).
const UNITS: &str =
    "元块角万千百亿%‰年月日号时点分秒天周岁个次倍折期楼层室栋件条笔张份位人斤克米度箱台套股单";

fn is_unit(c: char) -> bool {
    UNITS.contains(c)
}

/// Whether the character on the far side of a `/` next to a number makes it part of a path
/// (`abc/123`, `//123`) rather than a list of numbers (`13800138000/13900139000`).
fn path_like(beyond: Option<(char, usize)>) -> bool {
    beyond.is_some_and(|(c, _)| c.is_ascii_alphabetic() || c == '/')
}

/// Whether `text[end..start]` is only a list separator between two numbers (`、`, `，`, `/`,
/// `或`, `和`, `及`, `;`, with optional spaces): at least one mark, at most 3 characters.
fn listed_after(text: &str, end: usize, start: usize) -> bool {
    let Some(between) = text.get(end..start) else {
        return false;
    };
    let mut marks = 0;
    for (k, c) in between.chars().map(fold).enumerate() {
        match c {
            '、' | ',' | '/' | '或' | '和' | '及' | ';' => marks += 1,
            ' ' => {}
            _ => return false,
        }
        if k >= 3 {
            return false;
        }
    }
    marks > 0
}

/// A currency sign or ordinal right before a number.
fn is_amount_lead(c: char) -> bool {
    matches!(c, '¥' | '￥' | '$' | '€' | '£' | '第' | '#')
}

impl Scanner<'_> {
    fn scan(&mut self) {
        let text = self.text;
        let bytes = text.as_bytes();
        let mut pos = 0;
        while let Some(&b) = bytes.get(pos) {
            // Fast path over Chinese text: a character outside ASCII only matters when it is a
            // full-width form (U+FF01..U+FF5E, UTF-8 lead byte 0xEF).
            if b >= 0xC0 && b != 0xEF {
                pos += match b {
                    0xC0..=0xDF => 2,
                    0xE0..=0xEF => 3,
                    _ => 4,
                };
                continue;
            }
            let Some((c, len)) = char_at(text, pos) else {
                break;
            };
            if c.is_ascii_alphabetic() {
                pos = self.letters(pos);
            } else if c.is_ascii_digit() || self.opens_number(pos, c, len) {
                pos = self.number(pos);
            } else {
                pos += len;
            }
        }
        self.flush_run();
    }

    /// `+` or `(` directly followed by a digit.
    fn opens_number(&self, pos: usize, c: char, len: usize) -> bool {
        matches!(c, '+' | '(')
            && char_at(self.text, pos + len).is_some_and(|(d, _)| d.is_ascii_digit())
    }

    /// End of the maximal run starting at `pos` of characters satisfying `f` (folded).
    fn take_while(&self, mut pos: usize, f: impl Fn(char) -> bool) -> usize {
        while let Some((c, len)) = char_at(self.text, pos) {
            if !f(c) {
                break;
            }
            pos += len;
        }
        pos
    }

    /// End of the run of e-mail/link characters (`[A-Za-z0-9._%+-]`) starting at `start`.
    fn token_end(&mut self, start: usize) -> usize {
        if !self.token.contains(&start) {
            let end = self.take_while(start, is_mail_char);
            self.token = start..end;
            self.token_dot = self
                .text
                .get(start..end)
                .and_then(|t| t.rfind('.'))
                .map(|i| start + i);
        }
        self.token.end
    }

    /// Handles text starting with an ASCII letter: a word, a link, an e-mail, a code.
    /// Returns where scanning continues.
    fn letters(&mut self, start: usize) -> usize {
        let text = self.text;
        let word_end = self.take_while(start, |c| c.is_ascii_alphabetic());
        let word = text.get(start..word_end).unwrap_or("");
        let next = char_at(text, word_end).map(|(c, _)| c);
        // Links: skip to the first space or non-ASCII character.
        let scheme = (word.eq_ignore_ascii_case("http") || word.eq_ignore_ascii_case("https"))
            && text.get(word_end..).is_some_and(|t| t.starts_with("://"));
        let www = word.eq_ignore_ascii_case("www") && next == Some('.');
        let token_end = self.token_end(start);
        let bare_link = self.token_dot.is_some_and(|dot| dot >= start)
            && char_at(text, token_end).is_some_and(|(c, _)| c == '/');
        if scheme || www || bare_link {
            return self.skip_link(start);
        }
        if char_at(text, token_end).is_some_and(|(c, _)| c == '@') {
            return self.mail(start, token_end);
        }
        if next.is_some_and(|c| c.is_ascii_digit()) && is_glued_label(word) {
            // `QQ12345678`: the label stays visible to the context lookup of the digits.
            return word_end;
        }
        let mut code_end = self.take_while(start, is_word_char);
        if code_end > word_end {
            // Letters and digits mixed: a tracking number, a product code, a plate, a version
            // (`v2.13.800138000`): skip it whole, dotted and dashed parts included.
            code_end = self.take_while(start, |c| is_word_char(c) || c == '.' || c == '-');
            self.flush_run();
            self.floor = code_end;
        }
        code_end
    }

    /// Skips a link to its end (first space or non-ASCII character).
    fn skip_link(&mut self, start: usize) -> usize {
        let end = self.take_while(start, |c| c.is_ascii_graphic());
        self.flush_run();
        self.floor = end;
        end
    }

    /// An e-mail address whose local part is `text[start..at]` (the `@` at `at`).
    fn mail(&mut self, start: usize, at: usize) -> usize {
        let text = self.text;
        let domain_end = self.take_while(at + 1, is_mail_char);
        let mut end = domain_end;
        while end > at + 1
            && text
                .as_bytes()
                .get(end - 1)
                .is_some_and(|&b| b == b'.' || b == b'-')
        {
            end -= 1;
        }
        self.flush_run();
        let floor = self.floor;
        self.floor = domain_end;
        let (Some(local), Some(domain)) = (text.get(start..at), text.get(at + 1..end)) else {
            return domain_end;
        };
        let valid = !local.is_empty()
            && domain.contains('.')
            && domain
                .rsplit('.')
                .next()
                .is_some_and(|tld| tld.len() >= 2 && tld.bytes().all(|b| b.is_ascii_alphabetic()));
        if !valid {
            return domain_end;
        }
        let cue = cues::cues_before(text, floor, start).nearest();
        let qq_mail = domain.eq_ignore_ascii_case("qq.com")
            && local.bytes().all(|b| b.is_ascii_digit())
            && rules::is_qq(local.as_bytes());
        match cue {
            Some((Cue::Alipay, word)) => {
                self.push(Kind::Alipay, start..end, Why::Context(word));
            }
            Some((Cue::Code | Cue::Reference, _)) => {}
            _ if qq_mail => self.push(Kind::Qq, start..at, Why::Shape(Shape::QqMail)),
            _ => {}
        }
        domain_end
    }

    /// Handles text starting with a digit, or `+`/`(` before a digit.
    fn number(&mut self, start: usize) -> usize {
        let text = self.text;
        // A numeric e-mail name (`12345678@qq.com`)?
        let token_end = self.token_end(start);
        if char_at(text, token_end).is_some_and(|(c, _)| c == '@') {
            return self.mail(start, token_end);
        }
        let Some((chunk, scanned_to)) = self.chunk(start) else {
            // Letters glued after the digits: a code, not a number.
            let mut end = self.take_while(start, |c| {
                is_word_char(c) || matches!(c, '+' | '(' | ')' | '-' | '.')
            });
            if end == start {
                end += char_at(text, start).map_or(1, |(_, len)| len);
            }
            self.flush_run();
            self.floor = end;
            return end;
        };
        // Joined to the current run when exactly one space separates them.
        let joins = self.run.len > 0
            && self.run.len < MAX_CHUNKS
            && !chunk.plus
            && char_before(text, start).is_some_and(|(c, len)| {
                c == ' ' && start - len == self.run.chunks[self.run.len - 1].end_raw(text)
            });
        if !joins {
            self.flush_run();
            self.run.floor = self.floor;
        }
        self.run.chunks[self.run.len] = chunk;
        self.run.len += 1;
        self.floor = chunk.end;
        scanned_to
    }

    /// Reads one chunk at `start`. Returns `None` when letters are glued after the digits.
    /// The second value is where scanning continues (after any stripped trailing separators).
    fn chunk(&self, start: usize) -> Option<(Chunk, usize)> {
        let text = self.text;
        let mut chunk = Chunk {
            lead: start,
            ..Chunk::default()
        };
        let mut pos = start;
        let mut group = 0usize;
        let mut groups = 0usize;
        let mut open = false;
        let mut prev_sep = true;
        let mut first_digit = None;
        while let Some((c, len)) = char_at(text, pos) {
            match c {
                '0'..='9' => {
                    first_digit.get_or_insert(pos);
                    group += 1;
                    chunk.digits += 1;
                    chunk.end = pos + len;
                    prev_sep = false;
                }
                '+' if pos == start => chunk.plus = true,
                '(' if prev_sep && !open && groups == 0 && group == 0 => {
                    open = true;
                    chunk.paren = Some(pos);
                    prev_sep = true;
                }
                ')' if open && group > 0 => {
                    open = false;
                    groups += 1;
                    if groups == 1 {
                        chunk.first_group = group;
                    }
                    chunk.last_group = group;
                    group = 0;
                    prev_sep = true;
                    if char_at(text, pos + len)
                        .is_some_and(|(d, _)| d.is_ascii_digit() || d == '-' || d == '.')
                    {
                        chunk.paren_inner = true;
                    } else {
                        chunk.paren_whole = true;
                    }
                }
                // `1 3 8 0 0 1 3 8 0 0 0`: digits spaced one by one (a filter evasion) are one
                // chunk; a space only joins two single digits.
                '-' | '.' | ' '
                    if !prev_sep
                        && (c != ' ' || (group == 1 && single_digit_at(text, pos + len)))
                        && char_at(text, pos + len).is_some_and(|(d, _)| d.is_ascii_digit()) =>
                {
                    groups += 1;
                    if groups == 1 {
                        chunk.first_group = group;
                    }
                    chunk.last_group = group;
                    group = 0;
                    prev_sep = true;
                }
                _ => break,
            }
            pos += len;
        }
        if group > 0 {
            groups += 1;
            if groups == 1 {
                chunk.first_group = group;
            }
            chunk.last_group = group;
        }
        let first_digit = first_digit?;
        if char_at(text, pos).is_some_and(|(c, _)| is_word_char(c)) {
            return None;
        }
        chunk.lead = match (chunk.plus, chunk.paren) {
            (true, _) => start,
            (false, Some(p)) if chunk.paren_inner => p,
            _ => first_digit,
        };
        Some((chunk, pos.max(chunk.end)))
    }

    /// Tries every stretch of the current run, longest first, and records what it finds.
    fn flush_run(&mut self) {
        let n = self.run.len;
        self.run.len = 0;
        let mut i = 0;
        while i < n {
            let floor = if i == 0 {
                self.run.floor
            } else {
                self.run.chunks[i - 1].end
            };
            let first = self.run.chunks[i];
            // The shortest identifier (an emergency line) has 3 digits: skip the context lookup
            // for the dates, times and counts that make up most digit runs in a message.
            let digits: usize = self.run.chunks[i..n].iter().map(|c| c.digits).sum();
            if digits < 3 {
                i += 1;
                continue;
            }
            // Looked up once per start, and only when a stretch passes the guards.
            let mut cue = None;
            let mut matched = None;
            for j in (i..n).rev() {
                let lookup = || {
                    let own = cues::cues_before(self.text, floor, first.lead);
                    match self.list {
                        Some((end, label))
                            if own.nearest().is_none()
                                && listed_after(self.text, end, first.lead) =>
                        {
                            label.inherited()
                        }
                        _ => own,
                    }
                };
                if let Some(found) = self.stretch(i, j, &mut cue, lookup) {
                    matched = Some((j, found));
                    break;
                }
            }
            match matched {
                Some((j, (kind, span, reason))) => {
                    if let (Why::Context(_), Some(label)) = (reason, cue) {
                        self.list = Some((span.end, label));
                    }
                    self.push(kind, span, reason);
                    i = j + 1;
                }
                None => i += 1,
            }
        }
    }

    /// Whether chunks `i..=j` of the run form an identifier: its kind, span and reason.
    /// `cue` caches the context words before chunk `i` (looked up with `lookup` on first need).
    fn stretch(
        &self,
        i: usize,
        j: usize,
        cue: &mut Option<Cues>,
        lookup: impl FnOnce() -> Cues,
    ) -> Option<(Kind, Range<usize>, Why)> {
        let text = self.text;
        let chunks = &self.run.chunks[i..=j];
        let first = chunks.first()?;
        let last = chunks.last()?;
        let total: usize = chunks.iter().map(|c| c.digits).sum();
        if total > MAX_DIGITS {
            return None;
        }
        let start = match first.paren {
            Some(p) if first.paren_whole && chunks.len() > 1 => p,
            _ => first.lead,
        };
        let span = start..last.end;
        let raw = text.get(span.clone())?;
        if self.guarded(&span, first, last, total) {
            return None;
        }
        let mut buf = [0u8; MAX_DIGITS];
        let mut len = 0;
        for c in raw.chars().map(fold).filter(char::is_ascii_digit) {
            *buf.get_mut(len)? = c as u8;
            len += 1;
        }
        let d = &buf[..len];
        let plus = first.plus;
        let (kind, reason) = decide(d, plus, *cue.get_or_insert_with(lookup))?;
        // Spaced groups must look like one number written in groups, not two numbers side by
        // side: groups next to a space are short (at most 6 digits, or the 11 digits of a
        // mobile after a prefix such as `+86` or `17951`).
        if chunks.len() > 1 {
            let last_max = if kind == Kind::Phone || (kind == Kind::Alipay && d.len() < 16) {
                11
            } else {
                6
            };
            let inner_ok = chunks[..chunks.len() - 1].iter().all(|c| c.last_group <= 6);
            // `+86 10 8888 9999`: a short area code may follow a `+` country code.
            let later_ok = chunks
                .iter()
                .enumerate()
                .skip(1)
                .all(|(k, c)| c.first_group >= 3 || (k == 1 && first.plus));
            // Spaced card numbers have at most 19 digits; more is two numbers side by side.
            let bank_ok = kind != Kind::Bank || d.len() <= 19;
            if !inner_ok || !later_ok || !bank_ok || last.first_group > last_max {
                return None;
            }
        }
        Some((kind, span, reason))
    }

    /// The amount, date and time guards around a stretch (see the module docs).
    /// `digits`: how many digits the stretch has; short ones next to `/` are dates or
    /// fractions (`2024/05/01`, `1/2`).
    fn guarded(&self, span: &Range<usize>, first: &Chunk, last: &Chunk, digits: usize) -> bool {
        let short = digits < 7;
        let text = self.text;
        let digit_at = |pos: usize| char_at(text, pos).is_some_and(|(c, _)| c.is_ascii_digit());
        let digit_before =
            |pos: usize| char_before(text, pos).is_some_and(|(c, _)| c.is_ascii_digit());
        if let Some((c, len)) = char_before(text, span.start) {
            let p = span.start - len;
            if is_amount_lead(c)
                || (c == '/' && (short || path_like(char_before(text, p))))
                || (c == ':' && digit_before(p))
                || (c == ',' && digit_before(p) && first.first_group == 3)
            {
                return true;
            }
        }
        let after = last.end_raw(text);
        if let Some((c, len)) = char_at(text, after) {
            let next = after + len;
            let three_digits = {
                let t = text.get(next..).unwrap_or("");
                let b = t.as_bytes();
                b.len() >= 3
                    && b[..3].iter().all(u8::is_ascii_digit)
                    && !b.get(3).is_some_and(u8::is_ascii_digit)
            };
            let unit =
                is_unit(c) || (c == ' ' && char_at(text, next).is_some_and(|(u, _)| is_unit(u)));
            if unit
                || (c == '/' && (short || path_like(char_at(text, next))))
                || c == '%'
                || (c == ':' && digit_at(next))
                || (c == ',' && three_digits)
                || (c == '.' && digit_at(next))
            {
                return true;
            }
        }
        false
    }

    /// Normalizes `text[span]` as `kind` and records it; a span that does not normalize is
    /// dropped.
    fn push(&mut self, kind: Kind, span: Range<usize>, why: Why) {
        let Some(raw) = self.text.get(span.clone()) else {
            return;
        };
        if let Ok(identifier) = identifier::normalize(kind, raw) {
            self.found.push(Finding {
                identifier,
                span,
                reason: why.into_reason(),
            });
        }
    }
}

impl Chunk {
    /// Where the chunk's raw text ends (after a closing bracket of `(digits)`).
    fn end_raw(&self, text: &str) -> usize {
        match char_at(text, self.end) {
            Some((')', len)) if self.paren_whole => self.end + len,
            _ => self.end,
        }
    }
}

/// The kind of the digits `d` (with a leading `+` when `plus`) given the context words before
/// them (nearest first), and the reason; `None` when they are no identifier. The order of the
/// rules is the table in the module docs.
fn decide(d: &[u8], plus: bool, cues: Cues) -> Option<(Kind, Why)> {
    use rules::*;
    if d.is_empty() {
        return None;
    }
    let nearest = cues.nearest().map(|(c, _)| c);
    if nearest == Some(Cue::Reference) {
        return None;
    }
    // Words that decide before the shape rules. Several words may precede a number
    // (`QQ/微信：12345678`): the nearest one that fits the digits decides.
    for (cue, word) in cues.iter() {
        let fits = match cue {
            // A listed number with a mobile's shape is a phone, even after a QQ label.
            Cue::Qq => !plus && is_qq(d) && !(cues.is_inherited() && is_mobile(d)),
            Cue::Alipay => {
                (!plus && is_alipay_user_id(d))
                    || is_international(d, plus)
                    || (!plus && (is_mobile(d) || is_dressed_mobile(d)))
            }
            Cue::Phone => !plus && is_short_number(d),
            Cue::Bank | Cue::Code | Cue::Reference => false,
        };
        if fits {
            let kind = match cue {
                Cue::Qq => Kind::Qq,
                Cue::Alipay => Kind::Alipay,
                _ => Kind::Phone,
            };
            return Some((kind, Why::Context(word)));
        }
    }
    let national = match d {
        [b'8', b'6', rest @ ..] if plus => Some(rest),
        [b'0', b'0', b'8', b'6', rest @ ..] if !plus => Some(rest),
        _ => None,
    };
    let shape = if national.is_some_and(is_mobile) {
        Some(Shape::Mobile)
    } else if is_international(d, plus) {
        Some(Shape::International)
    } else if plus {
        None
    } else if is_mobile(d) || is_dressed_mobile(d) {
        Some(Shape::Mobile)
    } else if is_service_line(d) {
        Some(Shape::ServiceLine)
    } else if is_landline(d) {
        Some(Shape::Landline)
    } else {
        None
    };
    // A phone shape beats a bank word: `开户行：中国银行，有疑问打 0755 8888 9999` names a
    // landline, and no card starts with a trunk `0` or `+`.
    if let Some(shape) = shape {
        return Some((Kind::Phone, Why::Shape(shape)));
    }
    // `2088` + 12 digits is Alipay's own user-id range; no card number starts that way.
    if nearest != Some(Cue::Code) && !plus && is_alipay_user_id(d) {
        return Some((Kind::Alipay, Why::Shape(Shape::AlipayUserId)));
    }
    if let Some((_, word)) = cues.iter().find(|(c, _)| *c == Cue::Bank)
        && is_bank_length(d)
    {
        return Some((Kind::Bank, Why::Context(word)));
    }
    if nearest == Some(Cue::Code) || plus {
        return None;
    }
    if is_likely_card(d) {
        return Some((Kind::Bank, Why::Shape(Shape::LuhnCard)));
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Kind and raw matched text of each finding.
    fn kinds(text: &str) -> Vec<(Kind, &str)> {
        scan_text(text)
            .into_iter()
            .map(|f| (f.identifier.kind(), &text[f.span]))
            .collect()
    }

    #[test]
    fn an_unallocated_mobile_range_in_a_message_is_no_phone_number() {
        // The normalizer accepts it (a spoofed caller id is checked as one), the scanner does
        // not take an 11-digit run no phone can have for a number.
        assert_eq!(kinds("运单号16012345678已签收"), vec![]);
        assert_eq!(
            kinds("运单号16012345678，客服13800138000"),
            vec![(Kind::Phone, "13800138000")]
        );
    }

    #[test]
    fn spaced_groups_make_one_number() {
        let found = kinds("卡号 6222 0212 3456 7890 123 户名张三");
        assert_eq!(found, vec![(Kind::Bank, "6222 0212 3456 7890 123")]);
    }

    #[test]
    fn two_numbers_side_by_side_stay_two() {
        let found = kinds("QQ 12345678 13800138000");
        assert_eq!(
            found,
            vec![(Kind::Qq, "12345678"), (Kind::Phone, "13800138000")]
        );
    }

    #[test]
    fn reasons_name_the_word_or_the_rule() {
        let found = scan_text("加扣扣 2876543 或拨打 138-0013-8000");
        let reasons: Vec<String> = found.iter().map(|f| f.reason.to_string()).collect();
        assert_eq!(reasons, ["context 扣扣", "shape mobile"]);
    }

    #[test]
    fn guards_reject_amounts_times_and_dates() {
        assert!(scan_text("转账13800138000元").is_empty());
        assert!(scan_text("¥13800138000").is_empty());
        assert!(scan_text("abc/13800138000").is_empty());
        assert!(scan_text("QQ 12345/6").is_empty());
        assert_eq!(scan_text("13800138000/13900139000").len(), 2);
        assert!(scan_text("12:13800138000").is_empty());
        assert!(scan_text("余额 6222021234567890123").is_empty());
    }

    #[test]
    fn the_nearest_word_that_fits_decides() {
        // 微信 is nearer but eight digits are no phone; QQ fits.
        assert_eq!(kinds("加QQ/微信：12345678"), [(Kind::Qq, "12345678")]);
        assert_eq!(kinds("QQ号码：12345678"), [(Kind::Qq, "12345678")]);
        // The longest word at a position: 会员卡号 is a membership number, not 卡号.
        assert_eq!(kinds("会员卡号 12345678901234"), []);
        assert_eq!(
            kinds("转到我的工行卡 123456789012"),
            [(Kind::Bank, "123456789012")]
        );
        // The sender tag names the sender; it does not label the code after it.
        assert_eq!(kinds("【QQ】123456是你的验证码"), []);
    }

    #[test]
    fn listed_numbers_share_their_label() {
        assert_eq!(
            kinds("客服QQ：12345678、87654321"),
            [(Kind::Qq, "12345678"), (Kind::Qq, "87654321")]
        );
        // A listed mobile is a phone even after a QQ label; a space is no list mark.
        assert_eq!(
            kinds("QQ：12345678，13800138000"),
            [(Kind::Qq, "12345678"), (Kind::Phone, "13800138000")]
        );
        assert_eq!(kinds("QQ 12345678 87654321"), [(Kind::Qq, "12345678")]);
        // Nothing is inherited from a label that decided nothing.
        assert_eq!(kinds("验证码 1234、56789"), []);
    }

    #[test]
    fn spaced_bank_groups_stop_at_19_digits() {
        assert_eq!(
            kinds("卡号 6222 0212 3456 7890 123 138 0013 8000"),
            [
                (Kind::Bank, "6222 0212 3456 7890 123"),
                (Kind::Phone, "138 0013 8000")
            ]
        );
    }

    #[test]
    fn digits_spaced_one_by_one_are_one_number() {
        assert_eq!(
            kinds("拨打 1 3 8 0 0 1 3 8 0 0 0 咨询"),
            [(Kind::Phone, "1 3 8 0 0 1 3 8 0 0 0")]
        );
        assert_eq!(
            kinds("加扣扣 1 2 3 4 5 6 7 8"),
            [(Kind::Qq, "1 2 3 4 5 6 7 8")]
        );
        // Only single digits join this way.
        assert_eq!(kinds("第 1 2 名，共 3 10 人"), []);
    }

    #[test]
    fn long_adversarial_input_scans_in_linear_time() {
        // Each of these would rescan the rest of the text at every position if the scanner
        // were quadratic (10^10 steps); linear, they take milliseconds even unoptimised.
        for unit in ["a.", "1-a-", "q1.", "1 ", "卡号1 "] {
            let text = unit.repeat(100_000 / unit.len());
            let found = scan_text(&text);
            assert!(found.len() <= text.len());
        }
    }

    #[test]
    fn area_code_brackets_are_in_the_span() {
        let text = "电话(0755)12345678。";
        let found = scan_text(text);
        assert_eq!(found.len(), 1);
        assert_eq!(&text[found[0].span.clone()], "(0755)12345678");
    }

    #[test]
    fn links_and_codes_hide_their_digits() {
        assert!(scan_text("详见 http://t.example.cn/13800138000 ").is_empty());
        assert!(scan_text("点击 t.cn/13800138000").is_empty());
        assert!(scan_text("单号SF13800138000").is_empty());
        assert!(scan_text("版本号 v2.13.800138000").is_empty());
        assert_eq!(kinds("Tel-13800138000"), [(Kind::Phone, "13800138000")]);
    }
}
