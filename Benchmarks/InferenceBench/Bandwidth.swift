#if canImport(Glibc)
import Glibc
#endif
import BenchSupport
import CInferenceKernels
import Dispatch

/// Read bandwidth in GB/s: `threads` threads each summing their share of a 512 MiB array, best of 10.
func readBandwidth(threads: Int) -> Double {
    let count = 512 << 20 / 4
    let data = UnsafeMutablePointer<Float>.allocate(capacity: count)
    defer { data.deallocate() }
    for i in 0..<count { data[i] = Float(i & 1023) }
    var best = 0.0
    let sink = UnsafeMutablePointer<Float>.allocate(capacity: threads * 16)
    defer { sink.deallocate() }
    for _ in 0..<10 {
        let (dataAddress, sinkAddress) = (UInt(bitPattern: data), UInt(bitPattern: sink))
        let t0 = now()
        DispatchQueue.concurrentPerform(iterations: threads) { t in
            let lo = count * t / threads / 16 * 16, hi = count * (t + 1) / threads / 16 * 16
            var acc = SIMD16<Float>()
            let data = UnsafeMutablePointer<Float>(bitPattern: dataAddress)!, sink = UnsafeMutablePointer<Float>(bitPattern: sinkAddress)!
            var p = data + lo
            for _ in stride(from: lo, to: hi, by: 16) {
                acc += UnsafeRawPointer(p).loadUnaligned(as: SIMD16<Float>.self)
                p += 16
            }
            sink[t * 16] = acc.sum()
        }
        best = max(best, Double(count * 4) / (now() - t0) / 1e9)
    }
    return best
}
