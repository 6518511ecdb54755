//! Reading case data from CSV files as spreadsheets save them (feature `csv-import`): the one
//! reader behind the `fraudshield import` command (into an on-device store) and the server's
//! `fraudshield-server import` (one batch proposal for review). It only reads: what becomes of
//! the rows is the caller's business. The phone library leaves the feature off and does not
//! pay for the CSV and encoding crates.
//!
//! ## CSV format
//!
//! A header row names the columns, in any order, case-insensitively:
//!
//! | column | required | content |
//! |---|---|---|
//! | `kind` | yes | `phone`, `bank`, `qq` or `alipay` |
//! | `value` | yes | the identifier in any usual spelling (`+86 138-0013-8000`); a phone value ending in `*` (`+86 170*`) is a **prefix rule** flagging every number that starts with it |
//! | `category` | yes | `police_impersonation`, `customer_service`, `refund`, `investment`, `loan`, `romance`, `job` or `other`; or its Chinese name ([`CATEGORY_NAMES`]: `冒充公检法`, `虚假客服`, `刷单返利`…) |
//! | `risk` | yes | `low`, `medium` or `high` (`低`, `中`, `高`) |
//! | `reports` | no | how many citizens reported it (a number, default 0) |
//!
//! Other columns (notes, case numbers) are ignored, and may hold commas, quotes and line
//! breaks when quoted as Excel quotes them. Fields are trimmed. A mobile number from an
//! unallocated range (`+86 143…`) is a valid value: police lists hold spoofed caller ids.
//!
//! ```text
//! kind,value,category,risk,reports,note
//! phone,+86 138 0013 8000,police_impersonation,high,12,"case 7, ""urgent"""
//! phone,+86 170*,loan,medium,,
//! qq,87654321,customer_service,low,3,
//! ```
//!
//! ## Files as spreadsheets save them
//!
//! - **Encoding.** UTF-8, with or without the byte-order mark Excel's "CSV UTF-8" writes, and
//!   UTF-16 with a byte-order mark (Excel's "Unicode text", which is tab-separated) are read
//!   as they are. A file in any other encoding is refused before anything is read, with
//!   the line of the first byte that is not UTF-8 and a guess at what the file is: Excel's plain
//!   "CSV" on a Chinese system writes **GBK**, and such a file is read with
//!   `--encoding gb18030` ([`TextEncoding::Gb18030`]; GB18030 contains GBK) or after re-saving
//!   it as "CSV UTF-8". GBK is never assumed: a guessed encoding must not decide how bytes
//!   become identifiers. With GB18030 asked for, a file that is UTF-8 (a byte-order mark, or
//!   Chinese text that is valid UTF-8) is refused, and a UTF-16 byte-order mark still wins.
//! - **Separator.** A comma; a tab when the header line has tabs and no comma.
//! - **Line endings.** `\n`, `\r\n` (Windows) or `\r` (old Mac) are all one line end: every
//!   line number reported is the line of the file as an editor shows it.
//!
//! ## Bad rows and broken files
//!
//! Two kinds of problems are told apart:
//!
//! - **A bad row** (an unknown category, a value that is not an identifier, a missing field) is
//!   a [`RowError`]: its line number and the reason (never the identifier). Reading goes on;
//!   every bad row is listed in [`ParsedFile::errors`].
//! - **A broken file** is refused whole ([`FileError`]): an encoding that is not the one asked
//!   for, a header without the required columns, or a **quote that is not closed**. A field
//!   that opens with `"` runs until the next `"`, across line ends: one stray quote in a value
//!   or a note silently swallows the rows after it into one field. A row whose kind, value,
//!   category, risk or reports field holds a line break, or whose other quoted field holds
//!   lines that look like rows of this file, is such a case: the message names the lines the
//!   quote swallowed. A note with a line break in it (Alt+Enter in Excel, quoted) is fine.
//!
//! Every line of the file is accounted for: the header, blank lines (and lines of empty fields,
//! `,,,,`, which Excel writes for formatted empty rows), the rows read and the extra lines of
//! quoted fields add up to the lines of the file ([`FileSummary`]); a line that is none of them
//! refuses the file.
//!
//! ```
//! use fraudshield_core::import::{TextEncoding, read_file};
//!
//! let csv = "kind,value,category,risk,reports\r\n\
//!            phone,+86 138 0013 8000,冒充公检法,高,12\r\n\
//!            qq,not a number,refund,low,\r\n";
//! let file = read_file(csv.as_bytes(), TextEncoding::Utf8, &mut |_, _| {})?;
//! assert_eq!(file.rows.len(), 1);
//! assert_eq!(file.rows[0].line, 2);
//! assert_eq!(file.rows[0].reports, 12);
//! assert_eq!(file.errors[0].line, 3); // the bad row, by its line in the file
//! assert_eq!(file.summary.lines, 3);
//! # Ok::<(), fraudshield_core::import::FileError>(())
//! ```

