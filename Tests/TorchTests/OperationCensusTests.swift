import Testing

@testable import Torch

/// The operation census counts the ATen operations that do work: one per kernel-like operation,
/// wrappers and views not at all, a multi-tensor operation once.
@Suite(.serialized) struct OperationCensusTests {
  @Test func countsWorkNotViewsOrWrappers() throws {
    let a = try Tensor.ones([4, 3])
    let b = try Tensor.ones([4, 3])
    let (_, census) = try OperationCensus.count {
      _ = try a + b  // aten::add
      _ = try a.reshaped([12])  // a view: nothing
      _ = try a.clone()  // aten::clone -> empty_like + copy_: one copy_
      _ = try a.sum().item()  // a reduction (counted once: on a CPU by its dispatched fill_), a value read back
    }
    #expect(census.operations["aten::add"] == 1)
    #expect(census.operations["aten::copy_"] == 1 && census.operations["aten::clone"] == nil)
    #expect(census.operations["aten::view"] == nil && census.operations["aten::empty_like"] == nil)
    #expect(census.hostReads == 1)
    #expect(census.kernels == 4, "\(census.operations)")
    #expect(census.dispatched > census.kernels)
  }

  @Test func aMultiTensorOperationCountsOnce() throws {
    let xs = try (0..<5).map { _ in try Tensor.ones([3]) }
    let (_, census) = try OperationCensus.count { try Foreach.add_(xs, xs) }
    #expect(census.kernels == 1, "\(census.operations)")
  }

  @Test func aMultiTensorOperationOffTheFusedRouteCountsPerTensor() throws {
    // Lists of equally shaped pairs (the tensors themselves of different shapes): CUDA's fused route, one.
    let xs = [try Tensor.ones([3]), try Tensor.ones([2, 2]), try Tensor.ones([4])]
    let (_, fused) = try OperationCensus.count { _ = try Foreach.add(xs, xs) }
    #expect(fused.kernels == 1, "\(fused.operations)")
    // One 0-dim factor per tensor: no fused route on a GPU either, one multiply per tensor.
    let scales = try Tensor([Float(1), 2, 3])
    let (_, perTensor) = try OperationCensus.count { _ = try Foreach.mul(xs, scales: scales) }
    #expect(perTensor.kernels == 3, "\(perTensor.operations)")
  }

  @Test func aFailingBodyClosesTheCensus() throws {
    #expect(throws: (any Error).self) {
      _ = try OperationCensus.count { _ = try Tensor.ones([2]) + (try Tensor.ones([3])) }
    }
    let (_, census) = try OperationCensus.count { _ = try Tensor.ones([2]) * 2 }
    // ones (a fill) and the product: two, whatever helper names the product is counted under
    #expect(census.kernels == 2, "\(census.operations)")
  }
}
