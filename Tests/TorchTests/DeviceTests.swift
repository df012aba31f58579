// The CUDA entry points on this CPU-only machine, and CPU autocast to bfloat16.
import Testing
import Torch

@Suite struct CUDAOnCPUTests {
  @Test func cudaIsNotAvailable() {
    #expect(!CUDA.isAvailable)
    #expect(CUDA.deviceCount == 0)
  }

  @Test func loadThrowsAReadableError() throws {
    let message = expectTorchError(containing: "libtorch_cuda.so") { try CUDA.load() }
    #expect(message?.contains("Exception raised from") == false)
    // Asking again gives an error again (no crash, no half-loaded state).
    expectTorchError(containing: "libtorch_cuda.so") { try CUDA.load() }
    #expect(!CUDA.isAvailable)
    #expect(CUDA.deviceCount == 0)
    // CPU work continues.
    #expect(try (Tensor.ones([2]) * 3).sum().item() == 6)
  }

  @Test func cudaQueriesThrowWhenUnavailable() throws {
    expectTorchError(containing: "CUDA is not available") { _ = try CUDA.deviceName() }
    expectTorchError(containing: "CUDA is not available") { try CUDA.synchronize() }
    expectTorchError(containing: "CUDA is not available") { _ = try CUDA.memoryStats() }
    expectTorchError(containing: "CUDA is not available") { try CUDA.resetPeakMemory() }
    expectTorchError(containing: "CUDA is not available") { _ = try CUDA.runtimeVersion() }
  }

  /// The TF32 switches are global settings, usable (and PyTorch's defaults) without a GPU.
  @Test func tf32SwitchesDefaultLikePyTorchAndToggle() throws {
    let initial = try CUDA.tf32()
    #expect(initial.convolutions && !initial.matmuls)
    try CUDA.setTF32(convolutions: false, matmuls: false)
    #expect(try CUDA.tf32() == (false, false))
    try CUDA.setTF32(convolutions: true, matmuls: true)
    #expect(try CUDA.tf32() == (true, true))
    try CUDA.setTF32(convolutions: initial.convolutions, matmuls: initial.matmuls)
  }
}

@Suite struct AutocastTests {
  func operands() throws -> (Tensor, Tensor) {
    (try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]), try Tensor([1, 0, 0.5, 1] as [Float], shape: [2, 2]))
  }

  @Test func matmulUnderCPUAutocastIsBFloat16() throws {
    let (a, b) = try operands()
    #expect(try a.matmul(b).dtype == .float32)
    let inside = try Torch.withAutocast(device: .cpu, dtype: .bfloat16) { try a.matmul(b) }
    #expect(inside.dtype == .bfloat16)
    // [[1,2],[3,4]] x [[1,0],[0.5,1]] = [[2,2],[5,4]], exact in bfloat16.
    #expect(try inside.toArray(Float.self) == [2, 2, 5, 4])
    let after = try a.matmul(b)
    #expect(after.dtype == .float32)
    #expect(try after.toArray(Float.self) == [2, 2, 5, 4])
  }

  @Test func linearAndConvUnderAutocast() throws {
    let x = try Tensor.ones([1, 1, 3, 3])
    let w = try Tensor.ones([1, 1, 2, 2])
    let (conv, lin) = try Torch.withAutocast(device: .cpu) {
      (try Functional.conv2d(x, weight: w), try Functional.linear(Tensor.ones([2, 3]), weight: Tensor.ones([4, 3])))
    }
    #expect(conv.dtype == .bfloat16)
    #expect(lin.dtype == .bfloat16)
    #expect(try lin.toArray(Float.self) == Array(repeating: 3, count: 8))
    // Elementwise operations are not autocast.
    let sum = try Torch.withAutocast(device: .cpu) { try x + x }
    #expect(sum.dtype == .float32)
  }

  @Test func disabledAutocastRunsInFloat32() throws {
    let (a, b) = try operands()
    let r = try Torch.withAutocast(device: .cpu, enabled: false) { try a.matmul(b) }
    #expect(r.dtype == .float32)
  }

  @Test func nestedAutocastRestoresTheOuterScope() throws {
    let (a, b) = try operands()
    let (inner, afterInner) = try Torch.withAutocast(device: .cpu) {
      let inner = try Torch.withAutocast(device: .cpu) { try a.matmul(b) }
      return (inner, try a.matmul(b))
    }
    #expect(inner.dtype == .bfloat16)
    #expect(afterInner.dtype == .bfloat16)
    #expect(try a.matmul(b).dtype == .float32)
  }

  @Test func autocastEndsWhenTheBodyThrows() throws {
    let (a, b) = try operands()
    #expect(throws: TorchError.self) {
      try Torch.withAutocast(device: .cpu) { _ = try a.matmul(Tensor.ones([3, 3])) }
    }
    #expect(try a.matmul(b).dtype == .float32)
  }

  @Test func gradientsFlowThroughAutocast() throws {
    let w = try Tensor([1, 2, 3, 4] as [Float], shape: [2, 2]).requiresGrad(true)
    let x = try Tensor([1, 1] as [Float], shape: [1, 2])
    let y = try Torch.withAutocast(device: .cpu) { try x.matmul(w).sum() }
    try y.backward()
    let g = try #require(w.grad)
    // Gradients of a float32 leaf come back in float32: d/dw sum(x w) = x^T 1 = all ones.
    #expect(g.dtype == .float32)
    #expect(try g.toArray(Float.self) == [1, 1, 1, 1])
  }
}
