import Identity
import Logging
import NIOCore
import NIOPosix
import NIOSSL
import Policy
import Telemetry

/// Takes each accepted connection through its stages, in order: original destination → plan → (first bytes → plan)
/// → (mutual TLS → plan) → reset, byte relay, or HTTP proxied request by request; and what the connection reports
/// when it ends. Every decision comes from `ConnectionPlanner`; this type only carries plans out.
struct ConnectionAcceptor: Sendable {
    let direction: TrafficDirection
    let configurations: ConfigurationStore
    let reader: any OriginalDestinationReader
    let registry: ConnectionRegistry
    let limiter: TrafficLimiter
    let services: ServiceDirectory
    /// Each event loop's kept-alive upstream connections.
    let pools: UpstreamPools
    /// The addresses names resolved to, which allow rules by name check the destination against.
    let names: NameAddressBook
    /// The identity's TLS contexts, for mutual TLS either way.
    let mesh: MeshCredentials
    /// Tells whether a source is blocked, counts connections towards scans, and hears of policy denials.
    let intrusion: IntrusionMonitor
    let recorder: TrafficRecorder
    let logger: Logger

    /// Runs on the client channel's event loop as the channel is accepted, before it is registered. The channel asks
    /// for no read until the plan says where its bytes go (and, for a relay, until the upstream is connected); what
    /// NIO still reads (it always drains a socket on the peer's FIN) is held or queued in order.
    /// - Throws: when the channel refuses its options; it is then closed unused.
    func accept(_ client: Channel) throws {
        // Set here, synchronously, rather than as child channel options, which NIO applies through a chain of
        // futures for every accepted connection. (TCP_NODELAY is inherited from the listening socket.)
        try client.syncOptions?.setOption(.autoRead, value: false)
        try client.syncOptions?.setOption(.allowRemoteHalfClosure, value: true)
        let record = ConnectionRecord(direction: direction, source: client.remoteAddress)
        registry.register(client, record: NIOLoopBound(record, eventLoop: client.eventLoop))
        recorder.connectionOpened(direction: direction.rawValue)
        client.closeFuture.assumeIsolated().whenComplete { [recorder, direction, logger] _ in
            if let failure = record.failure {
                logger.debug(
                    "connection closed on an error",
                    metadata: [
                        "direction": "\(direction)", "source": "\(record.source)",
                        "destination": "\(record.destination?.description ?? "unknown")", "error": "\(failure)",
                    ])
                recorder.connectionFailed(direction: direction.rawValue, error: ConnectionFailureKind.of(failure))
            }
            recorder.connectionClosed(
                direction: direction.rawValue, destination: record.destination?.description ?? "unknown",
                tls: record.transport, outcome: record.outcome, bytesReceived: record.bytesReceived,
                bytesSent: record.bytesSent,
                entry: record.entry)
        }
        // One snapshot for planning the connection: a reload applies to the next one (and to its next request).
        let configuration = configurations.current
        let source =
            record.sourceAddress == nil
            ? ResetPeerAddressReader.peerAddress(of: client) : client.eventLoop.makeSucceededFuture(nil)
        reader.originalDestination(of: client).and(source).hop(to: client.eventLoop).assumeIsolated().whenComplete {
            result in
            switch result {
            case .failure(let error):
                logger.warning(
                    "connection refused: original destination unreadable",
                    metadata: [
                        "direction": "\(direction)", "source": "\(record.source)", "error": "\(error)",
                    ])
                client.reset()
            case .success((let destination, let resetSource)):
                if let resetSource { record.sourceAddress = resetSource }
                record.destination = destination
                var facts = ConnectionFacts(
                    direction: direction, destinationAddress: destination.address.addressBytes ?? [],
                    destinationPort: UInt16(destination.port),
                    sourceAddress: record.sourceAddress?.addressBytes ?? [])
                facts.sourceBlocked = intrusion.admit(
                    facts, destination: destination.description, in: configuration)
                let connection = AcceptedConnection(
                    client: client, destination: destination, facts: facts, configuration: configuration,
                    record: record)
                let plan = ConnectionPlanner.plan(
                    facts, detected: nil, in: configuration, names: names.snapshot())
                if plan.handling != .refuseLoop, let limit = plan.limit {
                    guard limiter.acquire(.connections, under: limit) else {
                        refuseOverLimit(client, record: record, limit: limit, reason: "maxConnections")
                        return
                    }
                    client.closeFuture.whenComplete { [limiter] _ in limiter.release(.connections, under: limit) }
                }
                _ = carryOut(plan, for: connection, detected: nil)
            }
        }
    }

