extension AppProbe {
    /// The check this probe asks for, the port it asks it on, and the host when the probe names one (else the
    /// pod's address, as the kubelet would dial).
    public var healthCheck: (check: HealthCheck, port: Int, host: String?) {
        if let httpGet {
            let hostHeader = httpGet.httpHeaders?.last { $0.name.lowercased() == "host" }?.value
            let check = HTTPHealthCheck(
                path: httpGet.path ?? "/", tls: httpGet.scheme == "HTTPS", host: hostHeader,
                headers: httpGet.httpHeaders?.filter { $0.name.lowercased() != "host" } ?? [],
                expectedStatuses: HealthCheck.kubeletStatuses)
            return (.http(check), httpGet.port, httpGet.host)
        }
        if let grpc { return (.grpc(service: grpc.service ?? ""), grpc.port, nil) }
        return (.tcp, tcpSocket?.port ?? 0, tcpSocket?.host)
    }
}
