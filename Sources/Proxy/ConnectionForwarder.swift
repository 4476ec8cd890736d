import Logging
import NIOCore
import NIOPosix
import Policy

/// The pipeline for one accepted connection: original destination, loop check, upstream connect, relay.
struct ConnectionForwarder: Sendable {
    let direction: TrafficDirection
    let configurations: ConfigurationStore
    let reader: any OriginalDestinationReader
    let registry: ConnectionRegistry
    let logger: Logger

    /// Runs on the client channel's event loop as the channel is accepted. The channel asks for no read until the
    /// upstream is connected; what NIO still reads (it always drains a socket on the peer's FIN) reaches the relay,
    /// which queues it on the connecting upstream, in order.
    func forward(_ client: Channel) {
        registry.register(client)
        // One snapshot for the whole connection: a reload applies to the next one.
        let configuration = configurations.current
        let source = client.remoteAddress
        reader.originalDestination(of: client).hop(to: client.eventLoop).whenComplete { result in
            switch result {
            case .failure(let error):
                logger.warning(
                    "connection refused: original destination unreadable",
                    metadata: [
                        "direction": "\(direction)", "source": "\(source?.endpoint ?? "unknown")", "error": "\(error)",
                    ])
                client.reset()
            case .success(let destination) where isLoop(destination, configuration):
                logger.warning(
                    "connection refused: original destination is the proxy itself",
                    metadata: [
                        "direction": "\(direction)", "source": "\(source?.endpoint ?? "unknown")",
                        "destination": "\(destination)",
                    ])
                client.reset()
            case .success(let destination):
                let facts = ConnectionFacts(
                    direction: direction, destinationAddress: destination.address.addressBytes ?? [],
                    destinationPort: UInt16(destination.port),
                    sourceAddress: client.remoteAddress?.addressBytes ?? [])
                let admission = Admission(
                    client: client, destination: destination, source: source, facts: facts,
                    configuration: configuration)
                if PolicyEvaluator.needsDetection(configuration.policy(for: direction), for: facts) {
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

    /// Decides with everything known, then resets or connects.
    private func admit(_ admission: Admission, sniffed: ProtocolSniffingHandler.Outcome?) {
        let decision = PolicyEvaluator.decide(
            admission.configuration.policy(for: direction), for: admission.facts, detected: sniffed?.detected)
        guard decision.action == .allow else {
            logger.warning(
                "connection denied by policy",
                metadata: admission.logMetadata(sniffed).merging([
                    "rule": "\(decision.ruleName)",
                    "ruleIndex": "\(decision.ruleIndex.map(String.init) ?? "default")",
                ]) { $1 })
            admission.client.reset()
            return
        }
        connect(admission, firstBytes: sniffed)
    }

    private func connect(
        _ admission: Admission, firstBytes sniffed: ProtocolSniffingHandler.Outcome?
    ) {
        let client = admission.client
        let destination = admission.destination
        let configuration = admission.configuration
        let (clientEnd, upstreamEnd) = RelayHandler.matchedPair()
        do {
            // Idle means neither direction moved: the client channel sees both (reads one way, writes the other).
            try client.pipeline.syncOperations.addHandlers([
                IdleStateHandler(allTimeout: TimeAmount(configuration.timeouts.idle)), clientEnd,
            ])
        } catch {
            client.reset()
            return
        }
        let upstreamHandler = NIOLoopBound(upstreamEnd, eventLoop: client.eventLoop)
        var bootstrap = ClientBootstrap(group: client.eventLoop)
        if direction == .inbound, destination.address.protocol == .inet {
            // Delivered from 127.0.0.6, which the rules let pass: a connection from the proxy to the pod's own
            // address would otherwise be taken for a self-call and sent back to the inbound listener.
            // IP_BIND_ADDRESS_NO_PORT: the port is picked at connect time, per destination, so deliveries are not
            // capped by the ephemeral port range.
            bootstrap =
                bootstrap
                .channelOption(ChannelOptions.Types.SocketOption(level: .ip, name: Self.bindAddressNoPort), value: 1)
                .bind(to: Self.inboundDeliverySource)
        }
        bootstrap
            .connectTimeout(TimeAmount(configuration.timeouts.connect))
            .channelOption(.allowRemoteHalfClosure, value: true)
            .channelOption(.tcpOption(.tcp_nodelay), value: 1)
            .channelInitializer { upstream in
                upstream.eventLoop.makeCompletedFuture {
                    try upstream.pipeline.syncOperations.addHandler(upstreamHandler.value)
                    // The bytes read for detection go first, unchanged. Written here, while the connect is still
                    // under way, they queue ahead of anything the relay reads from the client from now on.
                    if let sniffed, sniffed.firstBytes.readableBytes > 0 {
                        upstream.write(sniffed.firstBytes, promise: nil)
                    }
                }
            }
            .connect(to: destination.address)
            .whenComplete { result in
                switch result {
                case .success(let upstream):
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
                    logger.info(
                        "upstream connect failed",
                        metadata: admission.logMetadata(sniffed).merging(["error": "\(error)"]) { $1 })
                    client.reset()
                }
            }
    }

    /// NIO's default reads per event-loop turn, should the channel not tell its own.
    private static let maxMessagesPerRead: UInt = 4

    /// `IP_BIND_ADDRESS_NO_PORT` from <linux/in.h>, which Swift's Glibc module does not export.
    private static let bindAddressNoPort = NIOBSDSocket.Option(rawValue: 24)

    /// `InterceptionConfig.inboundDeliverySource`: the address the capture rules let through from the proxy.
    private static let inboundDeliverySource = try! SocketAddress(ipAddress: "127.0.0.6", port: 0)

    /// A connection aimed at one of the proxy's own ports would come straight back: inbound, any such port is ours
    /// (everything that reaches the inbound listener is for this pod); outbound, only on loopback, where it arrives
    /// unredirected.
    private func isLoop(_ destination: OriginalDestination, _ configuration: ProxyConfiguration) -> Bool {
        guard configuration.listeners.all.contains(destination.port) else { return false }
        return direction == .inbound || destination.isLoopback
    }
}