use crate::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use crate::identifier;
use crate::key::Key;
use crate::kind::Kind;
use std::borrow::Cow;

/// The text encodings a file may be read in.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum TextEncoding {
    /// UTF-8 (with or without a byte-order mark), or UTF-16 with a byte-order mark.
    #[default]
    Utf8,
    /// GB18030, which contains GBK and GB2312.
    Gb18030,
}

/// Chinese names of the categories, as police and bank spreadsheets write them.
pub const CATEGORY_NAMES: [(&str, Category); 16] = [
    ("冒充公检法", Category::PoliceImpersonation),
    ("冒充公安", Category::PoliceImpersonation),
    ("冒充客服", Category::CustomerService),
    ("虚假客服", Category::CustomerService),
    ("退款", Category::Refund),
    ("虚假退款", Category::Refund),
    ("投资理财", Category::Investment),
    ("虚假投资理财", Category::Investment),
    ("贷款", Category::Loan),
    ("虚假贷款", Category::Loan),
    ("网络交友", Category::Romance),
    ("杀猪盘", Category::Romance),
    ("刷单", Category::Job),
    ("刷单返利", Category::Job),
    ("兼职招聘", Category::Job),
    ("其他", Category::Other),
];

/// Chinese names of the risk levels.
const RISK_NAMES: [(&str, Risk); 6] = [
    ("低", Risk::Low),
    ("低风险", Risk::Low),
    ("中", Risk::Medium),
    ("中风险", Risk::Medium),
    ("高", Risk::High),
    ("高风险", Risk::High),
];

/// Why a whole file is refused (see the [module docs](self)): nothing in it may be used. The
/// message names lines, never a value of the file.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct FileError {
    message: String,
}

impl FileError {
    fn new(message: impl Into<String>) -> FileError {
        FileError {
            message: message.into(),
        }
    }
}

/// A good row: one identifier with its category, risk and report count.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Row {
    /// 1-based line number in the file (the first line of the row).
    pub line: u64,
    /// The identifier's canonical key (of the prefix when `prefix`).
    pub key: Key,
    /// A phone prefix rule (the value ended in `*`).
    pub prefix: bool,
    /// The kind of fraud.
    pub category: Category,
    /// The risk.
    pub risk: Risk,
    /// How many citizens reported it (0 when the column is absent or empty).
    pub reports: u32,
}

impl Row {
    /// The row as a blocklist change (the report count becomes a log-scale bucket).
    pub fn change(&self) -> Change {
        Change::Upsert(
            self.key.clone(),
            EntryValue {
                category: self.category,
                risk: self.risk,
                reports: ReportBucket::from_count(self.reports),
                prefix: self.prefix,
            },
        )
    }
}

/// A bad row.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct RowError {
    /// 1-based line number in the file (the first line of the row).
    pub line: u64,
    /// What was wrong (never the identifier itself).
    pub reason: String,
}

