import Foundation

extension PodTopology {
    /// One series' value in the pod's proxy's Prometheus text (`name{labels}` as exposed), 0 when absent.
    func metric(_ series: String) throws -> Int {
        try askProxy("/metrics").split(separator: "\n").first { $0.hasPrefix(series + " ") }
            .flatMap { Double($0.split(separator: " ").last ?? "") }.map { Int($0) } ?? 0
    }
}
