import Torch

/// The L-inf PGD that generates training examples: a random start in the eps-ball, `steps` signed
/// gradient steps of size `stepSize`, projection onto the ball and [0, 1] after each. The model runs
/// in eval mode while attacking (BatchNorm statistics do not move); parameter gradients are untouched.
public struct TrainingPerturbation: Codable, Equatable, Sendable {
  public var epsilon: Double
  public var stepSize: Double
  public var steps: Int
  public var loss: TrainingAttackLoss

  public init(epsilon: Double = 8.0 / 255, stepSize: Double = 2.0 / 255, steps: Int = 10,
              loss: TrainingAttackLoss = .crossEntropy)
  {
    self.epsilon = epsilon
    self.stepSize = stepSize
    self.steps = steps
    self.loss = loss
  }

  /// Adversarial versions of `images` (detached, within the ball and [0, 1]).
  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    try model.withMode(training: false) {
      switch loss {
      case .crossEntropy:
        var delta = try Tensor.uniform(images.shape, low: -epsilon, high: epsilon, dtype: images.dtype,
                                       device: images.device)
        for _ in 0..<steps {
          let x = try (try images + delta).clamped(min: 0, max: 1).detached().requiresGrad(true)
          let objective = try Functional.crossEntropy(try model(x), labels)
          let g = try Autograd.gradients(of: objective, wrt: [x])[0]
          delta = try (try x.detached() - images).adding(try g.sign(), scaledBy: stepSize)
            .clamped(min: -epsilon, max: epsilon)
        }
        return try (try images + delta).clamped(min: 0, max: 1).detached()
      case .kl:
        // TRADES: start near the clean point and climb KL(model(x') || model(x)).
        let target = try Autograd.withNoGrad { try Functional.softmax(try model(images), dim: 1) }
        var adv = try images.adding(try Tensor.randn(images.shape, dtype: images.dtype, device: images.device),
                                    scaledBy: 0.001)
        for _ in 0..<steps {
          let x = try adv.detached().requiresGrad(true)
          let objective = try Functional.klDiv(try Functional.logSoftmax(try model(x), dim: 1), target,
                                               reduction: .sum)
          let g = try Autograd.gradients(of: objective, wrt: [x])[0]
          adv = try x.detached().adding(try g.sign(), scaledBy: stepSize)
          adv = try adv.clamped(min: try images - epsilon, max: try images + epsilon).clamped(min: 0, max: 1)
        }
        return try adv.clamped(min: try images - epsilon, max: try images + epsilon).clamped(min: 0, max: 1)
          .detached()
      }
    }
  }
}
