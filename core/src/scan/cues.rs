//! Context words: the labels people and fraudsters write just before a number (`卡号`, `QQ`,
//! `支付宝`, `客服电话`, `验证码`…) and what each one says about the digits that follow.
//!
//! The scanner looks at a short window of characters before a digit run — [`WINDOW`]
//! characters, counted in characters, not bytes — and takes the word that ends closest to the
//! run; among words ending at the same place, the longest (`支付宝账号` beats `账号`). The window
//! never reaches back past another number or an e-mail/link, so a label belongs to the number
//! that follows it, not to the one after that.

use std::sync::OnceLock;

/// How many characters before a digit run are searched for a context word.
pub(crate) const WINDOW: usize = 10;

/// What a context word says about the number after it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Cue {
    /// A QQ number follows.
    Qq,
    /// A bank card or account follows.
    Bank,
    /// An Alipay account follows.
    Alipay,
    /// A phone number follows (also short and service numbers).
    Phone,
    /// A one-time code, a partial number or a parcel's tracking number follows (verification
    /// code, last four digits, 快递): only a number whose shape alone makes it a phone is still
    /// reported.
    Code,
    /// A reference number follows (order, tracking, ID card, case number, an amount): nothing
    /// after it is reported.
    Reference,
}

/// The context words, folded (full-width to ASCII, ASCII lower-case). ASCII words only match
/// as whole words (`faq` does not contain the word `q`).
const WORDS: &[(&str, Cue)] = &[
    // QQ
    ("qq", Cue::Qq),
    ("q", Cue::Qq),
    ("qq号", Cue::Qq),
    ("qq号码", Cue::Qq),
    ("q号码", Cue::Qq),
    ("扣扣号", Cue::Qq),
    ("扣扣号码", Cue::Qq),
    ("q号", Cue::Qq),
    ("扣扣", Cue::Qq),
    ("企鹅", Cue::Qq),
    ("企鹅号", Cue::Qq),
    ("球球", Cue::Qq),
    // Bank
    ("账号", Cue::Bank),
    ("帐号", Cue::Bank),
    ("账户", Cue::Bank),
    ("帐户", Cue::Bank),
    ("卡号", Cue::Bank),
    ("卡号码", Cue::Bank),
    ("账户号码", Cue::Bank),
    ("帐户号码", Cue::Bank),
    ("卡", Cue::Bank),
    ("工行", Cue::Bank),
    ("建行", Cue::Bank),
    ("农行", Cue::Bank),
    ("中行", Cue::Bank),
    ("招行", Cue::Bank),
    ("交行", Cue::Bank),
    ("邮储", Cue::Bank),
    ("银行卡", Cue::Bank),
    ("银行", Cue::Bank),
    ("储蓄卡", Cue::Bank),
    ("信用卡", Cue::Bank),
    ("户名", Cue::Bank),
    ("开户行", Cue::Bank),
    ("开户", Cue::Bank),
    ("转账", Cue::Bank),
    ("转帐", Cue::Bank),
    ("汇款", Cue::Bank),
    ("汇入", Cue::Bank),
    ("打款", Cue::Bank),
    ("转入", Cue::Bank),
    ("存入", Cue::Bank),
    ("收款", Cue::Bank),
    ("汇至", Cue::Bank),
    ("汇到", Cue::Bank),
    ("转至", Cue::Bank),
    ("转到", Cue::Bank),
    ("打到", Cue::Bank),
    ("打入", Cue::Bank),
    ("对公", Cue::Bank),
    // Alipay
    ("支付宝", Cue::Alipay),
    ("支付宝账号", Cue::Alipay),
    ("支付宝帐号", Cue::Alipay),
    ("支付宝账户", Cue::Alipay),
    ("支付宝号码", Cue::Alipay),
    ("alipay", Cue::Alipay),
    ("zfb", Cue::Alipay),
    // Phone
    ("电话", Cue::Phone),
    ("手机", Cue::Phone),
    ("手机号", Cue::Phone),
    ("号码", Cue::Phone),
    ("客服", Cue::Phone),
    ("回电", Cue::Phone),
    ("致电", Cue::Phone),
    ("热线", Cue::Phone),
    ("联系", Cue::Phone),
    ("拨打", Cue::Phone),
    ("回拨", Cue::Phone),
    ("来电", Cue::Phone),
    ("座机", Cue::Phone),
    ("专线", Cue::Phone),
    ("咨询", Cue::Phone),
    ("快递员", Cue::Phone),
    ("报警", Cue::Phone),
    ("打", Cue::Phone),
    ("详询", Cue::Phone),
    ("微信", Cue::Phone),
    ("微信号码", Cue::Phone),
    // Homophones used to slip past keyword filters.
    ("薇信", Cue::Phone),
    ("威信", Cue::Phone),
    ("vx", Cue::Phone),
    ("wx", Cue::Phone),
    ("tel", Cue::Phone),
    // Codes and partial numbers
    ("验证码", Cue::Code),
    ("校验码", Cue::Code),
    ("动态码", Cue::Code),
    ("密码", Cue::Code),
    ("口令", Cue::Code),
    ("取件码", Cue::Code),
    ("提取码", Cue::Code),
    ("取货码", Cue::Code),
    ("兑换码", Cue::Code),
    ("邀请码", Cue::Code),
    ("激活码", Cue::Code),
    ("券码", Cue::Code),
    ("尾号", Cue::Code),
    ("末四位", Cue::Code),
    ("后四位", Cue::Code),
    ("code", Cue::Code),
    // Parcels: what follows is usually a tracking number, but a courier's mobile is a phone.
    ("快递", Cue::Code),
    ("包裹", Cue::Code),
    ("物流", Cue::Code),
    // Reference numbers and amounts
    ("订单", Cue::Reference),
    ("订单号", Cue::Reference),
    ("单号", Cue::Reference),
    ("运单", Cue::Reference),
    ("身份证", Cue::Reference),
    ("身份证号", Cue::Reference),
    ("身份证号码", Cue::Reference),
    ("证件号", Cue::Reference),
    ("证件号码", Cue::Reference),
    ("编号", Cue::Reference),
    ("案号", Cue::Reference),
    ("流水号", Cue::Reference),
    ("交易号", Cue::Reference),
    ("会议号", Cue::Reference),
    ("会议id", Cue::Reference),
    ("房间号", Cue::Reference),
    ("工号", Cue::Reference),
    ("学号", Cue::Reference),
    ("保单号", Cue::Reference),
    ("合同号", Cue::Reference),
    ("发票", Cue::Reference),
    ("邮编", Cue::Reference),
    ("车次", Cue::Reference),
    ("航班", Cue::Reference),
    ("余额", Cue::Reference),
    ("金额", Cue::Reference),
    ("额度", Cue::Reference),
    ("价格", Cue::Reference),
    ("消费", Cue::Reference),
    ("支付", Cue::Reference),
    ("收入", Cue::Reference),
    ("支出", Cue::Reference),
    ("积分", Cue::Reference),
    ("会员卡", Cue::Reference),
    ("会员卡号", Cue::Reference),
    ("会员号", Cue::Reference),
    ("社保卡号", Cue::Reference),
    ("医保卡号", Cue::Reference),
    ("车牌号", Cue::Reference),
];

