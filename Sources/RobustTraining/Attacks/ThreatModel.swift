import Torch

/// The norm that bounds perturbations.
public enum Norm: String, Sendable, CustomStringConvertible {
  case lInf = "Linf"
  case l2 = "L2"
  public var description: String { rawValue }
}

/// A perturbation budget: examples `x'` with `‖x' − x‖ ≤ epsilon` in `norm`, and `x'` in [0, 1].
public struct ThreatModel: Sendable, Equatable, CustomStringConvertible {
  public let norm: Norm
  public let epsilon: Double

  /// Absolute slack allowed when checking returned examples (float32 rounding of `x ± eps`).
  public static let tolerance = 1e-5

  /// Throws when `epsilon` is negative, not finite, or (for L-inf) above 1, the width of [0, 1].
  public init(norm: Norm, epsilon: Double) throws {
    guard epsilon.isFinite, epsilon >= 0, norm == .l2 || epsilon <= 1 else {
      let range = norm == .lInf ? "[0, 1]" : "[0, ∞)"
      throw AttackError.invalidParameter("epsilon \(epsilon) is outside \(range) for the \(norm) threat model")
    }
    self.norm = norm
    self.epsilon = epsilon
  }

  public static func lInf(_ epsilon: Double) throws -> ThreatModel { try ThreatModel(norm: .lInf, epsilon: epsilon) }
  public static func l2(_ epsilon: Double) throws -> ThreatModel { try ThreatModel(norm: .l2, epsilon: epsilon) }

  public var description: String { "\(norm) eps=\(epsilon)" }

  /// Per-sample distance `‖a − b‖` in this norm, shape (N).
  public func distance(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try (a - b).flattened(from: 1).norm(norm == .lInf ? .infinity : 2, dims: [1])
  }

  /// The closest point to `x` in the ball around `center`, then clipped to [0, 1]. Clipping after
  /// the ball never increases the distance, so the result satisfies both constraints.
  public func project(_ x: Tensor, around center: Tensor) throws -> Tensor {
    switch norm {
    case .lInf:
      return try x.clamped(min: try center - epsilon, max: try center + epsilon).clamped(min: 0, max: 1)
    case .l2:
      let delta = try x - center
      let length = try perSampleL2(delta)
      let scale = try (epsilon / (try length + 1e-12)).clamped(max: 1)
      return try (center + (try delta * scale)).clamped(min: 0, max: 1)
    }
  }

  /// `direction` scaled to unit norm per sample (L-inf: its sign, the steepest-ascent step).
  func steepestAscentStep(_ gradient: Tensor) throws -> Tensor {
    switch norm {
    case .lInf: return try gradient.sign()
    case .l2: return try gradient / (try perSampleL2(gradient) + 1e-12)
    }
  }

  /// Throws `AttackError.outsideThreatModel` unless every row of `adversarial` is within
  /// `epsilon` (+ tolerance) of `original` and inside [0, 1].
  public func validate(_ adversarial: Tensor, original: Tensor, attack: String) throws {
    guard adversarial.shape == original.shape else {
      throw AttackError.outsideThreatModel(
        attack: attack, detail: "returned shape \(adversarial.shape) for inputs of shape \(original.shape)")
    }
    guard adversarial.count > 0 else { return }
    let finite = try adversarial.isFinite().all().item() != 0
    let low = try adversarial.min().item()
    let high = try adversarial.max().item()
    guard finite, low >= 0, high <= 1 else {
      throw AttackError.outsideThreatModel(attack: attack, detail: "values span [\(low), \(high)], not inside [0, 1]")
    }
    let largest = try distance(adversarial.to(.float64), original.to(.float64)).max().item()
    let limit = epsilon + Self.tolerance * max(1, epsilon)
    guard largest <= limit else {
      throw AttackError.outsideThreatModel(
        attack: attack, detail: "a perturbation has \(norm) norm \(largest) > epsilon \(epsilon)")
    }
  }
}

/// Per-sample L2 norm shaped (N, 1, 1, ...) to broadcast against `x`.
func perSampleL2(_ x: Tensor) throws -> Tensor {
  try x.flattened(from: 1).norm(2, dims: [1]).reshaped(rowShape(x))
}

/// (N, 1, 1, ...): a shape that broadcasts one value per sample against `x`.
func rowShape(_ x: Tensor) -> [Int] {
  [x.shape[0]] + Array(repeating: 1, count: max(x.rank - 1, 0))
}
