import Torch

/// Minimal L2 steps onto a hyperplane inside the unit box, as FAB needs them in L2.
enum L2HyperplaneProjection {
  static let bisectionSteps = 60

  /// For each row i, the step d minimising `‖d‖₂` subject to `<normals_i, d> = offsets_i` and
  /// `0 ≤ points_i + d ≤ 1`; where no such step exists, the step that gets closest.
  ///
  /// The optimality conditions give `d_j = clip(μ w_j, box)` for one μ of the sign of the offset; the reached
  /// `<w, d(μ)>` grows monotonically with |μ|. Without the box μ = r / ‖w‖²; where the box cuts that, |μ|
  /// lies between it and the last coordinate's saturation point, and is found by bisection on log |μ|
  /// (the saturation points of a gradient span many orders of magnitude).
  static func minimalSteps(points: Tensor, normals: Tensor, offsets: Tensor) throws -> Tensor {
    let (direction, room, weights, needed) = try BoxedHyperplane.terms(points: points, normals: normals, offsets: offsets)
    func step(_ mu: Tensor) throws -> Tensor { try (weights * mu.unsqueezed(1)).minimum(room) }
    func reach(_ mu: Tensor) throws -> Tensor { try (weights * (try step(mu))).sum(dims: [1]) }
    let free = try needed / (try weights.square().sum(dims: [1]) + 1e-20)
    let saturation = try Tensor.where(try weights .> 0.0, try room / (try weights + 1e-30), try room.zerosLike())
      .max(dims: [1])
    let upper = try saturation.maximum(free)
    var low = try (try free + 1e-30).log()
    var high = try (try upper + 1e-30).log()
    let unconstrained = try reach(free) .>= (try needed * (1 - 1e-6))
    for _ in 0..<bisectionSteps {
      let middle = try (low + high) * 0.5
      let enough = try reach(try middle.exp()) .>= needed
      high = try Tensor.where(enough, middle, high)
      low = try Tensor.where(enough, low, middle)
    }
    let mu = try Tensor.where(unconstrained, free, try high.exp())
    return try direction * (try step(mu))
  }
}
