// Error paths: libtorch failures come back as a thrown TorchError carrying libtorch's own
// message (without the C++ backtrace), and the process carries on normally afterwards.
import Testing
import Torch

@Suite struct ErrorTests {
  /// A normal operation after a failure, to show the engine is still usable.
  func expectEngineStillWorks(sourceLocation: SourceLocation = #_sourceLocation) throws {
    let r = try Tensor([1, 2] as [Float], shape: [1, 2]).matmul(Tensor([3, 4] as [Float], shape: [2, 1]))
    #expect(try r.item() == 11, sourceLocation: sourceLocation)
  }

  @Test func matmulShapeMismatch() throws {
    let a = try Tensor.ones([2, 3])
    let message = expectTorchError(containing: "mat1 and mat2 shapes cannot be multiplied (2x3 and 2x3)") {
      _ = try a.matmul(a)
    }
    // The C++ backtrace libtorch appends is cut off.
    #expect(message?.contains("Exception raised from") == false)
    try expectEngineStillWorks()
  }

  @Test func broadcastShapeMismatch() throws {
    expectTorchError(containing: "The size of tensor a (3) must match the size of tensor b (2) at non-singleton dimension 0") {
      _ = try Tensor.ones([3]) + Tensor.ones([2])
    }
    try expectEngineStillWorks()
  }

  @Test func crossEntropyWithFloatLabels() throws {
    let logits = try Tensor.zeros([2, 3])
    let floatLabels = try Tensor([0, 2] as [Float])
    expectTorchError(containing: "expected scalar type Long but found Float") {
      _ = try Functional.crossEntropy(logits, floatLabels)
    }
    // The same labels as int64 work.
    let loss = try Functional.crossEntropy(logits, floatLabels.to(.int64))
    #expect(Swift.abs(try loss.item() - 1.0986123) < 1e-6)  // log 3
    try expectEngineStillWorks()
  }

  @Test func labelOutOfRange() throws {
    expectTorchError(containing: "out of bounds") {
      _ = try Functional.crossEntropy(Tensor.zeros([2, 3]), Tensor([0, 3] as [Int64]))
    }
    try expectEngineStillWorks()
  }

  @Test func conv2dChannelMismatch() throws {
    let x = try Tensor.zeros([1, 3, 5, 5])
    let w = try Tensor.zeros([4, 2, 3, 3])
    expectTorchError(containing: "expected input[1, 3, 5, 5] to have 2 channels, but got 3 channels instead") {
      _ = try Functional.conv2d(x, weight: w)
    }
    try expectEngineStillWorks()
  }

  @Test func cudaTensorOnACPUMachine() throws {
    try #require(!CUDA.isAvailable)
    // Without libtorch_cuda.so loaded, libtorch has no CUDA kernels: "Could not run
    // 'aten::empty.memory_format' with arguments from the 'CUDA' backend...". Where the CUDA
    // libraries load but no driver exists, libtorch says instead that it found no NVIDIA driver.
    let cudaFragments = ["with arguments from the 'CUDA' backend", "NVIDIA driver"]
    expectTorchError(containingAny: cudaFragments) { _ = try Tensor.zeros([2], device: .cuda(0)) }
    expectTorchError(containingAny: cudaFragments) { _ = try Tensor([1, 2] as [Float], device: .cuda(0)) }
    expectTorchError(containingAny: cudaFragments) { _ = try Tensor.ones([2]).to(.cuda(0)) }
    expectTorchError(containingAny: ["Cannot get CUDA generator without ATen_cuda library", "NVIDIA driver"]) {
      _ = try Generator(seed: 1, device: .cuda(0))
    }
    try expectEngineStillWorks()
  }

  @Test func otherLibtorchErrors() throws {
    let x = try Tensor.arange(0, 3)
    expectTorchError(containing: "index 5 out of range for tensor of size [3] at dimension 0") { _ = try x.select(dim: 0, 5) }
    expectTorchError(containing: "Dimension out of range") { _ = try x.sum(dims: [2]) }
    expectTorchError(containing: "mean(): could not infer output dtype") { _ = try x.mean() }
    expectTorchError(containing: "does not match the length of the desired ordering of dimensions") { _ = try x.permuted([0, 1]) }
    try expectEngineStillWorks()
  }

  @Test func failuresDoNotLeakTensors() throws {
    let a = try Tensor.ones([2, 3])
    let before = Torch.liveTensorCount
    for _ in 0..<100 {
      _ = try? a.matmul(a)
      _ = try? Functional.crossEntropy(a, a)
      _ = try? a.sorted(dim: 5)
      _ = try? Foreach.add([a], [Tensor.ones([5])])
    }
    #expect(Torch.liveTensorCount == before)
  }

  @Test func errorsAreEquatableValues() {
    let e = TorchError("boom")
    #expect(e.message == "boom")
    #expect(e.description == "boom")
    #expect(e == TorchError("boom"))
  }

  @Test func deviceParsing() throws {
    #expect(try Device(parsing: "cpu") == .cpu)
    #expect(try Device(parsing: "CUDA") == .cuda(0))
    #expect(try Device(parsing: "cuda:3") == .cuda(3))
    #expect(Device.cuda(1).description == "cuda:1")
    #expect(Device.cuda(1).isCUDA && !Device.cpu.isCUDA)
    expectTorchError(containing: "unknown device 'tpu'") { _ = try Device(parsing: "tpu") }
    expectTorchError(containing: "unknown device") { _ = try Device(parsing: "cuda:-1") }
  }
}
