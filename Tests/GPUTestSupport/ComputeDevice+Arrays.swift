import Glibc
import Inference

extension ComputeDevice {
    /// A new buffer holding `values` (tests' shorthand for allocate + upload).
    public func allocate<T: BitwiseCopyable>(copying values: [T]) throws(InferenceError) -> DeviceBuffer {
        let buffer = try allocate(max(1, values.count) * MemoryLayout<T>.stride)
        let copied = values.withUnsafeBytes { bytes in
            Result { () throws(InferenceError) in try upload(bytes, to: buffer, offset: 0) }
        }
        do throws(InferenceError) {
            try copied.get()
        } catch {
            free(buffer)
            throw error
        }
        return buffer
    }

    /// `count` values of `T` from the start of `buffer` (after synchronizing, so they are there).
    public func download<T: BitwiseCopyable>(_ buffer: DeviceBuffer, as type: T.Type, count: Int) throws(InferenceError) -> [T] {
        var values = [T](unsafeUninitializedCapacity: count) { storage, initialized in
            if let base = storage.baseAddress { memset(base, 0, count * MemoryLayout<T>.stride) }
            initialized = count
        }
        let copied = values.withUnsafeMutableBytes { bytes in
            Result { () throws(InferenceError) in try download(buffer, offset: 0, into: bytes) }
        }
        try copied.get()
        try synchronize()
        return values
    }
}
