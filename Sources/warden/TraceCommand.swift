/// `warden trace`: Lists, shows, verifies and exports execution traces.
enum TraceCommand: WardenCommand {
    static let name = "trace"
    static let summary = "Lists, shows, verifies and exports execution traces."
    static let usage = "usage: warden trace ls|show|verify|export ..."

    static func run(_ arguments: [String]) -> Int32 {
        printError("warden trace: not built yet")
        return TerminationStatus.failure
    }
}
