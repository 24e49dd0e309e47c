import Glibc

/// Where `warden exec` finds its default policy when `--policy` is not given.
public enum PolicyDirectory {
    /// The installed location, used when neither the environment nor a source checkout names one.
    public static let installed = "/usr/local/share/warden/policies"

    /// `$WARDEN_POLICY_DIR`; else the `Policies/` directory of the source checkout the binary was
    /// built in (found by walking up from /proc/self/exe to a directory holding Package.swift);
    /// else `/usr/local/share/warden/policies`.
    public static func locate() -> String {
        if let value = getenv("WARDEN_POLICY_DIR"), value.pointee != 0 { return String(cString: value) }
        if let checkout = checkoutPolicies() { return checkout }
        return installed
    }

    /// The default policy file (`default.json`) in the located directory.
    public static func defaultPolicy() -> String { locate() + "/default.json" }

    static func checkoutPolicies() -> String? {
        var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
        let length = readlink("/proc/self/exe", &buffer, buffer.count - 1)
        guard length > 0 else { return nil }
        var directory = String(decoding: buffer[0..<length].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        while let slash = directory.lastIndex(of: "/"), slash != directory.startIndex {
            directory = String(directory[..<slash])
            if access(directory + "/Package.swift", F_OK) == 0 && access(directory + "/Policies", F_OK) == 0 {
                return directory + "/Policies"
            }
        }
        return nil
    }
}
