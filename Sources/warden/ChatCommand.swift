/// `warden chat`: Chats with the embedded model, streaming the reply.
enum ChatCommand: WardenCommand {
    static let name = "chat"
    static let summary = "Chats with the embedded model, streaming the reply."
    static let usage = "usage: warden chat ..."

    static func run(_ arguments: [String]) -> Int32 {
        printError("warden chat: not built yet")
        return TerminationStatus.failure
    }
}
