import Foundation
import Torch

/// Adam with decoupled weight decay (Loshchilov & Hutter), step for step the update of
/// `torch.optim.AdamW` (amsgrad off), per parameter with its own step count t:
///
///     p = p * (1 - lr * weightDecay)
///     m = beta1 * m + (1 - beta1) * g
///     v = beta2 * v + (1 - beta2) * g * g
///     p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
///
/// Its state is `adamw.exp_avg.NAME`, `adamw.exp_avg_sq.NAME` and `adamw.step.NAME` in checkpoints
/// (PyTorch's names). The bias corrections are host numbers that change every step, so its steps are
/// not replayed from CUDA graphs.
public final class AdamW: Optimizer {
  public let parameters: [Tensor]
  public var learningRate: Double
  public let beta1: Double
  public let beta2: Double
  public let epsilon: Double
  /// The weight decay of each parameter (parameter groups: `WeightDecayScope`).
  public let weightDecays: [Double]
  public private(set) var firstMoments: [Tensor?]
  public private(set) var secondMoments: [Tensor?]
  /// Steps taken by each parameter (those without a gradient in a step do not count it).
  public private(set) var stepCounts: [Int]

  public static let defaultBetas = (0.9, 0.999)
  public static let defaultEpsilon = 1e-8
  public static let defaultWeightDecay = 1e-2

  public init(parameters: [Tensor], learningRate: Double, betas: (Double, Double) = defaultBetas,
              epsilon: Double = defaultEpsilon, weightDecay: Double = defaultWeightDecay,
              weightDecays: [Double]? = nil) throws
  {
    guard learningRate.isFinite, learningRate >= 0 else { throw TorchError("AdamW: invalid learning rate \(learningRate)") }
    guard (0..<1).contains(betas.0), (0..<1).contains(betas.1) else {
      throw TorchError("AdamW: the betas must lie in [0, 1), got (\(betas.0), \(betas.1))")
    }
    guard epsilon.isFinite, epsilon >= 0 else { throw TorchError("AdamW: invalid epsilon \(epsilon)") }
    let decays = weightDecays ?? Array(repeating: weightDecay, count: parameters.count)
    guard decays.count == parameters.count else {
      throw TorchError("AdamW: \(decays.count) weight decays for \(parameters.count) parameters")
    }
    guard decays.allSatisfy({ $0.isFinite && $0 >= 0 }) else { throw TorchError("AdamW: invalid weight decay") }
    self.parameters = parameters
    self.learningRate = learningRate
    (beta1, beta2) = betas
    self.epsilon = epsilon
    self.weightDecays = decays
    firstMoments = Array(repeating: nil, count: parameters.count)
    secondMoments = Array(repeating: nil, count: parameters.count)
    stepCounts = Array(repeating: 0, count: parameters.count)
  }

  public func step(gradients: [Tensor?]) throws {
    try checkCount(gradients, "AdamW")
    try Autograd.withNoGrad {
      for i in gradients.indices {
        guard let g = gradients[i] else { continue }
        let p = parameters[i]
        if firstMoments[i] == nil {
          firstMoments[i] = try g.detached().zerosLike()
          secondMoments[i] = try g.detached().zerosLike()
        }
        let m = firstMoments[i]!
        let v = secondMoments[i]!
        stepCounts[i] += 1
        let t = Double(stepCounts[i])
        if weightDecays[i] != 0 { try p.mul_(1 - learningRate * weightDecays[i]) }
        try m.add_(try g - m, alpha: 1 - beta1)  // torch's lerp_(g, 1 - beta1)
        try v.mul_(beta2)
        try v.add_(try g * g, alpha: 1 - beta2)
        let stepSize = learningRate / (1 - pow(beta1, t))
        let denominator = try v.sqrt() / (1 - pow(beta2, t)).squareRoot() + epsilon
        try p.add_(try m / denominator, alpha: -stepSize)
      }
    }
  }

  static let prefix = "adamw."

  public func state(parameterNames: [String]) throws -> [(name: String, tensor: Tensor)] {
    var named: [(name: String, tensor: Tensor)] = []
    for (i, name) in parameterNames.enumerated() {
      guard let m = firstMoments[i], let v = secondMoments[i] else { continue }
      named.append((Self.prefix + "exp_avg." + name, m))
      named.append((Self.prefix + "exp_avg_sq." + name, v))
      named.append((Self.prefix + "step." + name, try Tensor([Double(stepCounts[i])], shape: [])))
    }
    return named
  }

  public func restore(parameterNames: [String], from tensor: (String) -> Tensor?) throws {
    guard parameterNames.count == parameters.count else {
      throw TorchError("AdamW: \(parameterNames.count) names for \(parameters.count) parameters")
    }
    for (i, name) in parameterNames.enumerated() {
      let keys = ["exp_avg.", "exp_avg_sq.", "step."].map { Self.prefix + $0 + name }
      let m = try restored(tensor(keys[0]), for: i, key: keys[0])
      let v = try restored(tensor(keys[1]), for: i, key: keys[1])
      let t = tensor(keys[2])
      guard (m == nil) == (v == nil), (m == nil) == (t == nil) else {
        throw TorchError("AdamW: the checkpoint holds part of \(name)'s state (\(keys.joined(separator: ", ")))")
      }
      var count = 0
      if let t {
        let value: Double = try t.item()
        guard value.isFinite, value >= 1, value == value.rounded(), value < 1e15 else {
          throw TorchError("AdamW: '\(keys[2])' is \(value), not a step count")
        }
        count = Int(value)
      }
      (firstMoments[i], secondMoments[i], stepCounts[i]) = (m, v, count)
    }
  }

  public var stateTensors: [Tensor] { firstMoments.compactMap { $0 } + secondMoments.compactMap { $0 } }
  public var nextStepCreatesState: Bool { firstMoments.contains { $0 == nil } }
  public var replaysFromGraphs: Bool { false }
}
