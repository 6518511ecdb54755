//! The store's behaviour through its public API: precedence, prefix rules, persistence, full
//! snapshots, compaction, user lists, the Call Directory feeds.
#![allow(clippy::unwrap_used)]

use fraudshield_core::digest::LtHash;
use fraudshield_core::entry::{Category, Change, EntryValue, ReportBucket, Risk};
use fraudshield_core::identifier::normalize;
use fraudshield_core::key::Key;
use fraudshield_core::kind::Kind;
use fraudshield_core::store::{CallDirectoryChanges, Store, StoreError, StoreOptions};
use fraudshield_core::verdict::{Action, Direction, Source};

const IN: Direction = Direction::Incoming;
const OUT: Direction = Direction::Outgoing;

fn phone(c: &str) -> Key {
    Key::new(Kind::Phone, c)
}

fn val(category: Category, risk: Risk, prefix: bool) -> EntryValue {
    EntryValue {
        category,
        risk,
        reports: ReportBucket::from_count(5),
        prefix,
    }
}

fn exact(risk: Risk) -> EntryValue {
    val(Category::Investment, risk, false)
}

fn rule(risk: Risk) -> EntryValue {
    val(Category::Loan, risk, true)
}

fn open(dir: &std::path::Path) -> Store {
    Store::open(
        dir,
        StoreOptions {
            auto_compact_overlay_len: None,
            ..StoreOptions::default()
        },
    )
    .unwrap()
}

#[test]
fn a_fresh_store_is_empty_and_allows_everything() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let st = s.status();
    assert_eq!((st.entries, st.list_version, st.overlay_len), (0, 0, 0));
    assert_eq!(st.digest, LtHash::new().digest());
    let v = s.check_key(&phone("+8613800138000"), IN);
    assert_eq!((v.action, v.source), (Action::Allow, Source::None));
    assert_eq!(v.category, None);
    s.verify().unwrap();
}

#[test]
fn exact_beats_prefix_and_longest_prefix_wins() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.apply(
        &[
            Change::Upsert(phone("+86170"), rule(Risk::Medium)),
            Change::Upsert(phone("+861701"), rule(Risk::High)),
            Change::Upsert(phone("+8617012345678"), exact(Risk::High)),
        ],
        1,
    )
    .unwrap();
    let v = s.check_key(&phone("+8617012345678"), IN);
    assert_eq!((v.source, v.action), (Source::Exact, Action::Block));
    assert_eq!(v.category, Some(Category::Investment));
    assert_eq!(v.list_version, 1);
    // Longest flagged prefix: +861701 (high → warn under the default policy).
    let v = s.check_key(&phone("+8617019999999"), IN);
    assert_eq!((v.source, v.risk), (Source::Prefix, Some(Risk::High)));
    assert_eq!(v.action, Action::Warn);
    let v = s.check_key(&phone("+8617029999999"), IN);
    assert_eq!((v.source, v.risk), (Source::Prefix, Some(Risk::Medium)));
    assert_eq!(
        s.check_key(&phone("+8617129999999"), IN).source,
        Source::None
    );
    // Kinds never mix: a QQ number with the same digits is not covered by a phone prefix.
    assert_eq!(
        s.check_key(&Key::new(Kind::Qq, "+86170123"), IN).source,
        Source::None
    );
    // After compaction (prefix rules now in the base FST) the answers are the same.
    let digest = s.digest();
    s.compact().unwrap();
    assert_eq!(s.digest(), digest);
    assert_eq!(s.status().overlay_len, 0);
    assert_eq!(
        s.check_key(&phone("+8617019999999"), IN).risk,
        Some(Risk::High)
    );
    assert_eq!(
        s.check_key(&phone("+8617012345678"), IN).source,
        Source::Exact
    );
    s.verify().unwrap();
}

