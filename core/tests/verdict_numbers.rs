//! Verdicts for two kinds of numbers the list itself does not decide: numbers from unallocated
//! mobile ranges (a spoofed caller id) and the protected official hotlines.
#![allow(clippy::unwrap_used)]

use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::identifier::normalize;
use fraudshield_core::kind::Kind;
use fraudshield_core::store::{Store, StoreOptions};
use fraudshield_core::verdict::{Action, Direction, Policy, Source};

const IN: Direction = Direction::Incoming;
const OUT: Direction = Direction::Outgoing;

fn open(dir: &std::path::Path, policy: Policy) -> Store {
    Store::open(
        dir,
        StoreOptions {
            auto_compact_overlay_len: None,
            policy,
            ..StoreOptions::default()
        },
    )
    .unwrap()
}

fn high(prefix: bool) -> EntryValue {
    EntryValue {
        category: Category::PoliceImpersonation,
        risk: Risk::High,
        reports: ReportBucket::from_count(50),
        prefix,
    }
}

#[test]
fn an_unallocated_range_is_looked_up_and_its_verdict_says_so() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), Policy::default());
    // Spelled as a caller id or a typist would: each normalizes, none is an error.
    for raw in ["143 1234 5678", "+86 160 1234 5678", "0086 19412345678"] {
        let id = normalize(Kind::Phone, raw).unwrap();
        let v = s.check(&id, IN);
        assert_eq!(
            (v.action, v.source),
            (Action::Warn, Source::UnallocatedRange)
        );
        assert_eq!((v.category, v.risk, v.reports), (None, None, None));
        // Dialling one is allowed by default: the call cannot connect.
        let v = s.check(&id, OUT);
        assert_eq!(
            (v.action, v.source),
            (Action::Allow, Source::UnallocatedRange)
        );
    }
    // An allocated number on no list is simply allowed.
    let v = s.check(&normalize(Kind::Phone, "13800138000").unwrap(), IN);
    assert_eq!((v.action, v.source), (Action::Allow, Source::None));
    // Other kinds with the same digits are not phone numbers.
    let v = s.check(&normalize(Kind::Qq, "14312345678").unwrap(), IN);
    assert_eq!(v.source, Source::None);
}

#[test]
fn list_entries_decide_before_the_unallocated_range() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), Policy::default());
    let exact = normalize(Kind::Phone, "16012345678").unwrap();
    let ruled = normalize(Kind::Phone, "19412345678").unwrap();
    let allowed = normalize(Kind::Phone, "14312345678").unwrap();
    s.apply(
        &[
            Change::Upsert(exact.key(), high(false)),
            Change::Upsert(
                fraudshield_core::key::Key::new(Kind::Phone, "+86194"),
                high(true),
            ),
        ],
        1,
    )
    .unwrap();
    s.allow_user(&allowed).unwrap();
    let v = s.check(&exact, IN);
    assert_eq!((v.action, v.source), (Action::Block, Source::Exact));
    assert_eq!(v.category, Some(Category::PoliceImpersonation));
    assert_eq!(s.check(&ruled, IN).source, Source::Prefix);
    let v = s.check(&allowed, IN);
    assert_eq!((v.action, v.source), (Action::Allow, Source::UserAllow));
}

#[test]
fn the_policy_decides_what_an_unallocated_range_does() {
    let dir = tempfile::tempdir().unwrap();
    let lenient = Policy {
        unallocated_incoming: Action::Allow,
        ..Policy::default()
    };
    let s = open(dir.path(), lenient);
    let id = normalize(Kind::Phone, "16012345678").unwrap();
    let v = s.check(&id, IN);
    assert_eq!(
        (v.action, v.source),
        (Action::Allow, Source::UnallocatedRange)
    );
    let strict = Policy {
        unallocated_incoming: Action::Block,
        unallocated_outgoing: Action::Block,
        ..Policy::default()
    };
    s.set_policy(strict).unwrap();
    assert_eq!(s.check(&id, IN).action, Action::Block);
    // An outgoing call is never blocked, whatever the policy says.
    assert_eq!(s.check(&id, OUT).action, Action::Warn);
}

/// The official hotlines, named here rather than read from the built-in list, so that losing
/// one from the list fails this test.
const HOTLINES: [&str; 11] = [
    "110", "112", "119", "120", "122", "96110", "12110", "12315", "12321", "12345", "12381",
];

#[test]
fn neither_an_update_nor_the_user_block_list_can_block_a_hotline() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path(), Policy::default());
    let ids: Vec<_> = HOTLINES
        .iter()
        .map(|n| normalize(Kind::Phone, n).unwrap())
        .collect();
    // A list update flags every one of them high-risk, and the user blocks them all.
    let changes: Vec<Change> = ids
        .iter()
        .map(|id| Change::Upsert(id.key(), high(false)))
        .collect();
    s.apply(&changes, 1).unwrap();
    for id in &ids {
        s.block_user(id).unwrap();
    }
    for id in &ids {
        for d in [IN, OUT] {
            let v = s.check(id, d);
            assert_eq!((v.action, v.source), (Action::Allow, Source::Protected));
        }
    }
    // A built-in hotline cannot be unprotected either.
    assert!(s.remove_protected(&ids[9]).is_err());
    // Caller ids with the country code are the same numbers.
    let v = s.check(&normalize(Kind::Phone, "+86 12345").unwrap(), IN);
    assert_eq!(v.source, Source::Protected);
}
