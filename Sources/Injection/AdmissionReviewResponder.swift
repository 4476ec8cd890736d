import Foundation
import Yams

/// `sidecar-inject serve`'s decision: an `AdmissionReview` (admission.k8s.io/v1) in, its answer out. A Pod being
/// created gets the injection as a base64 JSON Patch; anything else is allowed unchanged. A pod that cannot be
/// injected is denied with the reason, and so is a review that cannot be read: the webhook fails closed, never
/// by crashing, so a pod never runs without the sidecar its namespace asked for.
public struct AdmissionReviewResponder: Sendable {
    public struct Answer: Sendable {
        /// The `AdmissionReview` to send back, JSON.
        public var body: [UInt8]
        public var allowed: Bool
        /// One line for the log: what was decided and why.
        public var summary: String
    }

    public let template: SidecarTemplate

    public init(template: SidecarTemplate) {
        self.template = template
    }

    public func answer(_ body: [UInt8]) -> Answer {
        let review: Node
        do {
            guard let text = String(validating: body, as: UTF8.self), let node = try Yams.compose(yaml: text) else {
                return refusal(uid: "", "the body is not a JSON AdmissionReview")
            }
            review = node
        } catch {
            return refusal(uid: "", "the body is not JSON: \(error)")
        }
        guard let request = review["request"], let uid = request["uid"]?.string else {
            return refusal(uid: "", "an AdmissionReview needs request.uid")
        }
        guard review["apiVersion"]?.string == "admission.k8s.io/v1", review["kind"]?.string == "AdmissionReview" else {
            return refusal(uid: uid, "only admission.k8s.io/v1 AdmissionReview is understood")
        }
        let kind = request["kind"]
        guard kind?["kind"]?.string == "Pod", kind?["group"]?.string ?? "" == "",
            request["operation"]?.string == "CREATE"
        else {
            return Answer(
                body: Self.encode(uid: uid, allowed: true), allowed: true,
                summary: "not a pod being created: allowed unchanged")
        }
        guard let pod = request["object"], pod.mapping != nil else {
            return refusal(uid: uid, "request.object: a Pod being created needs its object")
        }
        let object = ManifestInjector.describe(
            pod, kind: "Pod", place: "the review", namespace: request["namespace"]?.string)
        do {
            switch try PodTemplateInjector(template: template).inject(pod) {
            case .injected(let injected):
                let operations = JSONPatch.operations(from: pod, to: injected).map { $0.jsonObject() }
                let patch = try JSONSerialization.data(withJSONObject: operations, options: [.withoutEscapingSlashes])
                return Answer(
                    body: Self.encode(uid: uid, allowed: true, patch: patch), allowed: true,
                    summary: "\(object): injected")
            case .unchanged(let reason):
                return Answer(
                    body: Self.encode(uid: uid, allowed: true), allowed: true,
                    summary: "\(object): unchanged, \(reason)")
            }
        } catch let refusal as InjectionRefusal {
            return self.refusal(uid: uid, InjectionRefusal(object: object, problems: refusal.problems).description)
        } catch {
            return refusal(uid: uid, "\(object): cannot write the patch: \(error)")
        }
    }

    private func refusal(uid: String, _ message: String) -> Answer {
        Answer(
            body: Self.encode(uid: uid, allowed: false, message: message), allowed: false,
            summary: "denied: \(message)")
    }

    private struct Review: Encodable {
        struct Response: Encodable {
            struct Status: Encodable {
                var code: Int
                var message: String
            }

            var uid: String
            var allowed: Bool
            var patchType: String?
            var patch: String?
            var status: Status?
        }

        var apiVersion = "admission.k8s.io/v1"
        var kind = "AdmissionReview"
        var response: Response
    }

    private static func encode(uid: String, allowed: Bool, patch: Data? = nil, message: String? = nil) -> [UInt8] {
        let response = Review.Response(
            uid: uid, allowed: allowed, patchType: patch.map { _ in "JSONPatch" }, patch: patch?.base64EncodedString(),
            status: message.map { .init(code: 403, message: $0) })
        // Strings, booleans and an integer: encoding cannot fail.
        return Array((try? JSONEncoder().encode(Review(response: response))) ?? Data())
    }
}
