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
//!    (`138-0013-8000`, `(0755)12345678`) and an optional leading `+`.
//! 2. **Runs.** Chunks separated by exactly one space (`6222 0212 3456 7890 123`) form a run.
//!    The scanner tries the longest stretch of chunks first and shrinks it until one is
//!    recognised, then continues after it, so `QQ 12345678 13800138000` gives two findings.
//! 3. **Context.** The context word nearest before a stretch (within a few characters, see
//!    [`cues`](self#context-words)) decides ambiguous digits: after `QQ`/`扣扣` a 5–12 digit run
//!    is a QQ number, after `卡号`/`账号`/`转账` a 12–30 digit run is a bank account, after
//!    `支付宝` a `2088…` id or a mobile number is an Alipay account, after `电话`/`客服`/`拨打`
//!    short and service numbers (`95588`, `110`) count as phones. After `验证码`/`尾号` only
//!    a number whose shape alone makes it a phone is reported; after `订单号`, `快递`,
//!    `身份证`, `余额`… nothing is.
//! 4. **Shape.** Without a deciding word: an 11-digit `1[3-9]…` run is a mobile, `+…`/`00…`
//!    an international number, `400`/`800` lines and trunk-`0` landlines are phones, a
//!    Luhn-valid 16–19 digit run starting with `62`, `4` or `5` is a card (unless it reads as
//!    an 18-digit resident ID number), and `2088` plus 12 digits is an Alipay user id.
//! 5. **Guards.** A stretch right after a currency sign (`¥5000`) or `第`, or right before a
//!    unit (`5000元`, `3天`, `20%`), next to `/` (dates, paths) or `:` between digits (times),
//!    or inside a thousands-separated amount is not an identifier.
//!
//! Every candidate is finally passed through [`identifier::normalize`]; only what normalizes is
//! reported, and the canonical form is always that of the span's own text.
//!
//! # Context words
//! The word lists live in the private `cues` module; each finding's [`Reason`] names the word
//! (or the shape rule) that decided.
//!
//! # Guarantees
//! No input panics. Spans are on character boundaries, within the text, in text order and
//! non-overlapping. Nothing is logged.

mod cues;
mod rules;

use crate::identifier::{self, Identifier};
use crate::kind::Kind;
use cues::Cue;
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

/// Why a stretch of text was recognised as an identifier of a given kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// A context word shortly before it decided, e.g. `卡号` or `qq` (words are stored folded:
    /// ASCII lower-case, full-width forms as ASCII).
    Context(&'static str),
    /// Its own shape decided, without needing a context word.
    Shape(Shape),
}

/// The shape rules that recognise an identifier without a context word.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    /// An 11-digit Chinese mobile number `1[3-9]…`, possibly after `86` or an IP-dial prefix.
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
            Reason::Context(word) => write!(f, "context {word}"),
            Reason::Shape(shape) => write!(f, "shape {}", shape.as_str()),
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
    };
    scanner.scan();
    scanner.found
}

