import Logging
import NIOCore
import NIOPosix
import Policy
import Telemetry

/// The pipeline for one accepted connection: original destination, loop check, detection when a rule needs it,
/// policy, then a byte relay or an HTTP proxy deciding each request; and what the connection reports when it ends.
struct ConnectionForwarder: Sendable {
    let direction: TrafficDirection
    let configurations: ConfigurationStore
    let reader: any OriginalDestinationReader
    let registry: ConnectionRegistry
    let limiter: TrafficLimiter
    let services: ServiceDirectory
    let recorder: TrafficRecorder
    let logger: Logger

    /// Runs on the client channel's event loop as the channel is accepted, before it is registered. The channel asks
    /// for no read until the upstream is connected; what NIO still reads (it always drains a socket on the peer's
    /// FIN) reaches the relay, which queues it on the connecting upstream, in order.
    /// - Throws: when the channel refuses its options; it is then closed unused.
    func forward(_ client: Channel) throws {
        // Set here, synchronously, rather than as child channel options, which NIO applies through a chain of
        // futures for every accepted connection. (TCP_NODELAY is inherited from the listening socket.)
        try client.syncOptions?.setOption(.autoRead, value: false)
        try client.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
        let record = ConnectionRecord(direction: direction, source: client.remoteAddress)
        registry.register(client, record: NIOLoopBound(record, eventLoop: client.eventLoop))
        recorder.connectionOpened(direction: direction.rawValue)
        client.closeFuture.assumeIsolated().whenComplete { [recorder, direction] _ in
            recorder.connectionClosed(
                direction: direction.rawValue, destination: record.destination?.description ?? "unknown",
                outcome: record.outcome, bytesReceived: record.bytesReceived, bytesSent: record.bytesSent,
                entry: record.entry)
        }
        // One snapshot for admitting the connection: a reload applies to the next one (and to its next request).
        let configuration = configurations.current
        let source = client.remoteAddress
        reader.originalDestination(of: client).hop(to: client.eventLoop).assumeIsolated().whenComplete { result in
            switch result {
            case .failure(let error):
                logger.warning(
                    "connection refused: original destination unreadable",
                    metadata: [
                        "direction": "\(direction)", "source": "\(source?.endpoint ?? "unknown")", "error": "\(error)",
                    ])
                client.reset()
            case .success(let destination) where isLoop(destination, configuration):
                record.destination = destination
                record.outcome = .loop
                logger.warning(
                    "connection refused: original destination is the proxy itself",
                    metadata: [
                        "direction": "\(direction)", "source": "\(source?.endpoint ?? "unknown")",
                        "destination": "\(destination)",
                    ])
                client.reset()
            case .success(let destination):
                record.destination = destination
                let facts = ConnectionFacts(
                    direction: direction, destinationAddress: destination.address.addressBytes ?? [],
                    destinationPort: UInt16(destination.port),
                    sourceAddress: client.remoteAddress?.addressBytes ?? [])
                let limit = configuration.limits.first { $0.matches(facts) }
                if let limit {
                    guard limiter.acquire(.connections, under: limit) else {
                        refuseOverLimit(client, record: record, limit: limit, reason: "maxConnections")
                        return
                    }
                    client.closeFuture.whenComplete { [limiter] _ in limiter.release(.connections, under: limit) }
                }
                // Services are what the app dials out to; inbound connections go to the pod's own ports.
                let service =
                    direction == .outbound
                    ? services.runtime(
                        addressedBy: facts.destinationAddress, port: facts.destinationPort, in: configuration) : nil
                let admission = Admission(
                    client: client, destination: destination, source: source, facts: facts,
                    configuration: configuration, record: record, limit: limit, service: service)
                if PolicyEvaluator.needsDetection(configuration.policy(for: direction), for: facts)
                    || admission.proxiesHTTPWhenDetected
                {
                    detectThenAdmit(admission)
                } else {
                    admit(admission, sniffed: nil)
                }
            }
        }
    }

    /// One connection on its way through policy to its upstream.
    private struct Admission {
        let client: Channel
        let destination: OriginalDestination
        let source: SocketAddress?
        let facts: ConnectionFacts
        let configuration: ProxyConfiguration
        let record: ConnectionRecord
        /// The first limit that matches the connection.
        let limit: TrafficLimit?
        /// The service whose address the connection dialed.
        let service: ServiceRuntime?

        /// HTTP is proxied request by request when a limit counts requests, or the destination is a service (whose
        /// endpoints' 5xx count against them, and whose idempotent requests may be retried on another endpoint).
        var proxiesHTTPWhenDetected: Bool { limit?.limitsRequests == true || service != nil }

