import Torch

/// An adversarial attack on an image classifier under a fixed threat model.
///
/// Contract shared by every conformer in this folder:
/// - inputs are images in [0, 1] (N, C, H, W) with int64 labels (N);
/// - the model runs in eval mode (`withMode(training: false)`), and its previous modes are restored;
/// - gradients are taken with respect to the input only (`Autograd.grad`), so parameters' `.grad`
///   is never touched;
/// - every returned example lies within the threat model's ball around its input and in [0, 1],
///   or `perturb` throws `AttackError.outsideThreatModel`;
/// - randomness comes from a `Generator` seeded by the attack's `seed` at each call, so the same
///   call gives the same result (draws are made on the CPU, hence identical on every device).
///
/// Points the model already misclassifies may be returned unchanged.
public protocol Attack {
  /// A short label for reports, such as "PGD-20" or "APGD-CE".
  var name: String { get }
  var threatModel: ThreatModel { get }
  /// Adversarial versions of `images` for `model` (same shape, dtype and device as `images`).
  func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor
}

/// Errors raised by attacks and by the robustness evaluation.
public enum AttackError: Error, Equatable, CustomStringConvertible {
  case invalidParameter(String)
  case invalidInput(String)
  /// An attack produced an example outside its threat model or outside [0, 1].
  case outsideThreatModel(attack: String, detail: String)

  public var description: String {
    switch self {
    case .invalidParameter(let m): return "invalid attack parameter: \(m)"
    case .invalidInput(let m): return "invalid attack input: \(m)"
    case .outsideThreatModel(let attack, let detail): return "\(attack) left its threat model: \(detail)"
    }
  }
}
