/// Byte sequences captured from real clients, shared by the tests of the sniffers and of the proxy.
public enum CapturedTraffic {
    /// A ClientHello from `openssl s_client -servername api.example.com -alpn h2,http/1.1` (OpenSSL 3.0.19).
    public static let clientHello = bytes(
        "160301014e0100014a03036376db100f929a95dfe8bbcd5bc3d8f8352b4423eb39a6c39950189b6146d8372056519c78766aedb2370b8b50f00bfed91e1691efe60d83f7c358f3d942944ede003e130213031301c02cc030009fcca9cca8ccaac02bc02f009ec024c028006bc023c0270067c00ac0140039c009c0130033009d009c003d003c0035002f00ff010000c300000014001200000f6170692e6578616d706c652e636f6d000b000403000102000a00160014001d0017001e0019001801000101010201030104002300000010000e000c02683208687474702f312e310016000000170000000d002a0028040305030603080708080809080a080b080408050806040105010601030303010302040205020602002b0009080304030303020301002d00020101003300260024001d002085313f5f1ad818b863e840f0fcada83bda6fdf06c3a1c0c5320f525191882979"
    )

    /// Hex text to bytes.
    public static func bytes(_ hex: String) -> [UInt8] {
        var result: [UInt8] = []
        var index = hex.startIndex
        while index < hex.endIndex {
            let next = hex.index(index, offsetBy: 2)
            result.append(UInt8(hex[index..<next], radix: 16)!)
            index = next
        }
        return result
    }
}
