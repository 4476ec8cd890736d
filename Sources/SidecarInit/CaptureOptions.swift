import ArgumentParser
import Interception
import SidecarCLI

/// The capture settings every subcommand that plans a ruleset accepts.
struct CaptureOptions: ParsableArguments {
    @Option(help: "Proxy uids whose traffic is never captured (comma list).", transform: CaptureOptions.parseList)
    var proxyUID: [UInt32] = [1337]

    @Option(help: "Proxy gids whose traffic is never captured (comma list).", transform: CaptureOptions.parseList)
    var proxyGID: [UInt32] = [1337]

    @Option(help: "Port of the proxy's outbound listener.")
    var outboundPort: UInt16 = 15001

    @Option(help: "Port of the proxy's inbound listener.")
    var inboundPort: UInt16 = 15006

    @OptionGroup var table: TableOption

    /// The validated settings; bad input fails here, before the kernel is touched.
    func config() throws(CommandFailure) -> InterceptionConfig {
        let config = InterceptionConfig(
            table: table.table, proxyUIDs: proxyUID, proxyGIDs: proxyGID, outboundRedirectPort: outboundPort,
            inboundRedirectPort: inboundPort)
        let errors = config.validationErrors()
        if !errors.isEmpty { throw .badInput(errors.joined(separator: "\n")) }
        return config
    }

    static func parseList(_ text: String) throws -> [UInt32] {
        try text.split(separator: ",", omittingEmptySubsequences: false).map {
            guard let value = UInt32($0.filter { $0 != " " }) else {
                throw ValidationError("'\($0)' in '\(text)' is not a numeric id")
            }
            return value
        }
    }
}
