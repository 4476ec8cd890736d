import CNetfilter

extension NetfilterExpression {
    /// A libnftnl expression for this instruction; the caller owns it until it is added to a rule.
    func makeNftnlExpression() -> OpaquePointer {
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
        case .compareEqual(let register, let data):
            return make("cmp") {
                set($0, NFTNL_EXPR_CMP_SREG, register)
                set($0, NFTNL_EXPR_CMP_OP, NFT_CMP_EQ.rawValue)
                set($0, NFTNL_EXPR_CMP_DATA, data)
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
        case .unknown(let name):
            preconditionFailure("cannot program the unknown expression '\(name)'")
        }
    }

    /// Decodes an expression the kernel reported. Counter values are not part of the instruction.
    init(decoding expression: OpaquePointer) {
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
        case "cmp" where u32(NFTNL_EXPR_CMP_OP) == NFT_CMP_EQ.rawValue:
            self = .compareEqual(register: u32(NFTNL_EXPR_CMP_SREG), data: bytes(NFTNL_EXPR_CMP_DATA))
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
        default:
            self = .unknown(name: name)
        }
    }
}