/// How the file was read: its encoding, and where each of its lines went.
#[derive(Debug, Clone, PartialEq, Eq)]
#[cfg_attr(feature = "serde", derive(serde::Serialize))]
pub struct FileSummary {
    /// `UTF-8`, `UTF-8 with BOM`, `UTF-16LE`, `UTF-16BE` or `GB18030`.
    pub encoding: &'static str,
    /// `,` or a tab.
    pub delimiter: char,
    /// Lines in the file.
    pub lines: u64,
    /// Rows read after the header (good and bad).
    pub rows: u64,
    /// Blank lines, and lines of empty fields only (`,,,,`), skipped.
    pub blank_lines: u64,
    /// Rows spanning more than one line (a quoted field with line breaks, such as a note).
    pub multiline_rows: u64,
}

/// `1 row`, `2 rows`.
pub fn plural(n: u64, noun: &str) -> String {
    if n == 1 {
        format!("1 {noun}")
    } else {
        format!("{n} {noun}s")
    }
}

impl FileSummary {
    /// One sentence for people: `read 3 rows from 5 lines (UTF-8, 1 header line, 1 blank)`.
    pub fn describe(&self) -> String {
        let mut s = format!(
            "read {} from {} ({}",
            plural(self.rows, "row"),
            plural(self.lines, "line"),
            self.encoding
        );
        if self.delimiter == '\t' {
            s.push_str(", tab-separated");
        }
        s.push_str(", 1 header line");
        if self.blank_lines > 0 {
            s.push_str(&format!(", {} blank", self.blank_lines));
        }
        if self.multiline_rows > 0 {
            s.push_str(&format!(
                ", {} with line breaks inside quotes",
                plural(self.multiline_rows, "row")
            ));
        }
        s.push(')');
        s
    }
}

/// Every row of a file: the good ones, the bad ones, and how the file was read.
#[derive(Debug, Clone)]
pub struct ParsedFile {
    /// Good rows, in file order (an identifier may repeat: the caller decides which wins).
    pub rows: Vec<Row>,
    /// Every bad row, in file order.
    pub errors: Vec<RowError>,
    /// How the file was read.
    pub summary: FileSummary,
}

/// Decodes and parses a whole file: every row, or the reason the file is refused. `progress`
/// is called now and then with (bytes of text read, bytes of text in all), last with both
/// equal, for a progress bar. Reads nothing else and writes nothing.
pub fn read_file(
    bytes: &[u8],
    encoding: TextEncoding,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ParsedFile, FileError> {
    let (text, encoding) = decode(bytes, encoding)?;
    parse(&text, encoding, progress)
}

/// The file as text, and the name of the encoding it was read in. A file that is not in the
/// encoding asked for is refused with the line of the first bad byte and a guess at what it is.
fn decode(bytes: &[u8], encoding: TextEncoding) -> Result<(Cow<'_, str>, &'static str), FileError> {
    if let Some((text, name)) = decode_utf16_with_bom(bytes)? {
        return Ok((Cow::Owned(text), name));
    }
    if encoding == TextEncoding::Gb18030 {
        // Chinese text in UTF-8 is never valid GBK by accident, but read as GB18030 it may
        // decode to other characters: refuse rather than read a UTF-8 file the wrong way.
        if bytes.starts_with(b"\xEF\xBB\xBF")
            || (!bytes.is_ascii() && std::str::from_utf8(bytes).is_ok())
        {
            return Err(FileError::new(
                "the file is UTF-8 text, not GB18030: import it without --encoding; nothing \
                 was imported",
            ));
        }
        return encoding_rs::GB18030
            .decode_without_bom_handling_and_without_replacement(bytes)
            .map(|text| (text, "GB18030"))
            .ok_or_else(|| {
                FileError::new(
                    "the file is not valid GB18030/GBK text either: re-save it as \"CSV UTF-8\" \
                     and import it without --encoding; nothing was imported",
                )
            });
    }
    let (body, name) = match bytes.strip_prefix(b"\xEF\xBB\xBF") {
        Some(body) => (body, "UTF-8 with BOM"),
        None => (bytes, "UTF-8"),
    };
    match std::str::from_utf8(body) {
        Ok(text) => Ok((Cow::Borrowed(text), name)),
        Err(e) => {
            let line = line_count(&body[..e.valid_up_to()]);
            Err(FileError::new(format!(
                "line {line}: the file is not UTF-8 text; {}; nothing was imported",
                guess_encoding(body)
            )))
        }
    }
}

/// What a file that is not UTF-8 probably is, and what to do about it.
fn guess_encoding(bytes: &[u8]) -> &'static str {
    let sample = &bytes[..bytes.len().min(4096)];
    let zeros = sample.iter().filter(|b| **b == 0).count();
    if zeros * 4 >= sample.len() {
        return "it looks like UTF-16 without a byte-order mark: re-save it as \"CSV UTF-8\"";
    }
    if encoding_rs::GB18030
        .decode_without_bom_handling_and_without_replacement(bytes)
        .is_some()
    {
        return "it looks like GBK/GB18030, as Excel saves \"CSV\" on a Chinese system: \
                re-save it as \"CSV UTF-8\", or import it with --encoding gb18030";
    }
    "its encoding is unknown: re-save it as \"CSV UTF-8\""
}

