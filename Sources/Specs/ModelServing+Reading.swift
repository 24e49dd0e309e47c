/// Strict reading of a model-serving file: the `pool` section and the `models` map.
extension ModelServing {
    static let keys = ["pool", "models"]
    static let poolKeys = ["kvMemory", "blockSize", "maxBatchTokens", "maxRunningSequences", "maxQueuedPerAgent",
                           "maxQueuedTotal", "prefixCaching", "workers", "scaleUpQueueWaitMs", "idleReleaseMs", "devices"]
    static let modelKeys = ["endpoints", "contextLength"]
    static let endpointKeys = ["url", "model", "apiKeyEnv", "timeouts", "retries", "backoffMs", "maxBackoffMs"]
    static let timeoutKeys = ["connectMs", "firstByteMs", "idleMs", "totalMs"]

    /// Accepted ranges: zero is never meaningful, and the upper bounds are generous but keep every
    /// product (blocks × block size, backoff doublings) far from overflow.
    enum Bounds {
        static let kvMemory: ClosedRange<UInt64> = (1 << 20)...(1 << 40)
        static let blockSize: ClosedRange<Int64> = 1...1024
        static let maxBatchTokens: ClosedRange<Int64> = 1...1_048_576
        static let maxRunningSequences: ClosedRange<Int64> = 1...4096
        static let queued: ClosedRange<Int64> = 1...1_000_000
        static let workers: ClosedRange<Int64> = 0...256
        static let maxWorkers: ClosedRange<Int64> = 1...256
        static let milliseconds: ClosedRange<Int64> = 1...86_400_000
        static let contextLength: ClosedRange<Int64> = 1...10_000_000
        static let endpoints = 1...16
        static let retries: ClosedRange<Int64> = 0...10
        static let backoff: ClosedRange<Int64> = 1...600_000
    }

    static func read(_ reader: JSONReader, file: String) throws(SpecError) -> ModelServing {
        let object: JSONObjectReader
        do { object = try reader.object(keys: keys) } catch { throw SpecError(error) }
        var serving = ModelServing(file: file)
        if let pool = object.optional("pool") { serving.pool = try readPool(pool) }
        if let models = object.optional("models") { serving.models = try readModels(models) }
        return serving
    }

    static func readPool(_ reader: JSONReader) throws(SpecError) -> PoolSettings {
        let object: JSONObjectReader
        do { object = try reader.object(keys: poolKeys) } catch { throw SpecError(error) }
        var pool = PoolSettings()
        pool.kvMemoryBytes = try object.optional("kvMemory")?.byteSize(in: Bounds.kvMemory)
        pool.blockSize = try object.optional("blockSize")?.count(in: Bounds.blockSize)
        pool.maxBatchTokens = try object.optional("maxBatchTokens")?.count(in: Bounds.maxBatchTokens)
        pool.maxRunningSequences = try object.optional("maxRunningSequences")?.count(in: Bounds.maxRunningSequences)
        pool.maxQueuedPerAgent = try object.optional("maxQueuedPerAgent")?.count(in: Bounds.queued)
        pool.maxQueuedTotal = try object.optional("maxQueuedTotal")?.count(in: Bounds.queued)
        if let perAgent = pool.maxQueuedPerAgent, let total = pool.maxQueuedTotal, perAgent > total, let at = object.optional("maxQueuedPerAgent") {
            throw at.specError("maxQueuedPerAgent \(perAgent) is more than maxQueuedTotal \(total)")
        }
        if let caching = object.optional("prefixCaching") {
            do { pool.prefixCaching = try caching.bool() } catch { throw SpecError(error) }
        }
        if let workers = object.optional("workers") {
            let members: JSONObjectReader
            do { members = try workers.object(keys: ["min", "max"]) } catch { throw SpecError(error) }
            pool.minWorkers = try members.optional("min")?.count(in: Bounds.workers)
            pool.maxWorkers = try members.optional("max")?.count(in: Bounds.maxWorkers)
            if let low = pool.minWorkers, let high = pool.maxWorkers, low > high, let at = members.optional("min") {
                throw at.specError("workers.min \(low) is more than workers.max \(high)")
            }
        }
        pool.scaleUpQueueWaitMilliseconds = try object.optional("scaleUpQueueWaitMs")?.count(in: Bounds.milliseconds)
        pool.idleReleaseMilliseconds = try object.optional("idleReleaseMs")?.count(in: Bounds.milliseconds)
        if let devices = object.optional("devices") {
            pool.devices = try DeviceChoice.read(devices)
            let (line, column) = devices.lineColumn
            pool.devicesSource = "\(devices.document.file ?? "<model-serving>"):\(line):\(column): \(devices.path)"
        }
        return pool
    }