        /// What the logs say of the connection; built only when a log line is written (log calls take it lazily).
        func logMetadata(_ sniffed: ProtocolSniffingHandler.Outcome?) -> Logger.Metadata {
            var metadata: Logger.Metadata = [
                "direction": "\(facts.direction)", "source": "\(source?.endpoint ?? "unknown")",
                "destination": "\(destination)",
            ]
            switch sniffed?.detected {
            case .tls(let serverName, let alpn)?:
                metadata["protocol"] = "tls"
                metadata["sni"] = "\(serverName ?? "unknown")"
                if !alpn.isEmpty { metadata["alpn"] = "\(alpn.joined(separator: ","))" }
            case let detected?:
                metadata["protocol"] = "\(detected)"
            case nil:
                break
            }
            return metadata
        }
    }

    /// Reads the first bytes until the protocol is known, one read at a time so the decision comes as early as the
    /// bytes allow, then admits the connection with those bytes.
    private func detectThenAdmit(_ admission: Admission) {
        let client = admission.client
        let readsPerTurn = (try? client.syncOptions?.getOption(.maxMessagesPerRead)) ?? Self.maxMessagesPerRead
        let outcome = client.eventLoop.makePromise(of: ProtocolSniffingHandler.Outcome.self)
        let sniffer = ProtocolSniffingHandler(
            timeout: TimeAmount(admission.configuration.timeouts.detect), outcome: outcome)
        do {
            try client.syncOptions?.setOption(.maxMessagesPerRead, value: 1)
            try client.pipeline.syncOperations.addHandler(sniffer)
        } catch {
            client.reset()
            return
        }
        outcome.futureResult.assumeIsolated().whenSuccess { sniffed in
            // Bytes read from here on pass the relay, which queues them behind the sniffed ones.
            client.pipeline.syncOperations.removeHandler(sniffer, promise: nil)
            try? client.syncOptions?.setOption(.maxMessagesPerRead, value: readsPerTurn)
            admit(admission, sniffed: sniffed)
        }
    }

    /// Decides with everything known, then resets, relays, or proxies HTTP request by request.
    private func admit(_ admission: Admission, sniffed: ProtocolSniffingHandler.Outcome?) {
        admission.record.detected = sniffed?.detected
        let isHTTP = sniffed?.detected == .http1 || sniffed?.detected == .http2
        let verdict = PolicyEvaluator.verdict(
            admission.configuration.policy(for: direction), for: admission.facts, detected: sniffed?.detected,
            proxiesHTTP: isHTTP)
        switch verdict {
        case .perRequest:
            guard let sniffed else { return }
            proxyRequests(admission, firstBytes: sniffed)
        case .decided(let decision) where decision.action == .allow:
            admission.record.decision = decision
            if let sniffed, isHTTP, admission.proxiesHTTPWhenDetected {
                // Each request is counted and proxied on its own, and decided again (the same way).
                proxyRequests(admission, firstBytes: sniffed)
            } else if let limit = admission.limit, let wait = limiter.takeToken(under: limit) {
                refuseOverLimit(
                    admission.client, record: admission.record, limit: limit,
                    reason: "requestsPerSecond (next in \(wait))")
            } else if let limit = admission.limit, !limiter.acquire(.requests, under: limit) {
                // Not read request by request (TLS, or not HTTP): the whole connection counts as one request.
                refuseOverLimit(admission.client, record: admission.record, limit: limit, reason: "maxRequests")
            } else {
                if let limit = admission.limit {
                    admission.client.closeFuture.whenComplete { [limiter] _ in
                        limiter.release(.requests, under: limit)
                    }
                }
                relay(admission, firstBytes: sniffed)
            }
        case .decided(let decision):
            admission.record.decision = decision
            admission.record.outcome = .denied
            recorder.denied(
                direction: direction.rawValue, source: admission.record.source,
                destination: admission.destination.description, request: nil, rule: decision.ruleName)
            logger.warning(
                "connection denied by policy",
                metadata: admission.logMetadata(sniffed).merging([
                    "rule": "\(decision.ruleName)",
                    "ruleIndex": "\(decision.ruleIndex.map(String.init) ?? "default")",
                ]) { $1 })
            admission.client.reset()
        }
    }

    /// A connection over its limit is reset at once: a client fails fast rather than queueing behind a dependency
    /// that is already saturated.
    private func refuseOverLimit(_ client: Channel, record: ConnectionRecord, limit: TrafficLimit, reason: String) {
        record.outcome = .limited
        logger.warning(
            "connection refused: limit reached",
            metadata: [
                "direction": "\(direction)", "source": "\(record.source)",
                "destination": "\(record.destination?.description ?? "unknown")", "limit": "\(limit.name)",
                "bound": "\(reason)",
            ])
        client.reset()
    }

    private func dialer(for admission: Admission) -> UpstreamDialer {
        UpstreamDialer(
            direction: direction, destination: admission.destination,
            connectTimeout: TimeAmount(admission.configuration.timeouts.connect), service: admission.service)
    }

