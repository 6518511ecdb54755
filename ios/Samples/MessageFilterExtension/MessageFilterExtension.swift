// A message-filter extension (IdentityLookup): iOS hands it SMS from unknown senders. It checks
// the sender and every number and account in the text against the on-device list and files a
// message as junk when any of them is blocked. It never defers to a server: nothing the user
// receives leaves the device.
import FraudShield
import IdentityLookup

final class MessageFilterExtension: ILMessageFilterExtension {
    /// Opened once per extension process (opening touches the disk; lookups are microseconds).
    private static let shield: Shield? = try? AppGroup.openShield()
}

extension MessageFilterExtension: ILMessageFilterQueryHandling {
    func handle(
        _ queryRequest: ILMessageFilterQueryRequest,
        context: ILMessageFilterExtensionContext,
        completion: @escaping (ILMessageFilterQueryResponse) -> Void
    ) {
        let response = ILMessageFilterQueryResponse()
        response.action = Self.decide(sender: queryRequest.sender, body: queryRequest.messageBody)
        completion(response)
    }

    /// `.junk` when the sender or anything in the text is blocked, `.none` otherwise (iOS then
    /// files the message as usual). Fails open: no shield, no opinion.
    static func decide(sender: String?, body: String?) -> ILMessageFilterAction {
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
