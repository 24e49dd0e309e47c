import Foundation

/// A strict reader of the Prometheus text exposition format (0.0.4), for the tests: every sample
/// belongs to a family declared by exactly one HELP and one TYPE line before its samples; series
/// (name plus labels) are unique; histogram buckets are cumulative, end in `+Inf`, and `+Inf`
/// equals `_count`; values parse as numbers.
struct MetricsText {
    struct Failure: Error, CustomStringConvertible { var description: String }

    /// Sample values by series text (`name{labels}` exactly as written).
    private(set) var samples: [String: Double] = [:]
    private(set) var types: [String: String] = [:]

    init(_ text: String) throws {
        var helps: Set<String> = []
        var seenSamplesOf: Set<String> = []
        // Buckets by family and the labels other than `le` (a histogram may have several series).
        var buckets: [Series: [(le: Double, value: Double)]] = [:]
        for line in text.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.isEmpty { continue }
            if line.hasPrefix("# HELP ") || line.hasPrefix("# TYPE ") {
                let parts = line.split(separator: " ", maxSplits: 3)
                guard parts.count >= 4 else { throw Failure(description: "short comment line: \(line)") }
                let family = String(parts[2])
                if seenSamplesOf.contains(family) { throw Failure(description: "\(family): HELP/TYPE after its samples") }
                if parts[1] == "HELP" {
                    guard helps.insert(family).inserted else { throw Failure(description: "\(family): HELP twice") }
                } else {
                    guard types[family] == nil else { throw Failure(description: "\(family): TYPE twice") }
                    guard ["counter", "gauge", "histogram", "summary", "untyped"].contains(String(parts[3])) else {
                        throw Failure(description: "\(family): bad type \(parts[3])")
                    }
                    types[family] = String(parts[3])
                }
                continue
            }
            if line.hasPrefix("#") { continue }
            guard let space = line.lastIndex(of: " ") else { throw Failure(description: "no value: \(line)") }
            let series = String(line[..<space])
            guard let value = Double(line[line.index(after: space)...]) else { throw Failure(description: "bad value: \(line)") }
            guard samples[series] == nil else { throw Failure(description: "duplicate series \(series)") }
            samples[series] = value
            let name = String(series.prefix { $0 != "{" })
            let family = Self.family(of: name, types: types)
            guard let type = types[family], helps.contains(family) else { throw Failure(description: "\(name): no HELP/TYPE") }
            seenSamplesOf.insert(family)
            if type == "counter" && value < 0 { throw Failure(description: "\(series): negative counter") }
            if type == "histogram" && name.hasSuffix("_bucket") {
                // The `le` label itself, not the tail of another label's name (`file="..."`).
                guard let pair = Self.labelPairs(of: series).first(where: { $0.hasPrefix("le=\"") && $0.hasSuffix("\"") }) else {
                    throw Failure(description: "\(series): bucket without le")
                }
                let text = pair.dropFirst(4).dropLast()
                guard let le = text == "+Inf" ? Double.infinity : Double(text) else { throw Failure(description: "\(series): bad le") }
                buckets[Series(family: family, labels: Self.labels(of: series, without: "le")), default: []].append((le, value))
            }
        }
        for (key, list) in buckets {
            guard zip(list, list.dropFirst()).allSatisfy({ $0.le < $1.le && $0.value <= $1.value }) else {
                throw Failure(description: "\(key): buckets not increasing and cumulative")
            }
            guard list.last?.le == .infinity, list.last?.value == samples[key.sample("_count")] else {
                throw Failure(description: "\(key): +Inf bucket missing or not equal to _count")
            }
            guard samples[key.sample("_sum")] != nil else { throw Failure(description: "\(key): no _sum") }
        }
        for (family, type) in types where type == "histogram" && !buckets.keys.contains(where: { $0.family == family }) {
            throw Failure(description: "\(family): histogram without buckets")
        }
    }

    /// One histogram series: its family and its labels other than `le`, as written (`file="run"`).
    struct Series: Hashable, CustomStringConvertible {
        var family: String
        var labels: String
        /// The series text of its `_count` or `_sum` sample.
        func sample(_ suffix: String) -> String { family + suffix + (labels.isEmpty ? "" : "{\(labels)}") }
        var description: String { sample("") }
    }

    /// The labels of a series text without `name` (label values here hold no commas or braces).
    static func labels(of series: String, without name: String) -> String {
        labelPairs(of: series).filter { !$0.hasPrefix(name + "=") }.joined(separator: ",")
    }

    /// `name="value"` pairs of a series text, as written.
    static func labelPairs(of series: String) -> [Substring] {
        guard let open = series.firstIndex(of: "{"), let close = series.lastIndex(of: "}") else { return [] }
        return series[series.index(after: open)..<close].split(separator: ",")
    }

    /// A sample's value by its exact series text.
    func value(_ series: String) -> Double? { samples[series] }

    /// The family a sample name belongs to (histograms add _bucket, _sum, _count).
    static func family(of name: String, types: [String: String]) -> String {
        for suffix in ["_bucket", "_sum", "_count"] where name.hasSuffix(suffix) {
            let base = String(name.dropLast(suffix.count))
            if types[base] == "histogram" { return base }
        }
        return name
    }
}