#[test]
fn removing_replacing_and_re_adding_keys_in_base_and_overlay() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.apply(
        &[
            Change::Upsert(phone("+86170"), rule(Risk::High)),
            Change::Upsert(phone("+8613800138000"), exact(Risk::Low)),
        ],
        1,
    )
    .unwrap();
    s.compact().unwrap(); // both now in the base
    // Remove a key that exists only as a prefix rule.
    s.apply(&[Change::Remove(phone("+86170"))], 2).unwrap();
    assert_eq!(
        s.check_key(&phone("+8617012345678"), IN).source,
        Source::None
    );
    assert_eq!(s.status().entries, 1);
    // Replace a base value in the overlay.
    s.apply(
        &[Change::Upsert(phone("+8613800138000"), exact(Risk::High))],
        3,
    )
    .unwrap();
    assert_eq!(
        s.check_key(&phone("+8613800138000"), IN).action,
        Action::Block
    );
    // Re-add the removed rule; turn the exact entry into a prefix rule and back.
    s.apply(
        &[
            Change::Upsert(phone("+86170"), rule(Risk::Medium)),
            Change::Upsert(phone("+8613800138000"), rule(Risk::High)),
        ],
        4,
    )
    .unwrap();
    let v = s.check_key(&phone("+8617012345678"), IN);
    assert_eq!((v.source, v.risk), (Source::Prefix, Some(Risk::Medium)));
    let v = s.check_key(&phone("+8613800138000"), IN);
    assert_eq!(v.source, Source::Prefix);
    // Setting a value back to what the base holds drops it from the overlay.
    s.apply(
        &[
            Change::Upsert(phone("+8613800138000"), exact(Risk::Low)),
            Change::Upsert(phone("+86170"), rule(Risk::High)),
        ],
        5,
    )
    .unwrap();
    assert_eq!(s.status().overlay_len, 0);
    // Removing an absent key and upserting the same value are no-ops.
    let staged = s
        .stage(&[
            Change::Remove(phone("+999")),
            Change::Upsert(phone("+86170"), rule(Risk::High)),
        ])
        .unwrap();
    assert_eq!(staged.changed(), 0);
    assert_eq!(staged.digest(), s.digest());
    // Within one batch the last change to a key wins.
    let staged = s
        .stage(&[
            Change::Upsert(Key::new(Kind::Bank, "622202123456789"), exact(Risk::High)),
            Change::Remove(Key::new(Kind::Bank, "622202123456789")),
        ])
        .unwrap();
    assert_eq!(staged.changed(), 0);
    s.verify().unwrap();
}

#[test]
fn digest_follows_the_list_and_matches_a_from_scratch_hash() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let a = (phone("+8613800138000"), exact(Risk::High));
    let b = (Key::new(Kind::Qq, "12345678"), exact(Risk::Low));
    s.apply(
        &[
            Change::Upsert(a.0.clone(), a.1),
            Change::Upsert(b.0.clone(), b.1),
        ],
        7,
    )
    .unwrap();
    let full = LtHash::of_entries([(a.0.as_bytes(), a.1.pack()), (b.0.as_bytes(), b.1.pack())]);
    assert_eq!(s.digest(), full.digest());
    assert_eq!(s.status().entries, 2);
}

#[test]
fn protected_numbers_are_never_blocked_even_if_listed() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let mut changes = Vec::new();
    for c in ["110", "119", "120", "122", "112", "96110"] {
        changes.push(Change::Upsert(phone(c), exact(Risk::High)));
        // Whatever canonical form the normalizer gives them, too.
        changes.push(Change::Upsert(
            normalize(Kind::Phone, c).unwrap().key(),
            exact(Risk::High),
        ));
    }
    s.apply(&changes, 1).unwrap();
    s.block_user(&normalize(Kind::Phone, "110").unwrap())
        .unwrap();
    for c in ["110", "119", "120", "122", "112", "96110"] {
        let v = s.check_key(&phone(c), IN);
        assert_eq!((v.action, v.source), (Action::Allow, Source::Protected));
        let v = s.check(&normalize(Kind::Phone, c).unwrap(), IN);
        assert_eq!((v.action, v.source), (Action::Allow, Source::Protected));
    }
    // Built-ins cannot be removed; app-added ones can.
    let id110 = normalize(Kind::Phone, "110").unwrap();
    assert!(matches!(
        s.remove_protected(&id110),
        Err(StoreError::BuiltinProtected)
    ));
    let bank = normalize(Kind::Phone, "+86 138 0013 8000").unwrap();
    s.apply(&[Change::Upsert(bank.key(), exact(Risk::High))], 2)
        .unwrap();
    assert_eq!(s.check(&bank, IN).action, Action::Block);
    s.add_protected(&bank).unwrap();
    assert_eq!(s.check(&bank, IN).source, Source::Protected);
    drop(s);
    let s = open(dir.path());
    assert_eq!(s.check(&bank, IN).source, Source::Protected);
    assert!(s.remove_protected(&bank).unwrap());
    assert_eq!(s.check(&bank, IN).source, Source::Exact);
}

