import CUDAEmulator
import Inference
import Synchronization

/// One launch as `record` captured it.
struct RecordedLaunch {
    let kernel: String
    let shape: LaunchShape
    let arguments: [KernelArgument]
}

/// The emulator's recorded step: its launches, replayed in order.
final class EmulatedStep: @unchecked Sendable {
    let device: ObjectIdentifier
    let launches: [RecordedLaunch]
    private let released = Mutex(false)

    init(device: ObjectIdentifier, launches: [RecordedLaunch]) {
        self.device = device
        self.launches = launches
    }

    var isReleased: Bool { released.withLock { $0 } }
    func release() { released.withLock { $0 = true } }
}

extension EmulatedDevice.State {
    /// The host pointer for `byteCount` bytes at `offset` of `buffer`, or an error saying why not.
    func span(_ buffer: DeviceBuffer, offset: Int, byteCount: Int, for operation: String) throws(InferenceError)
        -> UnsafeMutableRawPointer
    {
        guard recording == nil else {
            throw InferenceError(.invalidArgument, "\(operation) inside record (a recorded step holds launches only)")
        }
        guard let pointer = memory.pointer(buffer, offset: offset, byteCount: byteCount) else {
            throw InferenceError(.invalidArgument, """
                \(operation) of \(byteCount) bytes at offset \(offset) is outside the \(buffer.byteCount)-byte buffer \
                at 0x\(String(buffer.address, radix: 16)) (or the buffer is not a live allocation of this device)
                """)
        }
        return pointer
    }

    /// The emulator's handle for `kernel`, after checking `arguments` against its parameters: the same
    /// count, each the kind the kernel takes, each pointer inside a live allocation of this device.
    mutating func checked(_ kernel: String, _ arguments: [KernelArgument]) throws(InferenceError) -> UnsafeRawPointer {
        let handle: UnsafeRawPointer
        if let known = handles[kernel] {
            handle = known
        } else if let found = wk_emu_kernel(kernel) {
            handle = found
            handles[kernel] = found
        } else {
            throw InferenceError(.unsupported, "kernel \(kernel) is not in the emulator's registry (no WK_EMU_ENTRY in all.cu)")
        }
        let signature = wk_emu_kernel_signature(handle).map { String(cString: $0) } ?? ""
        guard signature.count == arguments.count else {
            throw InferenceError(.invalidArgument, """
                \(kernel) takes \(signature.count) parameters (\(signature)), given \(arguments.count)
                """)
        }
        for (index, (kind, argument)) in zip(signature, arguments).enumerated() {
            switch (kind, argument) {
            case ("p", .pointer(let buffer, let offset)):
                guard memory.pointer(buffer, offset: offset, byteCount: 0) != nil else {
                    throw InferenceError(.invalidArgument, """
                        \(kernel) argument \(index): offset \(offset) of the \(buffer.byteCount)-byte buffer at \
                        0x\(String(buffer.address, radix: 16)) is not inside a live allocation of this device
                        """)
                }
            case ("i", .int32), ("f", .float):
                continue
            default:
                throw InferenceError(.invalidArgument, """
                    \(kernel) argument \(index) is \(argument), but the parameter is \
                    \(kind == "p" ? "a pointer" : kind == "i" ? "an int" : "a float") (signature \(signature))
                    """)
            }
        }
        return handle
    }
}
