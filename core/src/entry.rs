//! Blocklist entries: the small packed value stored under each key, and changes to the list.
//!
//! ## Value bit layout (format version 1)
//!
//! An entry's value is a `u64` in the FST, kept below 2^10 so that values compress well (value
//! entropy costs index size; provenance stays on the server):
//!
//! | bits | field | values |
//! |---|---|---|
//! | 0–1 | [`Risk`] | 1 low, 2 medium, 3 high (0 is invalid) |
//! | 2–5 | [`Category`] | see [`Category::code`]; codes not known to this build read as `Other` |
//! | 6–8 | [`ReportBucket`] | 0–7, a log-scale bucket of citizen reports |
//! | 9 | prefix rule | 1: the key flags every number that starts with it |
//! | 10–63 | reserved | must be 0 |

use crate::key::Key;
use std::fmt;

/// The version of the value bit layout above. Stored in snapshot headers and wire artifacts.
pub const VALUE_FORMAT_VERSION: u8 = 1;

/// The kind of fraud an entry was reported for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "snake_case"))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Category {
    /// Anything not covered below, or a category newer than this build.
    Other,
    /// Impersonating police, prosecutors or courts (冒充公检法).
    PoliceImpersonation,
    /// Fake customer service of a shop, platform or courier (冒充客服).
    CustomerService,
    /// Fake refunds and compensation (退款理赔).
    Refund,
    /// Fake investment and trading platforms (投资理财).
    Investment,
    /// Fake loans and credit repair (贷款).
    Loan,
    /// Romance and "pig butchering" scams (杀猪盘).
    Romance,
    /// Fake jobs and click-farming (刷单兼职).
    Job,
}

impl Category {
    /// Every category, in code order.
    pub const ALL: [Category; 8] = [
        Category::Other,
        Category::PoliceImpersonation,
        Category::CustomerService,
        Category::Refund,
        Category::Investment,
        Category::Loan,
        Category::Romance,
        Category::Job,
    ];

    /// The 4-bit code stored in values. Codes are part of the formats and never change meaning.
    pub const fn code(self) -> u8 {
        match self {
            Category::Other => 0,
            Category::PoliceImpersonation => 1,
            Category::CustomerService => 2,
            Category::Refund => 3,
            Category::Investment => 4,
            Category::Loan => 5,
            Category::Romance => 6,
            Category::Job => 7,
        }
    }

    /// The category for a code; codes this build does not know read as [`Category::Other`], so
    /// an older app keeps working when the server adds a category.
    pub const fn from_code(code: u8) -> Category {
        match code {
            1 => Category::PoliceImpersonation,
            2 => Category::CustomerService,
            3 => Category::Refund,
            4 => Category::Investment,
            5 => Category::Loan,
            6 => Category::Romance,
            7 => Category::Job,
            _ => Category::Other,
        }
    }

    /// The snake_case name used in CSV, JSON and the CLI, e.g. `police_impersonation`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Category::Other => "other",
            Category::PoliceImpersonation => "police_impersonation",
            Category::CustomerService => "customer_service",
            Category::Refund => "refund",
            Category::Investment => "investment",
            Category::Loan => "loan",
            Category::Romance => "romance",
            Category::Job => "job",
        }
    }
}

impl fmt::Display for Category {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Category {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Category::ALL
            .into_iter()
            .find(|c| c.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(ValueError::UnknownCategoryName)
    }
}

/// How sure the police are that an entry is fraud, and so how hard the phone reacts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
#[cfg_attr(feature = "serde", serde(rename_all = "lowercase"))]
#[cfg_attr(feature = "uniffi", derive(uniffi::Enum))]
pub enum Risk {
    /// Reported, not confirmed.
    Low,
    /// Several independent reports or an analyst's judgement.
    Medium,
    /// Confirmed in a case.
    High,
}

impl Risk {
    /// Every risk level, lowest first.
    pub const ALL: [Risk; 3] = [Risk::Low, Risk::Medium, Risk::High];

    /// The 2-bit code stored in values (1–3).
    pub const fn code(self) -> u8 {
        match self {
            Risk::Low => 1,
            Risk::Medium => 2,
            Risk::High => 3,
        }
    }

    /// The risk for a code, or `None` for 0 (invalid).
    pub const fn from_code(code: u8) -> Option<Risk> {
        match code {
            1 => Some(Risk::Low),
            2 => Some(Risk::Medium),
            3 => Some(Risk::High),
            _ => None,
        }
    }

    /// `low`, `medium` or `high`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Risk::Low => "low",
            Risk::Medium => "medium",
            Risk::High => "high",
        }
    }
}

impl fmt::Display for Risk {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl std::str::FromStr for Risk {
    type Err = ValueError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Risk::ALL
            .into_iter()
            .find(|r| r.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or(ValueError::UnknownRiskName)
    }
}

/// How many citizens reported an entry, as a log-scale bucket (exact counts stay on the server).
///
/// | bucket | reports |
/// |---|---|
/// | 0 | none (from case data) |
/// | 1 | 1 |
/// | 2 | 2–4 |
/// | 3 | 5–9 |
/// | 4 | 10–49 |
/// | 5 | 50–199 |
/// | 6 | 200–999 |
/// | 7 | 1000 or more |
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct ReportBucket(u8);

// Across the FFI a bucket is its number, 0–7 (Kotlin `UByte`, Swift `UInt8`); an out-of-range
// number from the host is refused.
#[cfg(feature = "uniffi")]
uniffi::custom_type!(ReportBucket, u8, {
    lower: |bucket| bucket.get(),
    try_lift: |n| ReportBucket::new(n).ok_or_else(|| uniffi::deps::anyhow::anyhow!("report bucket above 7")),
});

impl ReportBucket {
    const LOWER_BOUNDS: [u32; 8] = [0, 1, 2, 5, 10, 50, 200, 1000];

