import Config
import JSON
import Testing

@testable import Rules

/// Every operator with the examples of Amazon's EventBridge documentation (the user guide's
/// "Content filtering", "Comparison operators", "Arrays", "Null values and empty strings"
/// pages, and the event-ruler README EventBridge is built on): pattern, event, expected.
@Suite struct PatternOperatorTests {
    static func matches(_ pattern: String, _ event: String) throws -> Bool {
        let value = try JSONValue(parsing: Array(pattern.utf8))
        let compiled = try PatternCompiler.compile(value, path: "match", locations: SourceLocations(file: "test"))
        let builder = PatternProgram.Builder()
        let root = builder.add(compiled)
        let program = builder.build()
        let document = try JSONDocument(parsing: Array(event.utf8))
        return document.withView { view in PatternMatcher.with(program, view) { $0.matches(root: root) } }
    }

    /// The guide's EC2 example event (event-ruler README).
    static let ec2 = """
        {"version":"0","id":"ddddd4-aaaa-7777-4444-345dd43cc333","detail-type":"EC2 Instance State-change Notification",
         "source":"aws.ec2","account":"012345679012","time":"2017-10-02T16:24:49Z","region":"us-east-1",
         "resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],
         "detail":{"c-count":5,"d-count":3,"x-limit":301.8,"source-ip":"10.0.0.33","instance-id":"i-000000aaaaaa00000",
                   "state":"running"}}
        """

