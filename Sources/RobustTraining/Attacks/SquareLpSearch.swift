import Foundation
import Torch

/// The Square attack's L2 search (Andriushchenko et al., 2020, section 3.2) and its L1 form ("Mind the box",
/// Croce & Hein 2021), as `Square` runs them for the L2 and L1 threat models. The same schedule, window sizes and
/// update as AutoAttack's L2 and L1 Square, but not its random numbers, so they do not break exactly the same
/// points (the L-inf search does).
///
/// The perturbation starts as a 5 x 5 grid of blocks, each holding a pseudo-Gaussian pattern (concentric
/// rectangles weighted 1/(k+1)² in L2, 1/(k+1)⁴ in L1) with a random sign per channel. Each iteration picks two
/// windows of side s (from the share p of the image, at least 3, odd): the second window's mass moves into the
/// first, which gets a new pattern (random sign per channel) added to its normalised old content, rescaled to
/// the budget left; a proposal is kept where it lowers the margin. One pair of windows per iteration for the
/// batch. L2: the perturbation is always rescaled to norm eps, then clipped to [0, 1]; L1: it is projected onto
/// the ball and the box (`L1BoxProjection`, at eps (1 − 1e-6) as the reference does).
extension Square {
  func searchLp(_ model: any Classifier, images: Tensor, labels: Tensor, generator: Generator) throws -> Tensor {
    let (n, channels, height, width) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    let eps = threatModel.epsilon
    let device = images.device
    let block = max(height / 5, 1)
    let blockOffset = (height - block * 5) / 2
    var initial = try images.zerosLike()
    for row in 0..<max(height / block, 1) {
      for column in 0..<max(width / block, 1) {
        let top = blockOffset + row * block
        let left = blockOffset + column * block
        guard top + block <= height, left + block <= width else { continue }
        let pattern = try Self.pseudoGaussian(block, norm: threatModel.norm, generator: generator).to(device, images.dtype)
        let signs = try AttackSupport.randomSigns([n, channels, 1, 1], like: images, generator: generator)
        initial = try initial + (try Self.place(pattern, top: top, left: left, height: height, width: width) * signs)
      }
    }
    let best = try settle(initial, around: images)
    let bestMargin = try -(try AttackLoss.margin(try AttackSupport.logits(model, best), labels))
    let features = Double(channels * height * width)

    for iteration in 0..<queries {
      let active = try AttackSupport.indices(of: bestMargin .> 0.0)
      let m = active.shape[0]
      guard m > 0 else { break }
      let x = try images.indexed(by: active)
      let current = try best.indexed(by: active)
      let delta = try current - x
      var side = max(Int((fraction(atIteration: iteration) * features / Double(channels)).squareRoot().rounded()), 3)
      if side % 2 == 0 { side += 1 }
      side = min(side, height, width)
      let (top, left) = (try randomInt(0, height - side, generator: generator), try randomInt(0, width - side, generator: generator))
      let (top2, left2) = (try randomInt(0, height - side, generator: generator), try randomInt(0, width - side, generator: generator))
      let ones = try Tensor.ones([side, side], dtype: images.dtype, device: device)
      let window = try Self.place(ones, top: top, left: left, height: height, width: width)
      let window2 = try Self.place(ones, top: top2, left: left2, height: height, width: width)
      let both = try window.maximum(window2)
      let isL1 = threatModel.norm == .l1
      func channelNorm(_ t: Tensor) throws -> Tensor {
        isL1 ? try t.abs().sum(dims: [2, 3], keepDim: true) : try (try t.square().sum(dims: [2, 3], keepDim: true)).sqrt()
      }
      // The first window's content, per channel, normalised; the new pattern added to it.
      let inWindow = try delta * window
      let pattern = try Self.place(try Self.pseudoGaussian(side, norm: threatModel.norm, generator: generator)
        .to(device, images.dtype), top: top, left: left, height: height, width: width)
      let signs = try AttackSupport.randomSigns([m, channels, 1, 1], like: images, generator: generator)
      let proposed = try (pattern * signs) + (try inWindow / (try channelNorm(inWindow) + 1e-12))
      // The budget per channel: what the image has left, shared by the channels, plus what the two windows held.
      let budget: Tensor
      if isL1 {
        let left = try (try (try delta.flattened(from: 1).abs().sum(dims: [1]) * -1) + eps).clamped(min: 0)
          .reshaped(rowShape(delta))
        budget = try (try (left / Double(channels)) + channelNorm(try delta * both)) * Double(channels)
      } else {
        let left = try (try (try perSampleL2(delta).square() * -1) + eps * eps).clamped(min: 0)
        budget = try ((left / Double(channels)) + (try perSampleL2(try delta * both).square())).sqrt()
      }
      let newWindow = try proposed / (try channelNorm(proposed) + 1e-12) * budget
      let candidate = try (try delta * (try 1 - both)) + newWindow
      let proposal = try settle(candidate, around: x)
      let margin = try -(try AttackLoss.margin(try AttackSupport.logits(model, proposal), labels.indexed(by: active)))
      let improved = try margin .< bestMargin.indexed(by: active)
      try best.indexPut_(active, try AttackSupport.choose(improved, proposal, current))
      try bestMargin.indexPut_(active, try Tensor.where(improved, margin, try bestMargin.indexed(by: active)))
    }
    return try threatModel.project(best, around: images)
  }

