extension NetfilterExpression: CustomStringConvertible {
    /// A compact, stable rendering in the spirit of `nft --debug=netlink`: what a drift report shows for a rule it
    /// cannot name, and what the ruleset fingerprint is computed over.
    var description: String {
        switch self {
        case .meta(let key, let register): "meta load \(key) => reg \(register)"
        case .compare(let comparison, let register, let data): "cmp \(comparison.mnemonic) reg \(register) \(hex(data))"
        case .lookup(let register, let set, let inverted):
            "lookup reg \(register) set type \(set.keyType)\(set.isInterval ? " interval" : "") { \(set.elements.map { hex($0.key) + ($0.isIntervalEnd ? " end" : "") }.joined(separator: ", ")) }\(inverted ? " inverted" : "")"
        case .payload(let base, let offset, let length, let register):
            "payload load \(length)b @ base \(base) + \(offset) => reg \(register)"
        case .bitwise(let register, let mask, let xor): "bitwise reg \(register) & \(hex(mask)) ^ \(hex(xor))"
        case .counter: "counter"
        case .verdict(let verdict): "verdict \(verdict)"
        case .immediate(let register, let data): "immediate reg \(register) \(hex(data))"
        case .redirect(let register, let flags): "redir proto_min reg \(register) flags \(flags)"
        case .reject(let type, let code): "reject type \(type) code \(code)"
        case .unknown(let name): "\(name) (unknown)"
        }
    }

    private func hex(_ bytes: [UInt8]) -> String {
        "0x" + bytes.map { String($0, radix: 16).leftPadded(to: 2) }.joined()
    }
}

extension String {
    fileprivate func leftPadded(to width: Int) -> String {
        count >= width ? self : String(repeating: "0", count: width - count) + self
    }
}
