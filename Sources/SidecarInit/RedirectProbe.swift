import Interception
import NIOCore
import NIOPosix
import Proxy

/// Proves that the installed rules redirect: listens where the proxy would (the outbound port on loopback), dials a
/// destination the rules must capture, and checks that the connection arrives with that destination intact.
/// As Istio's validation container does, before the proxy starts.
struct RedirectProbe {
    let config: InterceptionConfig
    /// How long a dial may take before it counts as not redirected.
    let timeout: TimeAmount

    /// What one dial showed.
    struct Outcome {
        let target: ProbeTarget
        /// nil when the connection arrived redirected with its original destination intact; otherwise why not.
        let failure: String?
        /// Why the family could not be probed at all (no route, no loopback address): not a failure of capture.
        var skipped: String? = nil

        var summary: String {
            if let skipped { return "skipped: \(skipped)" }
            return failure ?? "redirected, original destination intact"
        }
    }

    func run() throws -> [Outcome] {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 1)
        defer { try? group.syncShutdownGracefully() }
        return try ProbeTarget.targets(for: config).map { try probe($0, on: group.next()) }
    }

    private func probe(_ target: ProbeTarget, on eventLoop: EventLoop) throws -> Outcome {
        let isIPv6 = target.address.family == .ipv6
        let arrival = eventLoop.makePromise(of: OriginalDestination.self)
        let listener: Channel
        do {
            listener = try ServerBootstrap(group: eventLoop)
                .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
                .childChannelInitializer { channel in
                    KernelOriginalDestinationReader().originalDestination(of: channel).cascade(to: arrival)
                    return channel.close()
                }
                .bind(host: isIPv6 ? "::1" : "127.0.0.1", port: Int(config.outboundRedirectPort)).wait()
        } catch let error as IOError where [EADDRNOTAVAIL, EAFNOSUPPORT].contains(error.errnoCode) {
            arrival.fail(error)
            return Outcome(target: target, failure: nil, skipped: "the pod has no \(isIPv6 ? "IPv6" : "IPv4") loopback")
        } catch {
            arrival.fail(error)
            throw ProbeFailure(
                "cannot listen on port \(config.outboundRedirectPort) to receive the probe (\(error)); "
                    + "run probe after install and before the proxy starts")
        }
        defer { listener.close(promise: nil) }
        let dialled = try SocketAddress(ipAddress: target.address.addressText, port: Int(target.port))
        let client = ClientBootstrap(group: eventLoop).connectTimeout(timeout).connect(to: dialled)
        client.whenFailure { arrival.fail($0) }
        // A dial that escaped capture may still be answered by whatever is there; it must not hang the probe.
        let deadline = eventLoop.scheduleTask(in: timeout) { arrival.fail(ChannelError.connectTimeout(timeout)) }
        defer { deadline.cancel() }
        defer { client.whenSuccess { $0.close(promise: nil) } }
        do {
            let original = try arrival.futureResult.wait()
            guard original.address == dialled else {
                return Outcome(target: target, failure: "arrived with original destination \(original), not \(target)")
            }
            return Outcome(target: target, failure: nil)
        } catch let error as IOError where [ENETUNREACH, EHOSTUNREACH, EADDRNOTAVAIL].contains(error.errnoCode) {
            // No route for the family: nothing of it can leave the pod, so there is nothing to capture.
            return Outcome(target: target, failure: nil, skipped: "no route for \(isIPv6 ? "IPv6" : "IPv4")")
        } catch {
            return Outcome(
                target: target,
                failure: "not redirected to port \(config.outboundRedirectPort) (\(error)); are the rules installed?")
        }
    }

    /// The probe could not run at all.
    struct ProbeFailure: Error, CustomStringConvertible {
        let description: String
        init(_ description: String) { self.description = description }
    }
}
