import Torch

/// The Euclidean projection onto the intersection of an L1 ball and the unit box, per sample: the offset
/// `d` closest to `offset` with `‖d‖₁ ≤ eps` and `0 ≤ center + d ≤ 1` ("Mind the box", Croce & Hein 2021).
///
/// Since `center` lies in the box, each coordinate's bounds `[-center_j, 1 − center_j]` contain 0, and the
/// problem's optimality conditions give `d_j = clip(soft(offset_j, λ), -center_j, 1 − center_j)`: the
/// offset shrunk towards 0 by one threshold λ ≥ 0 and cut by the box. λ = 0 when the box-clipped offset
/// is already inside the ball; otherwise the L1 norm of that `d` falls monotonically in λ and λ is found by
/// bisection, keeping the upper end so that the result never exceeds eps.
enum L1BoxProjection {
  static let bisectionSteps = 50

  static func project(offset: Tensor, center: Tensor, epsilon: Double) throws -> Tensor {
    let shape = offset.shape
    let y = try offset.flattened(from: 1)
    let x = try center.flattened(from: 1)
    // The room to the box face in the direction each coordinate moves.
    let room = try Tensor.where(try y .> 0.0, try 1 - x, x)
    let magnitude = try y.abs()
    func length(_ threshold: Tensor) throws -> Tensor {
      try (try magnitude - threshold.unsqueezed(1)).clamped(min: 0).minimum(room).sum(dims: [1])
    }
    var low = try magnitude.max(dims: [1]).zerosLike()
    var high = try magnitude.max(dims: [1])
    let inside = try length(low) .<= epsilon
    for _ in 0..<bisectionSteps {
      let middle = try (low + high) * 0.5
      let tooLong = try length(middle) .> epsilon
      low = try Tensor.where(tooLong, middle, low)
      high = try Tensor.where(tooLong, high, middle)
    }
    let threshold = try Tensor.where(inside, try high.zerosLike(), high)
    let shrunk = try (try magnitude - threshold.unsqueezed(1)).clamped(min: 0).minimum(room)
    return try (try y.sign() * shrunk).reshaped(shape)
  }
}
