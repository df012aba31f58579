// Shapes, strides, contiguity and memory formats, and copying data out of tensors.
import Testing
import Torch

@Suite struct ShapeTests {
  @Test func contiguousStrides() throws {
    let x = try Tensor.arange(0, 24).reshaped([2, 3, 4])
    #expect(x.shape == [2, 3, 4])
    #expect(x.strides == [12, 4, 1])
    #expect(x.isContiguous())
    #expect(x.rank == 3)
    #expect(x.count == 24)
  }

  @Test func transposeIsAStridedView() throws {
    let x = try Tensor.arange(0, 24).reshaped([2, 3, 4])
    let t = try x.transposed(0, 2)
    #expect(t.shape == [4, 3, 2])
    #expect(t.strides == [1, 4, 12])
    #expect(!t.isContiguous())
    // Copying out follows the logical (row-major) order: t[i, j, k] = x[k, j, i] = 12k + 4j + i.
    var expected: [Int64] = []
    for i in 0..<4 { for j in 0..<3 { for k in 0..<2 { expected.append(Int64(12 * k + 4 * j + i)) } } }
    #expect(try t.toArray(Int64.self) == expected)
    let c = try t.contiguous()
    #expect(c.isContiguous())
    #expect(c.strides == [6, 2, 1])
    #expect(try c.toArray(Int64.self) == expected)
  }

  @Test func channelsLast() throws {
    let x = try Tensor.arange(0, 120, dtype: .float32).reshaped([2, 3, 4, 5])
    let cl = try x.contiguous(.channelsLast)
    #expect(cl.shape == [2, 3, 4, 5])
    #expect(cl.strides == [60, 1, 15, 3])
    #expect(cl.isContiguous(.channelsLast))
    #expect(!cl.isContiguous())
    #expect(x.isContiguous() && !x.isContiguous(.channelsLast))
    // Same logical values in either layout.
    #expect(try cl.toArray(Float.self) == x.toArray(Float.self))
  }

  @Test func expandUsesZeroStride() throws {
    let e = try Tensor([1, 2, 3] as [Float]).reshaped([3, 1]).expanded([3, 4])
    #expect(e.shape == [3, 4])
    #expect(e.strides == [1, 0])
    #expect(try e.toArray(Float.self) == [1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3])
  }

  @Test func viewsShareStorage() throws {
    let x = try Tensor.zeros([2, 3])
    let row = try x.select(dim: 0, 1)
    try row.fill_(5)
    #expect(try x.toArray(Float.self) == [0, 0, 0, 5, 5, 5])
    let col = try x.slice(dim: 1, 0, 1)
    try col.fill_(-1)
    #expect(try x.toArray(Float.self) == [-1, 0, 0, -1, 5, 5])
    // A clone does not.
    let c = try x.clone()
    try c.zero_()
    #expect(try x.toArray(Float.self) == [-1, 0, 0, -1, 5, 5])
  }

  @Test func copiedOutArraysAreSnapshots() throws {
    let x = try Tensor([1, 2, 3] as [Float])
    let before = try x.toArray(Float.self)
    try x.add_(10)
    #expect(before == [1, 2, 3])
    #expect(try x.toArray(Float.self) == [11, 12, 13])
  }

  @Test func itemReadsOneElement() throws {
    #expect(try Tensor([4.5] as [Float]).item() == 4.5)
    #expect(try Tensor([true]).item() == 1)
    #expect(try Tensor([-3] as [Int64]).reshaped([1, 1]).item() == -3)
    #expect(try Tensor([1.25] as [Float]).floatItem() == 1.25)
    expectTorchError(containing: "a Tensor with 2 elements cannot be converted to Scalar") {
      _ = try Tensor([1, 2] as [Float]).item()
    }
  }

  @Test func descriptionPrintsValues() throws {
    let d = try Tensor([1.5, -2] as [Float]).description
    #expect(d.contains("1.5000"))
    #expect(d.contains("-2.0000"))
    #expect(d.contains("CPUFloatType"))
  }
}
