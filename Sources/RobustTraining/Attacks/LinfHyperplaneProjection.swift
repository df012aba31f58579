import Torch

/// Minimal L-inf steps onto a hyperplane inside the unit box, as FAB needs them.
enum LinfHyperplaneProjection {
  static let bisectionSteps = 40

  /// For each row i, the step d minimising `‖d‖∞` subject to `<normals_i, d> = offsets_i` and
  /// `0 ≤ points_i + d ≤ 1`; where no such step exists, the step that gets closest.
  ///
  /// With t = ‖d‖∞ fixed, the best reachable `<w, d>` moves each coordinate by
  /// `min(t, room_j)` in the direction `sign(w_j · r)`, where `room_j` is the distance to the box
  /// face in that direction. That value grows monotonically with t, so the smallest feasible t is
  /// found by bisection on [0, max room].
  static func minimalSteps(points: Tensor, normals: Tensor, offsets: Tensor) throws -> Tensor {
    let (direction, room, weights, needed) = try BoxedHyperplane.terms(points: points, normals: normals, offsets: offsets)
    func reach(_ t: Tensor) throws -> Tensor {
      try (weights * (try room.minimum(t.unsqueezed(1)))).sum(dims: [1])
    }
    var low = try needed.zerosLike()
    var high = try room.max(dims: [1])
    for _ in 0..<bisectionSteps {
      let middle = try (low + high) * 0.5
      let enough = try reach(middle) .>= needed
      high = try Tensor.where(enough, middle, high)
      low = try Tensor.where(enough, low, middle)
    }
    return try direction * (try room.minimum(high.unsqueezed(1)))
  }
}
