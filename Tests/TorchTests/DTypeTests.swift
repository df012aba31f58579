// Element types: exact round trips, conversions (with the rounding each format implies), promotion.
import Testing
import Torch

@Suite struct DTypeTests {
  @Test func roundTripsAreExact() throws {
    let f: [Float] = [0, -1.5, 3.25, 1e-7, 123456.789, .greatestFiniteMagnitude]
    #expect(try Tensor(f).toArray(Float.self) == f)
    let d: [Double] = [0.1, -1e300, 1.0 / 3.0]
    #expect(try Tensor(d).toArray(Double.self) == d)
    let i: [Int64] = [0, -1, 1 << 40, .max, .min]
    #expect(try Tensor(i).toArray(Int64.self) == i)
    let i32: [Int32] = [.min, -7, 0, .max]
    #expect(try Tensor(i32).toArray(Int32.self) == i32)
    let u: [UInt8] = [0, 17, 128, 255]
    #expect(try Tensor(u).toArray(UInt8.self) == u)
    let b: [Bool] = [true, false, false, true]
    #expect(try Tensor(b).toArray(Bool.self) == b)
  }

  @Test func float32ToBFloat16Rounds() throws {
    // bfloat16 keeps 8 significant bits: 0.1 -> 0.10009765625, 257 -> 256 (tie to even),
    // 1 + 2^-8 -> 1 (tie to even), 1 + 3*2^-8 -> 1 + 2^-6 (tie, rounds up to even).
    let t = try Tensor([0.1, 257, 1.00390625, 1.01171875, 3, -2.5] as [Float]).to(.bfloat16)
    #expect(t.dtype == .bfloat16)
    #expect(try t.toArray(Double.self) == [0.10009765625, 256, 1, 1.015625, 3, -2.5])
    // Back to float32 keeps the rounded values.
    let back = try t.to(.float32)
    #expect(back.dtype == .float32)
    #expect(try back.toArray(Float.self) == [0.10009765625, 256, 1, 1.015625, 3, -2.5])
  }

  @Test func float32ToFloat16Rounds() throws {
    // float16 keeps 11 significant bits: 0.1 -> 0.0999755859375, 2049 -> 2048 (tie to even),
    // 65504 is the largest finite value, 1e5 overflows to infinity.
    let t = try Tensor([0.1, 2049, 65504, 1e5, -0.5] as [Float]).to(.float16)
    #expect(t.dtype == .float16)
    #expect(try t.toArray(Double.self) == [0.0999755859375, 2048, 65504, .infinity, -0.5])
  }

  @Test func floatToIntegerTruncatesTowardZero() throws {
    let t = try Tensor([2.7, -2.7, 0.4, 100.99] as [Float])
    let i = try t.to(.int64)
    #expect(i.dtype == .int64)
    #expect(try i.toArray(Int64.self) == [2, -2, 0, 100])
    #expect(try Tensor([3.9, 200.0, 0.0] as [Float]).to(.uint8).toArray(UInt8.self) == [3, 200, 0])
    // toArray converts on the way out as well.
    #expect(try t.toArray(Int64.self) == [2, -2, 0, 100])
  }

  @Test func boolConversions() throws {
    let b = try Tensor([0, 0.5, -1, 0] as [Float]).to(.bool)
    #expect(b.dtype == .bool)
    #expect(try b.toArray(Bool.self) == [false, true, true, false])
    #expect(try b.to(.float32).toArray(Float.self) == [0, 1, 1, 0])
    #expect(try b.to(.int64).toArray(Int64.self) == [0, 1, 1, 0])
    #expect(try Tensor([0, 3, 255] as [UInt8]).to(.bool).toArray(Bool.self) == [false, true, true])
  }

  @Test func integerToFloat() throws {
    let t = try Tensor([1, -2, 1 << 24 + 1] as [Int64]).to(.float32)
    // 2^24 + 1 is not representable in float32 and rounds to 2^24.
    #expect(try t.toArray(Float.self) == [1, -2, 16_777_216])
    #expect(try Tensor([1, -2, 1 << 24 + 1] as [Int64]).to(.float64).toArray(Double.self) == [1, -2, 16_777_217])
  }

  @Test func toSameDTypeIsANoOp() throws {
    let t = try Tensor([1, 2] as [Float])
    #expect(try t.to(.float32) === t)
    #expect(try t.to(.cpu) === t)
    let c = try t.to(.cpu, .float64)
    #expect(c.dtype == .float64)
    #expect(try c.toArray(Double.self) == [1, 2])
  }

  @Test func typePromotion() throws {
    let f = try Tensor([1.5] as [Float])
    let i = try Tensor([2] as [Int64])
    let u = try Tensor([250] as [UInt8])
    #expect(try (f + i).dtype == .float32)
    #expect(try (f + i).item() == 3.5)
    #expect(try (u + i).dtype == .int64)
    #expect(try (u + i).item() == 252)
    // Integer division is true division and gives the default float type.
    let q = try Tensor([7, 2] as [Int64]) / Tensor([2, 2] as [Int64])
    #expect(q.dtype == .float32)
    #expect(try q.toArray(Float.self) == [3.5, 1])
    let h = try Tensor([1, 2] as [Float]).to(.bfloat16)
    #expect(try (h + h).dtype == .bfloat16)
    #expect(try (h * 2.0).dtype == .bfloat16)
    #expect(try (f + Tensor([1] as [Double])).dtype == .float64)
  }

  @Test func dtypeProperties() {
    #expect(DType.float32.byteSize == 4)
    #expect(DType.bfloat16.byteSize == 2)
    #expect(DType.float16.byteSize == 2)
    #expect(DType.int64.byteSize == 8)
    #expect(DType.uint8.byteSize == 1)
    #expect(DType.bool.byteSize == 1)
    #expect(DType.bfloat16.isFloatingPoint && DType.float16.isFloatingPoint && DType.float64.isFloatingPoint)
    #expect(!DType.int64.isFloatingPoint && !DType.uint8.isFloatingPoint && !DType.bool.isFloatingPoint)
    #expect(DType.bfloat16.description == "bfloat16")
    #expect(DType.allCases.count == 8)
  }

  @Test func everyDTypeCanBeCreated() throws {
    for dtype in DType.allCases {
      let t = try Tensor.ones([2, 3], dtype: dtype)
      #expect(t.dtype == dtype)
      #expect(try t.toArray(Double.self) == [1, 1, 1, 1, 1, 1])
    }
  }
}
