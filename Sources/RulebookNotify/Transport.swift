import CCurl
import Foundation

/// Why a delivery failed: what a dead letter records.
public struct DeliveryFailure: Error, CustomStringConvertible, Sendable {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Sends over the network with libcurl: an HTTP(S) POST for webhooks, SMTP (with
/// STARTTLS when asked) for mail. Blocking calls with a timeout, made from the notifier's
/// own thread, never from a request handler.
public enum Transport {
    /// libcurl, loaded on first use (see CCurl's shim), or why it could not be.
    private final class Library: @unchecked Sendable {
        let api = UnsafeMutablePointer<rb_curl_api>.allocate(capacity: 1)
        let problem: String?
        init() {
            api.initialize(to: rb_curl_api())
            problem = rb_curl_load(api).map { String(cString: $0) }
        }
    }

    private static let library = Library()

    /// Why nothing can be sent from this build (libcurl missing, or a fully static
    /// binary), or nil.
    public static var unavailable: String? { library.problem.map { "libcurl (libcurl4) could not be loaded: \($0)" } }

    /// The outcome of a POST: the status, and the start of the body for the log.
    public struct Response: Sendable {
        public var status: Int
        public var body: String
    }

    /// Collects what the server answers (up to 4 KiB) and feeds what we upload.
    private final class Buffers {
        var received: [UInt8] = []
        var upload: [UInt8]
        var offset = 0
        init(upload: [UInt8]) { self.upload = upload }
    }

    private static let receive: rb_curl_io = { buffer, size, count, context in
        let n = size * count
        guard let buffer, let context else { return n }
        let box = Unmanaged<Buffers>.fromOpaque(context).takeUnretainedValue()
        let room = max(0, 4096 - box.received.count)
        if room > 0 {
            buffer.withMemoryRebound(to: UInt8.self, capacity: n) { box.received.append(contentsOf: UnsafeBufferPointer(start: $0, count: min(n, room))) }
        }
        return n
    }

    private static let send: rb_curl_io = { buffer, size, count, context in
        guard let buffer, let context else { return 0 }
        let box = Unmanaged<Buffers>.fromOpaque(context).takeUnretainedValue()
        let n = min(size * count, box.upload.count - box.offset)
        guard n > 0 else { return 0 }
        box.upload.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress! + box.offset, byteCount: n)
        }
        box.offset += n
        return n
    }