#[test]
fn user_lists_take_precedence_over_the_blocklist() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let listed = normalize(Kind::Phone, "13800138000").unwrap();
    let unlisted = normalize(Kind::Phone, "13900139000").unwrap();
    s.apply(&[Change::Upsert(listed.key(), exact(Risk::High))], 1)
        .unwrap();
    s.allow_user(&listed).unwrap();
    let v = s.check(&listed, IN);
    assert_eq!((v.action, v.source), (Action::Allow, Source::UserAllow));
    s.block_user(&unlisted).unwrap();
    let v = s.check(&unlisted, IN);
    assert_eq!((v.action, v.source), (Action::Block, Source::UserBlock));
    // Outgoing: the user's own block list warns, never drops the call.
    assert_eq!(s.check(&unlisted, OUT).action, Action::Warn);
    assert_eq!(s.status().user_allowed, 1);
    assert_eq!(s.status().user_blocked, 1);
    drop(s);
    let s = open(dir.path());
    assert_eq!(s.check(&listed, IN).source, Source::UserAllow);
    assert!(s.remove_user_entry(&listed).unwrap());
    assert!(!s.remove_user_entry(&listed).unwrap());
    assert_eq!(s.check(&listed, IN).source, Source::Exact);
}

#[test]
fn outgoing_calls_to_flagged_numbers_warn() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let id = normalize(Kind::Phone, "+8613800138000").unwrap();
    s.apply(&[Change::Upsert(id.key(), exact(Risk::High))], 1)
        .unwrap();
    assert_eq!(s.check(&id, IN).action, Action::Block);
    let v = s.check(&id, OUT);
    assert_eq!((v.action, v.source), (Action::Warn, Source::Exact));
    assert_eq!(
        s.check_raw(Kind::Phone, "+86 138 0013 8000", OUT)
            .unwrap()
            .action,
        Action::Warn
    );
    assert!(s.check_raw(Kind::Phone, "", IN).is_err());
}

#[test]
fn policy_is_configurable() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let id = normalize(Kind::Phone, "+8613800138000").unwrap();
    s.apply(&[Change::Upsert(id.key(), exact(Risk::Medium))], 1)
        .unwrap();
    assert_eq!(s.check(&id, IN).action, Action::Warn);
    let mut strict = fraudshield_core::verdict::Policy::default();
    strict.exact_incoming.medium = Action::Block;
    s.set_policy(strict).unwrap();
    assert_eq!(s.check(&id, IN).action, Action::Block);
    assert_eq!(s.check(&id, OUT).action, Action::Warn);
}

#[test]
fn state_survives_reopen_and_the_directory_is_locked_while_open() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    assert!(matches!(
        Store::open(dir.path(), StoreOptions::default()),
        Err(StoreError::Locked)
    ));
    s.apply(
        &[
            Change::Upsert(phone("+86170"), rule(Risk::High)),
            Change::Upsert(phone("+8613800138000"), exact(Risk::High)),
        ],
        3,
    )
    .unwrap();
    s.compact().unwrap();
    s.apply(&[Change::Remove(phone("+8613800138000"))], 4)
        .unwrap();
    let digest = s.digest();
    drop(s);
    let s = open(dir.path());
    assert_eq!(s.list_version(), 4);
    assert_eq!(s.digest(), digest);
    assert_eq!(s.status().entries, 1);
    assert_eq!(
        s.check_key(&phone("+8613800138000"), IN).source,
        Source::None
    );
    assert_eq!(
        s.check_key(&phone("+8617000000000"), IN).source,
        Source::Prefix
    );
    s.verify().unwrap();
    // Only one base file is left, and no temp files.
    let names: Vec<String> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.starts_with("base-"))
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
}

#[test]
fn invalid_changes_are_rejected_without_effect() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let err = s
        .apply(
            &[
                Change::Upsert(phone("+8613800138000"), exact(Risk::High)),
                Change::Upsert(Key::new(Kind::Qq, "12345"), rule(Risk::High)),
            ],
            1,
        )
        .unwrap_err();
    assert!(matches!(err, StoreError::InvalidChange { index: 1, .. }));
    assert_eq!(s.status().entries, 0);
    assert_eq!(s.list_version(), 0);
    // Error messages never carry the identifier.
    assert!(!err.to_string().contains("12345"));
}