    @Test(arguments: [
        // Simple matching: all fields, any of the values; the event's array intersects the pattern's.
        (#"{"detail-type":["EC2 Instance State-change Notification"],"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-000000aaaaaa00000"],"detail":{"state":["initializing","running"]}}"#, true),
        (#"{"detail":{"state":["initializing"]}}"#, false),
        (#"{"source":["aws.ec2","aws.fargate"]}"#, true),
        // Prefix, suffix, equals-ignore-case, wildcard.
        (#"{"time":[{"prefix":"2017-10-02"}]}"#, true),
        (#"{"time":[{"prefix":"2017-10-03"}]}"#, false),
        (#"{"source":[{"suffix":"ec2"}]}"#, true),
        (#"{"source":[{"suffix":"ec3"}]}"#, false),
        (#"{"source":[{"equals-ignore-case":"AWS.EC2"}]}"#, true),
        (#"{"detail-type":[{"wildcard":"EC2*State-change*"}]}"#, true),
        (#"{"detail-type":[{"wildcard":"EC2*Stopped*"}]}"#, false),
        // Anything-but: a string, a number, lists of each, a prefix.
        (#"{"detail":{"state":[{"anything-but":"initializing"}]}}"#, true),
        (#"{"detail":{"state":[{"anything-but":"running"}]}}"#, false),
        (#"{"detail":{"x-limit":[{"anything-but":123}]}}"#, true),
        (#"{"detail":{"x-limit":[{"anything-but":301.8}]}}"#, false),
        (#"{"detail":{"state":[{"anything-but":["stopped","overloaded"]}]}}"#, true),
        (#"{"detail":{"state":[{"anything-but":["stopped","running"]}]}}"#, false),
        (#"{"detail":{"x-limit":[{"anything-but":[100,200,300]}]}}"#, true),
        (#"{"detail":{"c-count":[{"anything-but":[4,5,6]}]}}"#, false),
        (#"{"detail":{"state":[{"anything-but":{"prefix":"init"}}]}}"#, true),
        (#"{"detail":{"state":[{"anything-but":{"prefix":"run"}}]}}"#, false),
        // Numeric ranges; "=" compares values (3.018e2 is 301.8).
        (#"{"detail":{"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"numeric":["=",3.018e2]}]}}"#, true),
        (#"{"detail":{"c-count":[{"numeric":[">",5]}]}}"#, false),
        (#"{"detail":{"c-count":[{"numeric":[">=",5]}]}}"#, true),
        (#"{"detail":{"c-count":[{"numeric":["<",5]}]}}"#, false),
        // IP address matching.
        (#"{"detail":{"source-ip":[{"cidr":"10.0.0.0/24"}]}}"#, true),
        (#"{"detail":{"source-ip":[{"cidr":"10.0.1.0/24"}]}}"#, false),
        // Exists.
        (#"{"detail":{"c-count":[{"exists":true}]}}"#, true),
        (#"{"detail":{"c-count":[{"exists":false}]}}"#, false),
        (#"{"detail":{"e-count":[{"exists":false}]}}"#, true),
        // The complex example.
        (#"{"time":[{"prefix":"2017-10-02"}],"detail":{"state":[{"anything-but":"initializing"}],"c-count":[{"numeric":[">",0,"<=",5]}],"d-count":[{"numeric":["<",10]}],"x-limit":[{"anything-but":[100,200,300]}],"source-ip":[{"cidr":"10.0.0.0/8"}]}}"#, true),
    ])
    func ec2Examples(_ pattern: String, _ expected: Bool) throws {
        #expect(try Self.matches(pattern, Self.ec2) == expected, "\(pattern)")
    }

    /// The comparison operators table of the user guide, each with an event it matches and
    /// one it does not.
    @Test(arguments: [
        (#"{"Location":["New York"],"Day":["Monday"]}"#, #"{"Location":"New York","Day":"Monday"}"#, true),
        (#"{"Location":["New York"],"Day":["Monday"]}"#, #"{"Location":"New York","Day":"Tuesday"}"#, false),
        (#"{"state":[{"anything-but":"initializing"}]}"#, #"{"state":"running"}"#, true),
        (#"{"Region":[{"anything-but":{"prefix":"us-"}}]}"#, #"{"Region":"eu-west-1"}"#, true),
        (#"{"Region":[{"anything-but":{"prefix":"us-"}}]}"#, #"{"Region":"us-east-1"}"#, false),
        (#"{"FileName":[{"anything-but":{"suffix":".png"}}]}"#, #"{"FileName":"a.jpg"}"#, true),
        (#"{"FileName":[{"anything-but":{"suffix":".png"}}]}"#, #"{"FileName":"a.png"}"#, false),
        (#"{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}"#, #"{"state":"INITIALIZING"}"#, false),
        (#"{"state":[{"anything-but":{"equals-ignore-case":"initializing"}}]}"#, #"{"state":"running"}"#, true),
        (#"{"state":[{"anything-but":{"equals-ignore-case":["initializing","stopped"]}}]}"#, #"{"state":"Stopped"}"#, false),
        (#"{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}"#, #"{"FilePath":"/usr/lib/x.so"}"#, false),
        (#"{"FilePath":[{"anything-but":{"wildcard":"*/lib/*"}}]}"#, #"{"FilePath":"/usr/bin/x"}"#, true),
        (#"{"FilePath":[{"anything-but":{"wildcard":["*/lib/*","*/bin/*"]}}]}"#, #"{"FilePath":"/usr/bin/x"}"#, false),
        (#"{"Region":[{"prefix":"us-"}]}"#, #"{"Region":"us-east-1"}"#, true),
        (#"{"service":[{"prefix":{"equals-ignore-case":"eventb"}}]}"#, #"{"service":"EventBridge"}"#, true),
        (#"{"service":[{"prefix":{"equals-ignore-case":"eventb"}}]}"#, #"{"service":"Lambda"}"#, false),
        (#"{"LastName":[""]}"#, #"{"LastName":""}"#, true),
        (#"{"LastName":[""]}"#, #"{"LastName":"Doe"}"#, false),
        (#"{"Name":["Alice"]}"#, #"{"Name":"Alice"}"#, true),
        (#"{"Name":["Alice"]}"#, #"{"Name":"alice"}"#, false),
        (#"{"Name":[{"equals-ignore-case":"alice"}]}"#, #"{"Name":"ALICE"}"#, true),
        (#"{"Name":[{"equals-ignore-case":"alice"}]}"#, #"{"Name":"Alicia"}"#, false),
        (#"{"FileName":[{"suffix":".png"}]}"#, #"{"FileName":"image.png"}"#, true),
        (#"{"service":[{"suffix":{"equals-ignore-case":"tBridge"}}]}"#, #"{"service":"EVENTBRIDGE"}"#, true),
        (#"{"service":[{"suffix":{"equals-ignore-case":"tBridge"}}]}"#, #"{"service":"EventBus"}"#, false),
        (#"{"ProductName":[{"exists":true}]}"#, #"{"ProductName":"x"}"#, true),
        (#"{"ProductName":[{"exists":true}]}"#, #"{"Other":"x"}"#, false),
        (#"{"ProductName":[{"exists":false}]}"#, #"{"Other":"x"}"#, true),
        (#"{"Weather":[{"anything-but":["Raining"]}]}"#, #"{"Weather":"Sunny"}"#, true),
        (#"{"Weather":[{"anything-but":["Raining"]}]}"#, #"{"Weather":"Raining"}"#, false),
        (#"{"UserID":[null]}"#, #"{"UserID":null}"#, true),
        (#"{"UserID":[null]}"#, #"{"UserID":"u1"}"#, false),
        (#"{"Price":[100]}"#, #"{"Price":100}"#, true),
        (#"{"Price":[100]}"#, #"{"Price":101}"#, false),
        (#"{"Price":[{"numeric":[">",10,"<=",20]}]}"#, #"{"Price":20}"#, true),
        (#"{"Price":[{"numeric":[">",10,"<=",20]}]}"#, #"{"Price":10}"#, false),
        (#"{"PaymentType":["Credit","Debit"]}"#, #"{"PaymentType":"Debit"}"#, true),
        (#"{"PaymentType":["Credit","Debit"]}"#, #"{"PaymentType":"Cash"}"#, false),
        (#"{"$or":[{"Location":["New York"]},{"Day":["Monday"]}]}"#, #"{"Location":"Paris","Day":"Monday"}"#, true),
        (#"{"$or":[{"Location":["New York"]},{"Day":["Monday"]}]}"#, #"{"Location":"Paris","Day":"Sunday"}"#, false),
        (#"{"FileName":[{"wildcard":"dir/*.png"}]}"#, #"{"FileName":"dir/a/b.png"}"#, true),
        (#"{"FileName":[{"wildcard":"dir/*.png"}]}"#, #"{"FileName":"other/b.png"}"#, false),
    ])
    func operatorsTable(_ pattern: String, _ event: String, _ expected: Bool) throws {
        #expect(try Self.matches(pattern, event) == expected, "\(pattern) on \(event)")
    }

    /// `$or` as the event-ruler README writes it: normal, parallel, with an "and" inside,
    /// nested.
    @Test(arguments: [
        (#"{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}"#,
         #"{"source":"aws.cloudwatch","namespace":"AWS/ES"}"#, true),
        (#"{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization","ReadLatency"]},{"namespace":["AWS/EC2","AWS/ES"]}]}"#,
         #"{"source":"aws.ec2","namespace":"AWS/ES"}"#, false),
        (#"{"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}],"detail":{"$or":[{"source":["aws.cloudwatch"]},{"detail-type":["CloudWatch Alarm State Change"]}]}}"#,
         #"{"namespace":"AWS/EC2","detail":{"detail-type":"CloudWatch Alarm State Change"}}"#, true),
        (#"{"$or":[{"metricName":["CPUUtilization"]},{"namespace":["AWS/EC2"]}],"detail":{"$or":[{"source":["aws.cloudwatch"]},{"detail-type":["CloudWatch Alarm State Change"]}]}}"#,
         #"{"namespace":"AWS/EC2","detail":{"detail-type":"other"}}"#, false),
        (#"{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"metricType":["MetricType"],"namespace":["AWS/EC2"]},{"scope":["Service"]}]}"#,
         #"{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/EC2"}"#, true),
        (#"{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"metricType":["MetricType"],"namespace":["AWS/EC2"]},{"scope":["Service"]}]}"#,
         #"{"source":"aws.cloudwatch","metricType":"MetricType","namespace":"AWS/ES"}"#, false),
        (#"{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"metricType":["MetricType"],"$or":[{"metricId":[1234]},{"spaceId":[1000]}]}]}"#,
         #"{"source":"aws.cloudwatch","metricType":"MetricType","spaceId":1000}"#, true),
        (#"{"source":["aws.cloudwatch"],"$or":[{"metricName":["CPUUtilization"]},{"metricType":["MetricType"],"$or":[{"metricId":[1234]},{"spaceId":[1000]}]}]}"#,
         #"{"source":"aws.cloudwatch","metricType":"MetricType","spaceId":1001}"#, false),
    ])
    func orExamples(_ pattern: String, _ event: String, _ expected: Bool) throws {
        #expect(try Self.matches(pattern, event) == expected, "\(pattern) on \(event)")
    }

    /// Edge cases the documentation calls out.
    @Test(arguments: [
        // Null and the empty string are not interchangeable (null values page).
        (#"{"detail":{"eventVersion":[""]}}"#, #"{"detail":{"eventVersion":"","responseElements":null}}"#, true),
        (#"{"detail":{"responseElements":[null]}}"#, #"{"detail":{"eventVersion":"","responseElements":null}}"#, true),
        (#"{"detail":{"eventVersion":[null]}}"#, #"{"detail":{"eventVersion":"","responseElements":null}}"#, false),
        (#"{"detail":{"responseElements":[""]}}"#, #"{"detail":{"eventVersion":"","responseElements":null}}"#, false),
        // Absent is not null: [null] needs the field; exists:false does not match a null.
        (#"{"a":[null]}"#, #"{"b":1}"#, false),
        (#"{"a":[{"exists":false}]}"#, #"{"a":null}"#, false),
        (#"{"a":[{"exists":true}]}"#, #"{"a":null}"#, true),
        // Numbers and strings are different values; numbers compare by value.
        (#"{"a":["5"]}"#, #"{"a":5}"#, false),
        (#"{"a":[5]}"#, #"{"a":"5"}"#, false),
        (#"{"a":[5]}"#, #"{"a":5.0}"#, true),
        (#"{"a":[300]}"#, #"{"a":3e2}"#, true),
        (#"{"a":[{"numeric":["=",5]}]}"#, #"{"a":"5"}"#, false),
        (#"{"a":[true]}"#, #"{"a":1}"#, false),
        (#"{"a":[true]}"#, #"{"a":true}"#, true),
        (#"{"a":[{"prefix":"1"}]}"#, #"{"a":12}"#, false),
        // Exists works on leaf nodes only: an object is not a leaf (the guide's c-count example).
        (#"{"detail":{"c-count":[{"exists":false}]}}"#, #"{"detail":{"state":"x","c-count":{"c1":100}}}"#, true),
        (#"{"detail":{"c-count":[{"exists":true}]}}"#, #"{"detail":{"state":"x","c-count":{"c1":100}}}"#, false),
        // Arrays: the pattern matches if any element does (arrays page: the intersection).
        (#"{"resources":["arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f","arn:aws:ec2:us-east-1:111122223333:instance/i-b188560f"]}"#,
         #"{"resources":["arn:aws:autoscaling:us-east-1:123456789012:autoScalingGroup","arn:aws:ec2:us-east-1:123456789012:instance/i-b188560f"]}"#, true),
        (#"{"a":[{"numeric":[">",10]}]}"#, #"{"a":[1,2,30]}"#, true),
        (#"{"a":[{"numeric":[">",10]}]}"#, #"{"a":[1,2,3]}"#, false),
        (#"{"a":[{"anything-but":"x"}]}"#, #"{"a":["x","y"]}"#, true),
        (#"{"a":[{"anything-but":"x"}]}"#, #"{"a":["x"]}"#, false),
        (#"{"a":["x"]}"#, #"{"a":[["y"],["x"]]}"#, true),
        (#"{"a":[{"exists":false}]}"#, #"{"a":[]}"#, true),
        (#"{"a":[{"exists":true}]}"#, #"{"a":[]}"#, false),
        // Arrays of objects are crushed out, but two fields must match in the same element
        // (event-ruler README, "JSON Array Matching").
        (#"{"employees":{"firstName":["Anna"]}}"#, #"{"employees":[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"},{"firstName":"Peter","lastName":"Jones"}]}"#, true),
        (#"{"employees":{"firstName":["Anna"],"lastName":["Jones"]}}"#, #"{"employees":[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"},{"firstName":"Peter","lastName":"Jones"}]}"#, false),
        (#"{"employees":{"firstName":["Anna"],"lastName":["Smith"]}}"#, #"{"employees":[[{"firstName":"John","lastName":"Doe"},{"firstName":"Anna","lastName":"Smith"}],[{"firstName":"Peter","lastName":"Jones"}]]}"#, true),
        // Empty strings with prefix and wildcard.
        (#"{"a":[{"prefix":""}]}"#, #"{"a":""}"#, true),
        (#"{"a":[{"wildcard":"*"}]}"#, #"{"a":""}"#, true),
        (#"{"a":[{"wildcard":"a*"}]}"#, #"{"a":""}"#, false),
        // Wildcard escapes: \* is a star, \\ a backslash.
        (#"{"a":[{"wildcard":"a\\*b"}]}"#, #"{"a":"a*b"}"#, true),
        (#"{"a":[{"wildcard":"a\\*b"}]}"#, #"{"a":"axb"}"#, false),
        (#"{"a":[{"wildcard":"a\\\\*"}]}"#, #"{"a":"a\\bc"}"#, true),
        (#"{"a":[{"wildcard":"*a*a*"}]}"#, #"{"a":"banana"}"#, true),
        (#"{"a":[{"wildcard":"a*a"}]}"#, #"{"a":"a"}"#, false),
        // CIDR: IPv6, host bits ignored, families kept apart, non-strings never match.
        (#"{"ip":[{"cidr":"2001:db8::/32"}]}"#, #"{"ip":"2001:db8::1"}"#, true),
        (#"{"ip":[{"cidr":"2001:db8::/32"}]}"#, #"{"ip":"2001:db9::1"}"#, false),
        (#"{"ip":[{"cidr":"::ffff:0:0/96"}]}"#, #"{"ip":"::ffff:10.0.0.1"}"#, true),
        (#"{"ip":[{"cidr":"10.0.0.7/24"}]}"#, #"{"ip":"10.0.0.200"}"#, true),
        (#"{"ip":[{"cidr":"0.0.0.0/0"}]}"#, #"{"ip":"2001:db8::1"}"#, false),
        (#"{"ip":[{"cidr":"0.0.0.0/0"}]}"#, #"{"ip":"not an address"}"#, false),
        (#"{"ip":[{"cidr":"0.0.0.0/0"}]}"#, #"{"ip":5}"#, false),
        // Case folding beyond ASCII.
        (#"{"a":[{"equals-ignore-case":"ÉTÉ"}]}"#, #"{"a":"été"}"#, true),
        // Anything-but never matches an absent field.
        (#"{"a":[{"anything-but":"x"}]}"#, #"{"b":"y"}"#, false),
        // A nested pattern against a missing object: its fields are absent.
        (#"{"a":{"b":[{"exists":false}]}}"#, #"{"c":1}"#, true),
        (#"{"a":{"b":["x"]}}"#, #"{"a":"b"}"#, false),
    ])
    func documentedEdgeCases(_ pattern: String, _ event: String, _ expected: Bool) throws {
        #expect(try Self.matches(pattern, event) == expected, "\(pattern) on \(event)")
    }

    /// Patterns EventBridge refuses are refused at load, with the key path of the mistake.
    @Test(arguments: [
        (#"{"a":"x"}"#, "match.a", "list of values"),
        (#"{"a":[]}"#, "match.a", "empty list"),
        (#"{"a":{}}"#, "match.a", "empty pattern object"),
        (#"{"a":[["x"]]}"#, "match.a.0", "list inside a list"),
        (#"{"a":[{"contains":"x"}]}"#, "match.a.0", "unknown operator 'contains'"),
        (#"{"a":[{"prefix":"x","suffix":"y"}]}"#, "match.a.0", "exactly one key"),
        (#"{"a":[{"prefix":5}]}"#, "match.a.0", "prefix takes a string"),
        (#"{"a":[{"numeric":[">"]}]}"#, "match.a.0", "operator/number pairs"),
        (#"{"a":[{"numeric":[">",5,">",6]}]}"#, "match.a.0", "two lower bounds"),
        (#"{"a":[{"numeric":[">",5,"<",5]}]}"#, "match.a.0", "range is empty"),
        (#"{"a":[{"numeric":["==",5]}]}"#, "match.a.0", "unknown numeric operator"),
        (#"{"a":[{"numeric":["=",5,"<",6]}]}"#, "match.a.0", "stands alone"),
        (#"{"a":[{"wildcard":"a**b"}]}"#, "match.a.0", "two * in a row"),
        (#"{"a":[{"wildcard":"a\\b"}]}"#, "match.a.0", "backslash"),
        (#"{"a":[{"anything-but":["x",5]}]}"#, "match.a.0", "only strings or only numbers"),
        (#"{"a":[{"anything-but":null}]}"#, "match.a.0", "not null"),
        (#"{"a":[{"anything-but":{"prefix":""}}]}"#, "match.a.0.prefix", "non-empty string"),
        (#"{"a":[{"anything-but":{"exists":true}}]}"#, "match.a.0.exists", "one of prefix"),
        (#"{"a":[{"exists":"yes"}]}"#, "match.a.0", "true or false"),
        (#"{"a":[{"cidr":"10.0.0.0"}]}"#, "match.a.0", "IP network"),
        (#"{"a":[{"cidr":"10.0.0.0/33"}]}"#, "match.a.0", "IP network"),
        (#"{"a":[{"cidr":"300.0.0.0/8"}]}"#, "match.a.0", "IP network"),
        (#"{"$or":[{"a":["x"]}]}"#, "match.$or", "at least two"),
        (#"{"$or":[{"a":["x"]},["y"]]}"#, "match.$or.1", "pattern object"),
        (#"{"a":[{"$or":[1,2]}]}"#, "match.a.0", "level of fields"),
        (#"{"a":{"b":{"c":[{"equals-ignore-case":1}]}}}"#, "match.a.b.c.0", "equals-ignore-case takes a string"),
    ])
    func invalidPatterns(_ pattern: String, _ keyPath: String, _ fragment: String) throws {
        let value = try JSONValue(parsing: Array(pattern.utf8))
        do {
            _ = try PatternCompiler.compile(value, path: "match", locations: SourceLocations(file: "test"))
            Issue.record("accepted \(pattern)")
        } catch {
            #expect(error.keyPath == keyPath, "\(pattern): \(error)")
            #expect(error.message.contains(fragment), "\(pattern): \(error.message)")
        }
    }
}
