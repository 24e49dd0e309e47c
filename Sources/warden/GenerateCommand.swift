/// `warden generate`: Generates from an OpenAI-style chat request on stdin.
enum GenerateCommand: WardenCommand {
    static let name = "generate"
    static let summary = "Generates from an OpenAI-style chat request on stdin."
    static let usage = "usage: warden generate ..."

    static func run(_ arguments: [String]) -> Int32 {
        printError("warden generate: not built yet")
        return TerminationStatus.failure
    }
}
