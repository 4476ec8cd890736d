/// Walks a planned ruleset's chains as netfilter would for the first packet of a new TCP connection (the output hook
/// for the app's, prerouting for one into the pod), and says which rule it meets: whether the connection is
/// captured, and why. Pure, so `sidecar-status explain` answers without sending a packet.
public enum CaptureExplainer {
    /// The first packet of a TCP connection, as the hook sees it.
    public struct Connection: Sendable, Hashable {
        public var destination: IPNetwork
        public var port: UInt16
        public var uid: UInt32
        public var gid: UInt32
        /// The interface the packet leaves by: `lo` for the pod's own and loopback addresses.
        public var outputInterface: String
        /// The packet's source address, when known (nil matches no source condition).
        public var source: IPNetwork?
        /// The interface an inbound packet arrives by; nil for the app's own connections.
        public var inputInterface: String?

        /// - Parameter destination: a host address (a /32 or /128).
        public init(
            destination: IPNetwork, port: UInt16, uid: UInt32, gid: UInt32, outputInterface: String,
            source: IPNetwork? = nil
        ) {
            self.destination = destination
            self.port = port
            self.uid = uid
            self.gid = gid
            self.outputInterface = outputInterface
            self.source = source
        }

        /// A connection into the pod, arriving by `inputInterface`: no local socket sends it.
        public init(inboundTo destination: IPNetwork, port: UInt16, from source: IPNetwork?, inputInterface: String) {
            self.init(destination: destination, port: port, uid: 0, gid: 0, outputInterface: "", source: source)
            self.inputInterface = inputInterface
        }
    }

    /// What the rules do with the connection.
    public struct Verdict: Sendable, Hashable {
        /// Redirected to this local port, or nil when the connection goes out untouched.
        public var redirectPort: UInt16?
        /// The comment of the rule that decided; nil when none matched (the chain lets everything else pass).
        public var rule: String?
        /// Refused with a reset (the admin port, from a uid that may not use it).
        public var isRejected = false

        public var isCaptured: Bool { redirectPort != nil }
    }

    /// The chains at the connection's hook (output, or prerouting for one into the pod), as netfilter runs them by
    /// priority.
    public static func explain(_ ruleset: Ruleset, _ connection: Connection) -> Verdict {
        let point: ChainHook.Point = connection.inputInterface == nil ? .output : .prerouting
        let chains = ruleset.chains.filter { $0.hook?.point == point }.sorted {
            $0.hook!.priority < $1.hook!.priority
        }
        var verdict = Verdict(redirectPort: nil, rule: nil)
        for chain in chains {
            guard let rule = chain.rules.first(where: { $0.matches.allSatisfy { holds($0, connection) } }) else {
                continue
            }
            switch rule.action {
            case .returnFromChain:
                if verdict.rule == nil { verdict.rule = rule.comment }
            case .redirect(let port):
                // A redirected connection goes to the proxy: later chains see the proxy's port, not the one dialed.
                return Verdict(redirectPort: port, rule: rule.comment)
            case .rejectWithTCPReset:
                return Verdict(redirectPort: nil, rule: rule.comment, isRejected: true)
            }
        }
        return verdict
    }

    /// An address condition of one family never matches a packet of the other (nft's `ip daddr` implies IPv4).
    static func holds(_ match: Match, _ connection: Connection) -> Bool {
        let address = connection.destination
        switch match {
        case .socketUID(let uid): return connection.uid == uid
        case .socketGID(let gid): return connection.gid == gid
        case .family(let family): return address.family == family
        case .destinationAddress(let networks, let negated):
            guard let family = networks.first?.family, family == address.family else { return false }
            return networks.contains { $0.contains(address: address.address) } != negated
        case .sourceAddress(let network):
            guard let source = connection.source, source.family == network.family else { return false }
            return network.contains(address: source.address)
        case .transport(let protocols): return protocols.contains(.tcp)
        case .destinationPort(let transport, let ranges):
            return transport == .tcp && ranges.contains { $0.contains(connection.port) }
        case .outputInterface(let names): return names.contains(connection.outputInterface)
        case .inputInterface(let names): return connection.inputInterface.map(names.contains) ?? false
        }
    }
}