    /// HTTP/1.1 or HTTP/2 with an HTTP rule in reach: every request is decided on its own. The bytes read for
    /// detection are the start of the first request (or the HTTP/2 preface), so they go to the decoder first.
    private func proxyRequests(_ admission: Admission, firstBytes sniffed: ProtocolSniffingHandler.Outcome) {
        let client = admission.client
        admission.record.outcome = .forwarded
        let connection = ProxiedConnection(
            facts: admission.facts, dialer: dialer(for: admission), configurations: configurations,
            record: admission.record, recorder: recorder, limiter: limiter, logger: logger,
            logMetadata: admission.logMetadata(sniffed))
        do {
            // Counted at the socket: the HTTP handlers see messages, not bytes.
            try client.pipeline.syncOperations.addHandler(
                ByteCountingHandler(record: admission.record), position: .first)
            try client.pipeline.syncOperations.addHandler(
                IdleStateHandler(allTimeout: TimeAmount(admission.configuration.timeouts.idle)))
            if sniffed.detected == .http2 {
                try HTTP2Session(connection: connection).install(on: client)
            } else {
                try HTTP1ClientHandler(connection: connection).install(on: client)
            }
        } catch {
            client.reset()
            return
        }
        // Reading resumes first: HTTP/2 streams opened by the bytes below take their autoRead from the connection.
        try? client.syncOptions?.setOption(.autoRead, value: true)
        client.pipeline.fireChannelRead(sniffed.firstBytes)
        client.pipeline.fireChannelReadComplete()
        if sniffed.inputClosed { client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed) }
    }

    /// Relays bytes both ways, the ones read for detection first.
    private func relay(_ admission: Admission, firstBytes sniffed: ProtocolSniffingHandler.Outcome?) {
        let client = admission.client
        // Idle means neither side read anything for the timeout; the client's end watches both.
        let (clientEnd, upstreamEnd) = RelayHandler.matchedPair(
            countingInto: admission.record, idleTimeout: TimeAmount(admission.configuration.timeouts.idle))
        // The bytes read for detection go to the upstream directly, past the relay that counts the rest.
        admission.record.bytesReceived += sniffed?.firstBytes.readableBytes ?? 0
        do {
            if let sniffed, sniffed.firstBytes.readableBytes == 0, !sniffed.inputClosed {
                // Silent through the detect timeout: its first bytes may still meet an SNI or HTTP rule.
                try client.pipeline.syncOperations.addHandler(
                    LateDetectionHandler(
                        check: LateDetectionHandler.Check(
                            policy: admission.configuration.policy(for: direction), facts: admission.facts,
                            timeout: TimeAmount(admission.configuration.timeouts.detect), record: admission.record,
                            recorder: recorder, logger: logger, logMetadata: admission.logMetadata(sniffed))))
            }
            try client.pipeline.syncOperations.addHandler(clientEnd)
        } catch {
            client.reset()
            return
        }
        let upstreamHandler = NIOLoopBound(upstreamEnd, eventLoop: client.eventLoop)
        let record = admission.record
        let dialStarted = ContinuousClock.now
        dialer(for: admission).connect(on: client.eventLoop) { upstream in
            upstream.eventLoop.makeCompletedFuture {
                // The bytes read for detection go first, unchanged: ahead of anything the relay passes on, also of
                // what its upstream end held back while a service's endpoint was being connected.
                if let sniffed, sniffed.firstBytes.readableBytes > 0 {
                    upstream.write(sniffed.firstBytes, promise: nil)
                }
                try upstream.pipeline.syncOperations.addHandler(upstreamHandler.value)
            }
        }.assumeIsolated().whenComplete { result in
            switch result {
            case .success(let upstream):
                record.outcome = .forwarded
                record.upstream = upstream.remoteAddress
                if let service = admission.service, let endpoint = upstream.remoteAddress {
                    service.succeeded(endpoint)
                }
                recorder.upstreamConnected(direction: direction.rawValue, after: ContinuousClock.now - dialStarted)
                logger.debug("connection forwarded", metadata: admission.logMetadata(sniffed))
                upstream.flush()
                // A half-close seen during detection follows the bytes before it.
                if sniffed?.inputClosed == true {
                    client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
                } else {
                    // Fails only if the client has already gone, and then the relay closes the upstream itself.
                    try? client.syncOptions?.setOption(.autoRead, value: true)
                }
            case .failure(let error):
                record.outcome = Self.outcome(ofFailedConnect: error)
                logger.info(
                    "upstream connect failed",
                    metadata: admission.logMetadata(sniffed).merging(["error": "\(error)"]) { $1 })
                client.reset()
            }
        }
    }

    /// A connect that ran out of time, or one refused or unreachable.
    static func outcome(ofFailedConnect error: Error) -> ConnectionOutcome {
        if case ChannelError.connectTimeout = error { return .timeout }
        return .refused
    }

    /// NIO's default reads per event-loop turn, should the channel not tell its own.
    private static let maxMessagesPerRead: UInt = 4

    /// A connection aimed at one of the proxy's own ports would come straight back: inbound, any such port is ours
    /// (everything that reaches the inbound listener is for this pod); outbound, only on loopback, where it arrives
    /// unredirected.
    private func isLoop(_ destination: OriginalDestination, _ configuration: ProxyConfiguration) -> Bool {
        guard configuration.listeners.all.contains(destination.port) else { return false }
        return direction == .inbound || destination.isLoopback
    }
}
