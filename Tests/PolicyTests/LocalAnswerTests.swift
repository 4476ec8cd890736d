import Policy
import Testing

/// The proxy's own answers: what a gRPC caller reads them as, and how their reason is carried.
@Suite struct LocalAnswerTests {
    @Test(arguments: [(403, 7), (429, 8), (502, 14), (503, 14), (504, 4), (400, 13), (414, 13), (431, 13), (500, 2)])
    func httpStatusesBecomeTheGRPCStatusACallerActsOn(status: Int, grpc: Int) {
        #expect(LocalAnswer(status: status, text: "x").grpcStatus == grpc)
    }

    @Test func theDenialNamesItsRule() {
        let answer = LocalAnswer.denied(PolicyDecision(action: .deny, ruleIndex: 2, ruleName: "no-admin"))
        #expect(answer.status == 403 && answer.body == "denied by sidecar policy: rule no-admin\n")
        #expect(answer.grpcMessage == "denied by sidecar policy: rule no-admin")
    }

    /// `grpc-message` is percent-encoded: `%` and bytes outside printable ASCII.
    @Test func theGRPCMessageIsPercentEncoded() {
        #expect(LocalAnswer(status: 403, text: "100% denied: règle").grpcMessage == "100%25 denied: r%C3%A8gle")
    }

    @Test(arguments: [
        ("application/grpc", true), ("application/grpc+proto", true), ("Application/GRPC", true),
        ("application/grpc;charset=utf-8", true), ("application/grpc-web", false), ("application/json", false),
        (nil, false),
    ])
    func gRPCIsToldByItsContentType(contentType: String?, isGRPC: Bool) {
        #expect(LocalAnswer.isGRPC(contentType: contentType) == isGRPC)
    }
}
