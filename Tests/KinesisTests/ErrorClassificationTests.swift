import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import Testing

@testable import Kinesis

/// Error answers in every format Kinesis, STS, moto and proxies use, and transport errors.
@Suite struct ErrorClassificationTests {
    func classify(_ status: Int, _ body: String, headers: [(String, String)] = []) -> KinesisError {
        ErrorClassifier.classify(status: status, headers: HTTPHeaders(headers), body: Array(body.utf8))
    }

    @Test(arguments: [
        ("ProvisionedThroughputExceededException", 400, KinesisError.Kind.throttled),
        ("LimitExceededException", 400, .throttled),
        ("ThrottlingException", 400, .throttled),
        ("InternalFailure", 500, .retryable),
        ("ServiceUnavailable", 503, .retryable),
        ("KMSThrottlingException", 400, .retryable),
        ("ResourceNotFoundException", 400, .fatal),
        ("AccessDeniedException", 400, .fatal),
        ("ValidationException", 400, .fatal),
        ("UnrecognizedClientException", 400, .fatal),
        ("InvalidSignatureException", 400, .fatal),
        ("ExpiredTokenException", 400, .fatal),
        ("KMSAccessDeniedException", 400, .fatal),
    ])
    func jsonProtocolErrors(code: String, status: Int, kind: KinesisError.Kind) {
        let error = classify(status, #"{"__type":"com.amazonaws.kinesis.v20131202#\#(code)","message":"details here"}"#)
        #expect(error.code == code)
        #expect(error.kind == kind)
        #expect(error.message == "details here")
        #expect(error.statusCode == status)
    }

    @Test func theErrorTypeHeaderWinsAndCapitalMessageIsRead() {
        let error = classify(
            400, #"{"Message":"Stream s under account 1 not found."}"#,
            headers: [("x-amzn-ErrorType", "ResourceNotFoundException:http://internal.amazon.com/coral/com.amazonaws.kinesis/")])
        #expect(error.code == "ResourceNotFoundException")
        #expect(error.kind == .fatal)
        #expect(error.message == "Stream s under account 1 not found.")
    }

    /// moto answers auth failures as XML with a text/html content type.
    @Test func xmlAuthErrorsAsMotoSendsThem() {
        let body = """
            <?xml version="1.0" encoding="utf-8"?>
            <ErrorResponse><Errors><Error><Code>SignatureDoesNotMatch</Code><Message>The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key &amp; signing method.</Message><Type>Sender</Type></Error></Errors></ErrorResponse>
            """
        let error = classify(403, body, headers: [("Content-Type", "text/html; charset=utf-8")])
        #expect(error.code == "SignatureDoesNotMatch")
        #expect(error.kind == .fatal)
        #expect(error.isAuthenticationFailure)
        #expect(error.message.hasPrefix("The request signature we calculated does not match"))
        #expect(error.message.contains("Key & signing"))
        #expect(error.description.hasPrefix("authentication failed: SignatureDoesNotMatch: "))
        #expect(error.description.hasSuffix("(HTTP 403)"))

        let unknownKey = classify(
            403,
            "<ErrorResponse><Error><Code>InvalidClientTokenId</Code><Message>The security token included in the request is invalid.</Message></Error></ErrorResponse>"
        )
        #expect(unknownKey.code == "InvalidClientTokenId")
        #expect(unknownKey.isAuthenticationFailure)
    }

    @Test func stsXMLErrors() {
        let error = classify(
            403,
            "<ErrorResponse xmlns=\"https://sts.amazonaws.com/doc/2011-06-15/\"><Error><Type>Sender</Type><Code>AccessDenied</Code><Message>User: arn:aws:iam::1:user/x is not authorized to perform: sts:AssumeRole</Message></Error><RequestId>r</RequestId></ErrorResponse>"
        )
        #expect(error.code == "AccessDenied")
        #expect(error.kind == .fatal)
        #expect(error.message.contains("sts:AssumeRole"))
    }

    @Test func htmlPagesFromProxiesAndLoadBalancers() {
        let gateway = classify(
            502, "<html>\n<head><title>502 Bad Gateway</title></head>\n<body><center><h1>502 Bad Gateway</h1></center></body></html>")
        #expect(gateway.code == "HTTP 502")
        #expect(gateway.kind == .retryable)
        #expect(gateway.message == "502 Bad Gateway")

        let unavailable = classify(503, "<html><body><h1>Service   Unavailable</h1>\n<p>try later</p></body></html>")
        #expect(unavailable.kind == .retryable)
        #expect(unavailable.message == "Service Unavailable try later")

        let forbidden = classify(403, "<!DOCTYPE html><html><body>Forbidden</body></html>")
        #expect(forbidden.kind == .fatal)
        #expect(forbidden.code == "HTTP 403")
    }

    @Test func bodiesWithoutACodeFallBackOnTheStatus() {
        #expect(classify(500, "").kind == .retryable)
        #expect(classify(500, "").message == "internal server error")
        #expect(classify(504, "upstream timed out").message == "upstream timed out")
        #expect(classify(429, "").kind == .throttled)
        #expect(classify(408, "").kind == .retryable)
        #expect(classify(400, "not json at all").kind == .fatal)
        #expect(classify(500, #"{"broken":"#).kind == .retryable)
        #expect(classify(400, #"{"__type":"SomethingNew","message":"m"}"#).kind == .fatal)
        #expect(classify(503, #"{"__type":"SomethingNew","message":"m"}"#).kind == .retryable)
    }

    @Test func longMessagesAreCutAndSecretsRemovedFirst() {
        let credentials = AWSCredentials(
            accessKeyId: "ASIAEXAMPLE", secretAccessKey: "secret-value-123", sessionToken: String(repeating: "T", count: 400))
        let body =
            #"{"__type":"InvalidSignatureException","message":"The Canonical String for this request should have been 'POST\n/\n\nx-amz-security-token:\#(String(repeating: "T", count: 400))' and secret-value-123"}"#
        let error = ErrorClassifier.classify(status: 400, headers: HTTPHeaders(), body: Array(body.utf8), secrets: credentials.secrets)
        #expect(!error.message.contains("TTTTTTTT"))
        #expect(!error.message.contains("secret-value-123"))
        #expect(error.message.contains("<redacted>"))
        #expect(error.message.count <= ErrorBody.maxMessageLength)
    }

    @Test func transportErrors() {
        let endpoint = "http://127.0.0.1:9"
        let refused = ErrorClassifier.classify(transport: IOError(errnoCode: ECONNREFUSED, reason: "connect"), endpoint: endpoint)
        #expect(refused.code == "ConnectionRefused")
        #expect(refused.kind == .retryable)
        #expect(refused.message.contains(endpoint))
        #expect(
            ErrorClassifier.classify(transport: IOError(errnoCode: ECONNRESET, reason: "read"), endpoint: endpoint).code
                == "ConnectionReset")
        #expect(ErrorClassifier.classify(transport: HTTPClientError.readTimeout, endpoint: endpoint).code == "Timeout")
        #expect(ErrorClassifier.classify(transport: HTTPClientError.deadlineExceeded, endpoint: endpoint).kind == .retryable)
        #expect(ErrorClassifier.classify(transport: HTTPClientError.remoteConnectionClosed, endpoint: endpoint).code == "ConnectionClosed")
        #expect(ErrorClassifier.classify(transport: HTTPClientError.connectTimeout, endpoint: endpoint).kind == .retryable)
    }

    @Test func xmlTextDecodesEntitiesAndSkipsSimilarNames() {
        let document = "<Codes>x</Codes><Code attr=\"1\">A&lt;B&#x26;&#67;</Code><Empty/>"
        #expect(XMLText.firstElement("Code", in: document) == "A<B&C")
        #expect(XMLText.firstElement("Empty", in: document) == "")
        #expect(XMLText.firstElement("Missing", in: document) == nil)
        #expect(XMLText.firstElement("Token", in: "<Token><![CDATA[a<b]]></Token>") == "a<b")
        #expect(XMLText.decodeEntities("a & b &bogus; &amp") == "a & b &bogus; &amp")
    }
}
