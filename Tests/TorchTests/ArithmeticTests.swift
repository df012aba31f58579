// Elementwise arithmetic, comparisons, unary functions, clamp/where/min/max, matmul, and
// in-place updates.
import Foundation
import Testing
import Torch

@Suite struct ArithmeticTests {
  @Test func tensorTensorOperators() throws {
    let a = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2])
    let b = try Tensor([10, 20, 30, 40] as [Float], shape: [2, 2])
    #expect(try (a + b).toArray(Float.self) == [11, 22, 33, 44])
    #expect(try (a - b).toArray(Float.self) == [-9, -18, -27, -36])
    #expect(try (a * b).toArray(Float.self) == [10, 40, 90, 160])
    #expect(try (b / a).toArray(Float.self) == [10, 10, 10, 10])
    #expect(try (-a).toArray(Float.self) == [-1, -2, -3, -4])
  }

  @Test func broadcasting() throws {
    let m = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
    let row = try Tensor([10, 20, 30] as [Float])
    let col = try Tensor([100, 200] as [Float], shape: [2, 1])
    let r = try m + row
    #expect(r.shape == [2, 3])
    #expect(try r.toArray(Float.self) == [11, 22, 33, 14, 25, 36])
    #expect(try (m * col).toArray(Float.self) == [100, 200, 300, 800, 1000, 1200])
    #expect(try (row + col).shape == [2, 3])
  }

  @Test func scalarOperators() throws {
    let t = try Tensor([1, 2, 4] as [Float])
    #expect(try (t + 1).toArray(Float.self) == [2, 3, 5])
    #expect(try (1 + t).toArray(Float.self) == [2, 3, 5])
    #expect(try (t - 1).toArray(Float.self) == [0, 1, 3])
    #expect(try (10 - t).toArray(Float.self) == [9, 8, 6])
    #expect(try (t * 3).toArray(Float.self) == [3, 6, 12])
    #expect(try (3 * t).toArray(Float.self) == [3, 6, 12])
    #expect(try (t / 2).toArray(Float.self) == [0.5, 1, 2])
    #expect(try (1 / t).toArray(Float.self) == [1, 0.5, 0.25])
    #expect(try (8 / t).toArray(Float.self) == [8, 4, 2])
    // A scalar does not promote an integer tensor's type for + and *.
    let i = try Tensor([1, 2] as [Int64])
    #expect(try (i * 3).dtype == .int64)
    #expect(try (i * 3).toArray(Int64.self) == [3, 6])
    #expect(try (5 - i).toArray(Int64.self) == [4, 3])
  }

  @Test func integralScalarsKeepIntegerTensorsIntegral() throws {
    // As in PyTorch, int64 + 1 stays int64; a fractional scalar promotes to the default float type.
    let i = try Tensor([4, -3, 7] as [Int64])
    #expect(try (i + 1).dtype == .int64)
    #expect(try (i - 1).toArray(Int64.self) == [3, -4, 6])
    #expect(try (2 * i).toArray(Int64.self) == [8, -6, 14])
    #expect(try i.remainder(2).toArray(Int64.self) == [0, 1, 1])
    #expect(try i.pow(2).toArray(Int64.self) == [16, 9, 49])
    #expect(try i.clamped(min: 0, max: 5).toArray(Int64.self) == [4, 0, 5])
    #expect(try i.clamped(min: 0, max: 5).dtype == .int64)
    let half = try i * 0.5
    #expect(half.dtype == .float32)
    #expect(try half.toArray(Float.self) == [2, -1.5, 3.5])
    #expect(try (i / 2).dtype == .float32)  // true division
    let u = try Tensor([1, 2] as [UInt8])
    #expect(try (u + 1).dtype == .uint8)
    // In place on an integer tensor (e.g. a counter).
    try i.add_(1)
    try i.mul_(3)
    try i.clamp_(min: 0, max: 20)
    #expect(i.dtype == .int64)
    #expect(try i.toArray(Int64.self) == [15, 0, 20])
    expectTorchError(containing: "result type Float can't be cast to the desired output type Long") { try i.add_(0.5) }
  }

  @Test func powAndRemainder() throws {
    let t = try Tensor([1, 2, 3] as [Float])
    #expect(try t.pow(2).toArray(Float.self) == [1, 4, 9])
    try expectTensor(t.pow(Tensor([3, 0, -1] as [Float])), [1, 1, 1.0 / 3.0], tolerance: 1e-7)
    // Python-style remainder takes the divisor's sign.
    #expect(try Tensor([-3, 5, 4.5] as [Float]).remainder(2).toArray(Float.self) == [1, 1, 0.5])
  }

  @Test func comparisons() throws {
    let a = try Tensor([1, 2, 3] as [Float])
    let b = try Tensor([3, 2, 1] as [Float])
    #expect(try (a .== b).toArray(Bool.self) == [false, true, false])
    #expect(try (a .!= b).toArray(Bool.self) == [true, false, true])
    #expect(try (a .< b).toArray(Bool.self) == [true, false, false])
    #expect(try (a .<= b).toArray(Bool.self) == [true, true, false])
    #expect(try (a .> b).toArray(Bool.self) == [false, false, true])
    #expect(try (a .>= b).toArray(Bool.self) == [false, true, true])
    #expect(try (a .== 2).toArray(Bool.self) == [false, true, false])
    #expect(try (a .!= 2).toArray(Bool.self) == [true, false, true])
    #expect(try (a .< 2).toArray(Bool.self) == [true, false, false])
    #expect(try (a .<= 2).toArray(Bool.self) == [true, true, false])
    #expect(try (a .> 2).toArray(Bool.self) == [false, false, true])
    #expect(try (a .>= 2).toArray(Bool.self) == [false, true, true])
    #expect(try (a .> 2).dtype == .bool)
  }

  @Test func logicalOperators() throws {
    let p = try Tensor([true, true, false, false])
    let q = try Tensor([true, false, true, false])
    #expect(try p.logicalAnd(q).toArray(Bool.self) == [true, false, false, false])
    #expect(try p.logicalOr(q).toArray(Bool.self) == [true, true, true, false])
    #expect(try p.logicalNot().toArray(Bool.self) == [false, false, true, true])
  }

  @Test func unaryFunctions() throws {
    let x = try Tensor([-2, -0.5, 0, 0.5, 2] as [Double])
    try expectTensor(x.abs(), [2, 0.5, 0, 0.5, 2])
    try expectTensor(x.sign(), [-1, -1, 0, 1, 1])
    try expectTensor(x.exp(), [exp(-2), exp(-0.5), 1, exp(0.5), exp(2)], tolerance: 1e-12)
    try expectTensor(x.square(), [4, 0.25, 0, 0.25, 4])
    try expectTensor(x.relu(), [0, 0, 0, 0.5, 2])
    try expectTensor(x.sigmoid(), [-2, -0.5, 0, 0.5, 2].map { 1 / (1 + exp(-$0)) }, tolerance: 1e-12)
    try expectTensor(x.tanh(), [-2, -0.5, 0, 0.5, 2].map { Foundation.tanh($0) }, tolerance: 1e-12)
    try expectTensor(x.sin(), [-2, -0.5, 0, 0.5, 2].map { Foundation.sin($0) }, tolerance: 1e-12)
    try expectTensor(x.cos(), [-2, -0.5, 0, 0.5, 2].map { Foundation.cos($0) }, tolerance: 1e-12)
    let p = try Tensor([0.25, 1, 4] as [Double])
    try expectTensor(p.sqrt(), [0.5, 1, 2])
    try expectTensor(p.rsqrt(), [2, 1, 0.5])
    try expectTensor(p.reciprocal(), [4, 1, 0.25])
    try expectTensor(p.log(), [Foundation.log(0.25), 0, Foundation.log(4)], tolerance: 1e-12)
    try expectTensor(p.log1p(), [Foundation.log(1.25), Foundation.log(2), Foundation.log(5)], tolerance: 1e-12)
    // Rounding: floor, ceil, and round-half-to-even.
    let r = try Tensor([-1.5, -0.5, 0.5, 1.5, 2.5, 2.7] as [Float])
    #expect(try r.floor().toArray(Float.self) == [-2, -1, 0, 1, 2, 2])
    #expect(try r.ceil().toArray(Float.self) == [-1, 0, 1, 2, 3, 3])
    #expect(try r.rounded().toArray(Float.self) == [-2, 0, 0, 2, 2, 3])
    let special = try Tensor([1, .infinity, -.infinity, .nan] as [Float])
    #expect(try special.isFinite().toArray(Bool.self) == [true, false, false, false])
    #expect(try special.isNaN().toArray(Bool.self) == [false, false, false, true])
  }

  @Test func softplus() throws {
    let x = try Tensor([-3, 0, 1, 30] as [Double])
    // log(1 + e^x); beyond the threshold (x * beta > 20) softplus is the identity.
    try expectTensor(x.softplus(), [Foundation.log1p(exp(-3)), Foundation.log(2), Foundation.log1p(exp(1)), 30],
                     tolerance: 1e-12)
    // beta = 2: log(1 + e^{2x}) / 2
    try expectTensor(x.softplus(beta: 2), [Foundation.log1p(exp(-6)) / 2, Foundation.log(2) / 2,
                                           Foundation.log1p(exp(2)) / 2, 30], tolerance: 1e-12)
    // A low threshold makes x = 1 linear as well.
    try expectTensor(x.softplus(beta: 1, threshold: 0.5), [Foundation.log1p(exp(-3)), Foundation.log(2), 1, 30],
                     tolerance: 1e-12)
  }

  @Test func clampWhereMinimumMaximum() throws {
    let x = try Tensor([-3, -1, 0, 2, 5] as [Float])
    #expect(try x.clamped(min: -1, max: 2).toArray(Float.self) == [-1, -1, 0, 2, 2])
    #expect(try x.clamped(min: 0).toArray(Float.self) == [0, 0, 0, 2, 5])
    #expect(try x.clamped(max: 0).toArray(Float.self) == [-3, -1, 0, 0, 0])
    let lo = try Tensor([-2, 0, 0, 0, 0] as [Float])
    let hi = try Tensor([0, 0, 1, 1, 4] as [Float])
    #expect(try x.clamped(min: lo, max: hi).toArray(Float.self) == [-2, 0, 0, 1, 4])
    #expect(try x.clamped(min: lo, max: nil).toArray(Float.self) == [-2, 0, 0, 2, 5])
    #expect(try x.clamped(min: nil, max: hi).toArray(Float.self) == [-3, -1, 0, 1, 4])
    let y = try Tensor([1, -2, 1, 1, 9] as [Float])
    #expect(try x.maximum(y).toArray(Float.self) == [1, -1, 1, 2, 9])
    #expect(try x.minimum(y).toArray(Float.self) == [-3, -2, 0, 1, 5])
    let w = try Tensor.where(x .> 0, x, y * 100)
    #expect(try w.toArray(Float.self) == [100, -200, 100, 2, 5])
    #expect(try x.maskedFill(x .< 0, 7).toArray(Float.self) == [7, 7, 0, 2, 5])
  }

  @Test func addScaledAndLerp() throws {
    let a = try Tensor([1, 2] as [Float])
    let b = try Tensor([10, 20] as [Float])
    #expect(try a.adding(b, scaledBy: -0.5).toArray(Float.self) == [-4, -8])
    #expect(try a.lerp(to: b, weight: 0.25).toArray(Float.self) == [3.25, 6.5])
  }

  @Test func matmul() throws {
    // [[1,2,3],[4,5,6]] x [[7,8],[9,10],[11,12]] = [[58,64],[139,154]]
    let a = try Tensor([1, 2, 3, 4, 5, 6] as [Float], shape: [2, 3])
    let b = try Tensor([7, 8, 9, 10, 11, 12] as [Float], shape: [3, 2])
    let c = try a.matmul(b)
    #expect(c.shape == [2, 2])
    #expect(try c.toArray(Float.self) == [58, 64, 139, 154])
    // matrix x vector
    let v = try a.matmul(Tensor([1, 0, -1] as [Float]))
    #expect(v.shape == [2])
    #expect(try v.toArray(Float.self) == [-2, -2])
    // batched: [[1,2],[3,4]] and [[0,1],[1,0]] each times [[1,1],[0,1]]
    let batch = try Tensor([1, 2, 3, 4, 0, 1, 1, 0] as [Float], shape: [2, 2, 2])
    let m = try Tensor([1, 1, 0, 1] as [Float], shape: [2, 2])
    let bm = try batch.matmul(m)
    #expect(bm.shape == [2, 2, 2])
    #expect(try bm.toArray(Float.self) == [1, 3, 3, 7, 0, 1, 1, 1])
    // float64
    let d = try Tensor([0.5, 0.25] as [Double], shape: [1, 2]).matmul(Tensor([2, 4] as [Double], shape: [2, 1]))
    #expect(try d.item() == 2)
  }

  @Test func allClose() throws {
    let a = try Tensor([1, 2] as [Double])
    #expect(try a.allClose(Tensor([1, 2 + 1e-9] as [Double])))
    #expect(try !a.allClose(Tensor([1, 2.01] as [Double])))
    #expect(try a.allClose(Tensor([1, 2.01] as [Double]), rtol: 0, atol: 0.02))
  }

  @Test func inPlaceUpdates() throws {
    let x = try Tensor([1, 2, 3] as [Float])
    try x.add_(Tensor([1, 1, 1] as [Float]), alpha: 2)
    #expect(try x.toArray(Float.self) == [3, 4, 5])
    try x.add_(0.5)
    #expect(try x.toArray(Float.self) == [3.5, 4.5, 5.5])
    try x.sub_(Tensor([0.5, 0.5, 0.5] as [Float]))
    #expect(try x.toArray(Float.self) == [3, 4, 5])
    try x.mul_(Tensor([2, 0, -1] as [Float]))
    #expect(try x.toArray(Float.self) == [6, 0, -5])
    try x.mul_(0.5)
    #expect(try x.toArray(Float.self) == [3, 0, -2.5])
    try x.div_(Tensor([3, 1, -0.5] as [Float]))
    #expect(try x.toArray(Float.self) == [1, 0, 5])
    try x.clamp_(min: 0.5, max: 2)
    #expect(try x.toArray(Float.self) == [1, 0.5, 2])
    // copy_ converts dtype and broadcasts.
    try x.copy_(Tensor([7] as [Int64]))
    #expect(try x.toArray(Float.self) == [7, 7, 7])
    try x.copy_(Tensor([1.5, 2.5, 3.5] as [Double]))
    #expect(try x.toArray(Float.self) == [1.5, 2.5, 3.5])
    try x.fill_(-4)
    #expect(try x.toArray(Float.self) == [-4, -4, -4])
    try x.zero_()
    #expect(try x.toArray(Float.self) == [0, 0, 0])
    #expect(x.dtype == .float32)
    #expect(x.shape == [3])
  }

  @Test func inPlaceUpdateThroughAView() throws {
    let x = try Tensor.zeros([2, 3])
    let row = try x[1]
    try row.add_(Tensor([1, 2, 3] as [Float]))
    try row.mul_(10)
    #expect(try x.toArray(Float.self) == [0, 0, 0, 10, 20, 30])
    let col = try x.slice(dim: 1, 2, 3)
    try col.clamp_(min: 1, max: 25)
    #expect(try x.toArray(Float.self) == [0, 0, 1, 10, 20, 25])
  }

  @Test func inPlaceShapeMismatchThrows() throws {
    let x = try Tensor.zeros([3])
    expectTorchError(containing: "doesn't match the broadcast shape") { try x.add_(Tensor.ones([2, 3])) }
    #expect(try x.toArray(Float.self) == [0, 0, 0])
  }
}
