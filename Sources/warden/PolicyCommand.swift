/// `warden policy`: Checks a policy and shows what it compiles to.
enum PolicyCommand: WardenCommand {
    static let name = "policy"
    static let summary = "Checks a policy and shows what it compiles to."
    static let usage = "usage: warden policy ..."

    static func run(_ arguments: [String]) -> Int32 {
        printError("warden policy: not built yet")
        return TerminationStatus.failure
    }
}
