import Torch

/// The norm that bounds perturbations.
public enum Norm: String, CaseIterable, Sendable, CustomStringConvertible, Codable {
  case lInf = "Linf"
  case l2 = "L2"
  case l1 = "L1"
  public var description: String { rawValue }

  /// The name flags and config files use: "linf", "l2", "l1".
  public var flagName: String { rawValue.lowercased() }

  /// What the threat model is, for help texts.
  public var summary: String {
    switch self {
    case .lInf: return "every pixel moves by at most eps"
    case .l2: return "Euclidean length of the perturbation at most eps"
    case .l1: return "sum of absolute changes at most eps (sparse perturbations)"
    }
  }

  /// "linf", "l2", "l1" in any case ("Linf" as reports write it; "inf" and "l-inf" too).
  public init(parsing text: String) throws {
    let key = text.lowercased().replacingOccurrences(of: "-", with: "")
    switch key {
    case "linf", "inf": self = .lInf
    case "l2": self = .l2
    case "l1": self = .l1
    default:
      throw AttackError.invalidParameter("unknown norm '\(text)' (known: linf, l2, l1)")
    }
  }

  public init(from decoder: Decoder) throws {
    let text = try decoder.singleValueContainer().decode(String.self)
    do { try self.init(parsing: text) } catch {
      throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "\(error)"))
    }
  }

  public func encode(to encoder: Encoder) throws {
    var container = encoder.singleValueContainer()
    try container.encode(flagName)
  }

  /// The largest radius that still constrains an image of `features` values in [0, 1]: the diameter of
  /// [0, 1]^features in this norm (1 for L-inf, sqrt(features) for L2, features for L1).
  public func diameter(features: Int) -> Double {
    switch self {
    case .lInf: return 1
    case .l2: return Double(features).squareRoot()
    case .l1: return Double(features)
    }
  }

  /// The `p` of the p-norm (infinity for L-inf).
  var p: Double {
    switch self {
    case .lInf: return .infinity
    case .l2: return 2
    case .l1: return 1
    }
  }
}

/// A perturbation budget: examples `x'` with `‖x' − x‖ ≤ epsilon` in `norm`, and `x'` in [0, 1].
public struct ThreatModel: Sendable, Equatable, CustomStringConvertible {
  public let norm: Norm
  public let epsilon: Double

  /// Absolute slack allowed when checking returned examples (float32 rounding of `x ± eps`).
  public static let tolerance = 1e-5
  /// Share of the coordinates PGD's L1 step moves (the largest input-gradient entries): `l1Step`.
  public static let defaultL1StepShare = 0.05

  /// Throws when `epsilon` is negative, not finite, or (for L-inf) above 1, the width of [0, 1]. An L2 or
  /// L1 radius is not bounded by 1 (it is bounded by the image's diameter, `Norm.diameter(features:)`).
  public init(norm: Norm, epsilon: Double) throws {
    guard epsilon.isFinite, epsilon >= 0, norm != .lInf || epsilon <= 1 else {
      let range = norm == .lInf ? "[0, 1]" : "[0, ∞)"
      throw AttackError.invalidParameter("epsilon \(epsilon) is outside \(range) for the \(norm) threat model")
    }
    self.norm = norm
    self.epsilon = epsilon
  }

  public static func lInf(_ epsilon: Double) throws -> ThreatModel { try ThreatModel(norm: .lInf, epsilon: epsilon) }
  public static func l2(_ epsilon: Double) throws -> ThreatModel { try ThreatModel(norm: .l2, epsilon: epsilon) }
  public static func l1(_ epsilon: Double) throws -> ThreatModel { try ThreatModel(norm: .l1, epsilon: epsilon) }

  public var description: String { "\(norm) eps=\(epsilon)" }

  /// Per-sample distance `‖a − b‖` in this norm, shape (N).
  public func distance(_ a: Tensor, _ b: Tensor) throws -> Tensor {
    try (a - b).flattened(from: 1).norm(norm.p, dims: [1])
  }

