/// Where requests for one AWS service in one region go, and the region they are signed
/// for: `https://kinesis.eu-west-1.amazonaws.com`, `https://kinesis.cn-north-1.amazonaws.com.cn`,
/// or an override (moto, LocalStack, a VPC endpoint).
public struct ServiceEndpoint: Sendable, Equatable, CustomStringConvertible {
    public let scheme: String
    public let host: String
    public let port: Int
    /// The path requests are posted to, `/` unless the override has one.
    public let path: String
    /// The region used in the signature's scope.
    public let signingRegion: String

    /// The URL requests are sent to.
    public var url: String {
        "\(scheme)://\(hostForURL)\(isDefaultPort ? "" : ":\(port)")\(path)"
    }

    /// The `Host` header: the host, with the port when it is not the scheme's default.
    public var hostHeader: String {
        isDefaultPort ? hostForURL : "\(hostForURL):\(port)"
    }

    public var description: String { url }

    private var isDefaultPort: Bool { (scheme == "https" && port == 443) || (scheme == "http" && port == 80) }
    private var hostForURL: String { host.contains(":") ? "[\(host)]" : host }

    /// Resolves the endpoint of `service` (`kinesis`, `sts`) in `region`, or parses
    /// `override` when one is given. An override keeps the region for signing.
    public static func resolve(service: String, region: String, override: String? = nil) throws(EndpointError) -> ServiceEndpoint {
        if let override, !override.isEmpty {
            try AWSRegionName.validate(region)
            return try parse(override, signingRegion: region)
        }
        let partition = try AWSPartition.of(region: region)
        return ServiceEndpoint(
            scheme: "https", host: "\(service).\(region).\(partition.dnsSuffix)", port: 443, path: "/",
            signingRegion: region
        )
    }

    /// Parses `http(s)://host[:port][/path]`.
    public static func parse(_ text: String, signingRegion: String) throws(EndpointError) -> ServiceEndpoint {
        let problem = EndpointError("endpoint '\(text)' is not an http:// or https:// URL with a host")
        let scheme: String
        let rest: Substring
        if text.hasPrefix("https://") {
            scheme = "https"
            rest = text.dropFirst("https://".count)
        } else if text.hasPrefix("http://") {
            scheme = "http"
            rest = text.dropFirst("http://".count)
        } else {
            throw problem
        }
        if rest.contains("?") || rest.contains("#") || rest.contains("@") { throw problem }
        let authority = rest.prefix { $0 != "/" }
        var path = String(rest.dropFirst(authority.count))
        if path.isEmpty { path = "/" }

        var host: Substring
        var portText: Substring?
        if authority.hasPrefix("[") {
            guard let close = authority.firstIndex(of: "]") else { throw problem }
            host = authority[authority.index(after: authority.startIndex)..<close]
            let after = authority[authority.index(after: close)...]
            if !after.isEmpty {
                guard after.hasPrefix(":") else { throw problem }
                portText = after.dropFirst()
            }
        } else if let colon = authority.lastIndex(of: ":") {
            host = authority[..<colon]
            portText = authority[authority.index(after: colon)...]
        } else {
            host = authority
        }
        guard !host.isEmpty, !host.contains(" ") else { throw problem }
        var port = scheme == "https" ? 443 : 80
        if let portText {
            guard let value = Int(portText), (1...65535).contains(value) else {
                throw EndpointError("endpoint '\(text)' has an invalid port")
            }
            port = value
        }
        return ServiceEndpoint(scheme: scheme, host: String(host), port: port, path: path, signingRegion: signingRegion)
    }
}
