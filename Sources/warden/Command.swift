import Glibc

/// One command group of the `warden` tool (`run`, `exec`, `policy`, `chat`, ...).
///
/// Each group lives in its own `<Name>Command.swift` file, parses its own arguments with
/// `ArgumentCursor`, calls into the library targets, and returns the process exit status:
/// 0 success, 1 runtime failure, 2 usage or configuration error; an agent's own status passes through.
protocol WardenCommand {
    /// The word that selects this command on the command line.
    static var name: String { get }
    /// One line for `warden --help`.
    static var summary: String { get }
    /// The full usage text for `warden NAME --help`.
    static var usage: String { get }
    /// Runs the command with the arguments after its name.
    static func run(_ arguments: [String]) -> Int32
}

/// Exit statuses shared by every command.
enum ExitCode {
    static let success: Int32 = 0
    static let failure: Int32 = 1
    static let usage: Int32 = 2
}

/// A usage mistake on the command line; reported with the command's usage and exit status 2.
struct UsageError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// Writes a line to standard error.
func printError(_ message: String) {
    var line = message
    if !line.hasSuffix("\n") { line += "\n" }
    let bytes = Array(line.utf8)
    var written = 0
    while written < bytes.count {
        let n = bytes[written...].withUnsafeBytes { Glibc.write(2, $0.baseAddress, $0.count) }
        if n < 0 && errno == EINTR { continue }
        if n <= 0 { return }
        written += n
    }
}