/// UTF-16 text with a byte-order mark (Excel's "Unicode text"), decoded; `None` without one.
fn decode_utf16_with_bom(bytes: &[u8]) -> Result<Option<(String, &'static str)>, FileError> {
    let (body, big_endian, name) = match bytes {
        [0xFF, 0xFE, body @ ..] => (body, false, "UTF-16LE"),
        [0xFE, 0xFF, body @ ..] => (body, true, "UTF-16BE"),
        _ => return Ok(None),
    };
    if body.len() % 2 != 0 {
        return Err(FileError::new(
            "the file starts like UTF-16 but has an odd number of bytes: it is cut short or \
             not UTF-16; re-save it as \"CSV UTF-8\"; nothing was imported",
        ));
    }
    let units = body.chunks_exact(2).map(|p| {
        let pair = [p[0], p[1]];
        if big_endian {
            u16::from_be_bytes(pair)
        } else {
            u16::from_le_bytes(pair)
        }
    });
    let mut text = String::with_capacity(body.len());
    for c in char::decode_utf16(units) {
        match c {
            Ok(c) => text.push(c),
            Err(_) => {
                let line = line_count(text.as_bytes());
                return Err(FileError::new(format!(
                    "line {line}: the file is not valid {name} text; re-save it as \
                     \"CSV UTF-8\"; nothing was imported"
                )));
            }
        }
    }
    Ok(Some((text, name)))
}

/// The 1-based line on which the end of `prefix` lies (`\n`, `\r\n` and `\r` end a line).
fn line_count(prefix: &[u8]) -> u64 {
    Lines::new(prefix).line_of(prefix.len())
}

/// Where each physical line of a text starts, to turn byte offsets into line numbers.
struct Lines {
    starts: Vec<usize>,
    len: usize,
}

impl Lines {
    fn new(text: &[u8]) -> Lines {
        let mut starts = vec![0];
        let mut i = 0;
        while i < text.len() {
            match text[i] {
                b'\r' if text.get(i + 1) == Some(&b'\n') => {
                    i += 2;
                    starts.push(i);
                }
                b'\r' | b'\n' => {
                    i += 1;
                    starts.push(i);
                }
                _ => i += 1,
            }
        }
        Lines {
            starts,
            len: text.len(),
        }
    }

    /// Lines in the text: a final line end does not start another line.
    fn count(&self) -> u64 {
        let trailing = self.starts.last().is_some_and(|&s| s == self.len) && self.len > 0;
        self.starts.len() as u64 - u64::from(trailing || self.len == 0)
    }

    /// The 1-based line holding byte `offset`.
    fn line_of(&self, offset: usize) -> u64 {
        self.starts.partition_point(|&s| s <= offset) as u64
    }

