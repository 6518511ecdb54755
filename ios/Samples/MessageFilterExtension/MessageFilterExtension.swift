// A message-filter extension (IdentityLookup): iOS hands it SMS from unknown senders. It checks
// the sender and every number and account in the text against the on-device list and files a
// message as junk when any of them is blocked. It never defers to a server: nothing the user
// receives leaves the device.
import FraudShield
import IdentityLookup

final class MessageFilterExtension: ILMessageFilterExtension {}

extension MessageFilterExtension: ILMessageFilterQueryHandling {
    func handle(
        _ queryRequest: ILMessageFilterQueryRequest,
        context: ILMessageFilterExtensionContext,
        completion: @escaping (ILMessageFilterQueryResponse) -> Void
    ) {
        let response = ILMessageFilterQueryResponse()
        // Opened for each message, never kept: a read-only shield answers from the list as it
        // was when opened, and iOS may keep this process alive across many messages while the
        // app syncs and the user edits the block list. An open checks the snapshot header,
        // maps the list and reads the bounded overlay (0.43 ms to the first verdict on a
        // 2M-entry list on the host, benches/REPORT.md); messages come seconds apart.
        let shield = try? AppGroup.openShield()
        response.action = Self.decide(shield: shield, sender: queryRequest.sender, body: queryRequest.messageBody)
        completion(response)
    }

    /// `.junk` when the sender or anything in the text is blocked, `.none` otherwise (iOS then
    /// files the message as usual). Fails open: no shield, no opinion.
    static func decide(shield: Shield?, sender: String?, body: String?) -> ILMessageFilterAction {
        guard let shield else { return .none }
        if let sender, let verdict = try? shield.checkCall(number: sender, direction: .incoming),
           verdict.action == .block {
            return .junk
        }
        if let body {
            // Each finding carries its UTF-16 span (NSRange-compatible) for highlighting in an
            // app's own UI; here only the verdicts matter.
            if shield.checkMessage(text: body).contains(where: { $0.verdict.action == .block }) {
                return .junk
            }
        }
        return .none
    }
}
