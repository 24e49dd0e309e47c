/// `warden exec`: Runs one command in a sandbox.
enum ExecCommand: WardenCommand {
    static let name = "exec"
    static let summary = "Runs one command in a sandbox."
    static let usage = "usage: warden exec ..."

    static func run(_ arguments: [String]) -> Int32 {
        printError("warden exec: not built yet")
        return TerminationStatus.failure
    }
}
