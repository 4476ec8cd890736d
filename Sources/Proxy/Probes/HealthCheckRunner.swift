import NIOCore
import NIOHPACK
import NIOHTTP1
import NIOHTTP2
import NIOPosix
import NIOSSL
import Policy

#if canImport(Glibc)
    import Glibc
#endif

/// Runs one health check against one server and says how it went: the app probes the kubelet asks the proxy for,
/// and the active checks of a service's endpoints. Each check has its own connection, closed when it has its answer
/// or at the timeout, whichever comes first.
public struct HealthCheckRunner: Sendable {
    /// Where a check goes.
    public struct Target: Sendable, Hashable {
        public var host: String
        public var port: Int
        /// From 127.0.0.6, for the pod's own address: the proxy's connections to it would be taken for self-calls.
        public var fromInboundDeliverySource: Bool

        public init(host: String, port: Int, fromInboundDeliverySource: Bool) {
            self.host = host
            self.port = port
            self.fromInboundDeliverySource = fromInboundDeliverySource
        }
    }

    public enum Outcome: Sendable, Equatable {
        /// With what was seen (`HTTP 200`, `connected`, `SERVING`).
        case healthy(String)
        /// With the reason, for the operator.
        case unhealthy(String)

        public var isHealthy: Bool {
            if case .healthy = self { true } else { false }
        }
    }

    /// HTTPS checks are not verified, as the kubelet does not verify them: the check is of health, not identity.
    private let unverifiedTLS: NIOSSLContext
    private let group: any EventLoopGroup

    public init(group: any EventLoopGroup = MultiThreadedEventLoopGroup.singleton) throws {
        var configuration = TLSConfiguration.makeClientConfiguration()
        configuration.certificateVerification = .none
        unverifiedTLS = try NIOSSLContext(configuration: configuration)
        self.group = group
    }

    public func run(_ check: HealthCheck, against target: Target, timeout: Duration) async -> Outcome {
        let deadline = NIODeadline.now() + TimeAmount(timeout)
        do {
            switch check {
            case .tcp:
                let channel = try await bootstrap(target, deadline: deadline).connect(
                    host: target.host, port: target.port
                )
                .get()
                // Connected is healthy, whatever the server does next (it may close first).
                channel.close(promise: nil)
                return .healthy("connected")
            case .http(let http):
                return try await runHTTP(http, against: target, deadline: deadline)
            case .grpc(let service):
                return try await runGRPC(service: service, against: target, deadline: deadline)
            }
        } catch ChannelError.connectTimeout {
            return .unhealthy("no connection within \(timeout)")
        } catch {
            if NIODeadline.now() >= deadline { return .unhealthy("no answer within \(timeout)") }
            return .unhealthy(Self.reason(error, target: target))
        }
    }

    private func bootstrap(_ target: Target, deadline: NIODeadline) -> ClientBootstrap {
        let bootstrap = ClientBootstrap(group: group).connectTimeout(max(deadline - .now(), .milliseconds(1)))
        return target.fromInboundDeliverySource ? bootstrap.fromInboundDeliverySource() : bootstrap
    }

    /// Closes the connection at the deadline, so that waiting for an answer ends there.
    private func bounded(_ channel: any Channel, by deadline: NIODeadline) -> Scheduled<Void> {
        channel.eventLoop.scheduleTask(deadline: deadline) { channel.close(promise: nil) }
    }

