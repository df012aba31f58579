import Torch

/// A neural-network building block that owns parameters and buffers and may contain other
/// modules. Names join with "." exactly as PyTorch's `state_dict` keys do
/// (`layer1.0.conv1.weight`, `bn.running_mean`), so checkpoints interoperate.
///
/// Conformers list their own tensors and direct children; everything recursive
/// (named parameters, state dicts, train/eval switching, device moves) comes from the extension.
public protocol Module: AnyObject {
  /// Direct sub-modules, in PyTorch's registration order.
  var children: [(name: String, module: any Module)] { get }
  /// This module's own trainable tensors (not its children's).
  var ownParameters: [(name: String, tensor: Tensor)] { get }
  /// This module's own non-trainable state (BatchNorm running statistics).
  var ownBuffers: [(name: String, tensor: Tensor)] { get }
  /// Training mode: BatchNorm uses batch statistics and updates running ones.
  var isTraining: Bool { get set }
}

extension Module {
  public var children: [(name: String, module: any Module)] { [] }
  public var ownParameters: [(name: String, tensor: Tensor)] { [] }
  public var ownBuffers: [(name: String, tensor: Tensor)] { [] }

  /// Every parameter with its dotted name, in PyTorch's `named_parameters()` order.
  public func namedParameters(prefix: String = "") -> [(name: String, tensor: Tensor)] {
    ownParameters.map { (prefix + $0.name, $0.tensor) }
      + children.flatMap { $0.module.namedParameters(prefix: prefix + $0.name + ".") }
  }

  /// Every buffer with its dotted name.
  public func namedBuffers(prefix: String = "") -> [(name: String, tensor: Tensor)] {
    ownBuffers.map { (prefix + $0.name, $0.tensor) }
      + children.flatMap { $0.module.namedBuffers(prefix: prefix + $0.name + ".") }
  }

  /// Parameters and buffers in PyTorch's `state_dict()` order (per module: parameters, then buffers).
  public func stateDict(prefix: String = "") -> [(name: String, tensor: Tensor)] {
    ownParameters.map { (prefix + $0.name, $0.tensor) } + ownBuffers.map { (prefix + $0.name, $0.tensor) }
      + children.flatMap { $0.module.stateDict(prefix: prefix + $0.name + ".") }
  }

  public var parameters: [Tensor] { namedParameters().map(\.tensor) }

  /// The number of trainable scalars.
  public var parameterCount: Int { parameters.reduce(0) { $0 + $1.count } }

  /// Sets training mode on this module and all below it.
  public func setTraining(_ on: Bool) {
    isTraining = on
    for child in children { child.module.setTraining(on) }
  }

  public func train() { setTraining(true) }
  public func eval() { setTraining(false) }

  /// Runs `body` in the given mode and restores each module's previous mode afterwards.
  public func withMode<R>(training: Bool, _ body: () throws -> R) rethrows -> R {
    let modules = allModules()
    let previous = modules.map(\.isTraining)
    for m in modules { m.isTraining = training }
    defer { for (m, p) in zip(modules, previous) { m.isTraining = p } }
    return try body()
  }

  /// This module and every module below it.
  public func allModules() -> [any Module] {
    [self] + children.flatMap { $0.module.allModules() }
  }

  /// Moves every parameter and buffer to `device` (and optionally a memory format), in place:
  /// the tensor objects keep their identity, so optimizers built before the move stay valid.
  public func move(to device: Device, memoryFormat: MemoryFormat? = nil) throws {
    try Autograd.withNoGrad {
      for (_, p) in namedParameters() {
        try p.assign(try Self.placed(p, device, memoryFormat).requiresGrad(true))
      }
      for (_, b) in namedBuffers() {
        try b.assign(try Self.placed(b, device, nil))
      }
    }
  }

  /// A new tensor object (detached) on `device`, in `format` when it is 4-D.
  private static func placed(_ t: Tensor, _ device: Device, _ format: MemoryFormat?) throws -> Tensor {
    let moved = try t.to(device).detached()
    guard let format, moved.rank == 4 else { return moved }
    return try moved.contiguous(format)
  }
}

/// A module that maps a batch of images in [0, 1] (N, C, H, W) to class logits (N, classes).
public protocol Classifier: Module {
  var classCount: Int { get }
  func callAsFunction(_ images: Tensor) throws -> Tensor
}
