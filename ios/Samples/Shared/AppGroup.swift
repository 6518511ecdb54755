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

    /// Opens the shared shield from an extension: read-only, beside the app that owns the
    /// directory (no lock, never writes; it sees the list as it was when opened). Before the
    /// app has synced once there is no list: `ShieldError.Storage`, and the extension answers
    /// nothing.
    static func openShield() throws -> Shield {
        try Shield.openReadOnly(dir: shieldDirectory.path, config: config())
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
