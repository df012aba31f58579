// Reductions (whole tensor, per dim, keepDim), norms, sort/topk, gather/scatter, one-hot.
import Foundation
import Testing
import Torch

@Suite struct ReductionTests {
  /// [[1, 5, 3], [4, 2, 6]]
  func x() throws -> Tensor { try Tensor([1, 5, 3, 4, 2, 6] as [Float], shape: [2, 3]) }

  @Test func sum() throws {
    let x = try x()
    let all = try x.sum()
    #expect(all.rank == 0)
    #expect(try all.item() == 21)
    try expectTensor(x.sum(dims: [0]), [5, 7, 9], shape: [3])
    try expectTensor(x.sum(dims: [1]), [9, 12], shape: [2])
    try expectTensor(x.sum(dims: [1], keepDim: true), [9, 12], shape: [2, 1])
    try expectTensor(x.sum(dims: [0], keepDim: true), [5, 7, 9], shape: [1, 3])
    try expectTensor(x.sum(dims: [0, 1]), [21], shape: [])
    try expectTensor(x.sum(dims: [-1]), [9, 12], shape: [2])
    // Integer sums stay integral.
    #expect(try Tensor([1, 2, 3] as [Int64]).sum().dtype == .int64)
  }

  @Test func keepDimOverAllElementsKeepsTheRank() throws {
    let x = try x()
    try expectTensor(x.sum(keepDim: true), [21], shape: [1, 1])
    try expectTensor(x.mean(keepDim: true), [3.5], shape: [1, 1])
    try expectTensor(x.max(keepDim: true), [6], shape: [1, 1])
    try expectTensor(x.min(keepDim: true), [1], shape: [1, 1])
    try expectTensor(x.argmax(keepDim: true), [5], shape: [1, 1])
    try expectTensor(x.norm(1, keepDim: true), [21], shape: [1, 1])
    try expectTensor(x.argmin(keepDim: true), [0], shape: [1, 1])
    try expectTensor(x.prod(keepDim: true), [720], shape: [1, 1])
    try expectTensor(x.any(keepDim: true), [1], shape: [1, 1])
    try expectTensor(Tensor([0, 0, 0, 0] as [Double], shape: [2, 1, 2]).logSumExp(keepDim: true), [log(4.0)],
                     shape: [1, 1, 1], tolerance: 1e-12)
    try expectTensor(Tensor([1, 2, 3, 4] as [Double], shape: [2, 2]).variance(keepDim: true), [5.0 / 3.0],
                     shape: [1, 1], tolerance: 1e-12)
    // A 0-dimensional tensor stays 0-dimensional.
    try expectTensor(Tensor(scalar: 4).sum(keepDim: true), [4], shape: [])
  }

  @Test func mean() throws {
    let x = try x()
    #expect(try x.mean().item() == 3.5)
    try expectTensor(x.mean(dims: [1]), [3, 4], shape: [2])
    try expectTensor(x.mean(dims: [0], keepDim: true), [2.5, 3.5, 4.5], shape: [1, 3])
  }

  @Test func maxMin() throws {
    let x = try x()
    #expect(try x.max().item() == 6)
    #expect(try x.min().item() == 1)
    try expectTensor(x.max(dims: [1]), [5, 6], shape: [2])
    try expectTensor(x.max(dims: [0]), [4, 5, 6], shape: [3])
    try expectTensor(x.min(dims: [0]), [1, 2, 3], shape: [3])
    try expectTensor(x.min(dims: [1], keepDim: true), [1, 2], shape: [2, 1])
  }

  @Test func argmaxArgmin() throws {
    let x = try x()
    let flat = try x.argmax()
    #expect(flat.dtype == .int64)
    #expect(try flat.item() == 5)
    #expect(try x.argmin().item() == 0)
    #expect(try x.argmax(dim: 1).toArray(Int64.self) == [1, 2])
    #expect(try x.argmax(dim: 0).toArray(Int64.self) == [1, 0, 1])
    #expect(try x.argmin(dim: 0).toArray(Int64.self) == [0, 1, 0])
    let k = try x.argmax(dim: 1, keepDim: true)
    #expect(k.shape == [2, 1])
  }

  @Test func norms() throws {
    #expect(try Tensor([3, 4] as [Float]).norm().item() == 5)
    let x = try x()
    #expect(try x.norm(1).item() == 21)
    #expect(try x.norm(.infinity).item() == 6)
    try expectTensor(x.norm(2), [sqrt(91.0)], tolerance: 1e-6)
    let m = try Tensor([3, 4, 6, 8] as [Float], shape: [2, 2])
    try expectTensor(m.norm(dims: [1]), [5, 10], shape: [2])
    try expectTensor(m.norm(dims: [1], keepDim: true), [5, 10], shape: [2, 1])
    try expectTensor(m.norm(1, dims: [0]), [9, 12], shape: [2])
    try expectTensor(Tensor([-7, 2] as [Float]).norm(.infinity), [7])
  }

