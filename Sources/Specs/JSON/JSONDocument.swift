/// A parsed JSON text together with the source position of every node, so that readers and
/// validators can report `file:line:column` for any value long after parsing.
///
/// Nodes are numbered in pre-order (a value, then its members or elements in order). For node `n`:
/// `offsets[n]` is where the value starts, `keyOffsets[n]` where its member key starts (-1 outside
/// objects), and `sizes[n]` how many nodes its subtree holds, itself included, so the next sibling
/// is node `n + sizes[n]`.
public final class JSONDocument: Sendable {
    /// The file the text came from, if any (used in error messages).
    public let file: String?
    /// The root value.
    public let root: JSONValue
    /// The source text.
    public let bytes: [UInt8]
    let offsets: [Int]
    let keyOffsets: [Int]
    let sizes: [Int]

    init(file: String?, root: JSONValue, bytes: [UInt8], offsets: [Int], keyOffsets: [Int], sizes: [Int]) {
        self.file = file; self.root = root; self.bytes = bytes
        self.offsets = offsets; self.keyOffsets = keyOffsets; self.sizes = sizes
    }

    /// The number of nodes (values) in the document.
    public var nodeCount: Int { offsets.count }

    /// A reader positioned at the root.
    public var reader: JSONReader { JSONReader(document: self, value: root, node: 0, path: .root) }

    /// Where node `node` starts (its key, when `atKey` and it is an object member).
    func offset(of node: Int, atKey: Bool = false) -> Int {
        guard node >= 0, node < offsets.count else { return bytes.count }
        if atKey, keyOffsets[node] >= 0 { return keyOffsets[node] }
        return offsets[node]
    }

    /// An error located at `node` with the given path.
    func error(_ code: JSONError.Code, at node: Int, atKey: Bool = false, path: JSONPath, _ message: String) -> JSONError {
        let offset = offset(of: node, atKey: atKey)
        let (line, column) = TextPosition.lineColumn(in: bytes, offset: offset)
        return JSONError(code: code, file: file, offset: offset, line: line, column: column,
                         path: path.description, message: message)
    }

    /// 1-based line and column of node `node`.
    public func lineColumn(ofNode node: Int) -> (line: Int, column: Int) {
        TextPosition.lineColumn(in: bytes, offset: offset(of: node))
    }
}