    /// The bucket a report count falls in.
    ///
    /// ```
    /// use fraudshield_core::entry::ReportBucket;
    /// assert_eq!(ReportBucket::from_count(0).get(), 0);
    /// assert_eq!(ReportBucket::from_count(7).get(), 3);
    /// assert_eq!(ReportBucket::from_count(5000).min_reports(), 1000);
    /// ```
    pub fn from_count(count: u32) -> ReportBucket {
        let b = Self::LOWER_BOUNDS
            .iter()
            .rposition(|&lo| count >= lo)
            .unwrap_or(0);
        ReportBucket(b as u8)
    }

    /// A bucket from its number, or `None` above 7.
    pub const fn new(bucket: u8) -> Option<ReportBucket> {
        if bucket <= 7 {
            Some(ReportBucket(bucket))
        } else {
            None
        }
    }

    /// The bucket number, 0–7.
    pub const fn get(self) -> u8 {
        self.0
    }

    /// The smallest report count in this bucket.
    pub fn min_reports(self) -> u32 {
        Self::LOWER_BOUNDS[self.0 as usize]
    }
}

/// What the blocklist says about one key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[cfg_attr(feature = "serde", derive(serde::Serialize, serde::Deserialize))]
pub struct EntryValue {
    /// The kind of fraud.
    pub category: Category,
    /// How sure the police are.
    pub risk: Risk,
    /// How many citizens reported it.
    pub reports: ReportBucket,
    /// The key is a prefix rule: it flags every phone number that starts with it.
    pub prefix: bool,
}

/// Why a packed value or a name could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ValueError {
    /// Bits 0–1 were 0.
    #[error("value has no risk level (bits 0-1 are 0)")]
    MissingRisk,
    /// Reserved bits were set: the value comes from a newer, incompatible format.
    #[error("value has reserved bits set ({value:#x}); newer format?")]
    ReservedBits {
        /// The whole packed value.
        value: u64,
    },
    /// A category name that is not one of [`Category::ALL`].
    #[error(
        "unknown category (expected one of: other, police_impersonation, customer_service, refund, investment, loan, romance, job)"
    )]
    UnknownCategoryName,
    /// A risk name that is not `low`, `medium` or `high`.
    #[error("unknown risk (expected one of: low, medium, high)")]
    UnknownRiskName,
}

impl EntryValue {
    /// Packs the value into its `u64` form (layout in the [module docs](self)).
    ///
    /// ```
    /// use fraudshield_core::entry::*;
    /// let v = EntryValue { category: Category::Loan, risk: Risk::High,
    ///                      reports: ReportBucket::from_count(12), prefix: false };
    /// assert_eq!(EntryValue::unpack(v.pack()), Ok(v));
    /// assert!(v.pack() < 1024);
    /// ```
    pub fn pack(&self) -> u64 {
        u64::from(self.risk.code())
            | u64::from(self.category.code()) << 2
            | u64::from(self.reports.get()) << 6
            | u64::from(self.prefix) << 9
    }

    /// Reads a packed value, rejecting reserved bits and a missing risk.
    pub fn unpack(value: u64) -> Result<EntryValue, ValueError> {
        if value >> 10 != 0 {
            return Err(ValueError::ReservedBits { value });
        }
        let risk = Risk::from_code((value & 0b11) as u8).ok_or(ValueError::MissingRisk)?;
        Ok(EntryValue {
            risk,
            category: Category::from_code(((value >> 2) & 0b1111) as u8),
            reports: ReportBucket(((value >> 6) & 0b111) as u8),
            prefix: (value >> 9) & 1 == 1,
        })
    }
}

/// One change to the blocklist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Change {
    /// Add the key, or replace its value.
    Upsert(Key, EntryValue),
    /// Take the key off the list (a revoked or expired entry).
    Remove(Key),
}

impl Change {
    /// The key this change touches.
    pub fn key(&self) -> &Key {
        match self {
            Change::Upsert(k, _) | Change::Remove(k) => k,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_value_round_trips() {
        for category in Category::ALL {
            for risk in Risk::ALL {
                for b in 0..8 {
                    for prefix in [false, true] {
                        let v = EntryValue {
                            category,
                            risk,
                            reports: ReportBucket::new(b).unwrap(),
                            prefix,
                        };
                        assert_eq!(EntryValue::unpack(v.pack()), Ok(v));
                    }
                }
            }
        }
    }

    #[test]
    fn bad_values_are_rejected() {
        assert_eq!(EntryValue::unpack(0), Err(ValueError::MissingRisk));
        assert_eq!(
            EntryValue::unpack(1 << 10 | 1),
            Err(ValueError::ReservedBits { value: 1 << 10 | 1 })
        );
        // An unknown category code (15) from a newer server reads as Other.
        assert_eq!(
            EntryValue::unpack(15 << 2 | 3).unwrap().category,
            Category::Other
        );
    }

    #[test]
    fn report_buckets_cover_every_count() {
        assert_eq!(ReportBucket::from_count(1).get(), 1);
        assert_eq!(ReportBucket::from_count(4).get(), 2);
        assert_eq!(ReportBucket::from_count(999).get(), 6);
        assert_eq!(ReportBucket::from_count(u32::MAX).get(), 7);
        assert_eq!(ReportBucket::new(8), None);
    }
}
