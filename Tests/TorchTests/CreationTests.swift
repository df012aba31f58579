// Creating tensors: from Swift arrays, constant fills, ranges, and seeded random sampling.
import Testing
import Torch

@Suite struct CreationTests {
  @Test func fromFloatArrayWithShape() throws {
    let t = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
    #expect(t.shape == [2, 3])
    #expect(t.rank == 2)
    #expect(t.count == 6)
    #expect(t.dtype == .float32)
    #expect(t.device == .cpu)
    #expect(try t.toArray(Float.self) == [1, 2, 3, 4, 5, 6])
  }

  @Test func fromArraysOfEachScalarType() throws {
    #expect(try Tensor([1.5, -2.25] as [Double]).dtype == .float64)
    #expect(try Tensor([1, 2] as [Int64]).dtype == .int64)
    #expect(try Tensor([1, 2] as [Int32]).dtype == .int32)
    #expect(try Tensor([1, 2] as [UInt8]).dtype == .uint8)
    #expect(try Tensor([true, false]).dtype == .bool)
    // Default shape is 1-D.
    #expect(try Tensor([7, 8, 9] as [Int64]).shape == [3])
    let empty = try Tensor([] as [Float])
    #expect(empty.shape == [0])
    #expect(empty.count == 0)
    #expect(try empty.toArray(Float.self) == [])
  }

  @Test func arrayCountMustMatchShape() throws {
    expectTorchError(containing: "cannot shape 5 values") { _ = try Tensor([1, 2, 3, 4, 5] as [Float], shape: [2, 3]) }
  }

  @Test func scalarTensor() throws {
    let s = try Tensor(scalar: 2.5)
    #expect(s.rank == 0)
    #expect(s.shape == [])
    #expect(s.count == 1)
    #expect(try s.item() == 2.5)
    let i = try Tensor(scalar: 7, dtype: .int64)
    #expect(i.dtype == .int64)
    #expect(try i.item() == 7)
  }

  @Test func zerosOnesFull() throws {
    let z = try Tensor.zeros([2, 2])
    #expect(z.dtype == .float32)
    #expect(try z.toArray(Float.self) == [0, 0, 0, 0])
    let o = try Tensor.ones([3], dtype: .int64)
    #expect(o.dtype == .int64)
    #expect(try o.toArray(Int64.self) == [1, 1, 1])
    let f = try Tensor.full([2, 1, 2], -3.5, dtype: .float64)
    #expect(f.shape == [2, 1, 2])
    #expect(try f.toArray(Double.self) == [-3.5, -3.5, -3.5, -3.5])
    let b = try Tensor.full([2], 1, dtype: .bool)
    #expect(try b.toArray(Bool.self) == [true, true])
  }

  @Test func likeConstructorsKeepShapeAndDType() throws {
    let t = try Tensor([1, 2, 3, 4, 5, 6] as [Int64], shape: [3, 2])
    let z = try t.zerosLike()
    #expect(z.shape == [3, 2])
    #expect(z.dtype == .int64)
    #expect(try z.toArray(Int64.self) == [0, 0, 0, 0, 0, 0])
    #expect(try t.onesLike().toArray(Int64.self) == [1, 1, 1, 1, 1, 1])
    #expect(try t.fullLike(9).toArray(Int64.self) == [9, 9, 9, 9, 9, 9])
  }

  @Test func arange() throws {
    let a = try Tensor.arange(0, 5)
    #expect(a.dtype == .int64)
    #expect(try a.toArray(Int64.self) == [0, 1, 2, 3, 4])
    let f = try Tensor.arange(1, 2, step: 0.25, dtype: .float32)
    #expect(try f.toArray(Float.self) == [1, 1.25, 1.5, 1.75])
    #expect(try Tensor.arange(5, 0, step: -2).toArray(Int64.self) == [5, 3, 1])
    #expect(try Tensor.arange(0, 0).count == 0)
  }

  @Test func randIsSeededAndInUnitInterval() throws {
    Torch.manualSeed(42)
    let a = try Tensor.rand([1000]).toArray(Float.self)
    Torch.manualSeed(42)
    let b = try Tensor.rand([1000]).toArray(Float.self)
    Torch.manualSeed(43)
    let c = try Tensor.rand([1000]).toArray(Float.self)
    #expect(a == b)
    #expect(a != c)
    #expect(a.allSatisfy { $0 >= 0 && $0 < 1 })
    // 1000 uniform samples: the mean's standard error is 0.29/sqrt(1000) ~ 0.009.
    let mean = a.reduce(0, +) / 1000
    #expect(Swift.abs(mean - 0.5) < 0.05)
    #expect(a.min()! < 0.01 && a.max()! > 0.99)
  }

