import Foundation
import Torch

/// The Square attack (Andriushchenko et al., 2020), L-inf (below), L2 or L1 (`searchLp`): a score-based random search that uses
/// no gradients.
///
/// It starts from vertical stripes of ±epsilon, then for `queries` iterations proposes a square window
/// recoloured to ±epsilon per channel, keeping it where the margin loss `z_y − max_{j≠y} z_j` decreases.
/// The window covers a fraction `p` of the image: p_init, halved after iteration 10, 50, 200, 500, 1000,
/// 2000, 4000, 6000 and 8000. Samples stop at their first misclassification.
///
/// By default it is AutoAttack's standard version exactly (`autoattack/square.py` as `AutoAttack` builds
/// it: `resc_schedule=False`): the breakpoints are not rescaled to the query budget, and each iteration
/// draws one window position and one colour per channel for the whole batch, the position from
/// `low + (high - low) * rand` truncated (so never the last row or column), all from one CPU generator
/// seeded with `seed` in the reference's order — on the CPU it draws the very numbers the reference draws.
/// The options give the two other forms: `rescaledSchedule` (square.py's own default: breakpoints
/// counted out of 10,000 and scaled to `queries`) and `perSampleWindows` (this project's earlier form:
/// an independent window, over every position, and colours per sample).
public struct Square: RestartingAttack {
  public let threatModel: ThreatModel
  public let queries: Int
  public let initialFraction: Double
  public let restarts: Int
  public let seed: UInt64
  /// Scale the schedule's breakpoints from 10,000 iterations to `queries` (off in AutoAttack's standard version).
  public let rescaledSchedule: Bool
  /// An independent window position and colours per sample (off in the reference).
  public let perSampleWindows: Bool

  public var name: String { "Square" }

  /// Reference parameters: 5,000 queries, p_init 0.8, 1 restart, the standard version's schedule and sampling.
  public init(threatModel: ThreatModel, queries: Int = 5000, initialFraction: Double = 0.8, restarts: Int = 1,
              seed: UInt64 = 0, rescaledSchedule: Bool = false, perSampleWindows: Bool = false) throws
  {
    guard !perSampleWindows || threatModel.norm == .lInf else {
      throw AttackError.invalidParameter("Square's per-sample windows are an option of its L-inf search only")
    }
    guard queries >= 1, restarts >= 1 else {
      throw AttackError.invalidParameter("Square needs queries and restarts ≥ 1, got \(queries) and \(restarts)")
    }
    guard initialFraction > 0, initialFraction <= 1 else {
      throw AttackError.invalidParameter("Square initial fraction \(initialFraction) must be in (0, 1]")
    }
    self.threatModel = threatModel
    self.queries = queries
    self.initialFraction = initialFraction
    self.restarts = restarts
    self.seed = seed
    self.rescaledSchedule = rescaledSchedule
    self.perSampleWindows = perSampleWindows
  }

  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    guard images.rank == 4 else {
      try AttackSupport.checkInputs(images: images, labels: labels)
      throw AttackError.invalidInput("Square needs images shaped (N, C, H, W), got \(images.shape)")
    }
    return try perturbRemaining(model, images: images, labels: labels) { x, y, generator in
      threatModel.norm == .lInf
        ? try search(model, images: x, labels: y, generator: generator)
        : try searchLp(model, images: x, labels: y, generator: generator)
    }
  }

  /// The window's share of the image at iteration `iteration` (0-based, after the initial query).
  func fraction(atIteration iteration: Int) -> Double {
    let step = rescaledSchedule ? Int(Double(iteration) / Double(queries) * 10_000) : iteration
    let halvings = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000].filter { step > $0 }.count
    return initialFraction / pow(2, Double(halvings))
  }

  /// `sign(2u - 1)` for u uniform in [0, 1): the reference's random ±1.
  private func randomChoice(_ shape: [Int], like x: Tensor, generator: Generator) throws -> Tensor {
    try (try AttackSupport.uniform(shape, like: x, generator: generator) * 2 - 1).sign()
  }

  /// `low + (high - low) * u` truncated, in float32 as the reference computes it.
  func randomInt(_ low: Int, _ high: Int, generator: Generator) throws -> Int {
    let u = try Tensor.rand([1], generator: generator)
    return Int(try ((u * Double(high - low)) + Double(low)).to(.int64).item())
  }

  /// One run of the search on every sample of `images`: the best point found for each (in eval mode).
  func search(_ model: any Classifier, images: Tensor, labels: Tensor, generator: Generator) throws -> Tensor {
    let (n, channels, height, width) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    let eps = threatModel.epsilon
    let stripes = perSampleWindows
      ? try AttackSupport.randomSigns([n, channels, 1, width], like: images, generator: generator)
      : try randomChoice([n, channels, 1, width], like: images, generator: generator)
    let best = try (try images + (try stripes * eps)).clamped(min: 0, max: 1)
    let bestMargin = try -(try AttackLoss.margin(try AttackSupport.logits(model, best), labels))
    let rows = try Tensor.arange(0, Double(height), device: images.device).reshaped([1, 1, height, 1])
    let columns = try Tensor.arange(0, Double(width), device: images.device).reshaped([1, 1, 1, width])

    for iteration in 0..<queries {
      let active = try AttackSupport.indices(of: bestMargin .> 0.0)
      let m = active.shape[0]
      guard m > 0 else { break }
      let area = fraction(atIteration: iteration) * Double(height * width)
      let side = min(max(Int(area.squareRoot().rounded(.toNearestOrEven)), 1), height, width)
      let window: Tensor
      let colours: Tensor
      if perSampleWindows {
        let top = try Tensor.randint(0, height - side + 1, [m, 1, 1, 1], generator: generator).to(images.device)
        let left = try Tensor.randint(0, width - side + 1, [m, 1, 1, 1], generator: generator).to(images.device)
        colours = try AttackSupport.randomSigns([m, channels, 1, 1], like: images, generator: generator)
        let inRows = try (try rows .>= top).logicalAnd(try rows .< (try top + Double(side)))
        let inColumns = try (try columns .>= left).logicalAnd(try columns .< (try left + Double(side)))
        window = try inRows.logicalAnd(inColumns).to(images.dtype)
      } else {
        let top = try randomInt(0, height - side, generator: generator)
        let left = try randomInt(0, width - side, generator: generator)
        colours = try randomChoice([channels, 1, 1], like: images, generator: generator)
        let inRows = try (try rows .>= Double(top)).logicalAnd(try rows .< Double(top + side))
        let inColumns = try (try columns .>= Double(left)).logicalAnd(try columns .< Double(left + side))
        window = try inRows.logicalAnd(inColumns).to(images.dtype)
      }

      let x = try images.indexed(by: active)
      let current = try best.indexed(by: active)
      let proposal = try threatModel.project(try current + (try window * colours * (2 * eps)), around: x)
      let margin = try -(try AttackLoss.margin(try AttackSupport.logits(model, proposal), labels.indexed(by: active)))
      // Loss and margin coincide for the margin loss: keep a proposal when it lowers the margin.
      let improved = try margin .< bestMargin.indexed(by: active)
      try best.indexPut_(active, try AttackSupport.choose(improved, proposal, current))
      try bestMargin.indexPut_(active, try Tensor.where(improved, margin, try bestMargin.indexed(by: active)))
    }
    return best
  }
}
