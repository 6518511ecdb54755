// Shared by the app and its extensions (add this file to each target): where the shield lives
// and how an extension opens it.
import Foundation
import FraudShield

enum AppGroup {
    /// Your App Group identifier (Signing & Capabilities → App Groups, on the app and on both
    /// extensions).
    static let id = "group.org.fraudshield.sample"

    static var container: URL {
        FileManager.default.containerURL(forSecurityApplicationGroupIdentifier: id)!
    }

    /// The state directory, shared by the app and the extensions.
    static var shieldDirectory: URL { container.appendingPathComponent("fraudshield", isDirectory: true) }

    /// The configuration: server URL and the trust file bundled with the app.
    static func config() throws -> ShieldConfig {
        let trustURL = Bundle.main.url(forResource: "trusted_keys", withExtension: "txt")!
        let trust = try String(contentsOf: trustURL, encoding: .utf8)
        return shieldConfig(serverUrl: "https://lists.example.org/cn/", trustedKeys: trust)
    }

    /// Opens the shared shield from an extension. One process at a time holds a state
    /// directory: while the app has it open (during a sync), the open fails with
    /// `ShieldError.Storage`; try a few times, briefly, then give up (the system retries the
    /// extension later). The app closes its shield before asking for a Call Directory reload.
    static func openShield(attempts: Int = 5) throws -> Shield {
        var lastError: Error = ShieldError.Storage(reason: "not attempted")
        for attempt in 0..<attempts {
            do {
                return try Shield.open(dir: shieldDirectory.path, config: config())
            } catch let error as ShieldError {
                guard case .Storage = error else { throw error }
                lastError = error
                if attempt + 1 < attempts { Thread.sleep(forTimeInterval: 0.2) }
            }
        }
        throw lastError
    }
}

/// A short label for the Call Directory (shown under the caller's number).
func callerLabel(for verdict: Verdict) -> String {
    switch verdict.category {
    case .policeImpersonation?: return "疑似诈骗：冒充公检法"
    case .customerService?: return "疑似诈骗：冒充客服"
    case .refund?: return "疑似诈骗：退款理赔"
    case .investment?: return "疑似诈骗：投资理财"
    case .loan?: return "疑似诈骗：贷款"
    case .romance?: return "疑似诈骗：网络交友"
    case .job?: return "疑似诈骗：刷单兼职"
    case .other?, nil: return verdict.source == .userBlock ? "已拉黑" : "疑似诈骗电话"
    }
}
