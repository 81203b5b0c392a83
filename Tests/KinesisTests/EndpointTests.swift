import Testing

@testable import Kinesis

/// Region and endpoint resolution: partitions, overrides, and clear errors.
@Suite struct EndpointTests {
    @Test(arguments: [
        ("eu-west-1", "https://kinesis.eu-west-1.amazonaws.com/"),
        ("us-east-1", "https://kinesis.us-east-1.amazonaws.com/"),
        ("ap-southeast-5", "https://kinesis.ap-southeast-5.amazonaws.com/"),
        ("cn-north-1", "https://kinesis.cn-north-1.amazonaws.com.cn/"),
        ("cn-northwest-1", "https://kinesis.cn-northwest-1.amazonaws.com.cn/"),
        ("us-gov-west-1", "https://kinesis.us-gov-west-1.amazonaws.com/"),
        ("us-gov-east-1", "https://kinesis.us-gov-east-1.amazonaws.com/"),
        ("us-iso-east-1", "https://kinesis.us-iso-east-1.c2s.ic.gov/"),
        ("eusc-de-east-1", "https://kinesis.eusc-de-east-1.amazonaws.eu/"),
    ])
    func regionalEndpoints(region: String, url: String) throws {
        let endpoint = try ServiceEndpoint.resolve(service: "kinesis", region: region)
        #expect(endpoint.url == url)
        #expect(endpoint.signingRegion == region)
        #expect(endpoint.hostHeader == String(url.dropFirst("https://".count).dropLast()))
    }

    @Test func stsFollowsThePartition() throws {
        #expect(try STSClient.endpoint(region: "cn-north-1", environment: [:]).url == "https://sts.cn-north-1.amazonaws.com.cn/")
        #expect(try STSClient.endpoint(region: "eu-west-1", environment: [:]).url == "https://sts.eu-west-1.amazonaws.com/")
        let overridden = try STSClient.endpoint(
            region: "eu-west-1",
            environment: ["AWS_ENDPOINT_URL": "http://127.0.0.1:1000", "AWS_ENDPOINT_URL_STS": "http://127.0.0.1:2000"])
        #expect(overridden.url == "http://127.0.0.1:2000/")
    }

    @Test func overridesKeepTheRegionForSigning() throws {
        let moto = try ServiceEndpoint.resolve(service: "kinesis", region: "eu-west-1", override: "http://127.0.0.1:5055")
        #expect(moto.url == "http://127.0.0.1:5055/")
        #expect(moto.hostHeader == "127.0.0.1:5055")
        #expect(moto.signingRegion == "eu-west-1")

        let vpc = try ServiceEndpoint.resolve(
            service: "kinesis", region: "eu-west-1",
            override: "https://vpce-0123-abcd.kinesis.eu-west-1.vpce.amazonaws.com")
        #expect(vpc.port == 443)
        #expect(vpc.hostHeader == "vpce-0123-abcd.kinesis.eu-west-1.vpce.amazonaws.com")

        let withPath = try ServiceEndpoint.parse("https://[::1]:8443/kinesis", signingRegion: "us-east-1")
        #expect(withPath.host == "::1")
        #expect(withPath.url == "https://[::1]:8443/kinesis")
        #expect(withPath.path == "/kinesis")
    }

    @Test(arguments: ["eu-wst-1", "mars-north-1", "us-east-9"])
    func unknownRegionsAreRefused(region: String) {
        #expect {
            try ServiceEndpoint.resolve(service: "kinesis", region: region)
        } throws: { error in
            "\(error)".contains("unknown AWS region '\(region)'")
        }
    }

    @Test(arguments: ["", "EU-WEST-1", "eu west 1", "eu-west-1/", "-eu-west-1", "eu_west_1"])
    func malformedRegionsAreRefused(region: String) {
        #expect(throws: EndpointError.self) { try ServiceEndpoint.resolve(service: "kinesis", region: region) }
        #expect(throws: EndpointError.self) {
            try ServiceEndpoint.resolve(service: "kinesis", region: region, override: "http://127.0.0.1:1")
        }
    }

    @Test(arguments: [
        "127.0.0.1:5055", "ftp://host", "http://", "http://host:0", "http://host:70000", "http://host:x", "http://a@b", "http://h/?q",
    ])
    func malformedEndpointsAreRefused(text: String) {
        #expect(throws: EndpointError.self) { try ServiceEndpoint.parse(text, signingRegion: "eu-west-1") }
    }

    @Test func regionComesFromConfigEnvironmentThenProfile() throws {
        let directory = try TemporaryDirectory()
        let config = directory.write("config", "[default]\nregion = eu-central-1\n[profile other]\nregion = ap-south-1\n")
        func region(_ configured: String?, _ environment: [String: String], profile: String? = nil) throws -> String {
            try KinesisClient.resolveRegion(
                .init(
                    region: configured, profile: profile,
                    environment: environment.merging(["AWS_CONFIG_FILE": config, "HOME": directory.path]) { a, _ in a }))
        }
        #expect(try region("us-west-2", ["AWS_REGION": "eu-west-1"]) == "us-west-2")
        #expect(try region(nil, ["AWS_REGION": "eu-west-1", "AWS_DEFAULT_REGION": "eu-west-2"]) == "eu-west-1")
        #expect(try region(nil, ["AWS_DEFAULT_REGION": "eu-west-2"]) == "eu-west-2")
        #expect(try region(nil, [:]) == "eu-central-1")
        #expect(try region(nil, ["AWS_PROFILE": "other"]) == "ap-south-1")
        #expect(try region(nil, [:], profile: "other") == "ap-south-1")
        #expect {
            try KinesisClient.resolveRegion(.init(environment: ["HOME": directory.path + "/nowhere"]))
        } throws: { error in
            "\(error)".contains("no AWS region")
        }
    }
}
