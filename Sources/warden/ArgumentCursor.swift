/// Walks a command's arguments: flags with values (`--policy P` or `--policy=P`), switches, positionals,
/// and everything after `--`. Unknown flags are usage errors, never silently ignored.
struct ArgumentCursor {
    private var remaining: ArraySlice<String>

    init(_ arguments: [String]) { remaining = arguments[...] }

    /// True when no arguments are left.
    var isEmpty: Bool { remaining.isEmpty }

    /// The next argument without consuming it.
    var peek: String? { remaining.first }

    /// Consumes and returns the next argument.
    mutating func next() -> String? { remaining.popFirst() }

    /// If the next argument is `flag` (or `flag=value`), consumes it and returns its value.
    mutating func value(for flag: String) throws(UsageError) -> String? {
        guard let head = remaining.first else { return nil }
        if head == flag {
            remaining.removeFirst()
            guard let value = remaining.popFirst() else { throw UsageError("\(flag) needs a value") }
            return value
        }
        if head.hasPrefix(flag + "=") {
            remaining.removeFirst()
            return String(head.dropFirst(flag.count + 1))
        }
        return nil
    }

    /// If the next argument is the switch `flag`, consumes it and returns true.
    mutating func flag(_ flag: String) -> Bool {
        guard remaining.first == flag else { return false }
        remaining.removeFirst()
        return true
    }

    /// Consumes `--` and returns everything after it (empty if the next argument is not `--`).
    mutating func rest() -> [String] {
        if remaining.first == "--" { remaining.removeFirst() }
        defer { remaining.removeAll() }
        return Array(remaining)
    }
}
