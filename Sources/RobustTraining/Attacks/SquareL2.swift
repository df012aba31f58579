import Foundation
import Torch

/// The Square attack's L2 search (Andriushchenko et al., 2020, section 3.2), as `Square` runs it for the L2
/// threat model. Written from the paper: the same schedule and window sizes as AutoAttack's L2 Square, but not
/// its random numbers, so it does not break exactly the same points (the L-inf search does).
///
/// The perturbation always has L2 norm eps. It starts as a 5 x 5 grid of blocks, each holding the paper's
/// pseudo-Gaussian pattern with a random sign per channel. Each iteration picks two windows of side s (from the
/// share p of the image, at least 3, odd): the second window's mass moves into the first, which gets a new
/// pattern (random sign per channel) added to its old content, rescaled so that the whole stays at norm eps
/// per channel; a proposal is kept where it lowers the margin. One pair of windows per iteration for the batch.
extension Square {
  func searchL2(_ model: any Classifier, images: Tensor, labels: Tensor, generator: Generator) throws -> Tensor {
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
        let pattern = try Self.pseudoGaussian(block, generator: generator).to(device, images.dtype)
        let signs = try AttackSupport.randomSigns([n, channels, 1, 1], like: images, generator: generator)
        initial = try initial + (try Self.place(pattern, top: top, left: left, height: height, width: width) * signs)
      }
    }
    let best = try (try images + (try Self.scaled(initial, to: eps))).clamped(min: 0, max: 1)
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
      let imageNorm = try perSampleL2(delta)
      let windowsNorm = try perSampleL2(try delta * both)
      // The first window's content, per channel, normalised; the new pattern added to it.
      let inWindow = try delta * window
      let windowChannelNorm = try (try inWindow.square().sum(dims: [2, 3], keepDim: true)).sqrt()
      let pattern = try Self.place(try Self.pseudoGaussian(side, generator: generator).to(device, images.dtype),
                                   top: top, left: left, height: height, width: width)
      let signs = try AttackSupport.randomSigns([m, channels, 1, 1], like: images, generator: generator)
      let proposed = try (pattern * signs) + (try inWindow / (try windowChannelNorm + 1e-12))
      let proposedNorm = try (try proposed.square().sum(dims: [2, 3], keepDim: true)).sqrt()
      let budget = try (try (try (try imageNorm.square() * -1) + eps * eps).clamped(min: 0) / Double(channels)
        + windowsNorm.square()).sqrt()
      let newWindow = try proposed / (try proposedNorm + 1e-12) * budget
      let cleared = try delta * (try 1 - both)
      let candidate = try cleared + newWindow
      let proposal = try (try x + (try Self.scaled(candidate, to: eps))).clamped(min: 0, max: 1)
      let margin = try -(try AttackLoss.margin(try AttackSupport.logits(model, proposal), labels.indexed(by: active)))
      let improved = try margin .< bestMargin.indexed(by: active)
      try best.indexPut_(active, try AttackSupport.choose(improved, proposal, current))
      try bestMargin.indexPut_(active, try Tensor.where(improved, margin, try bestMargin.indexed(by: active)))
    }
    return try threatModel.project(best, around: images)
  }

  /// `delta` rescaled to L2 norm `eps` per sample.
  static func scaled(_ delta: Tensor, to eps: Double) throws -> Tensor {
    try delta / (try perSampleL2(delta) + 1e-12) * eps
  }

  /// An (s, s) `pattern` placed at (top, left) of an (height, width) zero canvas, shaped (1, 1, height, width).
  static func place(_ pattern: Tensor, top: Int, left: Int, height: Int, width: Int) throws -> Tensor {
    let s = pattern.shape[0]
    return try pattern.padded([left, width - left - s, top, height - top - s]).reshaped([1, 1, height, width])
  }

  /// The paper's pseudo-Gaussian window of side `s` (unit L2 norm): its upper half holds concentric rectangles
  /// weighted 1/(k+1)² around the half's centre, its lower half the same negated; transposed with probability 1/2.
  static func pseudoGaussian(_ s: Int, generator: Generator) throws -> Tensor {
    let upper = s / 2
    var values = [Float](repeating: 0, count: s * s)
    for (rowStart, rows, sign) in [(0, upper, Float(1)), (upper, s - upper, Float(-1))] where rows > 0 {
      let half = rectangles(rows: rows, columns: s)
      for r in 0..<rows { for c in 0..<s { values[(rowStart + r) * s + c] = sign * half[r * s + c] } }
    }
    let length = values.reduce(0) { $0 + $1 * $1 }.squareRoot()
    var pattern = try Tensor(values.map { $0 / max(length, 1e-12) }, shape: [s, s])
    if try Tensor.rand([1], generator: generator).item() > 0.5 { pattern = try pattern.transposed(0, 1).contiguous() }
    return pattern
  }

  /// Concentric rectangles of growing size 2k + 1 around (rows / 2, columns / 2), each adding 1/(k+1)².
  private static func rectangles(rows: Int, columns: Int) -> [Float] {
    var values = [Float](repeating: 0, count: rows * columns)
    let (centreRow, centreColumn) = (rows / 2, columns / 2)
    for k in 0..<max(rows / 2 + 1, columns / 2 + 1) {
      let weight = 1 / Float((k + 1) * (k + 1))
      for r in max(centreRow - k, 0)..<min(centreRow + k + 1, rows) {
        for c in max(centreColumn - k, 0)..<min(centreColumn + k + 1, columns) { values[r * columns + c] += weight }
      }
    }
    return values
  }
}