    private func runHTTP(_ check: HTTPHealthCheck, against target: Target, deadline: NIODeadline) async throws
        -> Outcome
    {
        let tls = check.tls ? unverifiedTLS : nil
        let connection = try await bootstrap(target, deadline: deadline).connect(
            host: target.host, port: target.port
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                if let tls {
                    try channel.pipeline.syncOperations.addHandler(
                        NIOSSLClientHandler(context: tls, serverHostname: nil))
                }
                try channel.pipeline.syncOperations.addHTTPClientHandlers()
                return try NIOAsyncChannel<HTTPClientResponsePart, HTTPClientRequestPart>(
                    wrappingChannelSynchronously: channel)
            }
        }
        let timer = bounded(connection.channel, by: deadline)
        defer { timer.cancel() }
        return try await connection.executeThenClose { inbound, outbound in
            var headers = HTTPHeaders()
            headers.add(name: "Host", value: check.host ?? Self.authority(target))
            headers.add(name: "User-Agent", value: "kube-probe/swift-sidecar")
            headers.add(name: "Accept", value: "*/*")
            headers.add(name: "Connection", value: "close")
            // The probe's own headers take the place of these defaults; a name given twice is sent twice.
            for name in Set(check.headers.map { $0.name.lowercased() }) { headers.remove(name: name) }
            for header in check.headers { headers.add(name: header.name, value: header.value) }
            try await outbound.write(
                .head(HTTPRequestHead(version: .http1_1, method: .GET, uri: check.path, headers: headers)))
            try await outbound.write(.end(nil))
            for try await part in inbound {
                guard case .head(let head) = part else { continue }
                let status = Int(head.status.code)
                return check.expects(status) ? .healthy("HTTP \(status)") : .unhealthy("HTTP \(status)")
            }
            return NIODeadline.now() >= deadline
                ? .unhealthy("no answer in time") : .unhealthy("closed before answering")
        }
    }

    private func runGRPC(service: String, against target: Target, deadline: NIODeadline) async throws -> Outcome {
        let (connection, multiplexer) = try await bootstrap(target, deadline: deadline).connect(
            host: target.host, port: target.port
        ) { channel in
            channel.eventLoop.makeCompletedFuture {
                // The server opens no streams of its own; any it tries is closed at once.
                let multiplexer = try channel.pipeline.syncOperations.configureAsyncHTTP2Pipeline(mode: .client) {
                    stream in stream.close()
                }
                return (channel, multiplexer)
            }
        }
        let timer = bounded(connection, by: deadline)
        defer {
            timer.cancel()
            connection.close(promise: nil)
        }
        let stream = try await multiplexer.openStream { stream in
            stream.eventLoop.makeCompletedFuture {
                try NIOAsyncChannel<HTTP2Frame.FramePayload, HTTP2Frame.FramePayload>(
                    wrappingChannelSynchronously: stream)
            }
        }
        return try await stream.executeThenClose { inbound, outbound in
            let headers: HPACKHeaders = [
                ":method": "POST", ":scheme": "http", ":path": "/grpc.health.v1.Health/Check",
                ":authority": Self.authority(target), "content-type": "application/grpc", "te": "trailers",
                "user-agent": "kube-probe/swift-sidecar",
            ]
            try await outbound.write(.headers(.init(headers: headers)))
            let request = ByteBuffer(bytes: GRPCHealthMessage.request(service: service))
            try await outbound.write(.data(.init(data: .byteBuffer(request), endStream: true)))
            var body: [UInt8] = []
            var grpcStatus: String?
            var httpStatus: String?
            for try await payload in inbound {
                switch payload {
                case .headers(let frame):
                    httpStatus = httpStatus ?? frame.headers.first(name: ":status")
                    grpcStatus = frame.headers.first(name: "grpc-status") ?? grpcStatus
                case .data(let frame):
                    if case .byteBuffer(let buffer) = frame.data { body += buffer.readableBytesView }
                    // The answer is a few bytes: a server that sends more is not the health service.
                    guard body.count <= Self.maxGRPCAnswer else { return .unhealthy("gRPC answer over 64 KiB") }
                default:
                    break
                }
            }
            guard let httpStatus else { return .unhealthy("no HTTP/2 answer to the gRPC check") }
            guard httpStatus == "200" else { return .unhealthy("HTTP \(httpStatus) to the gRPC check") }
            guard grpcStatus == "0" else { return .unhealthy("grpc-status \(grpcStatus ?? "none")") }
            switch try GRPCHealthMessage.servingStatus(body) {
            case .serving: return .healthy("SERVING")
            case .notServing: return .unhealthy("NOT_SERVING")
            case .serviceUnknown: return .unhealthy("SERVICE_UNKNOWN")
            case .unknown: return .unhealthy("UNKNOWN")
            case .other(let value): return .unhealthy("serving status \(value)")
            }
        }
    }

    /// `connection refused (10.0.0.5:8080)` rather than NIO's nested error descriptions.
    private static func reason(_ error: any Error, target: Target) -> String {
        let cause = (error as? NIOConnectionError)?.connectionErrors.first?.error ?? error
        guard let io = cause as? IOError else { return "\(cause)" }
        return "\(String(cString: strerror(io.errnoCode)).lowercased()) (\(authority(target)))"
    }

    private static let maxGRPCAnswer = 64 << 10

    private static func authority(_ target: Target) -> String {
        target.host.contains(":") ? "[\(target.host)]:\(target.port)" : "\(target.host):\(target.port)"
    }
}
