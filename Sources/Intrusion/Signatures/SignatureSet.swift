/// The built-in signature sets, curated for few false positives on ordinary traffic: each pattern needs the shape of
/// an attack (a keyword next to the syntax that makes it one), not a keyword alone. `SignatureSetTests` holds the
/// attacks each must catch and the ordinary requests none may match.
public enum SignatureSet: String, Sendable, Hashable, CaseIterable {
    case traversal, sqli, xss, log4shell, shellshock, scanners

    /// Where request data goes: the target, the header values, and an inspected body.
    private static let everywhere: Set<RequestPart> = [.target, .headers, .body]

    public var signatures: [Signature] {
        switch self {
        case .traversal:
            [
                Signature(
                    "traversal-dot-dot", "Path traversal: ../ sequence", .high, #"\.\.[/\\]"#, [.target, .body]),
                Signature(
                    "traversal-overlong", "Path traversal: overlong UTF-8 or %u-encoded dot or slash", .high,
                    #"\xc0[\xae\xaf]|\xe0\x80\xae|\xc1[\x9c\x81]|%u(002e|002f|005c|2215|2216|ff0e)"#, [.target, .body]),
                Signature(
                    "traversal-system-file", "Path traversal: system file", .high,
                    #"/etc/(passwd|shadow|group|hosts)|/proc/self/|\\windows\\win\.ini|boot\.ini"#, [.target, .body]),
            ]
        case .sqli:
            [
                Signature(
                    "sqli-union-select", "SQL injection: UNION SELECT", .critical,
                    #"union[\s+(/*!]+((all|distinct)[\s+(/*!]+)?select[\s+(/*@'"`]"#, Self.everywhere),
                Signature(
                    "sqli-tautology", "SQL injection: boolean condition", .high,
                    #"[\s'"()+`](and|or|xor|&&|\|\|)[\s+(]+(not[\s+]+)?(\d+[\s+]*(=|<>|!=|<=?|>=?)[\s+]*\(?\d|'[^']*'[\s+]*(=|<>|!=|like)[\s+]*'|"[^"]*"[\s+]*(=|<>|!=|like)[\s+]*")"#,
                    Self.everywhere),
                Signature(
                    "sqli-stacked-query", "SQL injection: stacked query", .high,
                    #";[\s+]*(select|insert|update|delete|drop|create|alter|truncate|exec|execute|declare|shutdown|waitfor)[\s+(]"#,
                    Self.everywhere),
                Signature(
                    "sqli-comment", "SQL injection: string closed by a comment", .high,
                    #"'[\s+)]*(--[\s+]|#|/\*)|/\*![0-9]*[\s+]*(select|union|and|or)[\s+(]"#, Self.everywhere),
                Signature(
                    "sqli-subquery", "SQL injection: subquery", .high, #"\([\s+]*select[\s+(@'"`*]"#,
                    Self.everywhere),
                Signature(
                    "sqli-order-by", "SQL injection: ORDER BY column probe", .high,
                    #"order[\s+]+by[\s+]+\d+[\s+]*(--|#|/\*)"#, Self.everywhere),
                Signature(
                    "sqli-function", "SQL injection: database function or catalog", .high,
                    #"(sleep|benchmark|pg_sleep|extractvalue|updatexml|load_file|randomblob|dbms_pipe\.receive_message|utl_inaddr\.get_host_address)[\s+]*\(|waitfor[\s+]+delay[\s+]|information_schema|@@version|into[\s+]+(out|dump)file|sqlite_master|pg_catalog|sysobjects"#,
                    Self.everywhere),
            ]
        case .xss:
            [
                Signature(
                    "xss-script-tag", "Cross-site scripting: script tag", .high, #"<[\s/]*script[\s/>]"#,
                    Self.everywhere),
                Signature(
                    "xss-event-handler", "Cross-site scripting: event handler attribute", .high,
                    #"[\s/"';<](on(error|load|mouseover|mouseenter|click|focus|blur|toggle|animationstart|pointerover|begin|submit|change|input))[\s+]*="#,
                    Self.everywhere),
                Signature(
                    "xss-script-uri", "Cross-site scripting: script URI", .high,
                    #"(javascript|vbscript|livescript)[\s+]*:"#, Self.everywhere),
                Signature(
                    "xss-active-element", "Cross-site scripting: active HTML element", .medium,
                    #"<[\s/]*(iframe|svg|object|embed|math|details|base)[\s/>]"#, Self.everywhere),
                Signature(
                    "xss-dom-sink", "Cross-site scripting: script sink", .medium,
                    #"document\.(cookie|write|domain)|(alert|prompt|confirm|eval)[\s+]*\(|string\.fromcharcode"#,
                    Self.everywhere),
            ]
        case .log4shell:
            [
                Signature(
                    "log4shell-jndi", "Log4Shell: JNDI lookup", .critical, #"\$\{[\s+]*jndi[\s+]*:"#, Self.everywhere),
                Signature(
                    "log4shell-obfuscated", "Log4Shell: obfuscated lookup", .critical,
                    #"\$\{[^}]{0,40}\$\{|\$\{(lower|upper|env|sys|date|main|k8s|docker|spring|java|base64|::-)"#,
                    Self.everywhere),
            ]
        case .shellshock:
            [
                Signature(
                    "shellshock-function", "Shellshock: function definition in a variable", .critical,
                    #"\(\)[\s+]*\{"#, [.target, .headers])
            ]
        case .scanners:
            [
                Signature("scanner-sqlmap", "Scanner: sqlmap", .high, "sqlmap", [.userAgent]),
                Signature("scanner-nikto", "Scanner: Nikto", .high, "nikto", [.userAgent]),
                Signature(
                    "scanner-nmap", "Scanner: Nmap Scripting Engine", .high, "nmap scripting engine|nmap nse",
                    [.userAgent]),
                Signature("scanner-masscan", "Scanner: masscan", .high, "masscan", [.userAgent]),
                Signature(
                    "scanner-other", "Scanner: known attack tool", .medium,
                    "zgrab|nuclei|dirbuster|gobuster|wpscan|acunetix|nessus|openvas|w3af|havij|commix|wfuzz|feroxbuster|ffuf/",
                    [.userAgent]),
            ]
        }
    }
}