    /// One connection, with what is known of it when it is planned.
    private struct AcceptedConnection {
        let client: Channel
        let destination: OriginalDestination
        /// The caller's identity joins them once mutual TLS is terminated.
        var facts: ConnectionFacts
        /// The caller's `x-forwarded-client-cert` element, once mutual TLS is terminated.
        var clientCertificate: String? = nil
        /// The snapshot the connection is planned with.
        let configuration: ProxyConfiguration
        let record: ConnectionRecord

        /// What the logs say of the connection; built only when a log line is written (log calls take it lazily).
        func logMetadata(_ detected: DetectedProtocol?) -> Logger.Metadata {
            var metadata: Logger.Metadata = [
                "direction": "\(facts.direction)", "source": "\(record.source)", "destination": "\(destination)",
            ]
            switch detected {
            case .tls(let serverName, let alpn)?:
                metadata["protocol"] = "tls"
                metadata["sni"] = "\(serverName ?? "unknown")"
                if !alpn.isEmpty { metadata["alpn"] = "\(alpn.joined(separator: ","))" }
            case let detected?:
                metadata["protocol"] = "\(detected)"
            case nil:
                break
            }
            if let peer = facts.peer { metadata["peer"] = "\(peer)" }
            return metadata
        }
    }

    /// Does what the plan says. Returns what the detection handler does with the first bytes, when they were read.
    private func carryOut(_ plan: ConnectionPlan, for connection: AcceptedConnection, detected: DetectedProtocol?)
        -> ProtocolDetectionHandler.Next
    {
        let client = connection.client
        connection.record.detected = detected
        connection.record.decision = plan.decision
        switch plan.handling {
        case .refuseLoop:
            connection.record.outcome = .loop
            logger.warning(
                "connection refused: original destination is the proxy itself",
                metadata: connection.logMetadata(nil))
            client.reset()
            return .drop
        case .detectFirst:
            // One read at a time while detecting, so the decision comes as early as the bytes allow.
            let readsPerTurn = (try? client.syncOptions?.getOption(.maxMessagesPerRead)) ?? Self.maxMessagesPerRead
            let detection = ProtocolDetectionHandler(
                timeout: TimeAmount(connection.configuration.timeouts.detect),
                drainRequested: connection.record.drainRequested
            ) { detected in
                try? client.syncOptions?.setOption(.maxMessagesPerRead, value: readsPerTurn)
                return carryOut(
                    ConnectionPlanner.plan(
                        connection.facts, detected: detected, in: connection.configuration, names: names.snapshot()),
                    for: connection, detected: detected)
            }
            do {
                try client.syncOptions?.setOption(.maxMessagesPerRead, value: 1)
                try client.pipeline.syncOperations.addHandler(detection)
            } catch {
                client.reset()
            }
            return .drop
        case .terminateMeshTLS:
            terminateMeshTLS(connection, detected: detected)
            return .replay
        case .deny:
            deny(connection, by: plan.decision!, detected: detected, message: "connection denied by policy")
            return .drop
        case .http1, .http2:
            return proxyRequests(connection, plan: plan, detected: detected) ? .replay : .drop
        case .relay:
            if let limit = plan.limit, plan.countsAsOneRequest {
                if let wait = limiter.takeToken(under: limit) {
                    refuseOverLimit(
                        client, record: connection.record, limit: limit, reason: "requestsPerSecond (next in \(wait))")
                    return .drop
                }
                guard limiter.acquire(.requests, under: limit) else {
                    refuseOverLimit(client, record: connection.record, limit: limit, reason: "maxRequests")
                    return .drop
                }
                client.closeFuture.whenComplete { [limiter] _ in limiter.release(.requests, under: limit) }
            }
            guard relay(connection, plan: plan, detected: detected) else { return .drop }
            guard detected == .silent else { return .replay }
            return .holdLateBytes { lateBytes in
                guard
                    let decision = ConnectionPlanner.judgeLateBytes(
                        connection.facts, detected: lateBytes, in: connection.configuration,
                        names: names.snapshot())
                else { return true }
                deny(
                    connection, by: decision, detected: lateBytes,
                    message: "connection denied by policy after the detect timeout")
                return false
            }
        }
    }

