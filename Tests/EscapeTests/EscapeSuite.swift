import Testing

/// Hostile programs run as sandboxed workloads under Policies/default.json (issue 2, "The escape
/// suite"). Every test asserts the in-sandbox result of each attempt (exact errno or signal) and
/// host-side facts; where it is safe, the same probe also runs unsandboxed as a negative control,
/// to show it detects the escape it looks for.
///
/// Serialized: fork and memory bombs, the stdout flood and the host-process checks must not
/// overlap each other.
@Suite(.serialized) struct EscapeSuite {}