#[test]
fn commit_refuses_a_batch_staged_on_an_older_state() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let staged = s
        .stage(&[Change::Upsert(phone("+8613800138000"), exact(Risk::High))])
        .unwrap();
    s.apply(
        &[Change::Upsert(phone("+8613900139000"), exact(Risk::Low))],
        1,
    )
    .unwrap();
    assert!(matches!(
        s.commit(staged, 2, &[]),
        Err(StoreError::Conflict)
    ));
    assert_eq!(s.list_version(), 1);
    let staged = s
        .stage(&[Change::Upsert(phone("+8613800138000"), exact(Risk::High))])
        .unwrap();
    let expect = staged.digest();
    s.commit(staged, 2, &[("floor", b"2".as_slice())]).unwrap();
    assert_eq!(s.digest(), expect);
    assert_eq!(s.meta("floor").unwrap(), Some(b"2".to_vec()));
    assert_eq!(s.meta("absent").unwrap(), None);
}

#[test]
fn install_snapshot_checks_order_and_digest_before_going_live() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.apply(
        &[Change::Upsert(phone("+8613800138000"), exact(Risk::High))],
        1,
    )
    .unwrap();
    let before = s.digest();
    let entries = vec![
        (phone("+86170"), rule(Risk::High)),
        (phone("+8613900139000"), exact(Risk::Medium)),
        (Key::new(Kind::Qq, "87654321"), exact(Risk::Low)),
    ];
    // Unsorted: typed error, nothing changes.
    let mut unsorted = entries.clone();
    unsorted.sort_by(|a, b| b.0.cmp(&a.0));
    assert!(matches!(
        s.install_snapshot(unsorted, 9, None, &[]),
        Err(StoreError::Snapshot(_))
    ));
    let mut sorted = entries.clone();
    sorted.sort_by(|a, b| a.0.cmp(&b.0));
    // Wrong expected digest: typed error, old state untouched, no file left behind.
    let err = s
        .install_snapshot(sorted.clone(), 9, Some(before), &[])
        .unwrap_err();
    assert!(matches!(err, StoreError::DigestMismatch { .. }));
    assert_eq!((s.digest(), s.list_version()), (before, 1));
    assert_eq!(
        s.check_key(&phone("+8613800138000"), IN).source,
        Source::Exact
    );
    let expected =
        LtHash::of_entries(sorted.iter().map(|(k, v)| (k.as_bytes(), v.pack()))).digest();
    s.install_snapshot(sorted, 9, Some(expected), &[("etag", b"x".as_slice())])
        .unwrap();
    assert_eq!((s.digest(), s.list_version()), (expected, 9));
    assert_eq!(s.status().entries, 3);
    assert_eq!(
        s.check_key(&phone("+8613800138000"), IN).source,
        Source::None
    );
    assert_eq!(
        s.check_key(&phone("+8617000000000"), IN).source,
        Source::Prefix
    );
    assert_eq!(s.meta("etag").unwrap(), Some(b"x".to_vec()));
    s.verify().unwrap();
    let tmp_files = std::fs::read_dir(dir.path())
        .unwrap()
        .filter(|e| {
            e.as_ref()
                .unwrap()
                .file_name()
                .to_string_lossy()
                .ends_with(".tmp")
        })
        .count();
    assert_eq!(tmp_files, 0);
}

