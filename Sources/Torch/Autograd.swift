import CTorch

extension Tensor {
  /// Whether autograd records operations on this tensor.
  public var requiresGrad: Bool {
    var out: Int32 = 0
    return ctorch_grad_requires_grad(handle, &out) == 0 && out != 0
  }

  public var isLeaf: Bool {
    var out: Int32 = 0
    return ctorch_grad_is_leaf(handle, &out) == 0 && out != 0
  }

  /// Turns gradient recording on or off for this (leaf) tensor; returns self.
  @discardableResult
  public func requiresGrad(_ on: Bool) throws -> Tensor {
    try check(ctorch_grad_set_requires_grad(handle, on ? 1 : 0))
    return self
  }

  /// The accumulated gradient (`.grad`), nil when none was computed.
  public var grad: Tensor? {
    var out: OpaquePointer?
    guard ctorch_grad_get(handle, &out) == 0, let h = out else { return nil }
    return Tensor(handle: h)
  }

  /// Replaces (or with nil, clears) the accumulated gradient.
  public func setGrad(_ gradient: Tensor?) throws {
    try withExtendedLifetime(gradient) { try check(ctorch_grad_set(handle, gradient?.handle)) }
  }

  /// Back-propagates from this tensor into the `.grad` of the leaves.
  public func backward(gradient: Tensor? = nil, retainGraph: Bool = false, createGraph: Bool = false) throws {
    try withExtendedLifetime(gradient) {
      try check(ctorch_grad_backward(handle, gradient?.handle, retainGraph ? 1 : 0, createGraph ? 1 : 0))
    }
  }
}

/// Gradient computation without touching `.grad` (PyTorch's `torch.autograd`).
public enum Autograd {
  /// The gradients of `outputs` with respect to `inputs`, like `torch.autograd.grad`.
  /// Entries are nil for inputs that `outputs` do not depend on when `allowUnused` is set.
  public static func grad(of outputs: [Tensor], wrt inputs: [Tensor], gradOutputs: [Tensor]? = nil,
                          retainGraph: Bool = false, createGraph: Bool = false, allowUnused: Bool = false) throws
    -> [Tensor?]
  {
    if let g = gradOutputs, g.count != outputs.count {
      throw TorchError("grad: \(g.count) grad_outputs for \(outputs.count) outputs")
    }
    var results = [OpaquePointer?](repeating: nil, count: inputs.count)
    try withHandles(outputs) { outs in
      try withHandles(inputs) { ins in
        try withHandles(gradOutputs ?? []) { gos in
          try check(results.withUnsafeMutableBufferPointer {
            ctorch_grad_grad(outs, Int64(outputs.count), gradOutputs == nil ? nil : gos, ins, Int64(inputs.count),
                             retainGraph ? 1 : 0, createGraph ? 1 : 0, allowUnused ? 1 : 0, $0.baseAddress)
          })
        }
      }
    }
    return results.map { $0.map(Tensor.init(handle:)) }
  }

  /// The gradient of a scalar `loss` with respect to each input (all must be used).
  public static func gradients(of loss: Tensor, wrt inputs: [Tensor], retainGraph: Bool = false) throws -> [Tensor] {
    try grad(of: [loss], wrt: inputs, retainGraph: retainGraph).map {
      guard let g = $0 else { throw TorchError("grad: an input is not part of the graph") }
      return g
    }
  }

  public static var isEnabled: Bool { ctorch_grad_is_enabled() != 0 }

  /// Runs `body` with gradient recording off (PyTorch's `torch.no_grad()`).
  public static func withNoGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = ctorch_grad_set_enabled(0)
    defer { _ = ctorch_grad_set_enabled(previous) }
    return try body()
  }

  /// Runs `body` with gradient recording on (inside a no-grad scope, for example).
  public static func withGrad<R>(_ body: () throws -> R) rethrows -> R {
    let previous = ctorch_grad_set_enabled(1)
    defer { _ = ctorch_grad_set_enabled(previous) }
    return try body()
  }
}