  /// The closest point to `x` in the ball around `center`, then clipped to [0, 1]. For L-inf and L2 the
  /// ball's projection is followed by clipping (never increasing the distance, so both constraints hold),
  /// as the reference attacks do; for L1 it is the exact projection onto the intersection of the ball and
  /// the box (`L1BoxProjection`, "Mind the box", Croce & Hein 2021), since clipping after an L1
  /// projection wastes budget on coordinates the box then cuts.
  public func project(_ x: Tensor, around center: Tensor) throws -> Tensor {
    switch norm {
    case .lInf:
      return try x.clamped(min: try center - epsilon, max: try center + epsilon).clamped(min: 0, max: 1)
    case .l2:
      let delta = try x - center
      let length = try perSampleL2(delta)
      let scale = try (epsilon / (try length + 1e-12)).clamped(max: 1)
      return try (center + (try delta * scale)).clamped(min: 0, max: 1)
    case .l1:
      let offset = try L1BoxProjection.project(offset: try x - center, center: center, epsilon: epsilon)
      return try (center + offset).clamped(min: 0, max: 1)
    }
  }

  /// The steepest-ascent direction for `gradient` with unit norm per sample: L-inf its sign, L2 the
  /// gradient over its length, L1 the sparse step (`l1Step`) moving the `defaultL1StepShare` largest entries.
  func steepestAscentStep(_ gradient: Tensor) throws -> Tensor {
    switch norm {
    case .lInf: return try gradient.sign()
    case .l2: return try gradient / (try perSampleL2(gradient) + 1e-12)
    case .l1:
      let share = try Tensor.full([gradient.shape[0]], Self.defaultL1StepShare, dtype: .float32, device: gradient.device)
      return try Self.l1Step(gradient, share: share)
    }
  }

  /// The sparse L1 step (Tramèr & Boneh 2019; APGD-L1 of Croce & Hein 2021): the signs of the gradient's
  /// entries whose magnitude is at least the `share`-quantile from the top (per sample, `share` of shape (N)),
  /// divided by their count, so each row has L1 norm 1. The pure steepest L1 ascent moves one coordinate; a
  /// share of them makes progress per step without leaving the ball's corners unused.
  static func l1Step(_ gradient: Tensor, share: Tensor) throws -> Tensor {
    let n = gradient.shape[0]
    let magnitude = try gradient.abs().flattened(from: 1)
    let features = magnitude.shape[1]
    let ascending = try magnitude.sorted(dim: 1).values
    // The threshold's position in ascending order: (1 − share) · features, within [0, features − 1].
    let position = try (try (try 1 - share.to(.float64)) * Double(features)).floor()
      .clamped(min: 0, max: Double(features - 1)).to(.int64).reshaped([n, 1])
    let threshold = try ascending.gather(dim: 1, position)
    let chosen = try (try magnitude .>= threshold).to(gradient.dtype)
    let direction = try (try magnitude.zerosLike() + chosen) * (try gradient.flattened(from: 1).sign())
    let count = try direction.abs().sum(dims: [1], keepDim: true)
    return try (direction / (try count + 1e-10)).reshaped(gradient.shape)
  }

  /// A random offset for a random start, drawn from `generator` (CPU, so every device draws the same):
  /// L-inf uniform in the cube; L2 a Gaussian direction scaled to a radius uniform in [0, eps] (Rice et al.'s
  /// L2 start); L1 a Laplace-distributed direction scaled the same way. Not yet projected onto [0, 1].
  func randomOffset(like images: Tensor, generator: Generator) throws -> Tensor {
    try randomOffset(shape: images.shape, dtype: images.dtype, device: images.device) {
      try Tensor.rand($0, generator: generator)
    } normal: {
      try Tensor.randn($0, generator: generator)
    }
  }

  /// `randomOffset` with the draws given: `uniform(shape)` in [0, 1), `normal(shape)` standard normal.
  func randomOffset(shape: [Int], dtype: DType, device: Device, uniform: ([Int]) throws -> Tensor,
                    normal: ([Int]) throws -> Tensor) throws -> Tensor
  {
    let rows = [shape[0]] + Array(repeating: 1, count: max(shape.count - 1, 0))
    switch norm {
    case .lInf:
      return try ((try uniform(shape) * 2 - 1) * epsilon).to(device, dtype)
    case .l2, .l1:
      var direction = try normal(shape)
      if norm == .l1 {
        // Laplace(0, 1) by inversion: sign(u) · −log(1 − |u|), u uniform in (−1, 1).
        let u = try uniform(shape) * 2 - 1
        direction = try u.sign() * (try (try (try 1 - u.abs()).clamped(min: 1e-12)).log() * -1)
      }
      let length = try direction.flattened(from: 1).norm(norm.p, dims: [1]).reshaped(rows)
      let radius = try uniform(rows) * epsilon
      return try (direction / (try length + 1e-12) * radius).to(device, dtype)
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
