// Autograd: gradients against central finite differences (float64), and the semantics of
// grad(of:wrt:), backward, no-grad scopes, retainGraph and createGraph.
import Testing
import Torch

@Suite struct FiniteDifferenceTests {
  @Test func conv2dGradients() throws {
    let x = try fixedTensor([2, 2, 4, 4], seed: 1)
    let w = try fixedTensor([3, 2, 3, 3], seed: 2)
    let b = try fixedTensor([3], seed: 3)
    let mix = try fixedTensor([2, 3, 2, 2], seed: 4)  // weights the outputs so that no gradient is trivial
    try expectGradientsMatchFiniteDifferences([x, w, b]) { v in
      try (Functional.conv2d(v[0], weight: v[1], bias: v[2], stride: 2, padding: 1) * mix).sum()
    }
  }

  @Test func batchNormTrainingGradients() throws {
    let x = try fixedTensor([4, 3, 2, 2], seed: 5)
    let w = try fixedTensor([3], seed: 6)
    let b = try fixedTensor([3], seed: 7)
    let mix = try fixedTensor([4, 3, 2, 2], seed: 8)  // sum(BN(x)) alone would not depend on x
    try expectGradientsMatchFiniteDifferences([x, w, b]) { v in
      try (Functional.batchNorm(v[0], weight: v[1], bias: v[2], runningMean: nil, runningVar: nil,
                                training: true) * mix).sum()
    }
  }

  @Test func linearGradients() throws {
    let x = try fixedTensor([3, 4], seed: 9)
    let w = try fixedTensor([5, 4], seed: 10)
    let b = try fixedTensor([5], seed: 11)
    let mix = try fixedTensor([3, 5], seed: 12)
    try expectGradientsMatchFiniteDifferences([x, w, b]) { v in
      try (Functional.linear(v[0], weight: v[1], bias: v[2]) * mix).sum()
    }
  }

  @Test func crossEntropyGradients() throws {
    let logits = try fixedTensor([4, 5], seed: 13) * 3
    let labels = try Tensor([0, 3, 4, 3] as [Int64])
    try expectGradientsMatchFiniteDifferences([logits]) { v in try Functional.crossEntropy(v[0], labels) }
    try expectGradientsMatchFiniteDifferences([logits]) { v in
      try Functional.crossEntropy(v[0], labels, reduction: .sum, labelSmoothing: 0.2)
    }
  }

  @Test func klDivGradients() throws {
    let input = try Functional.logSoftmax(fixedTensor([3, 4], seed: 14) * 2)
    let target = try Functional.softmax(fixedTensor([3, 4], seed: 15) * 2)
    try expectGradientsMatchFiniteDifferences([input, target]) { v in try Functional.klDiv(v[0], v[1]) }
    // Through log_softmax from raw logits, with a log-space target.
    let logits = try fixedTensor([3, 4], seed: 16)
    let logTarget = try Functional.logSoftmax(fixedTensor([3, 4], seed: 17))
    try expectGradientsMatchFiniteDifferences([logits, logTarget]) { v in
      try Functional.klDiv(Functional.logSoftmax(v[0]), v[1], logTarget: true)
    }
  }

  @Test func softplusGradients() throws {
    let x = try fixedTensor([10], seed: 18) * 4
    try expectGradientsMatchFiniteDifferences([x]) { v in try (v[0].softplus() * v[0]).sum() }
    try expectGradientsMatchFiniteDifferences([x]) { v in try (v[0].softplus(beta: 2.5) * v[0]).sum() }
  }

  @Test func powerGradientByHand() throws {
    // d/dx sum(x^3) = 3x^2, by hand.
    let x = try Tensor([0.5, -1.5, 2] as [Double])
    try x.requiresGrad(true)
    let g = try Autograd.gradients(of: x.pow(3).sum(), wrt: [x])[0]
    try expectTensor(g, [0.75, 6.75, 12], tolerance: 1e-12)
  }
}

