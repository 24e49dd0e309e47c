/// A JSON path (`$.seccomp.allow.files[3]`), built as a parent-linked list so walking a document
/// costs one small allocation per step and the text is only rendered when an error needs it.
public final class JSONPath: Sendable, CustomStringConvertible {
    enum Component: Sendable {
        case root
        case key(String)
        case index(Int)
    }

    let parent: JSONPath?
    let component: Component

    init(parent: JSONPath?, component: Component) {
        self.parent = parent
        self.component = component
    }

    /// The document root, `$`.
    public static let root = JSONPath(parent: nil, component: .root)

    /// The path of member `key` of the object at this path.
    public func appending(key: String) -> JSONPath { JSONPath(parent: self, component: .key(key)) }

    /// The path of element `index` of the array at this path.
    public func appending(index: Int) -> JSONPath { JSONPath(parent: self, component: .index(index)) }

    /// The rendered path: identifiers as `.name`, other keys as `["odd key"]`, indices as `[3]`.
    public var description: String {
        var parts: [String] = []
        var node: JSONPath? = self
        while let current = node {
            switch current.component {
            case .root: parts.append("$")
            case .key(let key): parts.append(Self.isIdentifier(key) ? "." + key : "[" + JSONWriter.quoted(key) + "]")
            case .index(let index): parts.append("[\(index)]")
            }
            node = current.parent
        }
        return parts.reversed().joined()
    }

    private static func isIdentifier(_ key: String) -> Bool {
        guard let first = key.utf8.first, !(UInt8(ascii: "0")...UInt8(ascii: "9")).contains(first) else { return false }
        return key.utf8.allSatisfy { byte in
            (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                || (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || byte == UInt8(ascii: "_")
        }
    }
}
