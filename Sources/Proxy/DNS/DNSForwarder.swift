import Foundation
import Logging
import NIOCore
import Policy
import Synchronization
import Telemetry

/// Answers the pod's DNS queries: names on `dns.deny` get NXDOMAIN, answers still fresh in the cache are served
/// from it, and the rest go to the pod's own nameservers (from its resolv.conf), in order, each given two seconds.
/// The proxy's queries leave as uid 1337, which the capture rules let pass, so they are never captured again.
public final class DNSForwarder: Sendable {
    /// How the query arrived, and how it is forwarded: a client that asked over TCP (after a truncated UDP answer)
    /// needs the whole answer.
    enum Transport: String {
        case udp, tcp
    }

    private let configurations: ConfigurationStore
    private let nameservers: [SocketAddress]
    private let recorder: TrafficRecorder
    /// Where each answer's addresses are noted, for allow rules by name.
    private let names: NameAddressBook
    private let logger: Logger
    private let cache = Mutex(DNSCache())
    /// Queries being forwarded now; each holds a socket for up to two seconds per nameserver.
    private let forwarding = Mutex(0)

    static let timeout: TimeAmount = .seconds(2)
    /// Beyond this many queries in flight, more get SERVFAIL at once: a burst cannot take every descriptor.
    static let mostForwarding = 512

    public init(
        configurations: ConfigurationStore, nameservers: [SocketAddress], recorder: TrafficRecorder,
        names: NameAddressBook, logger: Logger
    ) {
        self.configurations = configurations
        self.nameservers = nameservers
        self.recorder = recorder
        self.names = names
        self.logger = logger
    }

    /// The proxy's own lookup of `name` (A and AAAA), through the cache and the nameservers like the pod's
    /// queries, so its addresses are noted; neither logged nor counted as the pod's.
    func lookUp(_ name: String, on eventLoop: EventLoop) {
        for type: UInt16 in [1, 28] {
            let query = DNSMessage.query(name: name, type: type, id: UInt16.random(in: 0...UInt16.max))
            _ = answer(query, over: .udp, from: nil, on: eventLoop, reporting: false)
        }
    }

    /// The answer to send back, or nil for bytes that are not a query (dropped, as a resolver drops them).
    /// - Parameter reporting: false for the proxy's own lookups, which are not the pod's traffic.
    func answer(
        _ bytes: [UInt8], over transport: Transport, from client: SocketAddress?, on eventLoop: EventLoop,
        reporting: Bool = true
    ) -> EventLoopFuture<[UInt8]?> {
        let started = ContinuousClock.now
        let startedAt = Date()
        guard let query = DNSMessage(bytes), !query.isResponse, let question = query.question else {
            report(reporting, outcome: "malformed", question: nil, code: nil, transport, client, startedAt, started)
            return eventLoop.makeSucceededFuture(nil)
        }
        // More than one question: no server answers such a query the same way (RFC 9619), so none is asked.
        guard query.questionCount == 1 else {
            report(reporting, outcome: "malformed", question: question, code: 1, transport, client, startedAt, started)
            return eventLoop.makeSucceededFuture(query.reply(.formatError))
        }
        if let pattern = configurations.current.dnsDeny.first(where: { $0.matches(question.name) }) {
            logger.warning(
                "dns query denied",
                metadata: [
                    "name": "\(question.name)", "type": "\(question.typeName)", "pattern": "\(pattern)",
                    "source": "\(client?.endpoint ?? "unknown")",
                ])
            report(reporting, outcome: "denied", question: question, code: 3, transport, client, startedAt, started)
            return eventLoop.makeSucceededFuture(query.reply(.nameError))
        }
        if let cached = cache.withLock({ $0.answer(query, now: started) }) {
            let answer = DNSMessage(cached)
            names.learn(question.name, addresses: answer?.answerAddresses ?? [], now: started)
            report(
                reporting, outcome: "cached", question: question, code: answer?.responseCode, transport, client,
                startedAt, started)
            return eventLoop.makeSucceededFuture(fitted(cached, to: query, over: transport))
        }
        let admitted = forwarding.withLock { count in
            guard count < Self.mostForwarding else { return false }
            count += 1
            return true
        }
        guard admitted else {
            report(reporting, outcome: "overloaded", question: question, code: 2, transport, client, startedAt, started)
            return eventLoop.makeSucceededFuture(query.reply(.serverFailure))
        }
        // Forwarded under an id of the proxy's own, so an answer forged for the app's id does not fit.
        let forwardedID = UInt16.random(in: 0...UInt16.max)
        return forward(
            query.withID(forwardedID), id: forwardedID, question: question, over: transport, to: nameservers[...],
            on: eventLoop
        ).map { response in
            self.forwarding.withLock { $0 -= 1 }
            guard let response else {
                self.report(
                    reporting, outcome: "failed", question: question, code: 2, transport, client, startedAt, started)
                return query.reply(.serverFailure)
            }
            self.cache.withLock { $0.store(response, answering: query, now: .now) }
            self.names.learn(question.name, addresses: response.answerAddresses, now: .now)
            self.report(
                reporting, outcome: "forwarded", question: question, code: response.responseCode, transport, client,
                startedAt, started)
            return self.fitted(response.answering(id: query.id, aged: 0), to: query, over: transport)
        }
    }

