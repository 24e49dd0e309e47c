#if canImport(Glibc)
import Glibc
#endif

/// A parsed GGUF file: metadata, tensor directory and the tensor bytes, mapped read-only with mmap.
public final class GGUFFile: @unchecked Sendable {
    /// The path it was opened from (nil for in-memory bytes).
    public let path: String?
    /// Format version (2 or 3).
    public let version: UInt32
    /// The key/value metadata.
    public let metadata: GGUFMetadata
    /// The tensor directory in file order.
    public let tensors: [GGUFTensorInfo]
    /// The data alignment (`general.alignment`, default 32).
    public let alignment: Int
    /// Absolute byte offset of the data section.
    public let dataOffset: Int
    /// The whole file's bytes.
    public let bytes: UnsafeRawBufferPointer
    private let index: [String: Int]
    private let release: @Sendable () -> Void

    /// Maps and parses the file at `path`.
    public convenience init(path: String) throws(InferenceError) {
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else {
            let e = errno
            let code: InferenceError.Code = e == ENOENT ? .modelNotFound : .io
            throw InferenceError(code, "cannot open: \(String(cString: strerror(e)))", path: path)
        }
        defer { close(fd) }
        var st = stat()
        guard fstat(fd, &st) == 0 else { throw InferenceError(.io, "cannot stat: \(String(cString: strerror(errno)))", path: path) }
        guard (st.st_mode & S_IFMT) == S_IFREG else { throw InferenceError(.io, "not a regular file", path: path) }
        let size = Int(st.st_size)
        guard size > 0 else { throw InferenceError(.malformedFile, "file is empty", path: path) }
        guard let base = mmap(nil, size, PROT_READ, MAP_PRIVATE, fd, 0), base != MAP_FAILED else {
            throw InferenceError(.io, "cannot mmap \(size) bytes: \(String(cString: strerror(errno)))", path: path)
        }
        let buffer = UnsafeRawBufferPointer(start: base, count: size)
        let address = UInt(bitPattern: base)
        try self.init(buffer: buffer, path: path) { _ = munmap(UnsafeMutableRawPointer(bitPattern: address), size) }
    }

    /// Parses a copy of `bytes` (tests, fuzzing).
    public convenience init(bytes: [UInt8]) throws(InferenceError) {
        let storage = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
        storage.copyBytes(from: bytes)
        let buffer = UnsafeRawBufferPointer(start: storage.baseAddress, count: bytes.count)
        let address = UInt(bitPattern: storage.baseAddress)
        try self.init(buffer: buffer, path: nil) { UnsafeMutableRawPointer(bitPattern: address)?.deallocate() }
    }

    private init(buffer: UnsafeRawBufferPointer, path: String?, release: @escaping @Sendable () -> Void) throws(InferenceError) {
        do {
            var cursor = GGUFCursor(buffer, path: path)
            let header = try Self.readHeader(&cursor)
            let metadata = try Self.readMetadata(&cursor, count: header.kvCount)
            let alignment = try Self.alignment(metadata, cursor)
            var tensors: [GGUFTensorInfo] = []
            tensors.reserveCapacity(header.tensorCount)
            for i in 0..<header.tensorCount { tensors.append(try cursor.readTensorInfo(index: i)) }
            let dataOffset = (cursor.offset + alignment - 1) / alignment * alignment
            self.index = try Self.validate(tensors, dataOffset: dataOffset, alignment: alignment, cursor: cursor)
            self.path = path
            self.version = header.version
            self.metadata = metadata
            self.tensors = tensors
            self.alignment = alignment
            self.dataOffset = dataOffset
            self.bytes = buffer
            self.release = release
        } catch {
            release()
            throw error
        }
    }

    deinit { release() }

    /// The directory entry named `name`, or nil.
    public func tensorInfo(named name: String) -> GGUFTensorInfo? {
        index[name].map { tensors[$0] }
    }

    /// The tensor named `name` with its bytes; throws `.missingTensor` when absent.
    public func tensor(named name: String) throws(InferenceError) -> GGUFTensor {
        guard let info = tensorInfo(named: name) else {
            throw InferenceError(.missingTensor, "tensor '\(name)' is not in the file", path: path)
        }
        let start = dataOffset + info.offset
        return GGUFTensor(info: info, data: UnsafeRawBufferPointer(rebasing: bytes[start..<start + info.byteCount]))
    }
}
