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

    /// Runs on the client channel's event loop as the channel is accepted. The channel does not read until the
    /// upstream is connected, so nothing has to be buffered meanwhile.
    func forward(_ client: Channel) {
        registry.register(client)
        // One snapshot for the whole connection: a reload applies to the next one.
        let configuration = configurations.current
        let source = client.remoteAddress?.endpoint ?? "unknown"
        reader.originalDestination(of: client).hop(to: client.eventLoop).whenComplete { result in
            switch result {
            case .failure(let error):
                logger.warning(
                    "connection refused: original destination unreadable",
                    metadata: ["direction": "\(direction)", "source": "\(source)", "error": "\(error)"])
                client.reset()
            case .success(let destination) where isLoop(destination, configuration):
                logger.warning(
                    "connection refused: original destination is the proxy itself",
                    metadata: ["direction": "\(direction)", "source": "\(source)", "destination": "\(destination)"])
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
        let source: String
        let facts: ConnectionFacts
        let configuration: ProxyConfiguration

        var logMetadata: Logger.Metadata {
            ["source": "\(source)", "destination": "\(destination)"]
        }
    }

    /// Reads the first bytes until the protocol is known, one read at a time so that nothing arrives after the
    /// decision, then admits the connection with those bytes.
    private func detectThenAdmit(_ admission: Admission) {
        let client = admission.client
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
            client.pipeline.syncOperations.removeHandler(sniffer, promise: nil)
            try? client.syncOptions?.setOption(.maxMessagesPerRead, value: Self.maxMessagesPerRead)
            admit(admission, sniffed: sniffed)
        }
    }

    /// Decides with everything known, then resets or connects.
    private func admit(_ admission: Admission, sniffed: ProtocolSniffingHandler.Outcome?) {
        let decision = PolicyEvaluator.decide(
            admission.configuration.policy(for: direction), for: admission.facts, detected: sniffed?.detected)
        var metadata = admission.logMetadata
        metadata["direction"] = "\(direction)"
        if let detected = sniffed?.detected { metadata["protocol"] = "\(detected)" }
        guard decision.action == .allow else {
            metadata["rule"] = "\(decision.ruleName)"
            metadata["ruleIndex"] = "\(decision.ruleIndex.map(String.init) ?? "default")"
            logger.warning("connection denied by policy", metadata: metadata)
            admission.client.reset()
            return
        }
        connect(admission, firstBytes: sniffed, metadata: metadata)
    }

    private func connect(
        _ admission: Admission, firstBytes sniffed: ProtocolSniffingHandler.Outcome?, metadata: Logger.Metadata
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
                }
            }
            .connect(to: destination.address)
            .whenComplete { result in
                switch result {
                case .success(let upstream):
                    logger.debug("connection forwarded", metadata: metadata)
                    // The bytes read for detection go first, unchanged; a half-close seen meanwhile follows them.
                    if let sniffed, sniffed.firstBytes.readableBytes > 0 {
                        upstream.writeAndFlush(sniffed.firstBytes, promise: nil)
                    }
                    if sniffed?.inputClosed == true {
                        client.pipeline.fireUserInboundEventTriggered(ChannelEvent.inputClosed)
                    } else {
                        // Fails only if the client has already gone, and then the relay closes the upstream itself.
                        try? client.syncOptions?.setOption(.autoRead, value: true)
                    }
                case .failure(let error):
                    var metadata = metadata
                    metadata["error"] = "\(error)"
                    logger.info("upstream connect failed", metadata: metadata)
                    client.reset()
                }
            }
    }

    /// NIO's default reads per event-loop turn, restored once detection is over.
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
