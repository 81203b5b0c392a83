/// An AWS partition: a set of regions that share a DNS suffix (`amazonaws.com`,
/// `amazonaws.com.cn`, ...). A region outside every partition's list is refused, so a typo
/// such as `eu-wst-1` is reported instead of turning into an unreachable host name.
public struct AWSPartition: Sendable, Equatable {
    public let id: String
    public let dnsSuffix: String
    public let regions: Set<String>

    /// The partitions this build knows, with their regions. A region that AWS opens later
    /// can still be used through an `endpoint` override.
    public static let all: [AWSPartition] = [
        AWSPartition(
            id: "aws", dnsSuffix: "amazonaws.com",
            regions: [
                "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
                "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
                "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
                "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
                "il-central-1", "me-central-1", "me-south-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
                "us-west-1", "us-west-2",
            ]),
        AWSPartition(id: "aws-cn", dnsSuffix: "amazonaws.com.cn", regions: ["cn-north-1", "cn-northwest-1"]),
        AWSPartition(id: "aws-us-gov", dnsSuffix: "amazonaws.com", regions: ["us-gov-east-1", "us-gov-west-1"]),
        AWSPartition(id: "aws-iso", dnsSuffix: "c2s.ic.gov", regions: ["us-iso-east-1", "us-iso-west-1"]),
        AWSPartition(id: "aws-iso-b", dnsSuffix: "sc2s.sgov.gov", regions: ["us-isob-east-1"]),
        AWSPartition(id: "aws-iso-e", dnsSuffix: "cloud.adc-e.uk", regions: ["eu-isoe-west-1"]),
        AWSPartition(id: "aws-iso-f", dnsSuffix: "csp.hci.ic.gov", regions: ["us-isof-east-1", "us-isof-south-1"]),
        AWSPartition(id: "aws-eusc", dnsSuffix: "amazonaws.eu", regions: ["eusc-de-east-1"]),
    ]

    /// The partition of a known region.
    public static func of(region: String) throws(EndpointError) -> AWSPartition {
        try AWSRegionName.validate(region)
        if let partition = all.first(where: { $0.regions.contains(region) }) {
            return partition
        }
        throw EndpointError(
            "unknown AWS region '\(region)'; use a region such as eu-west-1, or set sink.endpoint for a region this version does not know"
        )
    }
}

/// The shape of a region name: lower-case letters, digits and dashes (`eu-west-1`).
enum AWSRegionName {
    static func validate(_ region: String) throws(EndpointError) {
        guard !region.isEmpty else {
            throw EndpointError("the AWS region is empty")
        }
        let allowed = region.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte)
                || byte == UInt8(ascii: "-")
        }
        guard allowed, region.utf8.count <= 64, region.first != "-", region.last != "-" else {
            throw EndpointError("'\(region)' is not an AWS region name (expected something like eu-west-1)")
        }
    }
}

/// A region or endpoint that cannot be used.
public struct EndpointError: Error, Sendable, CustomStringConvertible {
    public var message: String
    public init(_ message: String) { self.message = message }
    public var description: String { message }
}
