import CNetfilter

extension NetfilterExpression {
    /// A libnftnl expression for this instruction; the caller owns it until it is added to a rule. A lookup refers
    /// to its set by `setID`, the id the set was created with in the same batch.
    func makeNftnlExpression(setID: UInt32? = nil) -> OpaquePointer {
        func make(_ name: String, _ configure: (OpaquePointer) -> Void) -> OpaquePointer {
            guard let expression = nftnl_expr_alloc(name) else { fatalError("libnftnl has no '\(name)' expression") }
            configure(expression)
            return expression
        }
        func set(_ expression: OpaquePointer, _ attribute: Int, _ value: UInt32) {
            nftnl_expr_set_u32(expression, UInt16(attribute), value)
        }
        func set(_ expression: OpaquePointer, _ attribute: Int, _ bytes: [UInt8]) {
            _ = bytes.withUnsafeBytes {
                nftnl_expr_set(expression, UInt16(attribute), $0.baseAddress, UInt32($0.count))
            }
        }
        switch self {
        case .meta(let key, let register):
            return make("meta") {
                set($0, NFTNL_EXPR_META_KEY, key)
                set($0, NFTNL_EXPR_META_DREG, register)
            }
        case .compare(let comparison, let register, let data):
            return make("cmp") {
                set($0, NFTNL_EXPR_CMP_SREG, register)
                set($0, NFTNL_EXPR_CMP_OP, comparison.rawValue)
                set($0, NFTNL_EXPR_CMP_DATA, data)
            }
        case .lookup(let register, _, let inverted):
            guard let setID else { preconditionFailure("a lookup needs the id of its set") }
            return make("lookup") {
                set($0, NFTNL_EXPR_LOOKUP_SREG, register)
                _ = nftnl_expr_set_str($0, UInt16(NFTNL_EXPR_LOOKUP_SET), NftnlSet.anonymousName)
                set($0, NFTNL_EXPR_LOOKUP_SET_ID, setID)
                if inverted { set($0, NFTNL_EXPR_LOOKUP_FLAGS, NFT_LOOKUP_F_INV.rawValue) }
            }
        case .payload(let base, let offset, let length, let register):
            return make("payload") {
                set($0, NFTNL_EXPR_PAYLOAD_BASE, base)
                set($0, NFTNL_EXPR_PAYLOAD_OFFSET, offset)
                set($0, NFTNL_EXPR_PAYLOAD_LEN, length)
                set($0, NFTNL_EXPR_PAYLOAD_DREG, register)
            }
        case .bitwise(let register, let mask, let xor):
            return make("bitwise") {
                set($0, NFTNL_EXPR_BITWISE_SREG, register)
                set($0, NFTNL_EXPR_BITWISE_DREG, register)
                set($0, NFTNL_EXPR_BITWISE_LEN, UInt32(mask.count))
                set($0, NFTNL_EXPR_BITWISE_MASK, mask)
                set($0, NFTNL_EXPR_BITWISE_XOR, xor)
            }
        case .counter:
            return make("counter") { _ in }
        case .verdict(let verdict):
            return make("immediate") {
                set($0, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT.rawValue)
                set($0, NFTNL_EXPR_IMM_VERDICT, UInt32(bitPattern: verdict))
            }
        case .immediate(let register, let data):
            return make("immediate") {
                set($0, NFTNL_EXPR_IMM_DREG, register)
                set($0, NFTNL_EXPR_IMM_DATA, data)
            }
        case .redirect(let portRegister, let flags):
            return make("redir") {
                set($0, NFTNL_EXPR_REDIR_REG_PROTO_MIN, portRegister)
                set($0, NFTNL_EXPR_REDIR_FLAGS, flags)
            }
        case .reject(let type, let code):
            return make("reject") {
                set($0, NFTNL_EXPR_REJECT_TYPE, type)
                nftnl_expr_set_u8($0, UInt16(NFTNL_EXPR_REJECT_CODE), code)
            }
        case .unknown(let name):
            preconditionFailure("cannot program the unknown expression '\(name)'")
        }
    }

    /// Decodes an expression the kernel reported, finding a lookup's set by name in `sets`. Counter values are not
    /// part of the instruction.
    init(decoding expression: OpaquePointer, sets: [String: AnonymousSet]) {
        func u32(_ attribute: Int) -> UInt32 { nftnl_expr_get_u32(expression, UInt16(attribute)) }
        func bytes(_ attribute: Int) -> [UInt8] {
            var length: UInt32 = 0
            guard let data = nftnl_expr_get(expression, UInt16(attribute), &length) else { return [] }
            return Array(UnsafeRawBufferPointer(start: data, count: Int(length)))
        }
        let name = String(cString: nftnl_expr_get_str(expression, UInt16(NFTNL_EXPR_NAME)))
        switch name {
        case "meta":
            self = .meta(key: u32(NFTNL_EXPR_META_KEY), register: u32(NFTNL_EXPR_META_DREG))
        case "cmp":
            guard let comparison = ComparisonOperator(rawValue: u32(NFTNL_EXPR_CMP_OP)) else {
                self = .unknown(name: "cmp op \(u32(NFTNL_EXPR_CMP_OP))")
                return
            }
            self = .compare(comparison, register: u32(NFTNL_EXPR_CMP_SREG), data: bytes(NFTNL_EXPR_CMP_DATA))
        case "lookup":
            let setName = String(cString: nftnl_expr_get_str(expression, UInt16(NFTNL_EXPR_LOOKUP_SET)))
            guard let set = sets[setName] else {
                self = .unknown(name: "lookup in unknown set \(setName)")
                return
            }
            self = .lookup(
                register: u32(NFTNL_EXPR_LOOKUP_SREG), set: set,
                inverted: u32(NFTNL_EXPR_LOOKUP_FLAGS) & NFT_LOOKUP_F_INV.rawValue != 0)
        case "payload":
            self = .payload(
                base: u32(NFTNL_EXPR_PAYLOAD_BASE), offset: u32(NFTNL_EXPR_PAYLOAD_OFFSET),
                length: u32(NFTNL_EXPR_PAYLOAD_LEN), register: u32(NFTNL_EXPR_PAYLOAD_DREG))
        case "bitwise":
            self = .bitwise(
                register: u32(NFTNL_EXPR_BITWISE_SREG), mask: bytes(NFTNL_EXPR_BITWISE_MASK),
                xor: bytes(NFTNL_EXPR_BITWISE_XOR))
        case "counter":
            self = .counter
        case "immediate" where u32(NFTNL_EXPR_IMM_DREG) == NFT_REG_VERDICT.rawValue:
            self = .verdict(Int32(bitPattern: u32(NFTNL_EXPR_IMM_VERDICT)))
        case "immediate":
            self = .immediate(register: u32(NFTNL_EXPR_IMM_DREG), data: bytes(NFTNL_EXPR_IMM_DATA))
        case "redir":
            self = .redirect(portRegister: u32(NFTNL_EXPR_REDIR_REG_PROTO_MIN), flags: u32(NFTNL_EXPR_REDIR_FLAGS))
        case "reject":
            self = .reject(
                type: u32(NFTNL_EXPR_REJECT_TYPE), code: nftnl_expr_get_u8(expression, UInt16(NFTNL_EXPR_REJECT_CODE)))
        default:
            self = .unknown(name: name)
        }
    }
}
