// A Call Directory extension: iOS asks it for blocking entries (rejected silently) and
// identification entries (a label under the caller's number). Both must be added in ascending
// number order; the SDK's cursor and change list already are.
//
// Full load: drain `callDirectoryEntries()` in batches, `block` verdicts as blocking entries and
// `warn` verdicts as labels. Incremental load (iOS 11+, `context.isIncremental`): apply
// `callDirectoryChanges(since:)`, the numbers changed since the version this extension last
// loaded; when the change log does not reach back that far the SDK says `.reload` and we load
// everything again. The loaded version is remembered only once iOS accepted the load.
import CallKit
import FraudShield
import Foundation

final class CallDirectoryHandler: CXCallDirectoryProvider {
    private let batchSize: UInt32 = 10_000
    private let loadedVersionKey = "callDirectory.loadedListVersion"
    private var defaults: UserDefaults { UserDefaults(suiteName: AppGroup.id)! }

    override func beginRequest(with context: CXCallDirectoryExtensionContext) {
        context.delegate = self
        let version: UInt64
        do {
            let shield = try AppGroup.openShield()
            if context.isIncremental, let since = defaults.object(forKey: loadedVersionKey) as? NSNumber {
                switch try shield.callDirectoryChanges(listVersion: since.uint64Value) {
                case let .incremental(listVersion, changes):
                    apply(changes, to: context)
                    version = listVersion
                case .reload:
                    context.removeAllBlockingEntries()
                    context.removeAllIdentificationEntries()
                    version = loadAll(from: shield.callDirectoryEntries(), into: context)
                }
            } else {
                version = loadAll(from: shield.callDirectoryEntries(), into: context)
            }
        } catch {
            context.cancelRequest(withError: error)
            return
        }
        context.completeRequest { [defaults, loadedVersionKey] expired in
            if !expired {
                defaults.set(NSNumber(value: version), forKey: loadedVersionKey)
            }
        }
    }

    /// Everything, ascending, in batches (memory stays flat whatever the list size).
    private func loadAll(from cursor: CallDirectoryCursor, into context: CXCallDirectoryExtensionContext) -> UInt64 {
        while true {
            let batch = cursor.nextBatch(max: batchSize)
            if batch.isEmpty { break }
            autoreleasepool {
                for entry in batch {
                    add(CXCallDirectoryPhoneNumber(clamping: entry.phoneNumber), entry.verdict, to: context)
                }
            }
        }
        return cursor.listVersion()
    }

    /// Changes since the last load: remove every changed number, then add the new entries in
    /// ascending order (a replaced entry is removed and added again).
    private func apply(_ changes: [CallDirectoryChange], to context: CXCallDirectoryExtensionContext) {
        for change in changes {
            let number = CXCallDirectoryPhoneNumber(clamping: change.phoneNumber)
            context.removeBlockingEntry(withPhoneNumber: number)
            context.removeIdentificationEntry(withPhoneNumber: number)
        }
        for change in changes {
            if let verdict = change.verdict {
                add(CXCallDirectoryPhoneNumber(clamping: change.phoneNumber), verdict, to: context)
            }
        }
    }

    private func add(_ number: CXCallDirectoryPhoneNumber, _ verdict: Verdict, to context: CXCallDirectoryExtensionContext) {
        switch verdict.action {
        case .block:
            context.addBlockingEntry(withNextSequentialPhoneNumber: number)
        case .warn:
            context.addIdentificationEntry(withNextSequentialPhoneNumber: number, label: callerLabel(for: verdict))
        case .allow:
            break
        }
    }
}

extension CallDirectoryHandler: CXCallDirectoryExtensionContextDelegate {
    func requestFailed(for extensionContext: CXCallDirectoryExtensionContext, withError error: Error) {
        // Out-of-order or duplicate entries would be a bug in the SDK's ordering; the next
        // full load starts over.
        UserDefaults(suiteName: AppGroup.id)?.removeObject(forKey: loadedVersionKey)
    }
}