@Suite struct AutogradSemanticsTests {
  @Test func leafFlags() throws {
    let x = try Tensor([1, 2] as [Double])
    #expect(!x.requiresGrad)
    #expect(x.isLeaf)
    try x.requiresGrad(true)
    #expect(x.requiresGrad)
    let y = try x * 2
    #expect(y.requiresGrad)
    #expect(!y.isLeaf)
    let d = try y.detached()
    #expect(!d.requiresGrad)
    #expect(d.isLeaf)
    #expect(try d.toArray(Double.self) == [2, 4])
  }

  @Test func gradLeavesDotGradUntouched() throws {
    let a = try Tensor([1, 2, 3] as [Double]).requiresGrad(true)
    let b = try Tensor([4, 5, 6] as [Double]).requiresGrad(true)
    try b.setGrad(Tensor([7, 7, 7] as [Double]))
    let loss = try (a * b).sum()
    let grads = try Autograd.grad(of: [loss], wrt: [a])
    #expect(grads.count == 1)
    try expectTensor(#require(grads[0]), [4, 5, 6])
    // Neither the input's nor the other leaf's .grad is written.
    #expect(a.grad == nil)
    try expectTensor(#require(b.grad), [7, 7, 7])
  }

  @Test func gradWithRespectToSeveralInputs() throws {
    let a = try Tensor([1, 2] as [Double]).requiresGrad(true)
    let b = try Tensor([3, 4] as [Double]).requiresGrad(true)
    let (ga, gb) = try { () throws -> (Tensor, Tensor) in
      let g = try Autograd.gradients(of: (a * a * b).sum(), wrt: [a, b])
      return (g[0], g[1])
    }()
    try expectTensor(ga, [6, 16])  // 2ab
    try expectTensor(gb, [1, 4])  // a^2
    #expect(a.grad == nil && b.grad == nil)
  }

  @Test func gradOutputsWeightTheOutputs() throws {
    let x = try Tensor([1, 2, 3] as [Double]).requiresGrad(true)
    let y = try x * x
    let g = try Autograd.grad(of: [y], wrt: [x], gradOutputs: [Tensor([1, 10, 100] as [Double])])
    try expectTensor(#require(g[0]), [2, 40, 600])
    expectTorchError(containing: "grad_outputs") {
      _ = try Autograd.grad(of: [y], wrt: [x], gradOutputs: [])
    }
  }

  @Test func allowUnused() throws {
    let x = try Tensor([1] as [Double]).requiresGrad(true)
    let unused = try Tensor([1] as [Double]).requiresGrad(true)
    let y = try (x * 3).sum()
    let g = try Autograd.grad(of: [y], wrt: [x, unused], retainGraph: true, allowUnused: true)
    try expectTensor(#require(g[0]), [3])
    #expect(g[1] == nil)
    expectTorchError(containing: "appears to not have been used in the graph") {
      _ = try Autograd.grad(of: [y], wrt: [x, unused])
    }
  }

  @Test func backwardAccumulatesIntoGrad() throws {
    let x = try Tensor([1, -2] as [Double]).requiresGrad(true)
    try (x * x).sum().backward()
    try expectTensor(#require(x.grad), [2, -4])
    try (x * x).sum().backward()
    try expectTensor(#require(x.grad), [4, -8])
    try (x * 3).sum().backward()
    try expectTensor(#require(x.grad), [7, -5])
    try x.setGrad(nil)
    #expect(x.grad == nil)
    try (x * 3).sum().backward()
    try expectTensor(#require(x.grad), [3, 3])
  }

  @Test func backwardWithExplicitGradient() throws {
    let x = try Tensor([1, 2] as [Double]).requiresGrad(true)
    let y = try x * x
    expectTorchError(containing: "grad can be implicitly created only for scalar outputs") { try y.backward() }
    try y.backward(gradient: Tensor([1, 0.5] as [Double]))
    try expectTensor(#require(x.grad), [2, 2])
  }

  @Test func noGradStopsRecording() throws {
    let x = try Tensor([1, 2] as [Double]).requiresGrad(true)
    #expect(Autograd.isEnabled)
    let y = try Autograd.withNoGrad { () throws -> Tensor in
      #expect(!Autograd.isEnabled)
      // withGrad re-enables inside.
      let inner = try Autograd.withGrad { () throws -> Tensor in
        #expect(Autograd.isEnabled)
        return try x * 2
      }
      #expect(inner.requiresGrad)
      #expect(!Autograd.isEnabled)
      return try x * 2
    }
    #expect(Autograd.isEnabled)
    #expect(!y.requiresGrad)
    #expect(y.isLeaf)
    try expectTensor(y, [2, 4])
    expectTorchError(containing: "does not require grad") { try y.sum().backward() }
    // The scope is restored when the body throws.
    #expect(throws: TorchError.self) {
      try Autograd.withNoGrad { _ = try x.matmul(x.reshaped([2, 1, 1])) }
    }
    #expect(Autograd.isEnabled)
  }

  @Test func inPlaceUpdateUnderNoGradKeepsLeaf() throws {
    // An optimizer step: update a leaf in place without recording.
    let w = try Tensor([1, 2] as [Double]).requiresGrad(true)
    try (w * w).sum().backward()
    let g = try #require(w.grad)
    try Autograd.withNoGrad { try w.add_(g, alpha: -0.25) }
    #expect(w.isLeaf && w.requiresGrad)
    try expectTensor(w, [0.5, 1])
    expectTorchError(containing: "a leaf Variable that requires grad is being used in an in-place operation") {
      try w.add_(1)
    }
  }

  @Test func retainGraphAllowsASecondPass() throws {
    let x = try Tensor([3] as [Double]).requiresGrad(true)
    let y = try (x * x * x).sum()
    let g1 = try Autograd.grad(of: [y], wrt: [x], retainGraph: true)
    let g2 = try Autograd.grad(of: [y], wrt: [x])
    try expectTensor(#require(g1[0]), [27])
    try expectTensor(#require(g2[0]), [27])
    // Without retainGraph the graph's buffers are freed after one pass.
    expectTorchError(containing: "Trying to backward through the graph a second time") {
      _ = try Autograd.grad(of: [y], wrt: [x])
    }
    let z = try (x * x * x).sum()
    try z.backward(retainGraph: true)
    try z.backward()
    try expectTensor(#require(x.grad), [54])
  }

  @Test func createGraphGivesSecondDerivatives() throws {
    // f = x^3: f' = 3x^2 = 27, f'' = 6x = 18 at x = 3.
    let x = try Tensor([3] as [Double]).requiresGrad(true)
    let y = try x.pow(3).sum()
    let first = try #require(Autograd.grad(of: [y], wrt: [x], createGraph: true)[0])
    try expectTensor(first, [27], tolerance: 1e-12)
    #expect(first.requiresGrad)
    let second = try #require(Autograd.grad(of: [first.sum()], wrt: [x])[0])
    try expectTensor(second, [18], tolerance: 1e-12)
    // Without createGraph the first derivative is a constant.
    let y2 = try x.pow(3).sum()
    let plain = try #require(Autograd.grad(of: [y2], wrt: [x])[0])
    #expect(!plain.requiresGrad)
    // backward(createGraph:) also records: the .grad can be differentiated again.
    let z = try (x * x).sum()
    try z.backward(createGraph: true)
    let gx = try #require(x.grad)
    #expect(gx.requiresGrad)
    let hx = try #require(Autograd.grad(of: [gx.sum()], wrt: [x])[0])
    try expectTensor(hx, [2])
    try x.setGrad(nil)  // breaks the parameter <-> gradient reference cycle createGraph makes
  }
}