    /// A sidecar's ClientHello, replayed next into the TLS handler added here: once the handshake completes with a
    /// peer under the X.509-SVID rules, the connection is planned again knowing who the caller is and, from the mesh
    /// ALPN, what it speaks, so the tunnel's bytes are never sniffed (a server-first protocol does not wait). A
    /// failed handshake resets the connection: nothing falls back to plaintext.
    private func terminateMeshTLS(_ connection: AcceptedConnection, detected: DetectedProtocol?) {
        let client = connection.client
        let record = connection.record
        let started = ContinuousClock.now
        guard let contexts = mesh.current else {
            failedMeshHandshake(connection, .noIdentity, after: started, detected: detected)
            return
        }
        let handshake = MeshHandshakeHandler(timeout: TimeAmount(connection.configuration.timeouts.connect)) {
            result in
            switch result {
            case .success(let session):
                // One trust domain: a bundle shared with another domain does not make its workloads callers here.
                guard session.peer.trustDomain == contexts.identity.id.trustDomain else {
                    failedMeshHandshake(
                        connection, .unexpectedPeer(session.peer), after: started, detected: detected)
                    return
                }
                guard let alpn = session.alpn else {
                    failedMeshHandshake(connection, .incomplete, after: started, detected: detected)
                    return
                }
                recorder.meshHandshake(
                    direction: direction.rawValue, result: "ok", after: ContinuousClock.now - started)
                var identified = connection
                identified.facts.peer = session.peer
                identified.clientCertificate = ClientCertificateHeader.element(
                    by: contexts.identity.id, caller: session.peer, certificateHash: session.certificateHash)
                record.meshTLS = true
                record.peer = session.peer
                let plan = ConnectionPlanner.plan(
                    identified.facts, detected: alpn.inner, in: connection.configuration, names: names.snapshot())
                if case .holdLateBytes(let judge) = carryOut(plan, for: identified, detected: alpn.inner) {
                    // Behind the TLS handlers, ahead of the relay: the tunnel's first bytes are judged as they come.
                    let lateBytes = ProtocolDetectionHandler(
                        timeout: TimeAmount(connection.configuration.timeouts.detect), judgingLateBytes: judge)
                    let tls = try? client.pipeline.syncOperations.context(handlerType: TLSCleanEndHandler.self)
                    do {
                        guard let tls else { throw ChannelPipelineError.notFound }
                        try client.pipeline.syncOperations.addHandler(lateBytes, position: .after(tls.handler))
                    } catch {
                        client.reset()
                    }
                }
            case .failure(let failure):
                failedMeshHandshake(connection, failure, after: started, detected: detected)
            }
        }
        do {
            try client.pipeline.syncOperations.addHandlers(
                NIOSSLServerHandler(context: contexts.server), TLSCleanEndHandler(), handshake)
        } catch {
            client.reset()
        }
    }

