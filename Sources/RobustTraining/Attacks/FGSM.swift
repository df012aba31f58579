import Torch

/// The fast gradient sign method (Goodfellow et al., 2015): one step of size epsilon along the
/// sign of the cross-entropy gradient (L-inf), or along the normalised gradient (L2).
public struct FGSM: Attack {
  public let threatModel: ThreatModel
  public var name: String { "FGSM" }

  public init(threatModel: ThreatModel) { self.threatModel = threatModel }

  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    try AttackSupport.run(self, model, images: images, labels: labels) {
      let (_, _, gradient) = try AttackSupport.lossAndGradient(model, at: images) {
        try AttackLoss.crossEntropy($0, labels)
      }
      let step = try threatModel.steepestAscentStep(gradient) * threatModel.epsilon
      return try threatModel.project(try images + step, around: images)
    }
  }
}
