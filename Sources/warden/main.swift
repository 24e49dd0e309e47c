import Glibc

/// Every command group, in the order `warden --help` lists them.
nonisolated let commands: [any WardenCommand.Type] = [
    RunCommand.self,
    ExecCommand.self,
    PolicyCommand.self,
    ChatCommand.self,
    GenerateCommand.self,
    ServeModelCommand.self,
    ModelCommand.self,
    TraceCommand.self,
    ServeCommand.self,
    DeployCommand.self,
    PsCommand.self,
    InvokeCommand.self,
    LogsCommand.self,
    StopCommand.self,
]

let version = "0.1.0"

func topLevelUsage() -> String {
    var text = "usage: warden <command> [arguments]\n\nWarden runs AI agents in Linux sandboxes.\n\ncommands:\n"
    for command in commands {
        text += "  " + command.name + String(repeating: " ", count: max(1, 10 - command.name.count)) + command.summary + "\n"
    }
    text += "\nwarden <command> --help shows a command's options; warden --version prints the version.\n"
    return text
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard let first = arguments.first else {
    printError(topLevelUsage())
    exit(ExitCode.usage)
}
switch first {
case "--help", "-h", "help":
    print(topLevelUsage(), terminator: "")
    exit(ExitCode.success)
case "--version", "-V":
    print("warden \(version)")
    exit(ExitCode.success)
default:
    guard let command = commands.first(where: { $0.name == first }) else {
        printError("warden: unknown command '\(first)'\n\n" + topLevelUsage())
        exit(ExitCode.usage)
    }
    let rest = Array(arguments.dropFirst())
    if rest.first == "--help" || rest.first == "-h" {
        print(command.usage, terminator: command.usage.hasSuffix("\n") ? "" : "\n")
        exit(ExitCode.success)
    }
    exit(command.run(rest))
}
