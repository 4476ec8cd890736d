import Foundation
import Yams

/// RFC 6902 operations that turn one object into another: mappings are compared key by key, any other value that
/// differs is replaced whole (`add` replaces an existing member). The webhook's patch is what injection changed.
struct JSONPatch {
    struct Operation {
        var op: String
        var path: String
        var value: Node?

        func jsonObject() -> [String: Any] {
            var object: [String: Any] = ["op": op, "path": path]
            if let value { object["value"] = value.jsonObject() }
            return object
        }
    }

    static func operations(from original: Node, to changed: Node, at path: String = "") -> [Operation] {
        guard let before = original.mapping, let after = changed.mapping else {
            return original == changed ? [] : [Operation(op: "add", path: path, value: changed)]
        }
        var operations: [Operation] = []
        for (key, value) in after {
            let keyPath = path + "/" + pointerToken(key.scalarText ?? "")
            if let old = before[key] {
                operations += Self.operations(from: old, to: value, at: keyPath)
            } else {
                operations.append(Operation(op: "add", path: keyPath, value: value))
            }
        }
        for (key, _) in before where after[key] == nil {
            operations.append(
                Operation(op: "remove", path: path + "/" + pointerToken(key.scalarText ?? ""), value: nil))
        }
        return operations
    }

    /// RFC 6901: `~` is `~0` and `/` is `~1` inside a reference token.
    static func pointerToken(_ key: String) -> String {
        key.replacingOccurrences(of: "~", with: "~0").replacingOccurrences(of: "/", with: "~1")
    }
}
