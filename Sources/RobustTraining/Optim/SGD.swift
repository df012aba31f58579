import Torch

/// Stochastic gradient descent with momentum, dampening, Nesterov and weight decay, step for
/// step the same update as `torch.optim.SGD`:
///
///     d = g + weightDecay * p
///     b = d                                  (first step)
///     b = momentum * b + (1 - dampening) * d (later steps)
///     d = nesterov ? d + momentum * b : b
///     p = p - lr * d
///
/// Gradients come from each parameter's `.grad`, or are passed to `step(gradients:)` directly
/// (AGR reconstructs them). All updates are multi-tensor operations with no host synchronisation.
public final class SGD {
  public let parameters: [Tensor]
  public var learningRate: Double
  public let momentum: Double
  public let dampening: Double
  public let weightDecay: Double
  public let nesterov: Bool
  /// One momentum buffer per parameter, created on the first step that parameter gets a gradient.
  public private(set) var momentumBuffers: [Tensor?]

  public init(parameters: [Tensor], learningRate: Double, momentum: Double = 0, dampening: Double = 0,
              weightDecay: Double = 0, nesterov: Bool = false) throws
  {
    guard learningRate >= 0 else { throw TorchError("SGD: invalid learning rate \(learningRate)") }
    guard momentum >= 0 else { throw TorchError("SGD: invalid momentum \(momentum)") }
    guard weightDecay >= 0 else { throw TorchError("SGD: invalid weight decay \(weightDecay)") }
    guard !nesterov || (momentum > 0 && dampening == 0) else {
      throw TorchError("SGD: Nesterov momentum requires a momentum and zero dampening")
    }
    self.parameters = parameters
    self.learningRate = learningRate
    self.momentum = momentum
    self.dampening = dampening
    self.weightDecay = weightDecay
    self.nesterov = nesterov
    momentumBuffers = Array(repeating: nil, count: parameters.count)
  }

  /// Clears every parameter's `.grad`.
  public func zeroGrad() throws {
    for p in parameters { try p.setGrad(nil) }
  }

  /// One update from the parameters' `.grad` (parameters without a gradient are skipped).
  public func step() throws {
    try step(gradients: parameters.map(\.grad))
  }

  /// One update from explicit gradients, aligned with `parameters` (nil: skip that parameter).
  public func step(gradients: [Tensor?]) throws {
    guard gradients.count == parameters.count else {
      throw TorchError("SGD.step: \(gradients.count) gradients for \(parameters.count) parameters")
    }
    let active = gradients.indices.filter { gradients[$0] != nil }
    guard !active.isEmpty else { return }
    let params = active.map { parameters[$0] }
    var directions = active.map { gradients[$0]! }
    try Autograd.withNoGrad {
      if weightDecay != 0 { directions = try Foreach.add(directions, params, alpha: weightDecay) }
      if momentum != 0 {
        let fresh = active.filter { momentumBuffers[$0] == nil }
        for i in fresh {
          momentumBuffers[i] = try directions[active.firstIndex(of: i)!].detached().clone()
        }
        let continuing = active.enumerated().filter { !fresh.contains($0.element) }
        if !continuing.isEmpty {
          let buffers = continuing.map { momentumBuffers[$0.element]! }
          try Foreach.mul_(buffers, momentum)
          try Foreach.add_(buffers, continuing.map { directions[$0.offset] }, alpha: 1 - dampening)
        }
        let buffers = active.map { momentumBuffers[$0]! }
        directions = nesterov ? try Foreach.add(directions, buffers, alpha: momentum) : buffers
      }
      try Foreach.add_(params, directions, alpha: -learningRate)
    }
  }

  /// Restores momentum buffers (e.g. from a checkpoint); nil entries mean "no buffer yet".
  public func setMomentumBuffers(_ buffers: [Tensor?]) throws {
    guard buffers.count == parameters.count else {
      throw TorchError("SGD: \(buffers.count) momentum buffers for \(parameters.count) parameters")
    }
    for (b, p) in zip(buffers, parameters) {
      if let b, b.shape != p.shape {
        throw TorchError("SGD: momentum buffer of shape \(b.shape) for a parameter of shape \(p.shape)")
      }
    }
    momentumBuffers = buffers
  }
}