  @Test func randDType() throws {
    #expect(try Tensor.rand([4], dtype: .float64).dtype == .float64)
    #expect(try Tensor.rand([4], dtype: .bfloat16).dtype == .bfloat16)
  }

  @Test func randnIsSeededAndStandardNormal() throws {
    Torch.manualSeed(7)
    let a = try Tensor.randn([10000]).toArray(Double.self)
    Torch.manualSeed(7)
    let b = try Tensor.randn([10000]).toArray(Double.self)
    Torch.manualSeed(8)
    let c = try Tensor.randn([10000]).toArray(Double.self)
    #expect(a == b)
    #expect(a != c)
    let mean = a.reduce(0, +) / Double(a.count)
    let variance = a.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(a.count - 1)
    // Standard errors: mean 0.01, variance ~0.014 for 10k samples.
    #expect(Swift.abs(mean) < 0.05)
    #expect(Swift.abs(variance - 1) < 0.07)
    #expect(a.contains { $0 < 0 } && a.contains { $0 > 2 })
  }

  @Test func randintRangeAndSeed() throws {
    Torch.manualSeed(1)
    let t = try Tensor.randint(3, 7, [2, 500])
    #expect(t.shape == [2, 500])
    #expect(t.dtype == .int64)
    let v = try t.toArray(Int64.self)
    #expect(v.allSatisfy { (3..<7).contains($0) })
    #expect(Set(v) == [3, 4, 5, 6])
    Torch.manualSeed(1)
    #expect(try Tensor.randint(3, 7, [2, 500]).toArray(Int64.self) == v)
    Torch.manualSeed(2)
    #expect(try Tensor.randint(3, 7, [2, 500]).toArray(Int64.self) != v)
  }

  @Test func randpermIsAPermutation() throws {
    Torch.manualSeed(5)
    let p = try Tensor.randperm(50).toArray(Int64.self)
    #expect(p.sorted() == Array(0..<50))
    #expect(p != Array(0..<50))
    Torch.manualSeed(5)
    #expect(try Tensor.randperm(50).toArray(Int64.self) == p)
    Torch.manualSeed(6)
    #expect(try Tensor.randperm(50).toArray(Int64.self) != p)
  }

  @Test func uniformRangeAndSeed() throws {
    Torch.manualSeed(11)
    let u = try Tensor.uniform([2000], low: -2, high: 3)
    #expect(u.dtype == .float32)
    let v = try u.toArray(Float.self)
    #expect(v.allSatisfy { $0 >= -2 && $0 < 3 })
    #expect(v.min()! < -1.9 && v.max()! > 2.9)
    let mean = v.reduce(0, +) / Float(v.count)
    #expect(Swift.abs(mean - 0.5) < 0.15)
    Torch.manualSeed(11)
    #expect(try Tensor.uniform([2000], low: -2, high: 3).toArray(Float.self) == v)
    Torch.manualSeed(12)
    #expect(try Tensor.uniform([2000], low: -2, high: 3).toArray(Float.self) != v)
    let d = try Tensor.uniform([3], low: 0, high: 1, dtype: .float64)
    #expect(d.dtype == .float64)
  }

  @Test func explicitGeneratorsAreIndependentOfTheGlobalStream() throws {
    let g1 = try Generator(seed: 99)
    let g2 = try Generator(seed: 99)
    let g3 = try Generator(seed: 100)
    let a = try Tensor.rand([64], generator: g1).toArray(Float.self)
    #expect(try Tensor.rand([64], generator: g2).toArray(Float.self) == a)
    #expect(try Tensor.rand([64], generator: g3).toArray(Float.self) != a)
    // Drawing from a private generator leaves the global stream where it was.
    Torch.manualSeed(3)
    let expected = try Tensor.randn([16]).toArray(Float.self)
    Torch.manualSeed(3)
    _ = try Tensor.randn([16], generator: g1)
    _ = try Tensor.randint(0, 10, [16], generator: g1)
    _ = try Tensor.randperm(16, generator: g1)
    _ = try Tensor.uniform([16], low: 0, high: 1, generator: g1)
    #expect(try Tensor.randn([16]).toArray(Float.self) == expected)
  }

  @Test func filledWritesTheTensorsBytesInPlace() throws {
    let t = try Tensor.filled([2, 3], dtype: .uint8) { bytes in
      #expect(bytes.count == 6)
      for i in 0..<6 { bytes[i] = UInt8(10 + i) }
    }
    #expect(t.shape == [2, 3] && t.dtype == .uint8 && t.device == .cpu)
    #expect(try t.toArray(UInt8.self) == [10, 11, 12, 13, 14, 15])
    let f = try Tensor.filled([2], dtype: .float32) { bytes in
      bytes.bindMemory(to: Float.self)[0] = 1.5
      bytes.bindMemory(to: Float.self)[1] = -2
    }
    #expect(try f.toArray(Float.self) == [1.5, -2])
  }
}
