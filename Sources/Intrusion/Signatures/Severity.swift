/// How bad a signature's match is, as alerts carry it.
public enum Severity: String, Sendable, Hashable, CaseIterable, Comparable {
    case low, medium, high, critical

    public static func < (lhs: Severity, rhs: Severity) -> Bool {
        allCases.firstIndex(of: lhs)! < allCases.firstIndex(of: rhs)!
    }
}
