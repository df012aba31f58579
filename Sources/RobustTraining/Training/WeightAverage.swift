import Foundation
import Torch

/// An exponential moving average of a model's weights (Gowal et al., 2020): after every optimizer step,
/// avg <- d * avg + (1 - d) * w for the parameters and floating-point buffers, with d = min(decay,
/// (1 + t) / (10 + t)) at update t (the warm-up of TensorFlow's ExponentialMovingAverage, so the first
/// averages are not held back by the initial weights); integer buffers (BatchNorm's batch counter) are
/// copied. The averages live beside the model, on its device, under its `stateDict()` names.
public final class WeightAverage {
  public let decay: Double
  /// Updates so far (the t of the warm-up).
  public private(set) var updates = 0
  let names: [String]
  let targets: [Tensor]
  public let averages: [Tensor]
  private let averaged: [Int]  // indices of the floating-point entries
  private let copied: [Int]

  public init(model: any Module, decay: Double) throws {
    guard decay > 0, decay < 1 else { throw ConfigurationError(key: "weight_averaging", "the decay must lie in (0, 1), got \(decay)") }
    self.decay = decay
    let state = model.stateDict()
    let tensors = state.map(\.tensor)
    names = state.map(\.name)
    targets = tensors
    averages = try Autograd.withNoGrad { try tensors.map { try $0.detached().clone() } }
    averaged = tensors.indices.filter { tensors[$0].dtype.isFloatingPoint }
    copied = tensors.indices.filter { !tensors[$0].dtype.isFloatingPoint }
  }

  /// The decay of update `t` (1-based).
  public func decay(atUpdate t: Int) -> Double { Swift.min(decay, Double(1 + t) / Double(10 + t)) }

  /// Folds the model's current weights into the averages (no host waits).
  public func update() throws {
    updates += 1
    let d = decay(atUpdate: updates)
    try Autograd.withNoGrad {
      let averages = averaged.map { self.averages[$0] }
      try Foreach.mul_(averages, d)
      try Foreach.add_(averages, averaged.map { try targets[$0].detached() }, alpha: 1 - d)
      if !copied.isEmpty { try Foreach.copy_(copied.map { self.averages[$0] }, from: copied.map { targets[$0] }) }
    }
  }

  /// Runs `body` with the averages in the model's tensors (in place: the tensors keep their identity, so
  /// recorded CUDA graphs stay valid), and puts the model's own weights back afterwards.
  public func withAveragedWeights<R>(_ body: () throws -> R) throws -> R {
    let saved = try Autograd.withNoGrad { try targets.map { try $0.detached().clone() } }
    try Autograd.withNoGrad { try Foreach.copy_(targets, from: averages) }
    let result = Result { try body() }
    try Autograd.withNoGrad { try Foreach.copy_(targets, from: saved) }
    return try result.get()
  }

  /// The averages as a state dict (PyTorch's names), e.g. for a checkpoint.
  public var stateDict: [(name: String, tensor: Tensor)] { Array(zip(names, averages)) }

  static let prefix = "average."

  func save(into state: inout TrainingState) throws {
    for (name, tensor) in stateDict { try state.setTensor(tensor, forKey: Self.prefix + name) }
    try state.setValue(updates, forKey: "average_updates")
  }

  func restore(from state: TrainingState) throws {
    let file = state.source
    let count = try state.value(Int.self, forKey: "average_updates")
    guard count >= 0 else { throw CheckpointError.badMetadata(file: file, key: "average_updates", detail: "\(count) < 0") }
    let stored = SafeTensors(tensors: state.tensors.filter { $0.name.hasPrefix(Self.prefix) }
      .map { (name: String($0.name.dropFirst(Self.prefix.count)), tensor: $0.tensor) })
    let pairs = try ModuleCheckpoint.matched(stateDict, with: stored, path: file)
    try Autograd.withNoGrad { for (destination, source) in pairs { try destination.copy_(source) } }
    updates = count
  }
}