    /// The text of line `line` (1-based), without its line end.
    fn text<'a>(&self, text: &'a str, line: u64) -> &'a str {
        let i = (line as usize).saturating_sub(1);
        let start = self.starts.get(i).copied().unwrap_or(self.len);
        let end = self.starts.get(i + 1).copied().unwrap_or(self.len);
        text.get(start..end)
            .unwrap_or("")
            .trim_end_matches(['\r', '\n'])
    }
}

struct Columns {
    kind: usize,
    value: usize,
    category: usize,
    risk: usize,
    reports: Option<usize>,
}

impl Columns {
    /// The required columns and `reports`: none of them may hold a line break.
    fn used(&self) -> impl Iterator<Item = usize> + '_ {
        [self.kind, self.value, self.category, self.risk]
            .into_iter()
            .chain(self.reports)
    }
}

fn columns(headers: &csv::StringRecord) -> Result<Columns, FileError> {
    let find = |name: &str| {
        headers.iter().position(|h| {
            h.trim()
                .trim_start_matches('\u{feff}')
                .eq_ignore_ascii_case(name)
        })
    };
    let need = |name: &str| {
        find(name).ok_or_else(|| {
            FileError::new(format!(
                "line 1: the CSV header has no `{name}` column (expected kind,value,category,risk\
                 [,reports]); nothing was imported"
            ))
        })
    };
    Ok(Columns {
        kind: need("kind")?,
        value: need("value")?,
        category: need("category")?,
        risk: need("risk")?,
        reports: find("reports"),
    })
}

fn parse_category(s: &str) -> Result<Category, String> {
    if let Some((_, c)) = CATEGORY_NAMES.iter().find(|(name, _)| *name == s) {
        return Ok(*c);
    }
    s.parse()
        .map_err(|e: crate::entry::ValueError| e.to_string())
}

fn parse_risk(s: &str) -> Result<Risk, String> {
    if let Some((_, r)) = RISK_NAMES.iter().find(|(name, _)| *name == s) {
        return Ok(*r);
    }
    s.parse()
        .map_err(|e: crate::entry::ValueError| e.to_string())
}

fn parse_row(record: &csv::StringRecord, c: &Columns, line: u64) -> Result<Row, String> {
    let field = |i: usize, name: &str| {
        record
            .get(i)
            .filter(|s| !s.is_empty())
            .ok_or_else(|| format!("missing {name}"))
    };
    let kind: Kind = field(c.kind, "kind")?
        .parse()
        .map_err(|e: crate::kind::UnknownKind| e.to_string())?;
    let raw = field(c.value, "value")?;
    let category = parse_category(field(c.category, "category")?)?;
    let risk = parse_risk(field(c.risk, "risk")?)?;
    let reports = match c
        .reports
        .and_then(|i| record.get(i))
        .filter(|s| !s.is_empty())
    {
        None => 0,
        Some(s) => s
            .parse::<u32>()
            .map_err(|_| "reports is not a whole number".to_string())?,
    };
    let prefix = kind == Kind::Phone && raw.ends_with('*');
    let id = if prefix {
        identifier::normalize_phone_prefix(raw)
    } else {
        identifier::normalize(kind, raw)
    }
    .map_err(|e| format!("invalid {kind} value: {e}"))?;
    Ok(Row {
        line,
        key: id.key(),
        prefix,
        category,
        risk,
        reports,
    })
}