    /// Runs one transfer set up by `configure`; throws what curl says when it fails.
    private static func perform(upload: [UInt8], timeout: Int, _ configure: (UnsafeMutableRawPointer, UnsafeMutableRawPointer) throws -> [UnsafeMutablePointer<curl_slist>?]) throws -> (Int, [UInt8]) {
        if let problem = unavailable { throw DeliveryFailure(problem) }
        let api = library.api
        guard let curl = api.pointee.easy_init() else { throw DeliveryFailure("libcurl could not start a transfer") }
        defer { api.pointee.easy_cleanup(curl) }
        let box = Buffers(upload: upload)
        let context = Unmanaged.passRetained(box).toOpaque()
        defer { Unmanaged<Buffers>.fromOpaque(context).release() }
        var errorBuffer = [CChar](repeating: 0, count: Int(CURL_ERROR_SIZE) + 1)
        let lists = try configure(curl, context)
        defer { for list in lists { api.pointee.slist_free_all(list) } }
        _ = rb_curl_set_long(library.api, curl, CURLOPT_NOSIGNAL, 1)
        _ = rb_curl_set_long(library.api, curl, CURLOPT_TIMEOUT, timeout)
        _ = rb_curl_set_long(library.api, curl, CURLOPT_CONNECTTIMEOUT, min(timeout, 10))
        _ = rb_curl_set_io(library.api, curl, CURLOPT_WRITEFUNCTION, receive)
        _ = rb_curl_set_pointer(library.api, curl, CURLOPT_WRITEDATA, context)
        _ = rb_curl_set_io(library.api, curl, CURLOPT_READFUNCTION, send)
        _ = rb_curl_set_pointer(library.api, curl, CURLOPT_READDATA, context)
        let code = errorBuffer.withUnsafeMutableBufferPointer { errors -> CURLcode in
            _ = rb_curl_set_pointer(library.api, curl, CURLOPT_ERRORBUFFER, errors.baseAddress)
            return api.pointee.easy_perform(curl)
        }
        guard code == CURLE_OK else {
            let detail = String(decoding: errorBuffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            throw DeliveryFailure(detail.isEmpty ? (api.pointee.easy_strerror(code).map { String(cString: $0) } ?? "curl error \(code.rawValue)") : detail)
        }
        return (Int(rb_curl_response_code(api, curl)), box.received)
    }

    private static func list(_ items: [String]) -> UnsafeMutablePointer<curl_slist>? {
        var list: UnsafeMutablePointer<curl_slist>?
        for item in items { list = library.api.pointee.slist_append(list, item) }
        return list
    }

    /// POSTs `body` to `url` (http or https only) with `headers` ("Name: value").
    public static func post(url: String, body: [UInt8], headers: [String], timeout: Int = 10) throws -> Response {
        guard url.hasPrefix("http://") || url.hasPrefix("https://") else { throw DeliveryFailure("'\(url)' is not an http or https address") }
        let (status, received) = try perform(upload: body, timeout: timeout) { curl, _ in
            _ = rb_curl_set_string(library.api, curl, CURLOPT_URL, url)
            _ = rb_curl_set_string(library.api, curl, CURLOPT_PROTOCOLS_STR, "http,https")
            _ = rb_curl_set_long(library.api, curl, CURLOPT_POST, 1)
            _ = rb_curl_set_size(library.api, curl, CURLOPT_POSTFIELDSIZE_LARGE, curl_off_t(body.count))
            let headerList = list(headers + ["Expect:"])
            _ = rb_curl_set_list(library.api, curl, CURLOPT_HTTPHEADER, headerList)
            return [headerList]
        }
        return Response(status: status, body: String(decoding: received, as: UTF8.self))
    }

    /// How to reach the mail server.
    public struct MailServer: Sendable {
        /// `smtp://host:port` (STARTTLS when `requireTLS`) or `smtps://host:port`.
        public var url: String
        public var username: String?
        public var password: String?
        public var requireTLS: Bool

        public init(url: String, username: String? = nil, password: String? = nil, requireTLS: Bool = false) {
            self.url = url
            self.username = username
            self.password = password
            self.requireTLS = requireTLS
        }
    }

    /// Sends one message (RFC 5322, CRLF line ends) from `from` to `recipients`.
    public static func mail(_ message: [UInt8], from: String, to recipients: [String], via server: MailServer, timeout: Int = 30) throws {
        guard server.url.hasPrefix("smtp://") || server.url.hasPrefix("smtps://") else {
            throw DeliveryFailure("'\(server.url)' is not an smtp:// or smtps:// address")
        }
        _ = try perform(upload: message, timeout: timeout) { curl, _ in
            _ = rb_curl_set_string(library.api, curl, CURLOPT_URL, server.url)
            _ = rb_curl_set_string(library.api, curl, CURLOPT_PROTOCOLS_STR, "smtp,smtps")
            _ = rb_curl_set_string(library.api, curl, CURLOPT_MAIL_FROM, "<\(from)>")
            let rcpt = list(recipients.map { "<\($0)>" })
            _ = rb_curl_set_list(library.api, curl, CURLOPT_MAIL_RCPT, rcpt)
            _ = rb_curl_set_long(library.api, curl, CURLOPT_UPLOAD, 1)
            _ = rb_curl_set_size(library.api, curl, CURLOPT_INFILESIZE_LARGE, curl_off_t(message.count))
            if server.requireTLS { _ = rb_curl_set_long(library.api, curl, CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue)) }
            if let user = server.username { _ = rb_curl_set_string(library.api, curl, CURLOPT_USERNAME, user) }
            if let password = server.password { _ = rb_curl_set_string(library.api, curl, CURLOPT_PASSWORD, password) }
            return [rcpt]
        }
    }
}
