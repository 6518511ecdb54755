//! The numbers no update and no user list can block: emergency lines and the official
//! government hotlines a fraud victim must always be able to reach or be reached from.
//!
//! Scammers impersonate the police, the market regulator and the citizen hotline, so these
//! numbers appear in citizens' tips and case data; a list that blocked one of them would cut a
//! victim off from help, or silence the police calling to stop a transfer (96110). Every
//! lookup checks [`BUILTIN_PROTECTED`] first ([`crate::verdict`]: protected numbers are always
//! allowed) and the store keeps them whatever a signed update or the user's block list says.
//! An app adds its own (its bank's hotline) with `Store::add_protected`.
//!
//! Each number is listed in canonical form (short and service numbers stay bare, see
//! [`crate::identifier::phone`]) with the official source that assigns it. The review against
//! the official hotlines was done for this list; numbers that are not national (local 96xxx
//! lines, carrier and bank 95xxx lines) are left to the app, which knows its users' region
//! and bank.
//!
//! ```
//! use fraudshield_core::identifier::normalize;
//! use fraudshield_core::kind::Kind;
//! use fraudshield_core::protected::BUILTIN_PROTECTED;
//!
//! assert!(BUILTIN_PROTECTED.contains(&"12345"));
//! // Every entry is its own canonical form, so the lookup key is exact.
//! for n in BUILTIN_PROTECTED {
//!     assert_eq!(normalize(Kind::Phone, n).unwrap().canonical(), n);
//! }
//! ```

/// Phone numbers no update or user list can block, in canonical form. Sources, one per number:
pub const BUILTIN_PROTECTED: [&str; 12] = [
    // Police emergency (公安报警). A special-service number of the national numbering plan,
    // MIIT 《电信网编号计划（2017年版）》; MPS 《110接处警工作规则》.
    "110",
    // Fire and rescue (火警). A special-service number of MIIT's
    // 《电信网编号计划（2017年版）》, answered by the fire and rescue service (国家消防救援局).
    "119",
    // Medical emergency (医疗急救). National Health Commission 《院前医疗急救管理办法》
    // (2013, 原国家卫生计生委令第3号), which makes 120 the national pre-hospital emergency
    // number; also a special-service number of MIIT's numbering plan.
    "120",
    // Road traffic accidents (交通事故报警). MPS Traffic Management Bureau; MIIT
    // 《电信网编号计划（2017年版）》.
    "122",
    // The GSM/3GPP emergency number (3GPP TS 22.101, emergency calls): Chinese networks route
    // it to the local emergency centre, and a phone dials it without a SIM.
    "112",
    // The police anti-fraud warning line (反诈预警劝阻专线), nationwide since 2019-2020, MPS
    // Criminal Investigation Bureau (公安部刑侦局): the police call victims from it to stop a
    // transfer; "96110来电一定要接听".
    "96110",
    // SMS alarm to the police (公安短信报警), MPS: for people who cannot speak on a call.
    "12110",
    // Consumer complaints and market-regulation reports (全国12315平台), State Administration
    // for Market Regulation, 《市场监督管理投诉举报处理暂行办法》 (2019, 总局令第20号).
    "12315",
    // Reports of spam, fraud calls and harmful information (网络不良与垃圾信息举报受理中心),
    // MIIT, operated by the Internet Society of China; merged into 12381 in September 2020 as
    // a voice line, still the SMS short code for reporting spam and fraud messages.
    "12321",
    // The citizen hotline (政务服务便民热线), State Council General Office
    // 《关于进一步优化地方政务服务便民热线的指导意见》 (国办发〔2020〕53号): every local
    // government hotline except 110, 119, 120 and 122 is merged into 12345.
    "12345",
    // MIIT public service line and, since 14 July 2021, the MIIT and MPS fraud early-warning
    // SMS port (12381涉诈预警劝阻短信系统): a message from 12381 tells a user they are being
    // defrauded.
    "12381",
    // Directory enquiries (号码百事通), a special-service number of MIIT's
    // 《电信网编号计划（2017年版）》; people call it to check whether a number is genuine.
    "114",
];

#[cfg(test)]
mod tests {
    use super::*;
    use crate::identifier::phone::{PhoneClass, normalize};

    #[test]
    fn every_protected_number_is_a_canonical_short_number() {
        for n in BUILTIN_PROTECTED {
            let p = normalize(n).unwrap_or_else(|e| panic!("{n}: {e}"));
            assert_eq!((p.canonical.as_str(), p.class), (n, PhoneClass::Short));
            // A caller id written with the country code is the same number.
            let p = normalize(&format!("+86 {n}")).unwrap_or_else(|e| panic!("{n}: {e}"));
            assert_eq!(p.canonical, n);
        }
    }

    #[test]
    fn the_list_has_no_duplicates() {
        let mut sorted = BUILTIN_PROTECTED.to_vec();
        sorted.sort_unstable();
        sorted.dedup();
        assert_eq!(sorted.len(), BUILTIN_PROTECTED.len());
    }
}