import Testing

@Suite("the strict metrics check")
struct MetricsTextTests {
    @Test("it rejects broken expositions", arguments: [
        "a 1\n",                                                                  // no HELP/TYPE
        "# HELP a x\n# TYPE a gauge\n# TYPE a gauge\na 1\n",                      // TYPE twice
        "# HELP a x\n# TYPE a gauge\na 1\na 2\n",                                 // duplicate series
        "# HELP a x\n# TYPE a gauge\na 1\n# HELP a y\n",                          // HELP after samples
        "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 2\n",
        "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 3\n",
        "# HELP c x\n# TYPE c counter\nc -1\n",
        // Labelled histograms are checked per series: the second one is not cumulative, or its count is off.
        "# HELP h x\n# TYPE h histogram\nh_bucket{f=\"a\",le=\"1\"} 1\nh_bucket{f=\"a\",le=\"+Inf\"} 1\nh_sum{f=\"a\"} 1\nh_count{f=\"a\"} 1\n"
            + "h_bucket{f=\"b\",le=\"1\"} 2\nh_bucket{f=\"b\",le=\"+Inf\"} 1\nh_sum{f=\"b\"} 1\nh_count{f=\"b\"} 1\n",
        "# HELP h x\n# TYPE h histogram\nh_bucket{f=\"a\",le=\"1\"} 1\nh_bucket{f=\"a\",le=\"+Inf\"} 1\nh_sum{f=\"a\"} 1\nh_count{f=\"a\"} 1\n"
            + "h_bucket{f=\"b\",le=\"1\"} 1\nh_bucket{f=\"b\",le=\"+Inf\"} 1\nh_sum{f=\"b\"} 1\nh_count{f=\"b\"} 2\n",
        "# HELP a x\n# TYPE a gauge\na one\n",
    ])
    func rejects(text: String) {
        #expect(throws: MetricsText.Failure.self) { try MetricsText(text) }
    }

    @Test("it accepts a well-formed histogram")
    func accepts() throws {
        let text = "# HELP h x\n# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 2\nh_sum 3.5\nh_count 2\n"
        #expect(try MetricsText(text).value("h_count") == 2)
    }

    @Test("it accepts a histogram with two labelled series")
    func acceptsLabelled() throws {
        let text = "# HELP h x\n# TYPE h histogram\nh_bucket{f=\"a\",le=\"1\"} 1\nh_bucket{f=\"a\",le=\"+Inf\"} 1\nh_sum{f=\"a\"} 1\nh_count{f=\"a\"} 1\n"
            + "h_bucket{f=\"b\",le=\"1\"} 0\nh_bucket{f=\"b\",le=\"+Inf\"} 3\nh_sum{f=\"b\"} 9\nh_count{f=\"b\"} 3\n"
        #expect(try MetricsText(text).value("h_count{f=\"b\"}") == 3)
    }
}
