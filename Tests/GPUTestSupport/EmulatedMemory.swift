import Glibc
import Inference

/// The emulated device's memory: one private mapping per allocation, its usable bytes ending at the
/// end of their last page (rounded up to 256 for alignment) with a PROT_NONE page after them and one
/// before, so a kernel that writes past a buffer faults (and the emulator reports the fault as the
/// launch's error) instead of corrupting a neighbour. Device addresses are the host pointers' values.
struct EmulatedMemory {
    /// One live allocation.
    struct Allocation {
        /// The whole mapping, guard pages included.
        let mapping: UnsafeMutableRawPointer
        let mappingLength: Int
        let buffer: DeviceBuffer
        var end: UInt64 { buffer.address + UInt64(buffer.byteCount) }
    }

    let capacity: Int
    private(set) var used = 0
    /// Live allocations sorted by address.
    private(set) var allocations: [Allocation] = []
    private let pageSize = Int(sysconf(Int32(_SC_PAGESIZE)))

    init(capacity: Int) {
        self.capacity = capacity
    }

    mutating func allocate(_ byteCount: Int) throws(InferenceError) -> DeviceBuffer {
        guard byteCount > 0 else {
            throw InferenceError(.invalidArgument, "cannot allocate \(byteCount) bytes of device memory")
        }
        guard byteCount <= capacity - used else {
            throw InferenceError(
                .emulatedDeviceFailure,
                "out of device memory: \(byteCount) bytes asked, \(capacity - used) of \(capacity) free")
        }
        let aligned = (byteCount + 255) & ~255
        let dataLength = (aligned + pageSize - 1) / pageSize * pageSize
        let mappingLength = dataLength + 2 * pageSize
        let mapped = mmap(nil, mappingLength, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0)
        guard let mapping = mapped, mapping != MAP_FAILED else {
            throw InferenceError(.emulatedDeviceFailure, "mmap of \(mappingLength) bytes failed (errno \(errno))")
        }
        guard mprotect(mapping + pageSize, dataLength, PROT_READ | PROT_WRITE) == 0 else {
            munmap(mapping, mappingLength)
            throw InferenceError(.emulatedDeviceFailure, "mprotect of \(dataLength) bytes failed (errno \(errno))")
        }
        let start = mapping + pageSize + dataLength - aligned
        let buffer = DeviceBuffer(address: UInt64(UInt(bitPattern: start)), byteCount: byteCount)
        let allocation = Allocation(mapping: mapping, mappingLength: mappingLength, buffer: buffer)
        allocations.insert(allocation, at: insertionIndex(buffer.address))
        used += byteCount
        return buffer
    }

    /// Unmaps `buffer`; false if it is not a live allocation (a double or foreign free).
    mutating func free(_ buffer: DeviceBuffer) -> Bool {
        let index = insertionIndex(buffer.address)
        guard index < allocations.count, allocations[index].buffer == buffer else { return false }
        let allocation = allocations.remove(at: index)
        munmap(allocation.mapping, allocation.mappingLength)
        used -= buffer.byteCount
        return true
    }

    /// The host pointer to `byteCount` bytes at `offset` into `buffer`, which must lie inside one live
    /// allocation (a buffer made by `allocate` or a span of one); nil otherwise.
    func pointer(_ buffer: DeviceBuffer, offset: Int, byteCount: Int) -> UnsafeMutableRawPointer? {
        guard offset >= 0, byteCount >= 0, offset <= buffer.byteCount - byteCount, buffer.byteCount >= 0 else { return nil }
        guard let allocation = containing(buffer.address),
            buffer.address + UInt64(buffer.byteCount) <= allocation.end
        else { return nil }
        return UnsafeMutableRawPointer(bitPattern: UInt(buffer.address) + UInt(offset))
    }

    /// The live allocation whose bytes include `address` (its end counts: an empty span may sit there).
    func containing(_ address: UInt64) -> Allocation? {
        let index = insertionIndex(address + 1)
        guard index > 0 else { return nil }
        let candidate = allocations[index - 1]
        return address >= candidate.buffer.address && address <= candidate.end ? candidate : nil
    }

    /// Unmaps every allocation (when the device goes away; the value must not be used after).
    func unmapAll() {
        for allocation in allocations { munmap(allocation.mapping, allocation.mappingLength) }
    }

    /// The first index whose allocation starts at or after `address`.
    private func insertionIndex(_ address: UInt64) -> Int {
        var low = 0, high = allocations.count
        while low < high {
            let middle = (low + high) / 2
            if allocations[middle].buffer.address < address { low = middle + 1 } else { high = middle }
        }
        return low
    }
}

extension InferenceError.Code {
    /// The code `CUDADevice` uses for a failed device call ("device-failure"); the emulator uses it for
    /// a failed kernel and for running out of memory, so tests can treat both devices alike.
    static let emulatedDeviceFailure = InferenceError.Code("device-failure")
}