/// One context word, stored for matching backwards from the character nearest the number.
struct Word {
    /// The word's characters, last first.
    reversed: Vec<char>,
    /// The word as written in [`WORDS`] (reported in a finding's reason).
    text: &'static str,
    cue: Cue,
    ascii: bool,
}

/// The words sorted by their last character, so a lookup only compares words that can end
/// at a given position, and a 128-bit filter of those last characters (bit `c % 128`) that
/// rules out most positions without a search.
struct Table {
    words: Vec<Word>,
    last_chars: u128,
}

fn bit(c: char) -> u128 {
    1u128 << (u32::from(c) % 128)
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let mut words: Vec<Word> = WORDS
            .iter()
            .map(|&(text, cue)| Word {
                reversed: text.chars().rev().collect(),
                text,
                cue,
                ascii: text.is_ascii(),
            })
            .collect();
        // Longest first among words sharing a last character, so the first hit is the longest.
        words.sort_by(|a, b| {
            a.reversed
                .first()
                .cmp(&b.reversed.first())
                .then(b.reversed.len().cmp(&a.reversed.len()))
        });
        let last_chars = words
            .iter()
            .filter_map(|w| w.reversed.first())
            .fold(0, |acc, &c| acc | bit(c));
        Table { words, last_chars }
    })
}

/// How many context words one lookup reports at most.
pub(crate) const MAX_CUES: usize = 4;

