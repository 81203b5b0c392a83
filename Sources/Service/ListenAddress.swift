/// A `host:port` to listen on, as `metrics_listen` writes it: `127.0.0.1:9464`,
/// `localhost:9464`, `[::1]:9464`, `0.0.0.0:9464`. Port 0 takes any free port.
public struct ListenAddress: Sendable, Equatable, CustomStringConvertible {
    public let host: String
    public let port: Int

    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `host:port`; the error says what is wrong with the text.
    public init(parsing text: String) throws(ListenAddressError) {
        let host: Substring
        let portText: Substring
        if text.hasPrefix("[") {
            guard let close = text.firstIndex(of: "]") else {
                throw ListenAddressError(text: text, reason: "an IPv6 address in brackets has no closing ]")
            }
            host = text[text.index(after: text.startIndex)..<close]
            let rest = text[text.index(after: close)...]
            guard rest.first == ":" else {
                throw ListenAddressError(text: text, reason: "expected :PORT after the bracketed address")
            }
            portText = rest.dropFirst()
        } else {
            guard let colon = text.lastIndex(of: ":") else {
                throw ListenAddressError(text: text, reason: "expected HOST:PORT, for example 127.0.0.1:9464")
            }
            host = text[..<colon]
            portText = text[text.index(after: colon)...]
            if host.contains(":") {
                throw ListenAddressError(text: text, reason: "write an IPv6 address in brackets: [::1]:9464")
            }
        }
        guard !host.isEmpty else {
            throw ListenAddressError(text: text, reason: "the host is empty; use 0.0.0.0 or [::] for every interface")
        }
        guard let port = Int(portText), (0...65535).contains(port) else {
            throw ListenAddressError(text: text, reason: "the port \"\(portText)\" is not a number from 0 to 65535")
        }
        self.init(host: String(host), port: port)
    }

    public var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }
}

/// A listen address that cannot be parsed: the text and what is wrong with it.
public struct ListenAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    public let text: String
    public let reason: String

    public var description: String { "invalid listen address \"\(text)\": \(reason)" }
}
