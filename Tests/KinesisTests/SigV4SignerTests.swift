import Foundation
import Testing

@testable import Kinesis

/// The signer against the examples AWS publishes: the SigV4 test suite (service `service`,
/// us-east-1, 2015-08-30T12:36:00Z, key AKIDEXAMPLE) and the IAM ListUsers walk-through.
@Suite struct SigV4SignerTests {
    static let suiteCredentials = AWSCredentials(
        accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)  // 2015-08-30T12:36:00Z
    static let emptyHash = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
    static let host = ("Host", "example.amazonaws.com")

    func sign(
        _ method: String, path: String = "/", query: [(String, String)] = [], headers: [(String, String)] = [],
        body: String = "", credentials: AWSCredentials = suiteCredentials
    ) -> SigV4Signer.Signed {
        SigV4Signer(service: "service", region: "us-east-1").sign(
            method: method, path: path, query: query.map { (name: $0.0, value: $0.1) },
            headers: ([Self.host] + headers).map { (name: $0.0, value: $0.1) },
            payloadSHA256: SigV4Signer.sha256Hex(Array(body.utf8)), credentials: credentials, date: Self.suiteDate)
    }

    func authorization(_ signedHeaders: String, _ signature: String) -> String {
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=\(signedHeaders), Signature=\(signature)"
    }

