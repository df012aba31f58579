import Torch

/// What every norm's minimal step onto a hyperplane inside the unit box starts from (`LinfHyperplaneProjection`,
/// `L2HyperplaneProjection`, `L1HyperplaneProjection`): per coordinate, the direction that moves `<normals_i, d>`
/// toward `offsets_i` (sign of w_j times sign of r_i), the room to the box face that way, |w_j|, and |r_i|.
enum BoxedHyperplane {
  static func terms(points: Tensor, normals: Tensor, offsets: Tensor) throws
    -> (direction: Tensor, room: Tensor, weights: Tensor, needed: Tensor)
  {
    let direction = try normals.sign() * offsets.sign().unsqueezed(1)
    let room = try Tensor.where(try direction .> 0.0, try 1 - points, points)
    return (direction, room, try normals.abs(), try offsets.abs())
  }
}
