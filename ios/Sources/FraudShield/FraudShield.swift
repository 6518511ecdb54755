// The hand-written part of the FraudShield module, on top of the uniffi-generated `Shield`,
// records and enums (Generated/, same module): async entry points that keep disk and network
// work off the caller's actor, and a URLSession transport.
import Foundation

public extension Shield {
    /// Opens the state directory (creating it on first use) off the caller's actor: opening
    /// touches the disk. Use an App Group container so the Call Directory and message-filter
    /// extensions can read the same list.
    static func open(directory: URL, config: ShieldConfig) async throws -> Shield {
        try await Task.detached(priority: .userInitiated) {
            try Shield.open(dir: directory.path, config: config)
        }.value
    }

    /// Sends queued reports and updates the list through `transport`, on a background task
    /// (network and disk). Call it from a BGAppRefreshTask; lookups keep answering meanwhile.
    func syncInBackground(transport: Transport) async throws -> SyncSummary {
        try await Task.detached(priority: .utility) { try self.sync(transport: transport) }.value
    }

    /// The status (a few small disk reads) off the caller's actor.
    func currentStatus() async -> ShieldStatus {
        await Task.detached(priority: .utility) { self.status() }.value
    }
}

/// The SDK's HTTP through URLSession: the platform's TLS, proxies and the session's pinning
/// delegate. Blocking by contract: the SDK calls it on the thread that runs `sync`, never the
/// main thread.
///
/// Follows the `Transport` rules: exactly the request's method, URL, headers and body; the
/// whole exchange within `timeoutMs`; bodies over `maxResponseBytes` refused; every HTTP status
/// returned as a response; no logging of bodies or the Authorization header.
public final class URLSessionTransport: Transport, @unchecked Sendable {
    private let session: URLSession

    public init(session: URLSession = .shared) {
        self.session = session
    }

    public func send(request: HttpRequest) throws -> HttpResponse {
        guard let url = URL(string: request.url) else {
            throw TransportError.Connection(reason: "invalid URL")
        }
        var urlRequest = URLRequest(url: url)
        urlRequest.httpMethod = request.method == .get ? "GET" : "POST"
        urlRequest.timeoutInterval = Double(request.timeoutMs) / 1000
        for header in request.headers {
            urlRequest.setValue(header.value, forHTTPHeaderField: header.name)
        }
        if request.method == .post {
            urlRequest.httpBody = request.body
        }

        let done = DispatchSemaphore(value: 0)
        var outcome: Result<HttpResponse, TransportError> = .failure(.Timeout)
        let task = session.dataTask(with: urlRequest) { data, response, error in
            defer { done.signal() }
            if let error = error as? URLError {
                outcome = .failure(error.code == .timedOut ? .Timeout : .Connection(reason: "URLError \(error.code.rawValue)"))
                return
            }
            guard let http = response as? HTTPURLResponse else {
                outcome = .failure(.Connection(reason: "no HTTP response"))
                return
            }
            let body = data ?? Data()
            if UInt64(body.count) > request.maxResponseBytes {
                outcome = .failure(.TooLarge)
                return
            }
            let headers = http.allHeaderFields.compactMap { key, value -> HttpHeader? in
                guard let name = key as? String else { return nil }
                return HttpHeader(name: name, value: "\(value)")
            }
            outcome = .success(HttpResponse(status: UInt16(http.statusCode), headers: headers, body: body))
        }
        task.resume()
        // The whole exchange, bounded: URLSession's timeoutInterval is per idle gap only.
        if done.wait(timeout: .now() + .milliseconds(Int(request.timeoutMs))) == .timedOut {
            task.cancel()
            throw TransportError.Timeout
        }
        return try outcome.get()
    }
}
