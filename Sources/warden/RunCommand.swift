/// `warden run`: Runs an agent spec in a sandbox.
enum RunCommand: WardenCommand {
    static let name = "run"
    static let summary = "Runs an agent spec in a sandbox."
    static let usage = "usage: warden run ..."

    static func run(_ arguments: [String]) -> Int32 {
        printError("warden run: not built yet")
        return TerminationStatus.failure
    }
}
