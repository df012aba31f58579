// Views and indexing: reshape, permute, slicing, select, squeeze, indexing by long/bool tensors
// and by [Tensor?], index_select/index_put, cat/stack, pad, flip.
import Testing
import Torch

@Suite struct ViewTests {
  /// [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9, 10, 11]] as float32.
  func grid() throws -> Tensor { try Tensor.arange(0, 12, dtype: .float32).reshaped([3, 4]) }

  @Test func reshape() throws {
    let x = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
    let r = try x.reshaped([3, 2])
    #expect(r.shape == [3, 2])
    #expect(try r.toArray(Float.self) == [1, 2, 3, 4, 5, 6])
    #expect(try x.reshaped([-1]).shape == [6])
    #expect(try x.reshaped([1, -1, 2]).shape == [1, 3, 2])
    expectTorchError(containing: "shape '[4]' is invalid for input of size 6") { _ = try x.reshaped([4]) }
  }

  @Test func permute() throws {
    let x = try Tensor.arange(0, 24).reshaped([2, 3, 4])
    let p = try x.permuted([2, 0, 1])
    #expect(p.shape == [4, 2, 3])
    // p[i, j, k] = x[j, k, i] = 12j + 4k + i
    var expected: [Int64] = []
    for i in 0..<4 { for j in 0..<2 { for k in 0..<3 { expected.append(Int64(12 * j + 4 * k + i)) } } }
    #expect(try p.toArray(Int64.self) == expected)
    #expect(try x.transposed(0, 1).shape == [3, 2, 4])
  }

  @Test func slicingAndSelect() throws {
    let a = try Tensor.arange(0, 10)
    #expect(try a.slice(dim: 0, 2, 8, step: 2).toArray(Int64.self) == [2, 4, 6])
    #expect(try a[3..<6].toArray(Int64.self) == [3, 4, 5])
    #expect(try a[7].item() == 7)
    #expect(try a[7].rank == 0)
    let g = try grid()
    #expect(try g[1].toArray(Float.self) == [4, 5, 6, 7])
    #expect(try g.select(dim: 1, 2).toArray(Float.self) == [2, 6, 10])
    let s = try g.slice(dim: 1, 1, 3)
    #expect(s.shape == [3, 2])
    #expect(try s.toArray(Float.self) == [1, 2, 5, 6, 9, 10])
    // Negative indices count from the end.
    #expect(try g.select(dim: 0, -1).toArray(Float.self) == [8, 9, 10, 11])
  }

  @Test func squeezeUnsqueezeFlatten() throws {
    let x = try Tensor.zeros([2, 1, 3, 1])
    #expect(try x.squeezed().shape == [2, 3])
    #expect(try x.squeezed(1).shape == [2, 3, 1])
    #expect(try x.unsqueezed(0).shape == [1, 2, 1, 3, 1])
    #expect(try x.unsqueezed(-1).shape == [2, 1, 3, 1, 1])
    #expect(try x.flattened().shape == [6])
    #expect(try Tensor.zeros([2, 3, 4, 5]).flattened(from: 1).shape == [2, 60])
    #expect(try Tensor.zeros([2, 3, 4, 5]).flattened(from: 1, to: 2).shape == [2, 12, 5])
  }

  @Test func indexByLongTensor() throws {
    let t = try Tensor([10, 20, 30, 40] as [Float])
    #expect(try t.indexed(by: Tensor([3, 0, 3] as [Int64])).toArray(Float.self) == [40, 10, 40])
    // On a matrix a long index picks rows.
    let rows = try grid().indexed(by: Tensor([2, 0] as [Int64]))
    #expect(rows.shape == [2, 4])
    #expect(try rows.toArray(Float.self) == [8, 9, 10, 11, 0, 1, 2, 3])
    // Negative indices wrap.
    #expect(try t.indexed(by: Tensor([-1] as [Int64])).toArray(Float.self) == [40])
  }

  @Test func indexByBoolMask() throws {
    let t = try Tensor([10, 20, 30, 40] as [Float])
    #expect(try t.indexed(by: Tensor([true, false, true, false])).toArray(Float.self) == [10, 30])
    let g = try grid()
    let mask = try g .> 6.5
    #expect(mask.dtype == .bool)
    let picked = try g.indexed(by: mask)
    #expect(picked.shape == [5])
    #expect(try picked.toArray(Float.self) == [7, 8, 9, 10, 11])
    // A 1-D mask on a matrix selects rows.
    #expect(try g.indexed(by: Tensor([false, true, false])).toArray(Float.self) == [4, 5, 6, 7])
  }

