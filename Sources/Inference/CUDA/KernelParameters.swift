/// A kernel's arguments laid out the way `cuLaunchKernel` (and the emulator) take them: an array of
/// pointers, one per parameter, each to a slot holding the value (8 bytes a slot: an address, an
/// `int` or a `float` in its low bytes, little-endian as the parameter reads it).
public struct KernelParameters: ~Copyable {
    private let slots: UnsafeMutablePointer<UInt64>
    private let pointers: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Parameters held.
    public let count: Int

    public init(_ arguments: [KernelArgument]) {
        count = arguments.count
        slots = .allocate(capacity: max(1, count))
        pointers = .allocate(capacity: max(1, count))
        for (i, argument) in arguments.enumerated() {
            switch argument {
            case .pointer(let buffer, let offset): slots[i] = buffer.address(at: offset)
            case .int32(let v): slots[i] = UInt64(UInt32(bitPattern: v))
            case .float(let v): slots[i] = UInt64(v.bitPattern)
            }
            pointers[i] = UnsafeMutableRawPointer(slots + i)
        }
    }

    deinit {
        slots.deallocate()
        pointers.deallocate()
    }

    /// Calls `body` with the `void **` parameter array (valid only inside `body`).
    public func withPointers<R, E: Error>(_ body: (UnsafeMutablePointer<UnsafeMutableRawPointer?>) throws(E) -> R) throws(E) -> R {
        try body(pointers)
    }
}
