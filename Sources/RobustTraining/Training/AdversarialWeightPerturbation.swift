import Torch

/// AWP, adversarial weight perturbation (Wu et al., 2020), as the AGR authors' `awp.py` computes it: a proxy
/// model loaded with the model's state takes one SGD step (rate `proxyLearningRate`, no momentum) that
/// *increases* the cross-entropy on the adversarial batch (in train mode); for every parameter whose name
/// holds "weight" and that has more than one dimension, diff = ||w|| / (||w_proxy - w|| + 1e-20) *
/// (w_proxy - w) (whole-tensor norms); the model's weights move by gamma * diff for the method's forward
/// pass and update, and back by the same amount after it.
public final class AdversarialWeightPerturbation {
  public let proxy: any Classifier
  public let gamma: Double
  public let proxyLearningRate: Double
  /// Under data parallelism: the proxy's gradients (and this rank's row count) to their mean over the
  /// global batch, so that every rank perturbs its weights alike (nil: one process).
  public var gradientAverage: (([Tensor], Int) throws -> [Tensor])?

  /// The AGR authors' `awp` method's values (5e-3 is the usual TRADES-AWP gamma).
  public static let defaultGamma = 0.01
  public static let defaultProxyLearningRate = 0.01

  public init(proxy: any Classifier, gamma: Double = defaultGamma, proxyLearningRate: Double = defaultProxyLearningRate) throws {
    guard gamma.isFinite, gamma >= 0 else { throw ConfigurationError(key: "awp_gamma", "must be a finite number >= 0, got \(gamma)") }
    guard proxyLearningRate.isFinite, proxyLearningRate > 0 else {
      throw ConfigurationError(key: "awp_proxy_learning_rate", "must be a positive finite number, got \(proxyLearningRate)")
    }
    self.proxy = proxy
    self.gamma = gamma
    self.proxyLearningRate = proxyLearningRate
  }

  /// The perturbation direction for `model` from the adversarial batch: (index into the model's
  /// parameters, diff) for each perturbed weight. Device-resident; no host waits.
  public func difference(for model: any Classifier, adversarial: Tensor, labels: Tensor) throws -> [(index: Int, diff: Tensor)] {
    let modelState = model.stateDict()
    let proxyState = proxy.stateDict()
    guard modelState.map(\.name) == proxyState.map(\.name) else {
      throw TorchError("AWP: the proxy's state dict does not match the model's")
    }
    try Autograd.withNoGrad { try Foreach.copy_(proxyState.map(\.tensor), from: modelState.map(\.tensor)) }
    proxy.train()
    let proxyParameters = proxy.namedParameters()
    let loss = try -(try Functional.crossEntropy(try proxy(adversarial), labels))
    var gradients = try Autograd.gradients(of: loss, wrt: proxyParameters.map(\.tensor))
    if let gradientAverage { gradients = try gradientAverage(gradients, labels.shape[0]) }
    try Autograd.withNoGrad { try Foreach.add_(proxyParameters.map(\.tensor), gradients, alpha: -proxyLearningRate) }
    let parameters = model.namedParameters()
    return try parameters.indices.compactMap { i in
      let (name, w) = parameters[i]
      guard name.contains("weight"), w.rank > 1 else { return nil }
      return try Autograd.withNoGrad {
        let step = try proxyParameters[i].tensor.detached() - w.detached()
        return (i, try step * (try w.detached().norm() / (try step.norm() + 1e-20)))
      }
    }
  }

  /// Moves the model's weights by `sign * gamma * diff` (in place, outside autograd).
  public func apply(_ differences: [(index: Int, diff: Tensor)], to model: any Classifier, sign: Double) throws {
    let parameters = model.parameters
    try Autograd.withNoGrad {
      for (i, diff) in differences { try parameters[i].add_(diff, alpha: sign * gamma) }
    }
  }
}

/// AWP as a step variation: the perturbation direction from the adversarial batch (under the step's autocast),
/// the weights moved by gamma * diff for the method's passes and the update, and moved back after it.
extension AdversarialWeightPerturbation: StepVariation {
  public func prepareMethodPasses(of step: TrainingStep, images: Tensor, adversarial: Tensor, labels: Tensor) throws
    -> (() throws -> Void)?
  {
    let differences = try Torch.withAutocast(device: images.device, enabled: step.precision == .bf16) {
      try difference(for: step.model, adversarial: adversarial, labels: labels)
    }
    try apply(differences, to: step.model, sign: 1)
    return { try self.apply(differences, to: step.model, sign: -1) }
  }
}
