import CUDAEmulator
import Foundation
import GPUTestSupport
import Inference
import Testing
import TestSupport

/// The CUDA emulator's semantics, through its self-test kernels (Tests/CUDAEmulator/SelfTest/selftest.cu)
/// on an EmulatedDevice: barriers, shuffles, dp4a, halves, indices, dynamic shared memory, and the
/// errors it must report instead of hanging or computing garbage.
@Suite struct CUDAEmulatorTests {
    static func shape(_ grid: (UInt32, UInt32, UInt32), _ block: (UInt32, UInt32, UInt32), shared: UInt32 = 0) -> LaunchShape {
        LaunchShape(grid: grid, block: block, sharedBytes: shared)
    }

    @Test(arguments: [(blocks: 5, threads: 256, n: 1000), (blocks: 40, threads: 1024, n: 4099), (blocks: 3, threads: 32, n: 7)])
    func blockReductionInSharedMemoryMatchesHostSum(blocks: Int, threads: Int, n: Int) throws {
        let device = EmulatedDevice()
        var rng = SeededGenerator(seed: UInt64(blocks * 7919 + n))
        let x = (0..<(blocks * n)).map { _ in Float.random(in: -1...1, using: &rng) }
        let input = try device.allocate(copying: x)
        let output = try device.allocate(blocks * 4)
        try device.launch(
            kernelNamed: "wk_selftest_block_sum", Self.shape((UInt32(blocks), 1, 1), (UInt32(threads), 1, 1)),
            [.buffer(input), .buffer(output), .int32(Int32(n))])
        let sums = try device.download(output, as: Float.self, count: blocks)
        for b in 0..<blocks {
            let expected = x[(b * n)..<((b + 1) * n)].reduce(0.0) { $0 + Double($1) }
            #expect(abs(Double(sums[b]) - expected) < 1e-3, "block \(b): \(sums[b]) vs \(expected)")
        }
    }

    @Test func warpShufflesReduceAndBroadcastPerWarp() throws {
        let device = EmulatedDevice()
        let threads = 96, blocks = 2, count = threads * blocks
        let x = (0..<count).map { Float($0 % 97) - 40 }  // small integers: every order of summing is exact
        let k = (0..<count).map { Int32($0 * 7919 % 100_003) - 50_000 }
        let (xs, ks) = (try device.allocate(copying: x), try device.allocate(copying: k))
        let sums = try device.allocate(count * 4), isums = try device.allocate(count * 4), casts = try device.allocate(count * 4)
        for source in [5, 37] {  // 37 reads lane 37 mod 32 = 5, as __shfl_sync does
            try device.launch(
                kernelNamed: "wk_selftest_warp", Self.shape((UInt32(blocks), 1, 1), (UInt32(threads), 1, 1)),
                [.buffer(xs), .buffer(ks), .buffer(sums), .buffer(isums), .buffer(casts), .int32(Int32(source))])
            let (s, i, c) = (
                try device.download(sums, as: Float.self, count: count), try device.download(isums, as: Int32.self, count: count),
                try device.download(casts, as: Float.self, count: count)
            )
            for t in 0..<count {
                let warp = t / 32 * 32
                #expect(s[t] == x[warp..<(warp + 32)].reduce(0, +))
                #expect(i[t] == k[warp..<(warp + 32)].reduce(0, &+))
                #expect(c[t] == x[warp + 5])
            }
        }
    }

    @Test func dp4aOnEdgeValuesMatchesSignedByteDotProduct() throws {
        let device = EmulatedDevice()
        let edges: [Int8] = [-128, 127, 0, -1, 1, -127, 64, -64]
        var a: [Int32] = [], b: [Int32] = [], c: [Int32] = []
        var rng = SeededGenerator(seed: 4)
        func pack(_ bytes: [Int8]) -> Int32 {
            Int32(bitPattern: bytes.enumerated().reduce(UInt32(0)) { $0 | UInt32(UInt8(bitPattern: $1.element)) << (8 * UInt32($1.offset)) })
        }
        for p in edges {
            for q in edges {
                a.append(pack([p, q, p, q])); b.append(pack([q, p, -128, 127]))
                c.append([0, 1, Int32.max, Int32.min, -7][(a.count) % 5])
            }
        }
        for _ in 0..<200 {
            a.append(Int32(truncatingIfNeeded: rng.next())); b.append(Int32(truncatingIfNeeded: rng.next()))
            c.append(Int32(truncatingIfNeeded: rng.next()))
        }
        let n = a.count
        let out = try device.allocate(n * 4)
        try device.launch(
            kernelNamed: "wk_selftest_dp4a", Self.shape((UInt32((n + 63) / 64), 1, 1), (64, 1, 1)),
            [.buffer(try device.allocate(copying: a)), .buffer(try device.allocate(copying: b)), .buffer(try device.allocate(copying: c)),
             .buffer(out), .int32(Int32(n))])
        let got = try device.download(out, as: Int32.self, count: n)
        for i in 0..<n {
            var expected = c[i]
            for byte in 0..<4 {
                let x = Int32(Int8(truncatingIfNeeded: a[i] >> (8 * byte))), y = Int32(Int8(truncatingIfNeeded: b[i] >> (8 * byte)))
                expected = expected &+ x * y
            }
            #expect(got[i] == expected, "dp4a(\(a[i]), \(b[i]), \(c[i]))")
        }
    }

