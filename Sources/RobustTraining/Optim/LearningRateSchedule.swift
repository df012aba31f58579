import Foundation

/// A learning rate as a function of training progress. `epoch` counts from 0 and `fraction` is
/// the share of the current epoch already done (0 at its first batch), so schedules can change
/// per epoch (like PyTorch's MultiStepLR) or per iteration (cosine, one-cycle).
public enum LearningRateSchedule: Codable, Equatable, Sendable, CustomStringConvertible {
  /// `base`, multiplied by `gamma` at each milestone epoch (the AT papers: 0.1, x0.1 at 100 and 150).
  case multiStep(base: Double, milestones: [Int], gamma: Double)
  /// Cosine annealing from `base` to `minimum` over `epochs`.
  case cosine(base: Double, epochs: Int, minimum: Double)
  /// Piecewise linear through (epoch, rate) points, e.g. one-cycle [(0, 0), (E*2/5, max), (E, 0)].
  case piecewiseLinear(points: [Point])
  case constant(Double)

  public struct Point: Codable, Equatable, Sendable {
    public let epoch: Double
    public let rate: Double
    public init(epoch: Double, rate: Double) {
      self.epoch = epoch
      self.rate = rate
    }
  }

  /// 0 -> `maximum` at `peak` (a share of the run) -> 0, linear per iteration. 2/5: Wong et al.'s MNIST script
  /// (`np.interp([t], [0, epochs * 2 // 5, epochs], [0, lr_max, 0])`, there per epoch); 1/2: their CIFAR-10
  /// `CyclicLR` (`step_size_up = step_size_down = lr_steps / 2`).
  public static func oneCycle(maximum: Double, epochs: Int, peak: Double = 2.0 / 5) -> LearningRateSchedule {
    .piecewiseLinear(points: [
      Point(epoch: 0, rate: 0), Point(epoch: Double(epochs) * peak, rate: maximum),
      Point(epoch: Double(epochs), rate: 0),
    ])
  }

  public func rate(epoch: Int, fraction: Double = 0) -> Double {
    switch self {
    case .constant(let r):
      return r
    case .multiStep(let base, let milestones, let gamma):
      return base * pow(gamma, Double(milestones.filter { epoch >= $0 }.count))
    case .cosine(let base, let epochs, let minimum):
      let t = min(1, (Double(epoch) + fraction) / Double(max(epochs, 1)))
      return minimum + (base - minimum) * (1 + cos(Double.pi * t)) / 2
    case .piecewiseLinear(let points):
      let t = Double(epoch) + fraction
      guard let first = points.first, let last = points.last else { return 0 }
      if t <= first.epoch { return first.rate }
      if t >= last.epoch { return last.rate }
      for (a, b) in zip(points, points.dropFirst()) where t >= a.epoch && t <= b.epoch {
        let w = b.epoch > a.epoch ? (t - a.epoch) / (b.epoch - a.epoch) : 1
        return a.rate + w * (b.rate - a.rate)
      }
      return last.rate
    }
  }

  /// Whether the rate changes only between epochs, at a few milestones (what a CUDA graph, which
  /// freezes the rate, can follow by recording a new graph at each change).
  public var isStepwiseConstant: Bool {
    switch self {
    case .constant, .multiStep: return true
    case .cosine, .piecewiseLinear: return false
    }
  }

  /// The same shape of schedule with a new base (peak) rate.
  public func rebased(to base: Double) -> LearningRateSchedule {
    switch self {
    case .constant: return .constant(base)
    case .multiStep(_, let m, let g): return .multiStep(base: base, milestones: m, gamma: g)
    case .cosine(_, let e, let m): return .cosine(base: base, epochs: e, minimum: m)
    case .piecewiseLinear(let points):
      let peak = points.map(\.rate).max() ?? 0
      return peak == 0 ? self : .piecewiseLinear(points: points.map { Point(epoch: $0.epoch, rate: $0.rate * base / peak) })
    }
  }

  /// Parses the CLI form: "multistep:100,150", "multistep:100,150:0.1", "cosine", "onecycle", "onecycle:0.5", "constant".
  public static func parse(_ text: String, base: Double, epochs: Int) throws -> LearningRateSchedule {
    let parts = text.split(separator: ":", omittingEmptySubsequences: false).map(String.init)
    switch parts[0].lowercased() {
    case "multistep", "piecewise-step", "step":
      var milestones = [epochs / 2, epochs * 3 / 4]
      if parts.count > 1, !parts[1].isEmpty {
        let parsed = parts[1].split(separator: ",").map { Int($0.trimmingCharacters(in: .whitespaces)) }
        guard parsed.allSatisfy({ $0 != nil && $0! >= 0 }) else {
          throw ScheduleError("milestones must be epoch numbers, got '\(parts[1])'")
        }
        milestones = parsed.map { $0! }
      }
      var gamma = 0.1
      if parts.count > 2 {
        guard let g = Double(parts[2]), g > 0 else { throw ScheduleError("bad factor '\(parts[2])'") }
        gamma = g
      }
      return .multiStep(base: base, milestones: milestones, gamma: gamma)
    case "cosine":
      return .cosine(base: base, epochs: epochs, minimum: 0)
    case "onecycle", "one-cycle", "cyclic":
      guard parts.count > 1, !parts[1].isEmpty else { return .oneCycle(maximum: base, epochs: epochs) }
      guard parts.count == 2, let peak = Double(parts[1]), peak > 0, peak < 1 else {
        throw ScheduleError("onecycle[:PEAK] takes the share of the run at which the rate peaks, in (0, 1), got '\(text)'")
      }
      return .oneCycle(maximum: base, epochs: epochs, peak: peak)
    case "constant":
      return .constant(base)
    default:
      throw ScheduleError("unknown schedule '\(text)' (multistep[:E1,E2[:factor]], cosine, onecycle[:PEAK], constant)")
    }
  }

  public var description: String {
    switch self {
    case .constant(let r): return "constant \(r)"
    case .multiStep(let b, let m, let g): return "multistep \(b), x\(g) at epochs \(m.map(String.init).joined(separator: ","))"
    case .cosine(let b, let e, let m): return "cosine \(b) -> \(m) over \(e) epochs"
    case .piecewiseLinear(let p):
      return "piecewise linear " + p.map { "(\($0.epoch), \($0.rate))" }.joined(separator: " ")
    }
  }
}

public struct ScheduleError: Error, CustomStringConvertible {
  public let description: String
  init(_ d: String) { description = d }
}