    /// Over UDP, an answer larger than the client can take (one fetched over TCP and cached, say) becomes a
    /// truncated one, which sends the client to TCP as a nameserver would.
    private func fitted(_ answer: [UInt8], to query: DNSMessage, over transport: Transport) -> [UInt8] {
        guard transport == .udp, answer.count > query.udpAnswerLimit else { return answer }
        return query.reply(.noError, truncated: true)
    }

    /// Tries each nameserver in turn; nil when none gave an answer to the question asked.
    private func forward(
        _ query: [UInt8], id: UInt16, question: DNSMessage.Question, over transport: Transport,
        to servers: ArraySlice<SocketAddress>, on eventLoop: EventLoop
    ) -> EventLoopFuture<DNSMessage?> {
        guard let server = servers.first else { return eventLoop.makeSucceededFuture(nil) }
        let exchange =
            transport == .udp
            ? DNSUpstreamExchange.overUDP(query, id: id, to: server, timeout: Self.timeout, on: eventLoop)
            : DNSUpstreamExchange.overTCP(query, id: id, to: server, timeout: Self.timeout, on: eventLoop)
        return exchange.flatMapThrowing { bytes -> DNSMessage? in
            guard let response = DNSMessage(bytes), response.question == question else {
                throw DNSUpstreamExchange.Failure.unexpectedAnswer
            }
            return response
        }.flatMapError { error in
            self.logger.info(
                "dns nameserver did not answer",
                metadata: ["nameserver": "\(server.endpoint)", "name": "\(question.name)", "error": "\(error)"])
            return self.forward(
                query, id: id, question: question, over: transport, to: servers.dropFirst(), on: eventLoop)
        }
    }

    /// `code` (the answer's response code) is read only for the access log line, and so only when it is on.
    private func report(
        _ reporting: Bool, outcome: String, question: DNSMessage.Question?, code: @autoclosure () -> UInt8?,
        _ transport: Transport,
        _ client: SocketAddress?, _ startedAt: Date, _ started: ContinuousClock.Instant
    ) {
        guard reporting else { return }
        recorder.dnsQueryAnswered(outcome: outcome, type: question?.typeName ?? "none", duration: .now - started) {
            var entry = AccessLogEntry(
                kind: .dns, start: AccessLogTime(startedAt),
                durationMs: ConnectionRecord.milliseconds(since: started),
                direction: "outbound", source: client?.endpoint ?? "unknown")
            entry.protocol = transport.rawValue
            entry.host = question?.name
            entry.queryType = question?.typeName
            entry.status = code().map(Int.init)
            entry.outcome = outcome
            return entry
        }
    }
}