/// The context words before a number, nearest first.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Cues {
    found: [Option<(Cue, &'static str)>; MAX_CUES],
    inherited: bool,
}

impl Cues {
    /// The same words, marked as inherited from the previous number of a list.
    pub(crate) fn inherited(self) -> Cues {
        Cues {
            inherited: true,
            ..self
        }
    }

    /// Whether these words label the previous number of a list, not this one directly.
    pub(crate) fn is_inherited(&self) -> bool {
        self.inherited
    }

    /// The words found, nearest first.
    pub(crate) fn iter(&self) -> impl Iterator<Item = (Cue, &'static str)> + '_ {
        self.found.iter().map_while(|c| *c)
    }

    /// The nearest word.
    pub(crate) fn nearest(&self) -> Option<(Cue, &'static str)> {
        self.found[0]
    }
}

/// The context words in `text[floor..start]`, nearest first: within [`WINDOW`] characters,
/// not past a digit or a closing `】` (the sender tag of an SMS names the sender, it does not
/// label the number after it). At each position the longest word wins and the words inside it
/// are skipped (`支付宝账号` does not also report `账号`). Collection stops after a code or
/// reference word: whatever lies before one does not label this number.
pub(crate) fn cues_before(text: &str, floor: usize, start: usize) -> Cues {
    let mut cues = Cues::default();
    let Some(before) = text.get(floor..start) else {
        return cues;
    };
    // The window, nearest character first, folded.
    let mut window = ['\0'; WINDOW];
    let mut len = 0;
    for c in before.chars().rev() {
        let c = super::fold(c);
        if c.is_ascii_digit() || c == '】' || len == WINDOW {
            break;
        }
        window[len] = c.to_ascii_lowercase();
        len += 1;
    }
    let window = &window[..len];
    let Table {
        words: table,
        last_chars,
    } = table();
    let mut count = 0;
    let mut end = 0;
    while end < window.len() && count < MAX_CUES {
        let last = window[end];
        let hit = if last_chars & bit(last) == 0 {
            None
        } else {
            let from = table.partition_point(|w| w.reversed.first() < Some(&last));
            table[from..]
                .iter()
                .take_while(|w| w.reversed.first() == Some(&last))
                .find(|word| {
                    let n = word.reversed.len();
                    if window.len() - end < n || window[end..end + n] != word.reversed[..] {
                        return false;
                    }
                    // ASCII words match whole words only.
                    !word.ascii
                        || !((end > 0 && window[end - 1].is_ascii_alphabetic())
                            || window.get(end + n).is_some_and(char::is_ascii_alphabetic))
                })
        };
        match hit {
            Some(word) => {
                cues.found[count] = Some((word.cue, word.text));
                count += 1;
                if matches!(word.cue, Cue::Code | Cue::Reference) {
                    break;
                }
                end += word.reversed.len();
            }
            None => end += 1,
        }
    }
    cues
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cue(text: &str) -> Option<(Cue, &'static str)> {
        cues_before(text, 0, text.len()).nearest()
    }

    fn all(text: &str) -> Vec<&'static str> {
        cues_before(text, 0, text.len())
            .iter()
            .map(|(_, w)| w)
            .collect()
    }

    #[test]
    fn several_words_nearest_first_stopping_at_blockers() {
        assert_eq!(all("QQ/微信："), ["微信", "qq"]);
        assert_eq!(all("支付宝账号："), ["支付宝账号"]);
        assert_eq!(all("QQ验证码 "), ["验证码"]);
        assert_eq!(all("【QQ】"), Vec::<&str>::new());
    }

    #[test]
    fn nearest_and_longest_word_wins() {
        assert_eq!(cue("请加客服QQ："), Some((Cue::Qq, "qq")));
        assert_eq!(cue("支付宝账号："), Some((Cue::Alipay, "支付宝账号")));
        assert_eq!(cue("支付宝转账至账户"), Some((Cue::Bank, "账户")));
        assert_eq!(cue("身份证号码："), Some((Cue::Reference, "身份证号码")));
        assert_eq!(cue("ＱＱ "), Some((Cue::Qq, "qq")));
    }

    #[test]
    fn window_is_bounded_and_stops_at_digits() {
        assert_eq!(cue("卡号一二三四五六七八九十"), None);
        assert_eq!(cue("卡号 1234 "), None);
        assert_eq!(cue("卡号一二三四五六七八"), Some((Cue::Bank, "卡号")));
    }

    #[test]
    fn ascii_words_match_whole_words_only() {
        assert_eq!(cue("faq "), None);
        assert_eq!(cue("加Q "), Some((Cue::Qq, "q")));
        assert_eq!(cue("qqmail "), None);
    }

    #[test]
    fn every_word_is_folded_and_unique() {
        for (i, (w, _)) in WORDS.iter().enumerate() {
            assert_eq!(*w, w.to_lowercase(), "{w} is not lower case");
            assert!(!w.chars().any(|c| c.is_ascii_digit()), "{w} has a digit");
            assert!(!WORDS[..i].iter().any(|(o, _)| o == w), "{w} appears twice");
        }
    }
}
