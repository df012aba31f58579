import Foundation
import Torch

/// The Square attack (Andriushchenko et al., 2020), L-inf: a score-based random search that uses
/// no gradients.
///
/// It starts from vertical stripes of ±epsilon, then at each query proposes, per sample, a
/// random square window recoloured to ±epsilon per channel, keeping it when the margin loss
/// `z_y − max_{j≠y} z_j` decreases. The window covers a fraction `p` of the image that shrinks on
/// the reference schedule (p_init halved at 10, 50, 200, 500, 1000, 2000, 4000, 6000 and 8000
/// queries out of 10,000, rescaled to `queries`). Samples stop at their first misclassification.
public struct Square: RestartingAttack {
  public let threatModel: ThreatModel
  public let queries: Int
  public let initialFraction: Double
  public let restarts: Int
  public let seed: UInt64

  public var name: String { "Square" }

  /// Reference parameters: 5,000 queries, p_init 0.8, 1 restart.
  public init(threatModel: ThreatModel, queries: Int = 5000, initialFraction: Double = 0.8, restarts: Int = 1,
              seed: UInt64 = 0) throws
  {
    guard threatModel.norm == .lInf else {
      throw AttackError.invalidParameter("Square is implemented for the L-inf threat model only, not \(threatModel.norm)")
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
  }

  public func perturb(_ model: any Classifier, images: Tensor, labels: Tensor) throws -> Tensor {
    guard images.rank == 4 else {
      try AttackSupport.checkInputs(images: images, labels: labels)
      throw AttackError.invalidInput("Square needs images shaped (N, C, H, W), got \(images.shape)")
    }
    return try perturbRemaining(model, images: images, labels: labels) { x, y, generator in
      try singleRun(model, images: x, labels: y, generator: generator)
    }
  }

  /// The window's share of the image after `query` queries.
  func fraction(atQuery query: Int) -> Double {
    let step = Int(Double(query) / Double(queries) * 10_000)
    let halvings = [10, 50, 200, 500, 1000, 2000, 4000, 6000, 8000].filter { step > $0 }.count
    return initialFraction / pow(2, Double(halvings))
  }

  private func singleRun(_ model: any Classifier, images: Tensor, labels: Tensor, generator: Generator) throws -> Tensor {
    let (n, channels, height, width) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    let eps = threatModel.epsilon
    let stripes = try AttackSupport.randomSigns([n, channels, 1, width], like: images, generator: generator)
    let best = try (try images + (try stripes * eps)).clamped(min: 0, max: 1)
    let bestMargin = try -(try AttackLoss.margin(try AttackSupport.logits(model, best), labels))
    let rows = try Tensor.arange(0, Double(height), device: images.device).reshaped([1, 1, height, 1])
    let columns = try Tensor.arange(0, Double(width), device: images.device).reshaped([1, 1, 1, width])

    // One query went into the initialisation.
    for query in 1..<max(queries, 1) {
      let active = try AttackSupport.indices(of: bestMargin .> 0.0)
      let m = active.shape[0]
      guard m > 0 else { break }
      let side = min(max(Int((sqrt(fraction(atQuery: query) * Double(height * width))).rounded()), 1), height, width)
      let top = try Tensor.randint(0, height - side + 1, [m, 1, 1, 1], generator: generator).to(images.device)
      let left = try Tensor.randint(0, width - side + 1, [m, 1, 1, 1], generator: generator).to(images.device)
      let colours = try AttackSupport.randomSigns([m, channels, 1, 1], like: images, generator: generator)
      let inRows = try (try rows .>= top).logicalAnd(try rows .< (try top + Double(side)))
      let inColumns = try (try columns .>= left).logicalAnd(try columns .< (try left + Double(side)))
      let window = try inRows.logicalAnd(inColumns).to(images.dtype)

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