    /// A caller whose mutual TLS failed is reset, and the reason logged and counted.
    private func failedMeshHandshake(
        _ connection: AcceptedConnection, _ failure: MeshHandshakeFailure, after started: ContinuousClock.Instant,
        detected: DetectedProtocol?
    ) {
        connection.record.outcome = .denied
        recorder.meshHandshake(
            direction: direction.rawValue, result: failure.reason, after: ContinuousClock.now - started)
        logger.warning(
            "mutual TLS refused",
            metadata: connection.logMetadata(detected).merging(["error": "\(failure)"]) { $1 })
        connection.client.reset()
    }

    /// Resets a connection the policy denies, before any of its bytes reach an upstream. A blocked source's are
    /// logged at debug only and left out of the recent denials (the block's alert said why; a scanner would flood
    /// both), and do not count towards a denial burst.
    private func deny(
        _ connection: AcceptedConnection, by decision: PolicyDecision, detected: DetectedProtocol?, message: String
    ) {
        connection.record.detected = detected
        connection.record.decision = decision
        connection.record.outcome = .denied
        guard decision != ConnectionPlanner.blockedSource else {
            recorder.blockedSourceRefused(direction: direction.rawValue)
            logger.debug("connection refused: source blocked", metadata: connection.logMetadata(detected))
            connection.client.reset()
            return
        }
        recorder.denied(
            direction: direction.rawValue, source: connection.record.source,
            destination: connection.destination.description, request: nil, rule: decision.ruleName)
        intrusion.denied(
            connection.facts, about: IntrusionMonitor.Subject(destination: connection.destination.description),
            in: connection.configuration)
        logger.warning(
            "\(message)",
            metadata: connection.logMetadata(detected).merging([
                "rule": "\(decision.ruleName)", "ruleIndex": "\(decision.ruleIndex.map(String.init) ?? "default")",
            ]) { $1 })
        connection.client.reset()
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

    /// The upstream a plan goes to: one of its service's endpoints, or the original destination.
    private func upstream(for connection: AcceptedConnection, plan: ConnectionPlan) -> Upstream {
        Upstream(
            direction: direction, destination: connection.destination,
            connectTimeout: TimeAmount(connection.configuration.timeouts.connect),
            keepalive: TCPKeepalive(connection.configuration.timeouts),
            service: plan.service.map(services.runtime(for:)),
            mesh: plan.mesh.map { ($0, mesh.current) },
            meshHandshakeEnded: plan.mesh.map { _ in
                NIOLoopBound(
                    { [record = connection.record, recorder, direction] result, duration in
                        switch result {
                        case .success(let peer):
                            record.meshTLS = true
                            record.peer = peer
                            recorder.meshHandshake(direction: direction.rawValue, result: "ok", after: duration)
                        case .failure(let failure):
                            recorder.meshHandshake(
                                direction: direction.rawValue, result: failure.reason, after: duration)
                        }
                    }, eventLoop: connection.client.eventLoop)
            }, pools: pools)
    }

    /// HTTP/1.1 or HTTP/2 with an HTTP rule or a request limit in reach, or to a service: every request is decided
    /// on its own. Reading resumes at once; the first bytes, replayed next, are the start of the first request (or
    /// the HTTP/2 preface).
    /// - Returns: false when the pipeline could not be set up; the connection is then reset.
    private func proxyRequests(_ connection: AcceptedConnection, plan: ConnectionPlan, detected: DetectedProtocol?)
        -> Bool
    {
        let client = connection.client
        connection.record.outcome = .forwarded
        let proxied = RequestDecider(
            facts: connection.facts, upstream: upstream(for: connection, plan: plan), configurations: configurations,
            names: names, clientCertificate: connection.clientCertificate, record: connection.record,
            recorder: recorder, limiter: limiter, intrusion: intrusion, logger: logger,
            logMetadata: connection.logMetadata(detected))
        do {
            // Counted at the socket, from the replayed first bytes on: the HTTP handlers see messages, not bytes.
            try client.pipeline.syncOperations.addHandler(ByteCountingHandler(record: connection.record))
            try client.pipeline.syncOperations.addHandler(
                IdleStateHandler(allTimeout: TimeAmount(connection.configuration.timeouts.idle)))
            if plan.handling == .http2 {
                try HTTP2ClientHandler(connection: proxied, takesApartMeshStreams: detected == .meshStreams)
                    .install(on: client)
            } else {
                try HTTP1ClientHandler(connection: proxied).install(on: client)
            }
            // Before the first bytes: HTTP/2 streams they open take their autoRead from the connection.
            try client.syncOptions?.setOption(.autoRead, value: true)
        } catch {
            client.reset()
            return false
        }
        return true
    }

    /// Relays bytes both ways. The first bytes, replayed next, pass the relay like any others: the upstream's end
    /// holds what comes before it joins the upstream's pipeline, once connected.
    /// - Returns: false when the pipeline could not be set up; the connection is then reset.
    private func relay(_ connection: AcceptedConnection, plan: ConnectionPlan, detected: DetectedProtocol?) -> Bool {
        let client = connection.client
        let record = connection.record
        let upstream = upstream(for: connection, plan: plan)
        // Idle means neither side read anything for the timeout; the client's end watches both.
        let (clientEnd, upstreamEnd) = RelayHandler.matchedPair(
            countingInto: record, idleTimeout: TimeAmount(connection.configuration.timeouts.idle))
        do {
            if plan.observesRequests { try client.pipeline.syncOperations.addHandler(observer(for: connection)) }
            try client.pipeline.syncOperations.addHandler(clientEnd)
        } catch {
            client.reset()
            return false
        }
        let dialStarted = ContinuousClock.now
        upstream.connect(on: client.eventLoop).assumeIsolated().whenComplete { result in
            switch result {
            case .success(let channel):
                do {
                    try channel.pipeline.syncOperations.addHandler(upstreamEnd)
                } catch {
                    channel.close(promise: nil)
                    client.reset()
                    return
                }
                record.outcome = .forwarded
                record.upstream = channel.remoteAddress
                upstream.connected(to: channel.remoteAddress)
                recorder.upstreamConnected(direction: direction.rawValue, after: ContinuousClock.now - dialStarted)
                logger.debug("connection forwarded", metadata: connection.logMetadata(detected))
                // Fails only if the client has already gone, and then the relay closes the upstream itself.
                try? client.syncOptions?.setOption(.autoRead, value: true)
            case .failure(let error):
                record.outcome = Self.outcome(ofFailedConnect: error)
                logger.info(
                    "upstream connect failed",
                    metadata: connection.logMetadata(detected).merging(["error": "\(error)"]) { $1 })
                client.reset()
            }
        }
        return true
    }

    /// Reads the relayed connection's requests on the side and alerts on the signatures they match, and on what it
    /// cannot read, with the configuration in force at each.
    private func observer(for connection: AcceptedConnection) -> HTTP1RequestObserver {
        HTTP1RequestObserver(
            bodyBytesToInspect: { [configurations] request in
                ConnectionPlanner.bodyBytesToInspect(request, on: connection.facts, in: configurations.current)
            },
            inspect: { [configurations, intrusion] request, body in
                let configuration = configurations.current
                guard
                    let match = ConnectionPlanner.signature(
                        of: request, body: body, on: connection.facts, in: configuration)
                else { return }
                intrusion.signatureMatched(
                    match, facts: connection.facts,
                    about: IntrusionMonitor.Subject(
                        destination: connection.destination.description, method: request.method,
                        host: request.host.map(String.init), path: request.target.path),
                    in: configuration)
            },
            unreadable: { [configurations, intrusion] what in
                intrusion.requestUnreadable(
                    what, facts: connection.facts,
                    about: IntrusionMonitor.Subject(destination: connection.destination.description),
                    in: configurations.current)
            })
    }

    /// NIO's default reads per event-loop turn, should the channel not tell its own.
    private static let maxMessagesPerRead: UInt = 4

    /// A connect that ran out of time, or one refused or unreachable.
    static func outcome(ofFailedConnect error: Error) -> ConnectionOutcome {
        if case ChannelError.connectTimeout = error { return .timeout }
        return .refused
    }
}
