/// The two messages of `grpc.health.v1.Health/Check` in their wire form: a request naming the service, and the
/// serving status the answer carries, each in gRPC's length-prefixed frame. Two fields do not warrant a protobuf
/// runtime and its generated code.
public enum GRPCHealthMessage {
    /// `HealthCheckResponse.ServingStatus`.
    public enum ServingStatus: Sendable, Equatable {
        case unknown
        case serving
        case notServing
        case serviceUnknown
        case other(UInt64)

        init(_ value: UInt64) {
            self =
                switch value {
                case 0: .unknown
                case 1: .serving
                case 2: .notServing
                case 3: .serviceUnknown
                default: .other(value)
                }
        }
    }

    public enum DecodingError: Error, Equatable {
        case truncated
        case compressed
        case malformed
    }

    /// A gRPC frame (uncompressed) holding `HealthCheckRequest{service}`; an empty service is left out, as proto3
    /// leaves out defaults.
    public static func request(service: String) -> [UInt8] {
        var message: [UInt8] = []
        if !service.isEmpty {
            message.append(0x0A)  // field 1, length-delimited
            appendVarint(UInt64(service.utf8.count), to: &message)
            message += service.utf8
        }
        let length = UInt32(message.count)
        return [0, UInt8(length >> 24), UInt8(length >> 16 & 0xFF), UInt8(length >> 8 & 0xFF), UInt8(length & 0xFF)]
            + message
    }

    /// The serving status of the first gRPC frame in `bytes` (`HealthCheckResponse`); field 1 absent is
    /// `UNKNOWN`, unknown fields are skipped.
    public static func servingStatus(_ bytes: [UInt8]) throws(DecodingError) -> ServingStatus {
        guard bytes.count >= 5 else { throw .truncated }
        guard bytes[0] == 0 else { throw .compressed }
        let length = Int(bytes[1]) << 24 | Int(bytes[2]) << 16 | Int(bytes[3]) << 8 | Int(bytes[4])
        guard bytes.count >= 5 + length else { throw .truncated }
        var reader = bytes[5..<(5 + length)]
        var status = ServingStatus.unknown
        while !reader.isEmpty {
            let key = try varint(&reader)
            switch (key >> 3, key & 7) {
            case (1, 0): status = ServingStatus(try varint(&reader))
            case (_, 0): _ = try varint(&reader)
            case (_, 1): try skip(8, &reader)
            case (_, 2): try skip(try varint(&reader), &reader)
            case (_, 5): try skip(4, &reader)
            default: throw .malformed
            }
        }
        return status
    }

    private static func appendVarint(_ value: UInt64, to bytes: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            bytes.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        bytes.append(UInt8(value))
    }

    private static func varint(_ reader: inout ArraySlice<UInt8>) throws(DecodingError) -> UInt64 {
        var value: UInt64 = 0
        for shift in stride(from: 0, to: 64, by: 7) {
            guard let byte = reader.popFirst() else { throw .truncated }
            value |= UInt64(byte & 0x7F) << UInt64(shift)
            if byte < 0x80 { return value }
        }
        throw .malformed
    }

    /// A length from the wire may be anything up to 2^64 - 1: compared as such, never converted first.
    private static func skip(_ count: UInt64, _ reader: inout ArraySlice<UInt8>) throws(DecodingError) {
        guard count <= UInt64(reader.count) else { throw .truncated }
        reader = reader.dropFirst(Int(count))
    }
}
