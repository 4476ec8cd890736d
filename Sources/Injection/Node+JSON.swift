import Foundation
import Yams

extension Node {
    /// This value as `JSONSerialization` takes it; scalars become what YAML resolves them to, so a quoted `"8080"`
    /// stays a string and a plain `8080` a number.
    func jsonObject() -> Any {
        switch self {
        case .mapping(let mapping):
            var object: [String: Any] = [:]
            for (key, value) in mapping { object[key.scalarText ?? "\(key)"] = value.jsonObject() }
            return object
        case .sequence(let sequence):
            return sequence.map { $0.jsonObject() }
        case .scalar:
            if null != nil { return NSNull() }
            if let bool { return bool }
            if let int { return int }
            if let float, float.isFinite { return float }
            return string ?? ""
        case .alias:
            return NSNull()
        }
    }
}
