import Glibc

// No usable GPU (no NVIDIA driver, no device, a driver too old for the committed PTX, a device too old
// for the kernels) is `.unavailable`, the code the pool already uses for "nothing can serve this": the
// pool logs the message at info level and runs on the CPU instead.
extension InferenceError.Code {
    /// A CUDA driver call failed; the message names the call and the driver's error name and text.
    public static let deviceFailure = InferenceError.Code("device-failure")
}

/// The NVIDIA driver (`libcuda.so.1`), opened with `dlopen` at run time: its entry points, checked.
///
/// Loading opens the library, resolves every entry point Warden uses (``CUDADriverAPI``), calls
/// `cuInit`, and compares `cuDriverGetVersion` with what the committed PTX needs. Each step that fails
/// gives an `.unavailable` error saying why, so the caller can log it at info level and use the CPU.
/// The library is never closed: the driver stays loaded for the life of the process, as CUDA expects.
final class CUDADriver: Sendable {
    /// The library that was opened (for messages).
    let library: String
    /// The entry points.
    let api: CUDADriverAPI
    /// `cuDriverGetVersion`: the newest CUDA the driver supports, as 1000 × major + 10 × minor.
    let version: Int32

    /// The process's driver, loaded on first use (a failure is kept too: loading is tried once).
    static let shared: Result<CUDADriver, InferenceError> = {
        do throws(InferenceError) {
            return .success(try CUDADriver(library: "libcuda.so.1", minimumVersion: KernelPTX.minimumDriverVersion))
        } catch {
            return .failure(error)
        }
    }()

    /// Opens `library` and checks it is a CUDA driver of at least `minimumVersion` with a device behind it.
    /// Internal so that tests can point it at a library that is not the driver (libm) or is not there.
    init(library: String, minimumVersion: Int32) throws(InferenceError) {
        // A fully static executable (the release `warden`, Scripts/release-flags) has no dynamic
        // loader: static glibc's dlopen would map a second libc beside ours, which the driver's
        // threads do not survive. So it is refused before dlopen, with the way out.
        guard Self.isDynamicallyLinked else {
            // Only worth the advice where a driver is loaded at all (its control node exists).
            guard access("/dev/nvidiactl", F_OK) == 0 else {
                throw InferenceError(.unavailable, "no NVIDIA driver: /dev/nvidiactl does not exist")
            }
            throw InferenceError(.unavailable, """
                this warden is a static executable (fast sandbox starts) and cannot load \(library); \
                for GPUs build the dynamically linked variant: WARDEN_DYNAMIC=1 Scripts/bootstrap
                """)
        }
        guard let handle = dlopen(library, RTLD_NOW | RTLD_LOCAL) else {
            throw InferenceError(.unavailable, "no NVIDIA driver: \(library) could not be opened (\(Self.dlerrorText()))")
        }
        api = try CUDADriverAPI { name throws(InferenceError) in
            guard let symbol = dlsym(handle, name) else {
                throw InferenceError(.unavailable, "\(library) is not a usable NVIDIA driver: missing symbol \(name)")
            }
            return symbol
        }
        self.library = library
        let initResult = api.cuInit(0)
        if initResult == CUDAConstant.errorNoDevice {
            throw InferenceError(.unavailable, "no CUDA device: cuInit reports \(Self.describe(initResult, api))")
        }
        guard initResult == CUDAConstant.success else {
            throw InferenceError(.unavailable, "the NVIDIA driver did not start: cuInit failed with \(Self.describe(initResult, api))")
        }
        var reported: Int32 = 0
        let versionResult = api.cuDriverGetVersion(&reported)
        guard versionResult == CUDAConstant.success else {
            throw InferenceError(.unavailable, "cuDriverGetVersion failed: \(Self.describe(versionResult, api))")
        }
        guard reported >= minimumVersion else {
            throw InferenceError(.unavailable, """
                the NVIDIA driver is too old: it supports CUDA \(Self.release(reported)), and the kernels' PTX \
                (NVRTC \(KernelPTX.nvrtcVersion)) needs CUDA \(Self.release(minimumVersion)) or newer
                """)
        }
        version = reported
    }

    /// Whether this process was started through the dynamic loader (`AT_BASE` is the loader's
    /// address; a static executable has none).
    /// Read from /proc/self/auxv (Glibc's module map does not export getauxval); unreadable counts
    /// as dynamic, so dlopen is still tried and reports for itself.
    static let isDynamicallyLinked: Bool = {
        let fd = open("/proc/self/auxv", O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { return true }
        defer { close(fd) }
        var pairs = [UInt64](repeating: 0, count: 128)
        let count = pairs.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        guard count > 0 else { return true }
        for i in stride(from: 0, to: count / 8 - 1, by: 2) where pairs[i] == 7 /* AT_BASE */ {
            return pairs[i + 1] != 0
        }
        return false
    }()

    /// Throws `.deviceFailure` (or `code`) naming `call` when `result` is not `CUDA_SUCCESS`.
    func check(_ result: Int32, _ call: String, as code: InferenceError.Code = .deviceFailure) throws(InferenceError) {
        guard result != CUDAConstant.success else { return }
        throw InferenceError(code, "\(call) failed: \(describe(result))")
    }

    /// `CUDA_ERROR_NAME (the driver's description)` for a `CUresult`.
    func describe(_ result: Int32) -> String { Self.describe(result, api) }

    private static func describe(_ result: Int32, _ api: CUDADriverAPI) -> String {
        var name: UnsafePointer<CChar>?
        var text: UnsafePointer<CChar>?
        let named = api.cuGetErrorName(result, &name) == CUDAConstant.success
        let described = api.cuGetErrorString(result, &text) == CUDAConstant.success
        let nameText = named ? name.map { String(cString: $0) } : nil
        let detail = described ? text.map { String(cString: $0) } : nil
        switch (nameText, detail) {
        case let (name?, detail?): return "\(name) (\(detail))"
        case let (name?, nil): return name
        default: return "CUresult \(result)"
        }
    }

    /// `12.9` for `cuDriverGetVersion`'s 12090.
    static func release(_ version: Int32) -> String { "\(version / 1000).\(version % 1000 / 10)" }

    private static func dlerrorText() -> String {
        guard let text = dlerror() else { return "no reason given" }
        return String(cString: text)
    }
}
