import Torch

/// Catastrophic-overfitting detection, after Wong, Rice & Kolter 2020 (`locuslab/fast_adversarial`,
/// `CIFAR10/train_fgsm.py --early-stop`): after every epoch a PGD attack on a held training batch; when its
/// robust accuracy falls by more than `drop` (absolute) below the reference — the previous epoch's check, as
/// theirs, or the best check so far — the epoch is flagged (`EpochRecord.catastrophicOverfitting`), and with
/// `stopOnOverfit` training stops keeping the epoch before as the run's result.
public enum OverfitReference: String, Codable, CaseIterable, Sendable {
  /// The previous epoch's check (Wong et al.'s rule).
  case previous
  /// The best check of the earlier epochs (also flags a slow collapse, and every epoch after one).
  case best

  public var summary: String { self == .previous ? "the previous epoch's check (Wong et al.)" : "the best earlier check" }
}

public enum OverfitCheck {
  /// Wong et al.'s PGD steps (`attack_pgd(..., 5, 1, ...)`) and drop (`robust_acc - prev_robust_acc < -0.2`).
  public static let defaultSteps = 5
  public static let defaultDrop = 0.2

  /// Whether `accuracy` is a drop past the threshold from `earlier` checks (oldest first); the first check never is.
  public static func isOverfit(accuracy: Double, earlier: [Double], drop: Double, reference: OverfitReference) -> Bool {
    let base: Double?
    switch reference {
    case .previous: base = earlier.last
    case .best: base = earlier.max()
    }
    guard let base else { return false }
    return accuracy < base - drop
  }

  /// The gap rule (`TrainingConfiguration.overfitGap`): the training attack's accuracy on the held batch exceeds
  /// the PGD accuracy by more than `gap`: the model resists its training attack but not PGD, the signature of
  /// catastrophic overfitting that a drop cannot show when it sets in before any robustness was gained.
  public static func isOverfit(trainingAttackAccuracy: Double, pgdAccuracy: Double, gap: Double) -> Bool {
    trainingAttackAccuracy - pgdAccuracy > gap
  }

  /// The held batch's accuracy under the training attack, its random start seeded per epoch; in eval mode even when
  /// training attacks in train mode, so that the check moves no BatchNorm statistics (the model's mode restored).
  static func trainingAttackAccuracy(model: any Classifier, perturbation: TrainingPerturbation, images: Tensor,
                                     labels: Tensor, seed: UInt64) throws -> Double
  {
    var attack = perturbation
    attack.attackInTrainMode = false
    Torch.manualSeed(seed)
    let adversarial = try attack.perturb(model, images: images, labels: labels)
    return try model.withMode(training: false) {
      let correct: Double = try Autograd.withNoGrad { try TrainingStep.correct(try model(adversarial), labels).to(.float64).item() }
      return correct / Double(labels.shape[0])
    }
  }

  /// PGD robust accuracy on the held batch (model in eval mode, mode restored), seeded per epoch.
  static func robustAccuracy(model: any Classifier, images: Tensor, labels: Tensor, epsilon: Double, steps: Int,
                             stepSize: Double, seed: UInt64) throws -> Double
  {
    let attack = try PGD.evaluation(epsilon: epsilon, steps: steps, stepSize: stepSize, seed: seed)
    return try model.withMode(training: false) {
      let adversarial = try attack.bestIterate(model, images: images, labels: labels, noise: try attack.startNoise(like: images))
      let correct: Double = try Autograd.withNoGrad { try TrainingStep.correct(try model(adversarial), labels).to(.float64).item() }
      return correct / Double(labels.shape[0])
    }
  }
}
