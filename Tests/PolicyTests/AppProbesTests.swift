import Foundation
import Testing

@testable import Policy

/// `SIDECAR_APP_PROBES`, the contract between `sidecar-inject` and the proxy, and the gRPC health messages the
/// proxy sends and reads.
struct AppProbesTests {
    @Test func theJSONReadsBackAsWritten() throws {
        let probes = AppProbes(containers: [
            "app": [
                .readyz: AppProbe(
                    httpGet: .init(
                        path: "/ready", port: 8080, scheme: "HTTPS", httpHeaders: [.init(name: "Host", value: "a")])),
                .livez: AppProbe(tcpSocket: .init(port: 9000), timeoutSeconds: 3),
            ],
            "worker": [.startupz: AppProbe(grpc: .init(port: 9090, service: "orders"))],
        ])
        let json = probes.json()
        #expect(try AppProbes.parse(json) == probes)
        #expect(json.hasPrefix(#"{"app":{"livez":{"tcpSocket":{"port":9000},"timeoutSeconds":3}"#), "sorted: \(json)")
    }

    @Test(arguments: [
        (#"{"app":{"livez":{}}}"#, "app.livez: needs exactly one of httpGet, tcpSocket, grpc (found 0)"),
        (#"{"app":{"livez":{"tcpSocket":{"port":70000}}}}"#, "app.livez: port 70000 is not from 1 to 65535"),
        (#"{"App_1":{"livez":{"tcpSocket":{"port":1}}}}"#, "'App_1' is not a container name"),
        (#"{"app":{"readyz":{"httpGet":{"port":1,"path":"x"}}}}"#, "path 'x' does not start with /"),
        (#"{"app":{"readyz":{"httpGet":{"port":1,"scheme":"FTP"}}}}"#, "scheme 'FTP' is neither HTTP nor HTTPS"),
        (
            #"{"app":{"readyz":{"httpGet":{"port":1,"httpHeaders":[{"name":"a b","value":"x"}]}}}}"#,
            "'a b' is not a token"
        ),
        (#"{"app":{"readyz":{"httpGet":{"port":1,"httpHeaders":[{"name":"a","value":"x\r\ny: z"}]}}}}"#, "line break"),
        (#"{"app":{"sometimes":{"tcpSocket":{"port":1}}}}"#, "not the JSON of app probes"),
        (#"{"app":{"livez":{"tcpSocket":{"port":1},"timeoutSeconds":0}}}"#, "timeoutSeconds 0 is not from 1 to 3600"),
    ])
    func probesTheProxyCouldNotRunAreRefused(json: String, problem: String) {
        let error = #expect(throws: AppProbesError.self) { try AppProbes.parse(json) }
        #expect(error?.description.contains(problem) == true, "\(String(describing: error))")
    }

    @Test func eachProbeBecomesTheCheckTheKubeletWouldMake() {
        let http = AppProbe(
            httpGet: .init(
                path: nil, port: 8080, host: "10.0.0.9", scheme: "HTTPS",
                httpHeaders: [.init(name: "Host", value: "app.local"), .init(name: "X-A", value: "1")]))
        let expected = HTTPHealthCheck(
            path: "/", tls: true, host: "app.local", headers: [.init(name: "X-A", value: "1")],
            expectedStatuses: [200...399])
        #expect(http.healthCheck == (.http(expected), 8080, "10.0.0.9"))
        #expect(AppProbe(tcpSocket: .init(port: 9000)).healthCheck == (.tcp, 9000, nil))
        #expect(AppProbe(grpc: .init(port: 9090)).healthCheck == (.grpc(service: ""), 9090, nil))
        #expect(AppProbe(tcpSocket: .init(port: 1)).timeout == .seconds(1), "the kubelet's default")
    }

    @Test func theHealthRequestIsAFramedProtobufString() {
        #expect(GRPCHealthMessage.request(service: "") == [0, 0, 0, 0, 0])
        #expect(GRPCHealthMessage.request(service: "ab") == [0, 0, 0, 0, 4, 0x0A, 2, 0x61, 0x62])
        let long = String(repeating: "x", count: 200)
        #expect(Array(GRPCHealthMessage.request(service: long).prefix(8)) == [0, 0, 0, 0, 203, 0x0A, 0xC8, 0x01])
    }

    @Test func theServingStatusIsReadPastUnknownFields() throws {
        #expect(try GRPCHealthMessage.servingStatus([0, 0, 0, 0, 2, 0x08, 1]) == .serving)
        #expect(try GRPCHealthMessage.servingStatus([0, 0, 0, 0, 2, 0x08, 2]) == .notServing)
        #expect(try GRPCHealthMessage.servingStatus([0, 0, 0, 0, 0]) == .unknown, "proto3 leaves out the default")
        // Field 2 (length-delimited, 2 bytes) and field 3 (fixed32) before the status.
        let padded: [UInt8] = [0x12, 2, 0xFF, 0xFF, 0x1D, 1, 2, 3, 4, 0x08, 3]
        #expect(try GRPCHealthMessage.servingStatus([0, 0, 0, 0, UInt8(padded.count)] + padded) == .serviceUnknown)
    }

    @Test(arguments: [
        ([UInt8]([0, 0, 0]), GRPCHealthMessage.DecodingError.truncated),
        // A length of 2^64 - 1 (ten varint bytes) for field 2: refused, never converted.
        ([0, 0, 0, 0, 11, 0x12, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01], .truncated),
        ([0, 0, 0, 0, 3, 0x08], .truncated),
        ([1, 0, 0, 0, 2, 0x08, 1], .compressed),
        ([0, 0, 0, 0, 2, 0x0F, 1], .malformed),
        ([0, 0, 0, 0, 2, 0x12, 5], .truncated),
    ])
    func brokenAnswersAreErrorsNotStatuses(bytes: [UInt8], error: GRPCHealthMessage.DecodingError) {
        #expect(throws: error) { try GRPCHealthMessage.servingStatus(bytes) }
    }
}