/// Reads every row of `text`, refusing the whole file on an unclosed quote (see the module
/// docs) and checking that every line of the file was accounted for.
fn parse(
    text: &str,
    encoding: &'static str,
    progress: &mut dyn FnMut(u64, u64),
) -> Result<ParsedFile, FileError> {
    let lines = Lines::new(text.as_bytes());
    let header_line = lines.text(text, 1);
    let delimiter = if !header_line.contains(',') && header_line.contains('\t') {
        b'\t'
    } else {
        b','
    };
    let mut reader = csv::ReaderBuilder::new()
        .flexible(true)
        .trim(csv::Trim::All)
        .delimiter(delimiter)
        .from_reader(text.as_bytes());
    let headers = reader
        .headers()
        .map_err(|e| FileError::new(format!("cannot read the CSV header: {e}")))?
        .clone();
    let cols = columns(&headers)?;
    let header_end = reader.position().byte() as usize;
    // The header may span lines too (a quoted column name); blank lines before it are skipped.
    let (header_first, header_last) = row_lines(&lines, text, 0, header_end);
    let total = text.len() as u64;
    progress(0, total);
    let mut summary = FileSummary {
        encoding,
        delimiter: char::from(delimiter),
        lines: lines.count(),
        rows: 0,
        blank_lines: 0,
        multiline_rows: 0,
    };
    let mut rows = Vec::new();
    let mut errors = Vec::new();
    let mut accounting = Accounting::new(text, &lines);
    accounting.row(header_first, header_last)?;
    let mut record = csv::StringRecord::new();
    loop {
        let start = reader.position().byte() as usize;
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                // Text was decoded already, so only I/O on memory could fail: never expected.
                return Err(FileError::new(format!("cannot read the CSV file: {e}")));
            }
        }
        let end = reader.position().byte() as usize;
        let (first, last) = row_lines(&lines, text, start, end);
        accounting.row(first, last)?;
        if record.iter().all(str::is_empty) {
            // `,,,,,`: Excel writes such lines for rows that were formatted but left empty.
            summary.blank_lines += last - first + 1;
            continue;
        }
        summary.rows += 1;
        if last > first {
            summary.multiline_rows += 1;
            check_quotes(&record, &cols, &lines, text, first, last)?;
        }
        match parse_row(&record, &cols, first) {
            Ok(row) => rows.push(row),
            Err(reason) => errors.push(RowError {
                line: first,
                reason,
            }),
        }
        if summary.rows.is_multiple_of(4096) {
            progress(end as u64, total);
        }
    }
    progress(total, total);
    summary.blank_lines += accounting.finish()?;
    Ok(ParsedFile {
        rows,
        errors,
        summary,
    })
}

/// The first and last line of the row read from the bytes `start..end` (which may begin with
/// blank lines the reader skipped, and end with the row's line end).
fn row_lines(lines: &Lines, text: &str, start: usize, end: usize) -> (u64, u64) {
    let bytes = text.as_bytes();
    let end = end.min(bytes.len());
    let mut content = start.min(end);
    while content < end && matches!(bytes[content], b'\r' | b'\n') {
        content += 1;
    }
    let mut last = end.saturating_sub(1).max(content);
    // The row's own line end belongs to its last line.
    while last > content && matches!(bytes[last], b'\r' | b'\n') {
        last -= 1;
    }
    (lines.line_of(content), lines.line_of(last))
}

/// Checks that every line of the file is the header, part of a row, or blank: nothing the
/// reader skipped can hide rows.
struct Accounting<'a> {
    text: &'a str,
    lines: &'a Lines,
    /// The next line not yet accounted for.
    next: u64,
    blank: u64,
}

impl<'a> Accounting<'a> {
    fn new(text: &'a str, lines: &'a Lines) -> Accounting<'a> {
        Accounting {
            text,
            lines,
            next: 1,
            blank: 0,
        }
    }

    /// A row (or the header) on lines `first..=last`; the lines before it must be blank.
    fn row(&mut self, first: u64, last: u64) -> Result<(), FileError> {
        self.gap(first)?;
        self.next = self.next.max(last + 1);
        Ok(())
    }

    /// The lines after the last row must be blank; returns how many blank lines there were.
    fn finish(mut self) -> Result<u64, FileError> {
        self.gap(self.lines.count() + 1)?;
        Ok(self.blank)
    }

    fn gap(&mut self, until: u64) -> Result<(), FileError> {
        for line in self.next..until {
            if !self.lines.text(self.text, line).is_empty() {
                return Err(FileError::new(format!(
                    "line {line} was not read as part of any row: this is not a CSV file that \
                     can be read safely; nothing was imported"
                )));
            }
            self.blank += 1;
        }
        self.next = self.next.max(until);
        Ok(())
    }
}