  /// The example for the perturbation `delta` of `images`: L2 `delta` rescaled to norm eps and clipped to [0, 1];
  /// L1 `delta` projected onto the ball (radius eps (1 − 1e-6)) and the box.
  private func settle(_ delta: Tensor, around images: Tensor) throws -> Tensor {
    if threatModel.norm == .l1 {
      let inside = try L1BoxProjection.project(offset: delta, center: images, epsilon: threatModel.epsilon * (1 - 1e-6))
      return try (try images + inside).clamped(min: 0, max: 1)
    }
    let scaled = try delta / (try perSampleL2(delta) + 1e-12) * threatModel.epsilon
    return try (try images + scaled).clamped(min: 0, max: 1)
  }

  /// An (s, s) `pattern` placed at (top, left) of an (height, width) zero canvas, shaped (1, 1, height, width).
  static func place(_ pattern: Tensor, top: Int, left: Int, height: Int, width: Int) throws -> Tensor {
    let s = pattern.shape[0]
    return try pattern.padded([left, width - left - s, top, height - top - s]).reshaped([1, 1, height, width])
  }

  /// The pseudo-Gaussian window of side `s` (unit norm in `norm`, L2 or L1): its upper half holds concentric
  /// rectangles weighted 1/(k+1)² (L1: 1/(k+1)⁴) around the half's centre, its lower half the same negated;
  /// transposed with probability 1/2.
  static func pseudoGaussian(_ s: Int, norm: Norm, generator: Generator) throws -> Tensor {
    let upper = s / 2
    var values = [Float](repeating: 0, count: s * s)
    for (rowStart, rows, sign) in [(0, upper, Float(1)), (upper, s - upper, Float(-1))] where rows > 0 {
      let half = rectangles(rows: rows, columns: s, power: norm == .l1 ? 4 : 2)
      for r in 0..<rows { for c in 0..<s { values[(rowStart + r) * s + c] = sign * half[r * s + c] } }
    }
    let length = norm == .l1 ? values.reduce(0) { $0 + abs($1) } : values.reduce(0) { $0 + $1 * $1 }.squareRoot()
    var pattern = try Tensor(values.map { $0 / max(length, 1e-12) }, shape: [s, s])
    if try Tensor.rand([1], generator: generator).item() > 0.5 { pattern = try pattern.transposed(0, 1).contiguous() }
    return pattern
  }

  /// Concentric rectangles of growing size 2k + 1 around (rows / 2, columns / 2), each adding 1/(k+1)^power.
  private static func rectangles(rows: Int, columns: Int, power: Int) -> [Float] {
    var values = [Float](repeating: 0, count: rows * columns)
    let (centreRow, centreColumn) = (rows / 2, columns / 2)
    for k in 0..<max(rows / 2 + 1, columns / 2 + 1) {
      let weight = 1 / pow(Float(k + 1), Float(power))
      for r in max(centreRow - k, 0)..<min(centreRow + k + 1, rows) {
        for c in max(centreColumn - k, 0)..<min(centreColumn + k + 1, columns) { values[r * columns + c] += weight }
      }
    }
    return values
  }
}
