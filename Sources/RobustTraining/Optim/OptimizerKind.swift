import Torch

/// The optimizers a configuration names (`optimizer`), each made from the configuration's settings: the
/// registry a new optimizer adds its line to.
public enum OptimizerKind: String, Codable, CaseIterable, Sendable {
  /// SGD with momentum (`momentum`, `nesterov`), the papers' optimizer.
  case sgd
  /// AdamW (`adam_beta1`, `adam_beta2`, `adam_epsilon`), what ViTs and ConvNeXts train with.
  case adamw

  public var summary: String {
    switch self {
    case .sgd: return "SGD with momentum, the papers'"
    case .adamw: return "AdamW, decoupled weight decay"
    }
  }

  /// This optimizer over `parameters` with `c`'s settings, at `c`'s first learning rate.
  public func make(parameters: [Tensor], configuration c: TrainingConfiguration) throws -> any Optimizer {
    let decays = (c.weightDecayScope ?? .all).decays(parameters, weightDecay: c.weightDecay)
    let rate = c.schedule.rate(epoch: 0)
    switch self {
    case .sgd:
      return try SGD(parameters: parameters, learningRate: rate, momentum: c.momentum, nesterov: c.nesterov,
                     weightDecays: decays)
    case .adamw:
      return try AdamW(parameters: parameters, learningRate: rate, betas: c.adamBetas, epsilon: c.adamEpsilon ?? AdamW.defaultEpsilon,
                       weightDecays: decays)
    }
  }

  /// The optimizer as `agr train` describes it.
  public func describe(_ c: TrainingConfiguration) -> String {
    let scope = c.weightDecayScope ?? .all
    let decay = "weight decay \(c.weightDecay)" + (scope == .all ? "" : " (\(scope.summary))")
    switch self {
    case .sgd:
      return "SGD momentum \(c.momentum)\(c.nesterov ? " (Nesterov)" : ""), \(decay)"
    case .adamw:
      return "AdamW betas (\(c.adamBetas.0), \(c.adamBetas.1)), eps \(c.adamEpsilon ?? AdamW.defaultEpsilon), \(decay)"
    }
  }
}