  @Test func otherReductions() throws {
    let v = try Tensor([1, 2, 3, 4] as [Double])
    #expect(try v.prod().item() == 24)
    try expectTensor(x().prod(dim: 1), [15, 48], shape: [2])
    // Unbiased variance of 1...4: sum of squared deviations 5, over n - 1 = 3.
    try expectTensor(v.variance(), [5.0 / 3.0], tolerance: 1e-12)
    try expectTensor(v.standardDeviation(), [(5.0 / 3.0).squareRoot()], tolerance: 1e-12)
    try expectTensor(Tensor([0, 0] as [Double]).logSumExp(), [log(2.0)], tolerance: 1e-12)
    try expectTensor(Tensor([1, 2, 3, 4] as [Double], shape: [2, 2]).logSumExp(dims: [1]),
                     [log(exp(1.0) + exp(2.0)), log(exp(3.0) + exp(4.0))], tolerance: 1e-12)
    let b = try Tensor([true, false, true, true], shape: [2, 2])
    #expect(try b.any().item() == 1)
    #expect(try b.all().item() == 0)
    #expect(try b.all(dims: [1]).toArray(Bool.self) == [false, true])
    #expect(try b.any(dims: [0]).toArray(Bool.self) == [true, true])
  }

  @Test func sort() throws {
    let (values, indices) = try Tensor([3, 1, 2] as [Float]).sorted()
    #expect(try values.toArray(Float.self) == [1, 2, 3])
    #expect(try indices.toArray(Int64.self) == [1, 2, 0])
    let (dv, di) = try x().sorted(dim: 1, descending: true)
    #expect(try dv.toArray(Float.self) == [5, 3, 1, 6, 4, 2])
    #expect(try di.toArray(Int64.self) == [1, 2, 0, 2, 0, 1])
    let (cv, ci) = try x().sorted(dim: 0)
    #expect(try cv.toArray(Float.self) == [1, 2, 3, 4, 5, 6])
    #expect(try ci.toArray(Int64.self) == [0, 1, 0, 1, 0, 1])
  }

  @Test func topK() throws {
    let t = try Tensor([1, 5, 3, 4] as [Float])
    let (v, i) = try t.topK(2)
    #expect(try v.toArray(Float.self) == [5, 4])
    #expect(try i.toArray(Int64.self) == [1, 3])
    let (sv, si) = try t.topK(3, largest: false)
    #expect(try sv.toArray(Float.self) == [1, 3, 4])
    #expect(try si.toArray(Int64.self) == [0, 2, 3])
    let (rv, ri) = try x().topK(1, dim: 1)
    #expect(rv.shape == [2, 1])
    #expect(try rv.toArray(Float.self) == [5, 6])
    #expect(try ri.toArray(Int64.self) == [1, 2])
  }

  @Test func gather() throws {
    let m = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
    let g = try m.gather(dim: 1, Tensor([0, 0, 1, 0] as [Int64], shape: [2, 2]))
    #expect(try g.toArray(Float.self) == [1, 1, 4, 3])
    // Picking each row's label, as a loss does.
    let picked = try x().gather(dim: 1, Tensor([2, 0] as [Int64], shape: [2, 1]))
    #expect(picked.shape == [2, 1])
    #expect(try picked.toArray(Float.self) == [3, 4])
    let g0 = try m.gather(dim: 0, Tensor([1, 0] as [Int64], shape: [1, 2]))
    #expect(try g0.toArray(Float.self) == [3, 2])
  }

  @Test func scatter() throws {
    let z = try Tensor.zeros([2, 3])
    let index = try Tensor([0, 2, 1, 0] as [Int64], shape: [2, 2])
    let src = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
    let s = try z.scatter(dim: 1, index, src)
    #expect(try s.toArray(Float.self) == [1, 0, 2, 4, 3, 0])
    let v = try z.scatter(dim: 1, index, value: 9)
    #expect(try v.toArray(Float.self) == [9, 0, 9, 9, 9, 0])
    // Out of place: the original is unchanged.
    #expect(try z.toArray(Float.self) == [0, 0, 0, 0, 0, 0])
  }

  @Test func oneHot() throws {
    let h = try Tensor([2, 0, 1] as [Int64]).oneHot(classes: 3)
    #expect(h.shape == [3, 3])
    #expect(h.dtype == .int64)
    #expect(try h.toArray(Int64.self) == [0, 0, 1, 1, 0, 0, 0, 1, 0])
  }
}
