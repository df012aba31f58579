import Foundation
import Torch

/// The weight loss landscape along one random direction (Li et al., "Visualizing the Loss Landscape
/// of Neural Nets", 2018): test loss of the weights `w + alpha * d` for a Gaussian direction `d`
/// that is filter-normalised, so that the curves of differently scaled networks compare.
public enum WeightLandscape {
  /// One point of the curve.
  public struct Point: Codable, Equatable, Sendable {
    public var alpha: Double
    public var cleanLoss: Double
    public var cleanAccuracy: Double
    public var adversarialLoss: Double?
    public var adversarialAccuracy: Double?
  }

  /// A seeded Gaussian direction with one tensor per parameter. For weights of rank >= 2 (conv and
  /// linear), each output filter `d[i]` is scaled to the norm of the weight's filter `w[i]`; for
  /// rank-1 tensors (biases, BatchNorm scales and shifts) the direction is zero.
  /// Drawn on the CPU, so a seed gives the same direction on every device.
  public static func filterNormalizedDirection(for parameters: [Tensor], seed: UInt64) throws -> [Tensor] {
    let generator = try Generator(seed: seed)
    return try Autograd.withNoGrad {
      try parameters.map { p in
        guard p.rank >= 2 else { return try p.detached().zerosLike() }
        let weight = try p.detached().to(.cpu, .float32)
        let noise = try Tensor.randn(p.shape, dtype: .float32, device: .cpu, generator: generator)
        let rows = [p.shape[0], p.count / max(p.shape[0], 1)]
        let weightNorms = try weight.reshaped(rows).norm(2, dims: [1], keepDim: true)
        let noiseNorms = try noise.reshaped(rows).norm(2, dims: [1], keepDim: true)
        let scaled = try (try noise.reshaped(rows) * (try weightNorms / (try noiseNorms + 1e-10))).reshaped(p.shape)
        return try scaled.to(p.device, p.dtype)
      }
    }
  }

  /// Evaluates `model` (in eval mode) at `w + alpha * direction` for each alpha, on `images` in [0, 1]
  /// with int64 `labels`, clean and, when `attack` is given, on that attack's examples (crafted
  /// against the moved weights). The parameters are restored bit for bit afterwards, also on errors.
  public static func scan(_ model: any Classifier, direction: [Tensor], alphas: [Double], images: Tensor,
                          labels: Tensor, attack: (any Attack)?, batchSize: Int = 256,
                          progress: ((Point) -> Void)? = nil) throws -> [Point]
  {
    let parameters = model.parameters
    guard direction.count == parameters.count,
          zip(direction, parameters).allSatisfy({ $0.shape == $1.shape }) else {
      throw TorchError("landscape: the direction does not match the model's \(parameters.count) parameters")
    }
    guard batchSize > 0 else { throw TorchError("landscape: batch size must be positive") }
    let originals = try Autograd.withNoGrad { try parameters.map { try $0.detached().clone() } }
    func restore() throws {
      try Autograd.withNoGrad { for (p, w) in zip(parameters, originals) { try p.copy_(w) } }
    }
    do {
      let points = try model.withMode(training: false) {
        try alphas.map { alpha -> Point in
          try Autograd.withNoGrad {
            for ((p, w), d) in zip(zip(parameters, originals), direction) { try p.copy_(try w.adding(d, scaledBy: alpha)) }
          }
          let point = try evaluate(model, alpha: alpha, images: images, labels: labels, attack: attack,
                                   batchSize: batchSize)
          progress?(point)
          return point
        }
      }
      try restore()
      return points
    } catch {
      try? restore()
      throw error
    }
  }

  static func evaluate(_ model: any Classifier, alpha: Double, images: Tensor, labels: Tensor, attack: (any Attack)?,
                       batchSize: Int) throws -> Point
  {
    let n = images.shape[0]
    var clean = (loss: 0.0, correct: 0.0), adversarial = (loss: 0.0, correct: 0.0)
    func score(_ x: Tensor, _ y: Tensor) throws -> (Double, Double) {
      let logits = try Autograd.withNoGrad { try model(x) }
      let loss = try Functional.crossEntropy(logits, y, reduction: .sum).item()
      let correct = try (try logits.argmax(dim: 1) .== y).to(.float32).sum().item()
      return (loss, correct)
    }
    var start = 0
    while start < n {
      let end = min(start + batchSize, n)
      let x = try images.slice(dim: 0, start, end), y = try labels.slice(dim: 0, start, end)
      let (l, c) = try score(x, y)
      clean = (clean.loss + l, clean.correct + c)
      if let attack {
        let (la, ca) = try score(try attack.perturb(model, images: x, labels: y), y)
        adversarial = (adversarial.loss + la, adversarial.correct + ca)
      }
      start = end
    }
    let count = Double(max(n, 1))
    return Point(alpha: alpha, cleanLoss: clean.loss / count, cleanAccuracy: clean.correct / count,
                 adversarialLoss: attack == nil ? nil : adversarial.loss / count,
                 adversarialAccuracy: attack == nil ? nil : adversarial.correct / count)
  }

  /// `start:end:count` ("-1:1:21") as evenly spaced values, both ends included.
  /// The most points one landscape scans (each is a full evaluation of the test images).
  public static let maximumPoints = 1_000

  public static func parseRange(_ text: String) throws -> [Double] {
    let parts = text.split(separator: ":").map { Double($0.trimmingCharacters(in: .whitespaces)) }
    guard parts.count == 3, let start = parts[0], let end = parts[1], let count = parts[2],
          count >= 1, count == count.rounded(), start.isFinite, end.isFinite else {
      throw TorchError("'\(text)' is not a range START:END:COUNT such as -1:1:21")
    }
    guard count <= Double(maximumPoints) else {
      throw TorchError("'\(text)' asks for \(String(format: "%g", count)) points; a landscape scans at most \(maximumPoints) "
        + "(each is a full evaluation of the test images)")
    }
    let k = Int(count)
    let alphas = k == 1 ? [start] : (0..<k).map { start + (end - start) * Double($0) / Double(k - 1) }
    guard alphas.allSatisfy(\.isFinite) else { throw TorchError("'\(text)': the steps between START and END overflow") }
    return alphas
  }
}
