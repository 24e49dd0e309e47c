extension PoolMetrics {
    /// The metrics in Prometheus' text exposition format (version 0.0.4), names `warden_pool_*`.
    /// `perAgent` labels the queue depth with each waiting agent's key (for `warden serve-model`, whose
    /// callers are few and named); without it the depth is one series (a supervisor's agents are run
    /// ids, which must not become label values). With `openMetrics`, counter families are declared
    /// without their `_total` suffix, as OpenMetrics 1.0 names them (the samples keep it).
    public func prometheusText(perAgent: Bool = true, openMetrics: Bool = false) -> String {
        var out = ""
        func metric(_ name: String, _ type: String, _ help: String, _ samples: [(labels: String, value: String)]) {
            let declared = openMetrics && type == "counter" && name.hasSuffix("_total") ? String(name.dropLast(6)) : name
            out += "# HELP warden_pool_\(declared) \(help)\n# TYPE warden_pool_\(declared) \(type)\n"
            for sample in samples { out += "warden_pool_\(name)\(sample.labels) \(sample.value)\n" }
        }
        func one(_ name: String, _ type: String, _ help: String, _ value: some Numeric & CustomStringConvertible) {
            metric(name, type, help, [("", "\(value)")])
        }
        if perAgent {
            let depths = queueDepthByAgent.sorted { $0.key < $1.key }.map { (labels: "{agent=\"\(Self.escape($0.key))\"}", value: "\($0.value)") }
            metric("queue_depth", "gauge", "Requests waiting, per agent.", depths)
        } else {
            one("queue_depth", "gauge", "Requests waiting.", queueDepthByAgent.values.reduce(0, +))
        }
        one("running_sequences", "gauge", "Sequences in running batches.", runningSequences)
        one("workers", "gauge", "Workers started.", workers)
        one("batch_size_last", "gauge", "Sequences in the last step.", lastBatchSize)
        one("batch_size_mean", "gauge", "Mean sequences per step.", meanBatchSize)
        metric("time_to_first_token_milliseconds", "gauge", "Time to first token over recent requests.",
               [("{quantile=\"0.5\"}", "\(timeToFirstTokenP50Milliseconds)"), ("{quantile=\"0.95\"}", "\(timeToFirstTokenP95Milliseconds)")])
        metric("inter_token_latency_milliseconds", "gauge", "Time between generated tokens over recent steps.",
               [("{quantile=\"0.5\"}", "\(interTokenLatencyP50Milliseconds)"), ("{quantile=\"0.95\"}", "\(interTokenLatencyP95Milliseconds)")])
        one("tokens_per_second", "gauge", "Generated tokens per second, recent.", tokensPerSecond)
        metric("kv_blocks", "gauge", "KV cache blocks by state.",
               [("{state=\"used\"}", "\(kvBlocksUsed)"), ("{state=\"shared\"}", "\(kvBlocksShared)"),
                ("{state=\"cached\"}", "\(kvBlocksCached)"), ("{state=\"total\"}", "\(kvBlocksTotal)")])
        one("prefix_hit_tokens_total", "counter", "Prompt tokens served from the prefix cache.", prefixHitTokens)
        one("prompt_tokens_computed_total", "counter", "Prompt tokens computed.", promptTokensComputed)
        one("generated_tokens_total", "counter", "Tokens generated.", generatedTokens)
        one("preemptions_total", "counter", "Sequences preempted for KV memory.", preemptions)
        one("rejections_total", "counter", "Requests refused because the queues were full.", rejections)
        one("cancellations_total", "counter", "Requests cancelled.", cancellations)
        one("deadline_misses_total", "counter", "Requests whose deadline passed.", deadlineMisses)
        one("completions_total", "counter", "Requests completed.", completions)
        one("failures_total", "counter", "Requests failed by errors.", failures)
        one("steps_total", "counter", "Scheduler steps.", steps)
        one("scheduler_seconds_total", "counter", "Time spent in steps outside the model.", Double(schedulerNanoseconds) / 1e9)
        one("model_seconds_total", "counter", "Time spent inside the model's evaluate.", Double(modelNanoseconds) / 1e9)
        return out
    }

    /// A label value with backslash, quote and newline escaped.
    static func escape(_ value: String) -> String {
        var escaped = ""
        for character in value {
            switch character {
            case "\\": escaped += "\\\\"
            case "\"": escaped += "\\\""
            case "\n": escaped += "\\n"
            default: escaped.append(character)
            }
        }
        return escaped
    }
}
