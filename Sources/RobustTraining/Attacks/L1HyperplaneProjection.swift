import Torch

/// Minimal L1 steps onto a hyperplane inside the unit box, as FAB needs them in L1.
enum L1HyperplaneProjection {
  static let bisectionSteps = 40

  /// For each row i, the step d minimising `‖d‖₁` subject to `<normals_i, d> = offsets_i` and
  /// `0 ≤ points_i + d ≤ 1`; where no such step exists, the step that gets closest.
  ///
  /// A fractional knapsack: a unit of L1 length buys `|w_j|` of the offset on coordinate j, so the best
  /// steps fill the coordinates with the largest `|w_j|` first, each up to its room to the box face. With a
  /// threshold τ, the coordinates above it filled reach a value that falls as τ grows; bisection brackets the
  /// threshold where the offset is reached, the coordinates above the bracket are filled and those inside it
  /// share the remainder in proportion to their room (exact when the bracket holds one weight, as it does at
  /// the end up to ties).
  static func minimalSteps(points: Tensor, normals: Tensor, offsets: Tensor) throws -> Tensor {
    let (direction, room, weights, needed) = try BoxedHyperplane.terms(points: points, normals: normals, offsets: offsets)
    let value = try weights * room  // what filling each coordinate reaches
    func reach(above threshold: Tensor) throws -> Tensor {
      try (value * (try (try weights .> threshold.unsqueezed(1)).to(value.dtype))).sum(dims: [1])
    }
    // low: filling above it reaches the offset (or everything does not); high: filling above it falls short
    var low = try needed.zerosLike() - 1
    var high = try weights.max(dims: [1])
    for _ in 0..<bisectionSteps {
      let middle = try (low + high) * 0.5
      let enough = try reach(above: middle) .>= needed
      low = try Tensor.where(enough, middle, low)
      high = try Tensor.where(enough, high, middle)
    }
    let full = try (try weights .> high.unsqueezed(1)).to(value.dtype)
    let band = try (try (try weights .> low.unsqueezed(1)).to(value.dtype)) - full
    let missing = try (try needed - (try (value * full).sum(dims: [1]))).clamped(min: 0)
    let bandValue = try (value * band).sum(dims: [1])
    let fraction = try (try missing / (try bandValue + 1e-30)).clamped(max: 1).unsqueezed(1)
    return try direction * (try room * (try full + (try band * fraction)))
  }
}