/// A row spanning several lines: fine if a note holds a line break, refused if a quote that
/// was never closed swallowed rows (see the module docs).
fn check_quotes(
    record: &csv::StringRecord,
    cols: &Columns,
    lines: &Lines,
    text: &str,
    first: u64,
    last: u64,
) -> Result<(), FileError> {
    let broken_field = cols
        .used()
        .any(|i| record.get(i).is_some_and(|f| f.contains(['\r', '\n'])));
    let rowlike = (first + 1..=last)
        .filter(|&l| looks_like_row(lines.text(text, l), cols))
        .count();
    if !broken_field && rowlike == 0 {
        return Ok(());
    }
    let swallowed = if rowlike > 0 {
        format!(", {rowlike} of which look like rows")
    } else {
        String::new()
    };
    Err(FileError::new(format!(
        "line {first}: a quote (\") opened in this row is not closed until line {last}, so \
         lines {}–{last} ({} lines{swallowed}) would be read as part of one field; a quote \
         inside a field must be doubled (\"\") in a field that is itself quoted; fix it and \
         import again; nothing was imported",
        first + 1,
        last - first,
    )))
}

/// Whether a line inside a quoted field reads like a row of this file: enough separated
/// fields, and a known kind in the kind column.
fn looks_like_row(line: &str, cols: &Columns) -> bool {
    let delimiter = if line.contains(',') { ',' } else { '\t' };
    let fields: Vec<&str> = line.split(delimiter).collect();
    let needed = cols.used().max().unwrap_or(0);
    fields.len() > needed
        && fields
            .get(cols.kind)
            .is_some_and(|k| k.trim().trim_matches('"').parse::<Kind>().is_ok())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]
    use super::*;

    #[test]
    fn line_numbers_follow_every_line_end() {
        let text = "a\r\nb\nc\rd";
        let l = Lines::new(text.as_bytes());
        assert_eq!(l.count(), 4);
        assert_eq!(l.line_of(0), 1);
        assert_eq!(l.line_of(3), 2);
        assert_eq!(l.line_of(5), 3);
        assert_eq!(l.line_of(7), 4);
        assert_eq!(l.text(text, 1), "a");
        assert_eq!(l.text(text, 4), "d");
        assert_eq!(Lines::new(b"a\r\n").count(), 1);
        assert_eq!(Lines::new(b"").count(), 0);
        assert_eq!(Lines::new(b"\n\n").count(), 2);
    }

    #[test]
    fn bad_rows_are_listed_by_line_and_a_stray_quote_refuses_the_file() {
        let csv = "kind,value,category,risk\n\nphone,13800138000,loan,high\nphone,x,loan,high\n\
                   qq,12345,nope,low\n";
        let f = read_file(csv.as_bytes(), TextEncoding::Utf8, &mut |_, _| {}).unwrap();
        assert_eq!(f.rows.len(), 1);
        assert_eq!(f.rows[0].line, 3);
        let lines: Vec<u64> = f.errors.iter().map(|e| e.line).collect();
        assert_eq!(lines, [4, 5]);
        assert_eq!(f.summary.blank_lines, 1);
        assert_eq!(f.summary.rows, 3);
        let broken = "kind,value,category,risk\nphone,\"13800138000,loan,high\nphone,13800138001,loan,high\n";
        let e = read_file(broken.as_bytes(), TextEncoding::Utf8, &mut |_, _| {}).unwrap_err();
        assert!(e.to_string().contains("line 2"), "{e}");
    }

    #[test]
    fn progress_ends_at_the_whole_text() {
        let csv = "kind,value,category,risk\nphone,13800138000,loan,high\n";
        let mut last = (0, 1);
        read_file(csv.as_bytes(), TextEncoding::Utf8, &mut |d, t| {
            last = (d, t)
        })
        .unwrap();
        assert_eq!(last, (csv.len() as u64, csv.len() as u64));
    }
}