    /// `{"<name>": {"endpoints": [...], "contextLength": n}}`; names are policy model names, unique
    /// even ignoring case (the parser already refuses exact duplicates).
    static func readModels(_ reader: JSONReader) throws(SpecError) -> [UpstreamModel] {
        let map: JSONObjectReader
        do { map = try reader.anyObject() } catch { throw SpecError(error) }
        var models: [UpstreamModel] = []
        for member in map.members {
            let name = try nameOf(member)
            if let other = models.first(where: { $0.name.lowercased() == name.lowercased() }) {
                throw member.reader.specErrorAtKey("model \"\(name)\" differs from \"\(other.name)\" only in case; names must be unique")
            }
            let object: JSONObjectReader, list: JSONReader
            do {
                object = try member.reader.object(keys: modelKeys)
                list = try object.required("endpoints")
            } catch { throw SpecError(error) }
            let elements: [JSONReader]
            do { elements = try list.array() } catch { throw SpecError(error) }
            guard Bounds.endpoints.contains(elements.count) else {
                throw list.specError(elements.isEmpty ? "a model needs at least one endpoint"
                                     : "\(elements.count) endpoints; at most \(Bounds.endpoints.upperBound)")
            }
            var endpoints: [UpstreamEndpoint] = []
            for element in elements { endpoints.append(try readEndpoint(element)) }
            let context = try object.optional("contextLength")?.count(in: Bounds.contextLength) ?? UpstreamModel.defaultContextLength
            models.append(UpstreamModel(name: name, contextLength: context, endpoints: endpoints))
        }
        return models
    }

    /// A member key checked as a policy model name, with the error at the key.
    private static func nameOf(_ member: JSONObjectReader.Member) throws(SpecError) -> String {
        let name = member.key
        let allowed = name.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "-")
                || byte == UInt8(ascii: "_") || byte == UInt8(ascii: ".")
        }
        guard allowed, !name.isEmpty, name.utf8.count <= 64, name.first?.isLetter == true || name.first?.isNumber == true else {
            throw member.reader.specErrorAtKey("\"\(name)\" is not a valid model name (1-64 of a-z A-Z 0-9 . _ -, starting with a letter or digit)")
        }
        return name
    }

    static func readEndpoint(_ reader: JSONReader) throws(SpecError) -> UpstreamEndpoint {
        let object: JSONObjectReader, urlReader: JSONReader
        do {
            object = try reader.object(keys: endpointKeys)
            urlReader = try object.required("url")
        } catch { throw SpecError(error) }
        let url = try urlReader.text()
        let parts: UpstreamURL
        do { parts = try UpstreamURL(parsing: url) } catch { throw urlReader.specError(error.reason) }
        var endpoint = UpstreamEndpoint(url: url, host: parts.host, port: parts.port, basePath: parts.path)
        if let model = object.optional("model") {
            let id = try model.text()
            guard id.utf8.count <= 256, id.unicodeScalars.allSatisfy({ $0.value >= 0x20 && $0.value != 0x7F }) else {
                throw model.specError("an upstream model id is 1-256 characters without control characters")
            }
            endpoint.model = id
        }
        if let variable = object.optional("apiKeyEnv") {
            let name = try variable.text()
            let valid = name.utf8.count <= 128 && name.utf8.first.map { !(0x30...0x39).contains($0) } == true
                && name.utf8.allSatisfy { $0 == UInt8(ascii: "_") || (0x30...0x39).contains($0) || (0x41...0x5A).contains($0) || (0x61...0x7A).contains($0) }
            guard valid else { throw variable.specError("\"\(name)\" is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)") }
            endpoint.apiKeyEnv = name
        }
        if let timeouts = object.optional("timeouts") { endpoint.timeouts = try readTimeouts(timeouts) }
        endpoint.retries = try object.optional("retries")?.count(in: Bounds.retries) ?? endpoint.retries
        endpoint.backoffMilliseconds = try object.optional("backoffMs")?.count(in: Bounds.backoff) ?? endpoint.backoffMilliseconds
        endpoint.maxBackoffMilliseconds = try object.optional("maxBackoffMs")?.count(in: Bounds.backoff)
            ?? max(endpoint.maxBackoffMilliseconds, endpoint.backoffMilliseconds)
        if endpoint.maxBackoffMilliseconds < endpoint.backoffMilliseconds, let at = object.optional("maxBackoffMs") {
            throw at.specError("maxBackoffMs \(endpoint.maxBackoffMilliseconds) is less than backoffMs \(endpoint.backoffMilliseconds)")
        }
        return endpoint
    }

    static func readTimeouts(_ reader: JSONReader) throws(SpecError) -> UpstreamTimeouts {
        let object: JSONObjectReader
        do { object = try reader.object(keys: timeoutKeys) } catch { throw SpecError(error) }
        var timeouts = UpstreamTimeouts()
        timeouts.connectMilliseconds = try object.optional("connectMs")?.count(in: Bounds.milliseconds) ?? timeouts.connectMilliseconds
        timeouts.firstByteMilliseconds = try object.optional("firstByteMs")?.count(in: Bounds.milliseconds) ?? timeouts.firstByteMilliseconds
        timeouts.idleMilliseconds = try object.optional("idleMs")?.count(in: Bounds.milliseconds) ?? timeouts.idleMilliseconds
        timeouts.totalMilliseconds = try object.optional("totalMs")?.count(in: Bounds.milliseconds) ?? timeouts.totalMilliseconds
        return timeouts
    }
}

extension JSONReader {
    /// A `SpecError` located at this value's member key (a map entry whose name is at fault).
    func specErrorAtKey(_ message: String) -> SpecError {
        var error = SpecError(self.error(message, atKey: true))
        error.code = .invalidValue
        return error
    }
}
