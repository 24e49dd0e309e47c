/// A policy's claim on the shared inference pool: its fair-share weight, its priority and how long
/// one model request may take (queued and running) before it fails.
///
/// ```
/// "broker": { ..., "inference": {"weight": 2, "priority": "interactive", "requestTimeoutSeconds": 120,
///                                 "devices": [1]} }
/// ```
/// Under contention an agent of weight 2 gets twice the tokens of an agent of weight 1; every waiting
/// interactive request runs before any batch one. `devices` keeps the agent's requests on the pool
/// workers of those GPUs (ordinals; absent: any worker; ignored when the pool runs on the CPU). A spec
/// may lower the weight, move to `batch`, shorten the timeout and keep fewer devices, never the reverse.
public struct InferenceShare: Sendable, Equatable {
    /// Interactive (an agent waits on the answer) or batch (background work).
    public enum Priority: String, Sendable, Equatable, CaseIterable {
        case interactive, batch
    }

    /// Fair-share weight in thousandths (1000 = weight 1).
    public var weightMilli: Int
    public var priority: Priority
    /// Milliseconds one model request may take from submission to its last token.
    public var requestTimeoutMilliseconds: Int
    /// GPU ordinals whose pool workers may serve this agent; nil: any worker.
    public var devices: [Int]?

    public init(weightMilli: Int = 1000, priority: Priority = .interactive, requestTimeoutMilliseconds: Int = 300_000,
                devices: [Int]? = nil) {
        self.weightMilli = weightMilli
        self.priority = priority
        self.requestTimeoutMilliseconds = requestTimeoutMilliseconds
        self.devices = devices
    }

    /// The weight as a number (1.0 by default).
    public var weight: Double { Double(weightMilli) / 1000 }

    static let keys = ["weight", "priority", "requestTimeoutSeconds", "devices"]
    static let weightRange: ClosedRange<Int64> = 1...1_000_000  // 0.001 ... 1000
    static let timeoutRange: ClosedRange<Int64> = 1...86_400_000  // 1 ms ... a day

    /// Reads an `inference` object; keys left out keep `base`'s values.
    static func read(_ reader: JSONReader, over base: InferenceShare = .init()) throws(SpecError) -> (InferenceShare, [String: JSONReader]) {
        let object: JSONObjectReader
        do { object = try reader.object(keys: keys) } catch { throw SpecError(error) }
        var share = base, at: [String: JSONReader] = [:]
        if let w = object.optional("weight") {
            share.weightMilli = Int(try w.fixedPoint(scale: 3, in: weightRange, unit: "weight"))
            at["weight"] = w
        }
        if let p = object.optional("priority") {
            let text = try p.text()
            guard let priority = Priority(rawValue: text) else {
                throw p.specError("unknown priority \"\(text)\" (expected \"interactive\" or \"batch\")")
            }
            share.priority = priority
            at["priority"] = p
        }
        if let t = object.optional("requestTimeoutSeconds") {
            share.requestTimeoutMilliseconds = Int(try t.fixedPoint(scale: 3, in: timeoutRange, unit: "seconds"))
            at["requestTimeoutSeconds"] = t
        }
        if let d = object.optional("devices") {
            share.devices = try DeviceChoice.readOrdinals(d)
            at["devices"] = d
        }
        return (share, at)
    }

    /// A spec's `inference` object over this policy's: a higher weight, batch → interactive or a longer
    /// timeout is an error at the value.
    func narrowed(by reader: JSONReader, _ looser: (JSONReader, String) -> SpecError) throws(SpecError) -> InferenceShare {
        let (asked, at) = try Self.read(reader, over: self)
        if asked.weightMilli > weightMilli, let r = at["weight"] {
            throw looser(r, "inference weight \(SpecValueFormat.decimal(asked.weightMilli)) (policy: \(SpecValueFormat.decimal(weightMilli)))")
        }
        if asked.priority < priority, let r = at["priority"] {
            throw looser(r, "inference priority \(asked.priority.rawValue) (policy: \(priority.rawValue))")
        }
        if asked.requestTimeoutMilliseconds > requestTimeoutMilliseconds, let r = at["requestTimeoutSeconds"] {
            throw looser(r, "requestTimeoutSeconds \(SpecValueFormat.decimal(asked.requestTimeoutMilliseconds)) (policy: \(SpecValueFormat.decimal(requestTimeoutMilliseconds)))")
        }
        if let allowed = devices, let wanted = asked.devices, let r = at["devices"],
           let index = wanted.firstIndex(where: { !allowed.contains($0) }) {
            let element = (try? r.array())?[index] ?? r
            throw looser(element, "inference device GPU \(wanted[index]) (policy: GPUs \(allowed.map(String.init).joined(separator: ", ")))")
        }
        return asked
    }

    /// One line for `warden policy check`.
    public var summary: String {
        let placement = devices.map { ", on GPUs " + $0.map(String.init).joined(separator: ", ") } ?? ""
        return "inference: weight \(SpecValueFormat.decimal(weightMilli)), \(priority.rawValue), requests time out after \(SpecValueFormat.decimal(requestTimeoutMilliseconds)) s" + placement
    }
}

extension InferenceShare.Priority: Comparable {
    /// Interactive ranks before batch.
    public static func < (a: Self, b: Self) -> Bool { a == .interactive && b == .batch }
}

/// Thousandths as a decimal string ("1", "0.5", "2.25").
enum SpecValueFormat {
    static func decimal(_ milli: Int) -> String { JSONReader.decimal(Int64(milli), 3) }
}
