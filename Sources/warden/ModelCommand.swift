/// `warden model`: Fetches and verifies the embedded default model.
enum ModelCommand: WardenCommand {
    static let name = "model"
    static let summary = "Fetches and verifies the embedded default model."
    static let usage = "usage: warden model ..."

    static func run(_ arguments: [String]) -> Int32 {
        printError("warden model: not built yet")
        return TerminationStatus.failure
    }
}
