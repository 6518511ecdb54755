//! The kinds of identifier fraudshield knows.

use std::fmt;
use std::str::FromStr;

/// What an identifier is: a phone number, a bank account or card, a QQ number or an Alipay
/// account.
///
/// Each kind has a one-byte tag ([`Kind::tag`]) that prefixes its keys in the blocklist, so one
/// index holds every kind and a key of one kind can never equal a key of another.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Kind {
    /// A phone number: E.164 (`+8613800138000`) or a Chinese short/service number.
    Phone,
    /// A bank account or card number: 12–30 digits.
    Bank,
    /// A QQ number: 5–12 digits, no leading zero.
    Qq,
    /// An Alipay account: a `2088…` user id, a phone-based or an e-mail-based login.
    Alipay,
}

impl Kind {
    /// Every kind, in tag order.
    pub const ALL: [Kind; 4] = [Kind::Phone, Kind::Bank, Kind::Qq, Kind::Alipay];

    /// The one-byte tag that starts every key of this kind.
    ///
    /// Tags are part of the on-disk and wire formats: they never change meaning. They are below
    /// any printable ASCII byte, so a tag can never be mistaken for the first byte of a canonical
    /// form. Tags `0x05..` are reserved for later kinds (WeChat ids, web links).
    ///
    /// ```
    /// use fraudshield_core::kind::Kind;
    /// assert_eq!(Kind::Phone.tag(), 0x01);
    /// assert_eq!(Kind::from_tag(0x04), Some(Kind::Alipay));
    /// ```
    pub const fn tag(self) -> u8 {
        match self {
            Kind::Phone => 0x01,
            Kind::Bank => 0x02,
            Kind::Qq => 0x03,
            Kind::Alipay => 0x04,
        }
    }

    /// The kind a tag byte stands for, or `None` for an unknown tag.
    pub const fn from_tag(tag: u8) -> Option<Kind> {
        match tag {
            0x01 => Some(Kind::Phone),
            0x02 => Some(Kind::Bank),
            0x03 => Some(Kind::Qq),
            0x04 => Some(Kind::Alipay),
            _ => None,
        }
    }

    /// The lower-case name used in the CLI, CSV files and JSON: `phone`, `bank`, `qq`, `alipay`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Kind::Phone => "phone",
            Kind::Bank => "bank",
            Kind::Qq => "qq",
            Kind::Alipay => "alipay",
        }
    }
}

impl fmt::Display for Kind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The error for a kind name that is not one of `phone`, `bank`, `qq`, `alipay`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown identifier kind (expected one of: phone, bank, qq, alipay)")]
pub struct UnknownKind;

impl FromStr for Kind {
    type Err = UnknownKind;

    /// Parses a kind name, ignoring ASCII case.
    ///
    /// ```
    /// use fraudshield_core::kind::Kind;
    /// assert_eq!("QQ".parse::<Kind>(), Ok(Kind::Qq));
    /// assert!("wechat".parse::<Kind>().is_err());
    /// ```
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Kind::ALL
            .into_iter()
            .find(|k| k.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(UnknownKind)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_round_trip_and_are_distinct() {
        for k in Kind::ALL {
            assert_eq!(Kind::from_tag(k.tag()), Some(k));
            assert_eq!(k.as_str().parse::<Kind>(), Ok(k));
        }
        assert_eq!(Kind::from_tag(0), None);
        assert_eq!(Kind::from_tag(b'+'), None);
    }
}
