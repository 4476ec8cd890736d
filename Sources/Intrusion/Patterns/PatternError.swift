/// Why a signature's pattern was refused, with the offset (in bytes, from 0) where the problem lies.
public struct PatternError: Error, Hashable, Sendable, CustomStringConvertible {
    public let offset: Int
    public let reason: String

    public var description: String { "at offset \(offset): \(reason)" }
}
