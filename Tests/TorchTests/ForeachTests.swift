// Multi-tensor (foreach) operations against hand-computed values.
import Testing
import Torch

@Suite struct ForeachTests {
  /// [3, 4] and [[1, 2], [2, 0]]
  func pair() throws -> [Tensor] {
    [try Tensor([3, 4] as [Float]), try Tensor([1, 2, 2, 0] as [Float], shape: [2, 2])]
  }

  @Test func norms() throws {
    let n2 = try Foreach.norms(pair())
    #expect(n2.shape == [2])
    #expect(try n2.toArray(Float.self) == [5, 3])
    #expect(try Foreach.norms(pair(), p: 1).toArray(Float.self) == [7, 5])
    #expect(try Foreach.norms(pair(), p: .infinity).toArray(Float.self) == [4, 2])
    expectTorchError(containing: "empty tensor list") { _ = try Foreach.norms([]) }
  }

  @Test func dots() throws {
    let a = [try Tensor([1, 2, 3] as [Float]), try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])]
    let b = [try Tensor([4, 5, 6] as [Float]), try Tensor([1, 1, 1, 1] as [Float], shape: [2, 2])]
    let d = try Foreach.dots(a, b)
    #expect(d.shape == [2])
    #expect(try d.toArray(Float.self) == [32, 10])
    let d64 = try Foreach.dots([Tensor([0.5, -2] as [Double])], [Tensor([4, 0.25] as [Double])])
    #expect(try d64.toArray(Double.self) == [1.5])
    expectTorchError(containing: "shapes differ at index 1") {
      _ = try Foreach.dots(a, [b[0], Tensor([1, 1, 1, 1] as [Float])])
    }
    expectTorchError(containing: "2 vs 1 tensors") { _ = try Foreach.dots(a, [b[0]]) }
  }

  @Test func add() throws {
    let a = try pair()
    let b = [try Tensor([1, 1] as [Float]), try Tensor([10, 20, 30, 40] as [Float], shape: [2, 2])]
    let s = try Foreach.add(a, b, alpha: 2)
    #expect(s.count == 2)
    #expect(try s[0].toArray(Float.self) == [5, 6])
    #expect(s[1].shape == [2, 2])
    #expect(try s[1].toArray(Float.self) == [21, 42, 62, 80])
    // Out of place.
    #expect(try a[0].toArray(Float.self) == [3, 4])
    #expect(try Foreach.add(a, b)[1].toArray(Float.self) == [11, 22, 32, 40])
  }

  @Test func mulByPerTensorScales() throws {
    let a = try pair()
    let m = try Foreach.mul(a, scales: Tensor([2, -0.5] as [Float]))
    #expect(try m[0].toArray(Float.self) == [6, 8])
    #expect(try m[1].toArray(Float.self) == [-0.5, -1, -1, 0])
    #expect(m[1].shape == [2, 2])
    expectTorchError(containing: "one entry per tensor") { _ = try Foreach.mul(a, scales: Tensor([2] as [Float])) }
  }

  @Test func inPlaceOperations() throws {
    let a = try pair()
    let b = [try Tensor([1, 1] as [Float]), try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])]
    try Foreach.add_(a, b, alpha: -1)
    #expect(try a[0].toArray(Float.self) == [2, 3])
    #expect(try a[1].toArray(Float.self) == [0, 0, -1, -4])
    try Foreach.mul_(a, 3)
    #expect(try a[0].toArray(Float.self) == [6, 9])
    #expect(try a[1].toArray(Float.self) == [0, 0, -3, -12])
    try Foreach.copy_(a, from: b)
    #expect(try a[0].toArray(Float.self) == [1, 1])
    #expect(try a[1].toArray(Float.self) == [1, 2, 3, 4])
    // The source is not aliased: changing it later does not change the copy.
    try b[0].fill_(9)
    #expect(try a[0].toArray(Float.self) == [1, 1])
    try Foreach.zero_(a)
    #expect(try a[0].toArray(Float.self) == [0, 0])
    #expect(try a[1].toArray(Float.self) == [0, 0, 0, 0])
    // b was only read.
    #expect(try b[1].toArray(Float.self) == [1, 2, 3, 4])
  }

  @Test func inPlaceOnGradientsUnderNoGrad() throws {
    // The optimizer use: scale the gradients of several leaves in place.
    let w1 = try Tensor([1, 2] as [Double]).requiresGrad(true)
    let w2 = try Tensor([3] as [Double]).requiresGrad(true)
    try ((w1 * w1).sum() + (w2 * 5).sum()).backward()
    let grads = [try #require(w1.grad), try #require(w2.grad)]
    try expectTensor(Foreach.norms(grads), [(4.0 + 16).squareRoot(), 5], tolerance: 1e-12)  // [2, 4] and [5]
    try Foreach.mul_(grads, 0.5)
    try expectTensor(#require(w1.grad), [1, 2])
    try expectTensor(#require(w2.grad), [2.5])
    try Autograd.withNoGrad { try Foreach.add_([w1, w2], grads, alpha: -1) }
    try expectTensor(w1, [0, 0])
    try expectTensor(w2, [0.5])
  }

  @Test func countMismatchesThrow() throws {
    let a = try pair()
    expectTorchError(containing: "2 vs 1 tensors") { _ = try Foreach.add(a, [a[0]]) }
    expectTorchError(containing: "2 vs 1 tensors") { try Foreach.add_(a, [a[0]]) }
    expectTorchError(containing: "count mismatch") { try Foreach.copy_(a, from: [a[0]]) }
  }
}