#[test]
fn call_directory_gets_ascending_numbers_and_incremental_changes() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let mut entries = vec![
        (phone("+12025550100"), exact(Risk::High)),
        (phone("+639171234567"), exact(Risk::Medium)),
        (phone("+86170"), rule(Risk::High)),
        (phone("+8613800138000"), exact(Risk::High)),
        (phone("+8613800138001"), exact(Risk::Low)),
        (phone("+97150123456"), exact(Risk::High)),
        (phone("95588"), exact(Risk::High)),
        (Key::new(Kind::Qq, "12345678"), exact(Risk::High)),
    ];
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    s.install_snapshot(entries, 5, None, &[]).unwrap();
    s.allow_user(&normalize(Kind::Phone, "+8613800138001").unwrap())
        .unwrap();
    s.block_user(&normalize(Kind::Phone, "+8613900139000").unwrap())
        .unwrap();
    let got: Vec<(u64, Action)> = s
        .phone_numbers_ascending()
        .map(|(n, v)| (n, v.action))
        .collect();
    assert_eq!(
        got,
        vec![
            (12025550100, Action::Block),
            (97150123456, Action::Block),
            (639171234567, Action::Warn),
            (8613800138000, Action::Block),
            (8613900139000, Action::Block),
        ]
    );
    assert_eq!(s.changes_since(4).unwrap(), CallDirectoryChanges::Reload);
    assert_eq!(
        s.changes_since(5).unwrap(),
        CallDirectoryChanges::Incremental(vec![])
    );
    s.apply(
        &[
            Change::Remove(phone("+8613800138000")),
            Change::Upsert(phone("+8613700137000"), exact(Risk::High)),
            Change::Upsert(phone("+8617000000001"), exact(Risk::Low)),
        ],
        6,
    )
    .unwrap();
    let CallDirectoryChanges::Incremental(changes) = s.changes_since(5).unwrap() else {
        panic!("expected incremental changes");
    };
    let summary: Vec<(u64, Option<Action>)> = changes
        .iter()
        .map(|(n, v)| (*n, v.map(|v| v.action)))
        .collect();
    assert_eq!(
        summary,
        vec![
            (8613700137000, Some(Action::Block)),
            (8613800138000, None),
            (8617000000001, Some(Action::Warn)),
        ]
    );
    // Compaction does not lose the log.
    s.compact().unwrap();
    assert!(matches!(
        s.changes_since(5).unwrap(),
        CallDirectoryChanges::Incremental(c) if c.len() == 3
    ));
}

#[test]
fn many_numbers_come_out_sorted_across_batches() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    // 15k numbers of three lengths: more than one internal batch (4096 keys) per length.
    let mut entries: Vec<(Key, EntryValue)> = (0..15_000u64)
        .map(|i| {
            let c = match i % 3 {
                0 => format!("+86138{:08}", i),
                1 => format!("+8610{:08}", i),
                _ => format!("+63917{:07}", i),
            };
            (phone(&c), exact(Risk::High))
        })
        .collect();
    entries.sort_by(|a, b| a.0.cmp(&b.0));
    s.install_snapshot(entries, 1, None, &[]).unwrap();
    s.apply(
        &[Change::Upsert(phone("+8613900000000"), exact(Risk::High))],
        2,
    )
    .unwrap();
    let nums: Vec<u64> = s.phone_numbers_ascending().map(|(n, _)| n).collect();
    assert_eq!(nums.len(), 15_001);
    assert!(nums.windows(2).all(|w| w[0] < w[1]));
}

#[test]
fn check_text_checks_every_finding_against_one_state() {
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    let text = "请拨打 13800138000 或加QQ 87654321";
    s.apply(
        &[
            Change::Upsert(
                normalize(Kind::Phone, "13800138000").unwrap().key(),
                exact(Risk::High),
            ),
            Change::Upsert(
                normalize(Kind::Qq, "87654321").unwrap().key(),
                exact(Risk::High),
            ),
        ],
        1,
    )
    .unwrap();
    let results = s.check_text(text);
    assert_eq!(results.len(), fraudshield_core::scan::scan_text(text).len());
    for (finding, verdict) in results {
        assert_eq!(verdict, s.check(&finding.identifier, IN));
        assert!(text.get(finding.span.clone()).is_some());
    }
}

#[test]
fn a_bulk_batch_is_not_logged_and_forces_a_call_directory_reload() {
    use fraudshield_core::store::CHANGE_LOG_MAX_BATCH;
    let dir = tempfile::tempdir().unwrap();
    let s = open(dir.path());
    s.apply(
        &[Change::Upsert(phone("+8613800138000"), exact(Risk::High))],
        1,
    )
    .unwrap();
    let bulk: Vec<Change> = (0..=CHANGE_LOG_MAX_BATCH as u64)
        .map(|i| Change::Upsert(phone(&format!("+86150{i:08}")), exact(Risk::High)))
        .collect();
    s.apply(&bulk, 2).unwrap();
    assert_eq!(s.changes_since(1).unwrap(), CallDirectoryChanges::Reload);
    assert_eq!(
        s.changes_since(2).unwrap(),
        CallDirectoryChanges::Incremental(vec![])
    );
    s.apply(&[Change::Remove(phone("+8613800138000"))], 3)
        .unwrap();
    assert!(matches!(
        s.changes_since(2).unwrap(),
        CallDirectoryChanges::Incremental(c) if c == vec![(8613800138000, None)]
    ));
}
