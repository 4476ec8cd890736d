// swift-tools-version:6.1
import PackageDescription

let package = Package(
    name: "swift-sidecar",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "sidecar-init", targets: ["SidecarInit"]),
        .executable(name: "sidecar-proxy", targets: ["SidecarProxy"]),
        .executable(name: "sidecar-status", targets: ["SidecarStatus"]),
        .executable(name: "sidecar-inject", targets: ["SidecarInject"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/swift-otel/swift-w3c-trace-context.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
        // OTLP over HTTP only: the gRPC exporter would add a second HTTP/2 stack for nothing.
        .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
    ],
    targets: [
        .systemLibrary(
            name: "CNetfilter",
            pkgConfig: "libnftnl",
            providers: [.apt(["libnftnl-dev", "libmnl-dev"])]
        ),
        .target(name: "Interception"),
        .target(name: "Netfilter", dependencies: ["CNetfilter", "Interception"]),
        // Pure: SPIFFE IDs, the X.509-SVID rules, a workload's identity and trust bundle checked whole.
        .target(
            name: "Identity",
            dependencies: [
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        // Pure: the signature pattern language, the built-in signatures, scan and denial detectors, the block table.
        .target(name: "Intrusion", dependencies: ["Interception"]),
        .target(
            name: "Policy",
            dependencies: ["Interception", "Identity", "Intrusion", .product(name: "Yams", package: "Yams")]
        ),
        // Pure: Kubernetes manifests in, the same with the sidecar out; the admission webhook's decision.
        .target(
            name: "Injection",
            dependencies: ["Policy", "Interception", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "Proxy",
            dependencies: [
                "Policy", "Telemetry", "Identity", "Intrusion",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOHTTP2", package: "swift-nio-http2"),
                .product(name: "NIOHPACK", package: "swift-nio-http2"),
                .product(name: "NIOExtras", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "Telemetry",
            dependencies: [
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "W3CTraceContext", package: "swift-w3c-trace-context"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
                .product(name: "OTel", package: "swift-otel"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .target(
            name: "SidecarCLI",
            dependencies: [
                "Interception",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Yams", package: "Yams"),
            ]
        ),
        .executableTarget(
            name: "SidecarInit",
            dependencies: [
                "Interception", "Netfilter", "SidecarCLI", "Proxy", "Policy",
                .product(name: "Yams", package: "Yams"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ]
        ),
        .executableTarget(
            name: "SidecarProxy",
            dependencies: [
                "Proxy", "Policy", "Interception", "Telemetry", "SidecarCLI", "Identity", "Intrusion",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ]
        ),
        .executableTarget(
            name: "SidecarStatus",
            dependencies: [
                "Netfilter", "Interception", "SidecarCLI", "Telemetry", "Identity",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        .executableTarget(
            name: "SidecarInject",
            dependencies: [
                "Injection", "Proxy", "SidecarCLI",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        .testTarget(
            name: "InjectionTests", dependencies: ["Injection", "Policy", .product(name: "Yams", package: "Yams")]
        ),
        .testTarget(name: "InterceptionTests", dependencies: ["Interception"], exclude: ["Golden"]),
        .testTarget(name: "IntrusionTests", dependencies: ["Intrusion"]),
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(
            name: "PolicyTests", dependencies: ["Policy", "Interception", "Intrusion", "Identity", "TestSupport"]),
        .testTarget(
            name: "IdentityTests",
            dependencies: [
                "Identity",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "NetfilterTests", dependencies: ["Netfilter", "Interception", "SidecarCLI"]),
        .testTarget(
            name: "ProxyTests",
            dependencies: [
                "Proxy", "Policy", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
            ]
        ),
        .testTarget(
            name: "TelemetryTests",
            dependencies: ["Telemetry", .product(name: "Logging", package: "swift-log")]
        ),
        .target(name: "AllocationCounter", path: "Tests/AllocationCounter"),
        // The relay's allocations per chunk, counted on the proxy's threads; built in release and run by scripts/bench.
        .executableTarget(
            name: "RelayAllocations",
            dependencies: [
                "Proxy", "Policy", "Telemetry", "AllocationCounter",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Tests/RelayAllocations"
        ),
        .testTarget(name: "IntegrationTests", exclude: ["Peers"]),
    ]
)