    @Test func getVanilla() {
        let signed = sign("GET")
        #expect(
            signed.canonicalRequest
                == "GET\n/\n\nhost:example.amazonaws.com\nx-amz-date:20150830T123600Z\n\nhost;x-amz-date\n\(Self.emptyHash)")
        #expect(
            signed.authorization == authorization("host;x-amz-date", "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"))
    }

    @Test func postVanilla() {
        #expect(sign("POST").signature == "5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b")
    }

    @Test func postVanillaQuery() {
        let signed = sign("POST", query: [("Param1", "value1")])
        #expect(
            signed.stringToSign
                == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n9d659678c1756bb3113e2ce898845a0a79dbbc57b740555917687f1b3340fbbd"
        )
        #expect(signed.signature == "28038455d6de14eafc1f9222cf5aa6f1a96197d7deb8263271d420d138af7f11")
    }

    @Test func getVanillaQueryOrderKeyCase() {
        let signed = sign("GET", query: [("Param2", "value2"), ("Param1", "value1")])
        #expect(signed.canonicalRequest.contains("\nParam1=value1&Param2=value2\n"))
        #expect(signed.signature == "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500")
    }

    @Test func postXWWWFormURLEncoded() {
        let signed = sign("POST", headers: [("Content-Type", "application/x-www-form-urlencoded")], body: "Param1=value1")
        #expect(
            signed.stringToSign
                == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\n42a5e5bb34198acb3e84da4f085bb7927f2bc277ca766e6d19c73c2154021281"
        )
        #expect(
            signed.authorization
                == authorization("content-type;host;x-amz-date", "ff11897932ad3f4e8b18135d722051e5ac45fc38421b1da7b9d196a0fe09473a"))
    }

    @Test func postHeaderKeyCaseAndValueCase() {
        #expect(
            sign("POST", headers: [("MY-HEADER1", "value1")]).signature
                == "c5410059b04c1ee005303aed430f6e6645f61f4dc9e1461ec8f8916fdf18852c")
        #expect(
            sign("POST", headers: [("My-Header1", "VALUE1")]).signature
                == "cdbc9802e29d2942e5e10b5bccfdd67c5f22c7c4e8ae67b53629efa58b974b7d")
    }

    @Test func getHeaderValueTrim() {
        let signed = sign("GET", headers: [("My-Header1", " value1"), ("My-Header2", "\"a   b   c\"")])
        #expect(signed.canonicalRequest.contains("my-header1:value1\nmy-header2:\"a b c\"\n"))
        #expect(signed.signature == "acc3ed3afb60bb290fc8d2dd0098b9911fcaa05412b367055dee359757a9c736")
    }

    @Test func postStsHeaderBefore() {
        let token =
            "AQoDYXdzEPT//////////wEXAMPLEtc764bNrC9SAPBSM22wDOk4x4HIZ8j4FZTwdQWLWsKWHGBuFqwAeMicRXmxfpSPfIeoIYRqTflfKD8YUuwthAx7mSEI/qkPpKPi/kMcGdQrmGdeehM4IC1NtBmUpp2wUE8phUZampKsburEDy0KPkyQDYwT7WZ0wq5VSXDvp75YU9HFvlRd8Tx6q6fE8YQcHNVXAkiY9q6d+xo0rKwT38xVqr7ZD0u0iPPkUL64lIZbqBAz+scqKmlzm8FDrypNC9Yjc8fPOLn9FX9KSYvKTr4rvx3iSIlTJabIQwj2ICCR/oLxBA=="
        let credentials = AWSCredentials(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", sessionToken: token)
        let signed = sign("POST", credentials: credentials)
        #expect(
            signed.stringToSign
                == "AWS4-HMAC-SHA256\n20150830T123600Z\n20150830/us-east-1/service/aws4_request\nc237e1b440d4c63c32ca95b5b99481081cb7b13c7e40434868e71567c1a882f6"
        )
        #expect(
            signed.authorization
                == authorization("host;x-amz-date;x-amz-security-token", "85d96828115b5dc0cfc3bd16ad9e210dd772bbebba041836c64533a82be05ead")
        )
        #expect(signed.headersToAdd.contains { $0.name == "X-Amz-Security-Token" && $0.value == token })
    }

    /// The IAM ListUsers example of the SigV4 documentation, step by step.
    @Test func iamListUsers() {
        let signed = SigV4Signer(service: "iam", region: "us-east-1").sign(
            method: "GET", path: "/", query: [("Action", "ListUsers"), ("Version", "2010-05-08")],
            headers: [
                ("Host", "iam.amazonaws.com"), ("Content-Type", "application/x-www-form-urlencoded; charset=utf-8"),
            ],
            payloadSHA256: Self.emptyHash, credentials: Self.suiteCredentials, date: Self.suiteDate)
        #expect(
            SigV4Signer.sha256Hex(Array(signed.canonicalRequest.utf8))
                == "f536975d06c0309214f805bb90ccff089219ecd68b2577efef23edd43b7e1a59")
        let key = SigV4Signer.signingKey(
            secret: Self.suiteCredentials.secretAccessKey, date: "20150830", region: "us-east-1", service: "iam")
        #expect(
            key.withUnsafeBytes { SigV4Signer.hex(Array($0)) } == "c4afb1cc5771d871763a393e44b703571b55cc28424d1a5e86da6ed3c154a4b9")
        #expect(signed.signature == "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7")
        #expect(
            signed.authorization
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
        )
    }

    @Test func pathAndQueryAreEncodedWithTheUnreservedSetOnly() {
        #expect(SigV4Signer.canonicalPath("/example space/") == "/example%20space/")
        #expect(SigV4Signer.canonicalPath("/ሴ") == "/%E1%88%B4")
        #expect(SigV4Signer.uriEncode("a-b_c.d~e f/g+h=") == "a-b_c.d~e%20f%2Fg%2Bh%3D")
    }

    @Test func theDateIsUTC() {
        let stamp = AmzDate(Date(timeIntervalSince1970: 1_704_067_199.9))  // 2023-12-31T23:59:59.9Z
        #expect(stamp.dateTime == "20231231T235959Z")
        #expect(stamp.date == "20231231")
    }

    @Test func credentialsNeverPrintTheirSecrets() {
        let credentials = AWSCredentials(
            accessKeyId: "AKIDEXAMPLE", secretAccessKey: "the-secret-key-value", sessionToken: "the-session-token",
            expiration: Self.suiteDate)
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, "\(credentials)", String(reflecting: credentials), dumped] {
            #expect(text.contains("AKIDEXAMPLE"))
            #expect(!text.contains("the-secret-key-value"))
            #expect(!text.contains("the-session-token"))
        }
    }
}