/// Folds a character as identifiers are read: full-width forms to ASCII, the ideographic and
/// no-break spaces to a space, Unicode dashes to `-`.
pub(crate) fn fold(c: char) -> char {
    match c {
        '\u{FF01}'..='\u{FF5E}' => char::from_u32(c as u32 - 0xFF01 + 0x21).unwrap_or(c),
        '\u{3000}' | '\u{00A0}' => ' ',
        '\u{2010}'..='\u{2015}' | '\u{2212}' => '-',
        _ => c,
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
}

/// Decodes the character at byte `pos` of `text`, folded, with its byte length.
fn char_at(text: &str, pos: usize) -> Option<(char, usize)> {
    let c = text.get(pos..)?.chars().next()?;
    Some((fold(c), c.len_utf8()))
}

/// The folded character ending at byte `pos`, with its byte length.
fn char_before(text: &str, pos: usize) -> Option<(char, usize)> {
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
    ["qq", "q", "tel", "vx", "wx", "zfb"]
        .iter()
        .any(|l| word.eq_ignore_ascii_case(l))
}

/// A unit or counter right after a number: it is an amount, a date, a duration, a count.
fn is_unit(c: char) -> bool {
    matches!(
        c,
        '元' | '块'
            | '角'
            | '万'
            | '千'
            | '百'
            | '亿'
            | '%'
            | '‰'
            | '年'
            | '月'
            | '日'
            | '号'
            | '时'
            | '点'
            | '分'
            | '秒'
            | '天'
            | '周'
            | '岁'
            | '个'
            | '次'
            | '倍'
            | '折'
            | '期'
            | '楼'
            | '层'
            | '室'
            | '栋'
            | '件'
            | '条'
            | '笔'
            | '张'
            | '份'
            | '位'
            | '人'
            | '斤'
            | '克'
            | '米'
            | '度'
            | '箱'
            | '台'
            | '套'
            | '股'
            | '单'
    )
}

/// A currency sign or ordinal right before a number.
fn is_amount_lead(c: char) -> bool {
    matches!(c, '¥' | '￥' | '$' | '€' | '£' | '第' | '#')
}

impl Scanner<'_> {
    fn scan(&mut self) {
        let text = self.text;
        let mut pos = 0;
        while let Some((c, len)) = char_at(text, pos) {
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
        let token_end = self.take_while(start, is_mail_char);
        let bare_link = text.get(start..token_end).is_some_and(|t| t.contains('.'))
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
        let code_end = self.take_while(start, is_word_char);
        if code_end > word_end {
            // Letters and digits mixed: a tracking number, a product code, a plate.
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
        let cue = cues::cue_before(text, floor, start);
        let qq_mail = domain.eq_ignore_ascii_case("qq.com")
            && local.bytes().all(|b| b.is_ascii_digit())
            && rules::is_qq(local.as_bytes());
        match cue {
            Some((Cue::Alipay, word)) => {
                self.push(Kind::Alipay, start..end, Reason::Context(word));
            }
            Some((Cue::Code | Cue::Reference, _)) => {}
            _ if qq_mail => self.push(Kind::Qq, start..at, Reason::Shape(Shape::QqMail)),
            _ => {}
        }
        domain_end
    }

    /// Handles text starting with a digit, or `+`/`(` before a digit.
    fn number(&mut self, start: usize) -> usize {
        let text = self.text;
        // A numeric e-mail name (`12345678@qq.com`)?
        let token_end = self.take_while(start, is_mail_char);
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
                '-' | '.'
                    if !prev_sep
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
            let cue = cues::cue_before(self.text, floor, first.lead);
            let mut matched = None;
            for j in (i..n).rev() {
                if let Some(found) = self.stretch(i, j, cue) {
                    matched = Some((j, found));
                    break;
                }
            }
            match matched {
                Some((j, (kind, span, reason))) => {
                    self.push(kind, span, reason);
                    i = j + 1;
                }
                None => i += 1,
            }
        }
    }

    /// Whether chunks `i..=j` of the run form an identifier: its kind, span and reason.
    fn stretch(
        &self,
        i: usize,
        j: usize,
        cue: Option<(Cue, &'static str)>,
    ) -> Option<(Kind, Range<usize>, Reason)> {
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
        if self.guarded(&span, first, last) {
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
        let (kind, reason) = decide(d, plus, cue)?;
        // Spaced groups must look like one number written in groups, not two numbers side by side.
        if chunks.len() > 1 {
            let inner_ok = chunks[..chunks.len() - 1].iter().all(|c| c.digits <= 6);
            let last_max = if matches!(kind, Kind::Phone) || (kind == Kind::Alipay && d.len() < 16)
            {
                11
            } else {
                6
            };
            if !inner_ok || last.digits > last_max || chunks[1..].iter().any(|c| c.digits < 3) {
                return None;
            }
        }
        Some((kind, span, reason))
    }

    /// The amount, date and time guards around a stretch (see the module docs).
    fn guarded(&self, span: &Range<usize>, first: &Chunk, last: &Chunk) -> bool {
        let text = self.text;
        let digit_at = |pos: usize| char_at(text, pos).is_some_and(|(c, _)| c.is_ascii_digit());
        let digit_before =
            |pos: usize| char_before(text, pos).is_some_and(|(c, _)| c.is_ascii_digit());
        if let Some((c, len)) = char_before(text, span.start) {
            let p = span.start - len;
            if is_amount_lead(c)
                || c == '/'
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
                || c == '/'
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
    fn push(&mut self, kind: Kind, span: Range<usize>, reason: Reason) {
        let Some(raw) = self.text.get(span.clone()) else {
            return;
        };
        if let Ok(identifier) = identifier::normalize(kind, raw) {
            self.found.push(Finding {
                identifier,
                span,
                reason,
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

/// The kind of the digits `d` (with a leading `+` when `plus`) given the context word before
/// them, and the reason; `None` when they are no identifier.
fn decide(d: &[u8], plus: bool, cue: Option<(Cue, &'static str)>) -> Option<(Kind, Reason)> {
    use rules::*;
    if d.is_empty() {
        return None;
    }
    let (cue, word) = match cue {
        Some((Cue::Reference, _)) => return None,
        Some((c, w)) => (Some(c), w),
        None => (None, ""),
    };
    let by_context = Reason::Context(word);
    match cue {
        Some(Cue::Qq) if !plus && is_qq(d) => return Some((Kind::Qq, by_context)),
        Some(Cue::Bank) if !plus && is_bank_length(d) => return Some((Kind::Bank, by_context)),
        Some(Cue::Alipay) if !plus && is_alipay_user_id(d) => {
            return Some((Kind::Alipay, by_context));
        }
        Some(Cue::Alipay)
            if (plus && is_international(d, true))
                || is_mobile(d)
                || is_dressed_mobile(d)
                || is_international(d, false) =>
        {
            return Some((Kind::Alipay, by_context));
        }
        Some(Cue::Phone) if !plus && is_short_number(d) => return Some((Kind::Phone, by_context)),
        _ => {}
    }
    let shape = if is_international(d, plus) {
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
    if let Some(shape) = shape {
        return Some((Kind::Phone, Reason::Shape(shape)));
    }
    if cue == Some(Cue::Code) || plus {
        return None;
    }
    if is_likely_card(d) {
        return Some((Kind::Bank, Reason::Shape(Shape::LuhnCard)));
    }
    if is_alipay_user_id(d) {
        return Some((Kind::Alipay, Reason::Shape(Shape::AlipayUserId)));
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
        assert!(scan_text("2024/13800138000").is_empty());
        assert!(scan_text("12:13800138000").is_empty());
        assert!(scan_text("余额 6222021234567890123").is_empty());
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
    }
}
