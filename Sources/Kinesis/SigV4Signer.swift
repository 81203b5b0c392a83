import Crypto
import Foundation

/// Signs HTTP requests with AWS Signature Version 4, in the `Authorization` header form
/// that Kinesis and STS expect. The canonical request, the string to sign and the signature
/// are kept in the result so that tests can compare each step with AWS's published examples.
public struct SigV4Signer: Sendable {
    /// The signing name of the service: `kinesis`, `sts`.
    public let service: String
    public let region: String

    public init(service: String, region: String) {
        self.service = service
        self.region = region
    }

    /// One signed request: what was computed, and the headers to send with it.
    public struct Signed: Sendable {
        public let canonicalRequest: String
        public let stringToSign: String
        /// Lower-case hex HMAC-SHA256.
        public let signature: String
        /// `host;x-amz-date;...`: the names of the signed headers, sorted.
        public let signedHeaders: String
        public let authorization: String
        /// The headers to add to the request: `X-Amz-Date`, `X-Amz-Security-Token` for
        /// temporary credentials, and `Authorization`.
        public let headersToAdd: [(name: String, value: String)]
    }

    /// Signs a request.
    /// - Parameters:
    ///   - path: the decoded path (`/`); each segment is percent-encoded for signing.
    ///   - query: the decoded query parameters, in any order.
    ///   - headers: every header that is sent and must be signed, `Host` included.
    ///   - payloadSHA256: the lower-case hex SHA-256 of the body (`sha256Hex`).
    public func sign(
        method: String,
        path: String,
        query: [(name: String, value: String)] = [],
        headers: [(name: String, value: String)],
        payloadSHA256: String,
        credentials: AWSCredentials,
        date: Date
    ) -> Signed {
        let stamp = AmzDate(date)
        var added: [(name: String, value: String)] = [("X-Amz-Date", stamp.dateTime)]
        if let token = credentials.sessionToken {
            added.append(("X-Amz-Security-Token", token))
        }

        var canonicalHeaders: [String: String] = [:]
        for (name, value) in headers + added {
            let key = name.lowercased()
            let trimmed = Self.canonicalHeaderValue(value)
            if let existing = canonicalHeaders[key] {
                canonicalHeaders[key] = existing + "," + trimmed
            } else {
                canonicalHeaders[key] = trimmed
            }
        }
        let sortedNames = canonicalHeaders.keys.sorted()
        let signedHeaders = sortedNames.joined(separator: ";")
        var headerBlock = ""
        for name in sortedNames {
            headerBlock += name + ":" + (canonicalHeaders[name] ?? "") + "\n"
        }

        let encodedQuery: [(name: String, value: String)] = query.map { (Self.uriEncode($0.name), Self.uriEncode($0.value)) }
        let sortedQuery = encodedQuery.sorted { left, right in
            left.name == right.name ? left.value < right.value : left.name < right.name
        }
        let canonicalQuery = sortedQuery.map { $0.name + "=" + $0.value }.joined(separator: "&")

        let canonicalRequest = [
            method.uppercased(),
            Self.canonicalPath(path),
            canonicalQuery,
            headerBlock,
            signedHeaders,
            payloadSHA256,
        ].joined(separator: "\n")

        let scope = "\(stamp.date)/\(region)/\(service)/aws4_request"
        let stringToSign = [
            "AWS4-HMAC-SHA256",
            stamp.dateTime,
            scope,
            Self.sha256Hex(Array(canonicalRequest.utf8)),
        ].joined(separator: "\n")

        let key = Self.signingKey(secret: credentials.secretAccessKey, date: stamp.date, region: region, service: service)
        let signature = Self.hex(HMAC<SHA256>.authenticationCode(for: Array(stringToSign.utf8), using: key))
        let authorization =
            "AWS4-HMAC-SHA256 Credential=\(credentials.accessKeyId)/\(scope), SignedHeaders=\(signedHeaders), Signature=\(signature)"
        added.append(("Authorization", authorization))
        return Signed(
            canonicalRequest: canonicalRequest,
            stringToSign: stringToSign,
            signature: signature,
            signedHeaders: signedHeaders,
            authorization: authorization,
            headersToAdd: added
        )
    }

    /// The key derived from the secret for one day, region and service.
    static func signingKey(secret: String, date: String, region: String, service: String) -> SymmetricKey {
        var key = SymmetricKey(data: Array(("AWS4" + secret).utf8))
        for part in [date, region, service, "aws4_request"] {
            key = SymmetricKey(data: HMAC<SHA256>.authenticationCode(for: Array(part.utf8), using: key))
        }
        return key
    }

    /// The lower-case hex SHA-256 of `bytes`.
    public static func sha256Hex(_ bytes: some DataProtocol) -> String {
        hex(SHA256.hash(data: bytes))
    }

    static func hex(_ digest: some Sequence<UInt8>) -> String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(64)
        for byte in digest {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 0x0F)])
        }
        return String(decoding: out, as: UTF8.self)
    }

    /// Trims the value and folds every run of spaces and tabs into one space.
    static func canonicalHeaderValue(_ value: String) -> String {
        var out = ""
        var pendingSpace = false
        for scalar in value.unicodeScalars {
            if scalar == " " || scalar == "\t" || scalar == "\n" || scalar == "\r" {
                pendingSpace = !out.isEmpty
            } else {
                if pendingSpace { out.append(" ") }
                pendingSpace = false
                out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    static func canonicalPath(_ path: String) -> String {
        if path.isEmpty { return "/" }
        return path.split(separator: "/", omittingEmptySubsequences: false)
            .map { uriEncode(String($0)) }
            .joined(separator: "/")
    }

    /// Percent-encodes everything but the unreserved characters `A-Z a-z 0-9 - . _ ~`.
    static func uriEncode(_ text: String) -> String {
        let digits = Array("0123456789ABCDEF".utf8)
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count)
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "A")...UInt8(ascii: "Z"), UInt8(ascii: "a")...UInt8(ascii: "z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "-"), UInt8(ascii: "."), UInt8(ascii: "_"),
                UInt8(ascii: "~"):
                out.append(byte)
            default:
                out.append(UInt8(ascii: "%"))
                out.append(digits[Int(byte >> 4)])
                out.append(digits[Int(byte & 0x0F)])
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// A time in the two forms SigV4 uses: `20150830T123600Z` and `20150830`, always UTC.
struct AmzDate {
    let dateTime: String
    let date: String

    init(_ instant: Date) {
        var seconds = time_t(instant.timeIntervalSince1970.rounded(.down))
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        date = pad(parts.tm_year + 1900, 4) + pad(parts.tm_mon + 1, 2) + pad(parts.tm_mday, 2)
        dateTime = date + "T" + pad(parts.tm_hour, 2) + pad(parts.tm_min, 2) + pad(parts.tm_sec, 2) + "Z"
    }
}