  @Test func indexWithOptionalTensors() throws {
    let g = try grid()
    // g[[0, 2], [1, 3]] -> [g[0,1], g[2,3]]
    let pairs = try g.indexed([Tensor([0, 2] as [Int64]), Tensor([1, 3] as [Int64])])
    #expect(try pairs.toArray(Float.self) == [1, 11])
    // g[:, [0, 3]]
    let cols = try g.indexed([nil, Tensor([0, 3] as [Int64])])
    #expect(cols.shape == [3, 2])
    #expect(try cols.toArray(Float.self) == [0, 3, 4, 7, 8, 11])
    // g[[1], :]
    let row = try g.indexed([Tensor([1] as [Int64]), nil])
    #expect(row.shape == [1, 4])
    #expect(try row.toArray(Float.self) == [4, 5, 6, 7])
    // Per-sample picks, as in a loss: x[arange(3), labels]
    let labels = try Tensor([3, 0, 1] as [Int64])
    #expect(try g.indexed([Tensor.arange(0, 3), labels]).toArray(Float.self) == [3, 4, 9])
  }

  @Test func indexSelectAndIndexPut() throws {
    let g = try grid()
    let s = try g.indexSelect(dim: 1, Tensor([3, 1] as [Int64]))
    #expect(s.shape == [3, 2])
    #expect(try s.toArray(Float.self) == [3, 1, 7, 5, 11, 9])
    let t = try Tensor([10, 20, 30, 40] as [Float])
    try t.indexPut_(Tensor([0, 2] as [Int64]), Tensor([5, 6] as [Float]))
    #expect(try t.toArray(Float.self) == [5, 20, 6, 40])
    try t.indexPut_(Tensor([false, true, false, true]), Tensor(scalar: -1))
    #expect(try t.toArray(Float.self) == [5, -1, 6, -1])
  }

  @Test func catAndStack() throws {
    let a = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
    let b = try Tensor([5, 6] as [Float], shape: [1, 2])
    let c0 = try Tensor.cat([a, b])
    #expect(c0.shape == [3, 2])
    #expect(try c0.toArray(Float.self) == [1, 2, 3, 4, 5, 6])
    let c1 = try Tensor.cat([a, a], dim: 1)
    #expect(c1.shape == [2, 4])
    #expect(try c1.toArray(Float.self) == [1, 2, 1, 2, 3, 4, 3, 4])
    let s0 = try Tensor.stack([a, a])
    #expect(s0.shape == [2, 2, 2])
    let s1 = try Tensor.stack([Tensor([1, 2] as [Float]), Tensor([3, 4] as [Float])], dim: 1)
    #expect(s1.shape == [2, 2])
    #expect(try s1.toArray(Float.self) == [1, 3, 2, 4])
    expectTorchError(containing: "Sizes of tensors must match") { _ = try Tensor.cat([a, b], dim: 1) }
    expectTorchError(containing: "stack expects each tensor to be equal size") { _ = try Tensor.stack([a, b]) }
  }

  @Test func pad() throws {
    let x = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
    let left = try x.padded([1, 0])
    #expect(left.shape == [2, 3])
    #expect(try left.toArray(Float.self) == [0, 1, 2, 0, 3, 4])
    let all = try x.padded([1, 1, 1, 1], value: 9)
    #expect(all.shape == [4, 4])
    #expect(try all.toArray(Float.self) == [9, 9, 9, 9, 9, 1, 2, 9, 9, 3, 4, 9, 9, 9, 9, 9])
    // The second pair pads the second-to-last dimension.
    let top = try x.padded([0, 0, 0, 1], value: -1)
    #expect(top.shape == [3, 2])
    #expect(try top.toArray(Float.self) == [1, 2, 3, 4, -1, -1])
    // Negative padding crops.
    #expect(try x.padded([0, -1]).toArray(Float.self) == [1, 3])
  }

  @Test func flip() throws {
    #expect(try Tensor([1, 2, 3] as [Float]).flipped([0]).toArray(Float.self) == [3, 2, 1])
    let x = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
    #expect(try x.flipped([1]).toArray(Float.self) == [3, 2, 1, 6, 5, 4])
    #expect(try x.flipped([0]).toArray(Float.self) == [4, 5, 6, 1, 2, 3])
    #expect(try x.flipped([0, 1]).toArray(Float.self) == [6, 5, 4, 3, 2, 1])
  }

  @Test func assignRebindsTheObject() throws {
    let p = try Tensor([1, 2] as [Float])
    try p.assign(Tensor([7, 8, 9] as [Double]))
    #expect(p.shape == [3])
    #expect(p.dtype == .float64)
    #expect(try p.toArray(Double.self) == [7, 8, 9])
  }
}