    @Test func halfConversionsMatchFloat16ForEveryHalfAndRoundToNearestEven() throws {
        let device = EmulatedDevice()
        let halves = (0..<65536).map { UInt16($0) }
        var values = halves.map { Float(Float16(bitPattern: $0)) }
        var rng = SeededGenerator(seed: 16)
        for h in 0..<UInt16(0x7c00) {  // midpoints between neighbouring halves: ties round to even
            let (low, high) = (Float(Float16(bitPattern: h)), Float(Float16(bitPattern: h + 1)))
            values.append((low + high) / 2)
            values.append(-(low + high) / 2)
        }
        for _ in 0..<20000 { values.append(Float(bitPattern: UInt32(truncatingIfNeeded: rng.next()))) }
        values += [65504, 65519.99, 65520, 1e30, -1e30, .infinity, -.infinity, 1e-8, 2.98e-8, 2.99e-8, -0.0]
        let n = max(halves.count, values.count)
        let padded = halves + [UInt16](repeating: 0, count: n - halves.count)
        let floats = try device.allocate(n * 4), rounded = try device.allocate(n * 2)
        try device.launch(
            kernelNamed: "wk_selftest_half", Self.shape((UInt32((n + 255) / 256), 1, 1), (256, 1, 1)),
            [.buffer(try device.allocate(copying: padded)), .buffer(floats), .buffer(try device.allocate(copying: values)),
             .buffer(rounded), .int32(Int32(n))])
        let toFloat = try device.download(floats, as: Float.self, count: n)
        let toHalf = try device.download(rounded, as: UInt16.self, count: n)
        for h in 0..<65536 {
            let expected = Float(Float16(bitPattern: UInt16(h)))
            #expect(expected.isNaN ? toFloat[h].isNaN : toFloat[h].bitPattern == expected.bitPattern, "h2f(0x\(String(h, radix: 16)))")
        }
        for (i, v) in values.enumerated() {
            let expected = Float16(v)
            if v.isNaN {
                #expect(Float16(bitPattern: toHalf[i]).isNaN, "f2h(NaN) stays NaN")
            } else {
                #expect(toHalf[i] == expected.bitPattern, "f2h(\(v)) = 0x\(String(toHalf[i], radix: 16)), want 0x\(String(expected.bitPattern, radix: 16))")
            }
        }
    }

    @Test func multiDimensionalGridsAndBlocksSeeTheirIndices() throws {
        let device = EmulatedDevice()
        let grid = (x: 3, y: 2, z: 2), block = (x: 4, y: 3, z: 2)
        let threads = grid.x * grid.y * grid.z * block.x * block.y * block.z
        let out = try device.allocate(threads * 12 * 4)
        try device.launch(
            kernelNamed: "wk_selftest_index",
            Self.shape((UInt32(grid.x), UInt32(grid.y), UInt32(grid.z)), (UInt32(block.x), UInt32(block.y), UInt32(block.z))), [.buffer(out)])
        let got = try device.download(out, as: Int32.self, count: threads * 12)
        var slot = 0
        for bz in 0..<grid.z { for by in 0..<grid.y { for bx in 0..<grid.x {
            for tz in 0..<block.z { for ty in 0..<block.y { for tx in 0..<block.x {
                let expected = [tx, ty, tz, bx, by, bz, block.x, block.y, block.z, grid.x, grid.y, grid.z].map { Int32($0) }
                #expect(Array(got[(slot * 12)..<(slot * 12 + 12)]) == expected, "thread \(slot)")
                slot += 1
            } } }
        } } }
    }

    @Test func dynamicSharedMemoryIsPerBlock() throws {
        let device = EmulatedDevice()
        let threads = 64, blocks = 9
        let x = (0..<(threads * blocks)).map { Float($0) }
        let out = try device.allocate(x.count * 4)
        try device.launch(
            kernelNamed: "wk_selftest_dynamic_shared", Self.shape((UInt32(blocks), 1, 1), (UInt32(threads), 1, 1), shared: UInt32(threads * 4)),
            [.buffer(try device.allocate(copying: x)), .buffer(out)])
        let got = try device.download(out, as: Float.self, count: x.count)
        for i in 0..<x.count { #expect(got[i] == Float(i / threads * threads + (threads - 1 - i % threads))) }
    }
}
