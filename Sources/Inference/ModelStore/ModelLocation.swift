import Glibc

/// Where models live and which model is the embedded default.
///
/// The models directory is `$WARDEN_MODEL_DIR`, else `$XDG_DATA_HOME/warden/models`, else
/// `$HOME/.local/share/warden/models` (the XDG base-directory default), so a model fetched once is
/// shared by every checkout and never lands inside the repository.
public enum ModelLocation {
    /// The default model's file name inside the models directory.
    public static let defaultFileName = "SmolLM2-135M-Instruct.Q4_1.gguf"

    /// The models directory from the environment, or nil when neither the variables nor `HOME` are set.
    public static func modelsDirectory(environment: [String: String]? = nil) -> String? {
        let lookup: (String) -> String? = { name in
            if let environment { return environment[name].flatMap { $0.isEmpty ? nil : $0 } }
            guard let value = getenv(name) else { return nil }
            let text = String(cString: value)
            return text.isEmpty ? nil : text
        }
        if let dir = lookup("WARDEN_MODEL_DIR") { return dir }
        if let data = lookup("XDG_DATA_HOME") { return data + "/warden/models" }
        if let home = lookup("HOME") { return home + "/.local/share/warden/models" }
        return nil
    }

    /// The default model's path, or nil when no models directory can be determined.
    public static func defaultModelPath(environment: [String: String]? = nil) -> String? {
        modelsDirectory(environment: environment).map { $0 + "/" + defaultFileName }
    }

    /// Checks that a model file exists and is a regular file, with an error that says how to get it.
    public static func requireModel(at path: String) throws(InferenceError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            let reason = String(cString: strerror(errno))
            throw InferenceError(.modelNotFound, """
                model file \(path): \(reason). Fetch the default model with `warden model pull` \
                (or pass --model PATH to a GGUF file)
                """)
        }
        guard info.st_mode & S_IFMT == S_IFREG else {
            throw InferenceError(.io, "model file \(path): not a regular file")
        }
    }
}
