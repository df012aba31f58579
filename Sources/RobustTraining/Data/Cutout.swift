import Foundation
import Torch

/// Cutout as torchtoolbox's `transform.Cutout` runs with its defaults (the AGR authors' augmentation,
/// after crop and flip): with probability `probability` an image gets one rectangle filled with one value
/// v drawn from 0...255, the same in every channel (v / 255 on images in [0, 1]). The rectangle covers a
/// share s ~ U(`area`) of the image with aspect ratio r ~ U(`aspect`): width floor(sqrt(s H W / r)), height
/// floor(sqrt(s H W r)), its top-left corner uniform over the positions that keep it inside (the bounds
/// included, as Python's `random.randint`). Batched on the images' device, one draw per sample.
public struct Cutout: Sendable, Equatable {
  public var probability: Double
  public var area: ClosedRange<Double>
  public var aspect: ClosedRange<Double>

  /// torchtoolbox's defaults: p 0.5, area 2-40 %, aspect 0.4-2.5.
  public init(probability: Double = 0.5, area: ClosedRange<Double> = 0.02...0.4, aspect: ClosedRange<Double> = 0.4...2.5) {
    self.probability = probability
    self.area = area
    self.aspect = aspect
  }

  /// The random choices for one batch, per sample (N): whether it is cut, the rectangle, the fill value.
  public struct Draw {
    public let applied: Tensor
    public let top: Tensor
    public let left: Tensor
    public let height: Tensor
    public let width: Tensor
    /// The fill value in [0, 1] (v / 255).
    public let value: Tensor
  }

  /// Draws, in this order from `generator` (on `device`): applied, area, aspect, left, top, value.
  public func draw(count: Int, height: Int, width: Int, device: Device, generator: Generator) throws -> Draw {
    func uniform(_ range: ClosedRange<Double>) throws -> Tensor {
      try Tensor.uniform([count], low: range.lowerBound, high: range.upperBound, dtype: .float64, device: device,
                         generator: generator)
    }
    let applied = try uniform(0...1) .< probability
    let share = try uniform(area) * Double(height * width)
    let ratio = try uniform(aspect)
    let cutWidth = try (share / ratio).sqrt().floor().clamped(min: 0, max: Double(width))
    let cutHeight = try (share * ratio).sqrt().floor().clamped(min: 0, max: Double(height))
    // uniform integers in 0...(W - w) and 0...(H - h)
    let left = try (try uniform(0...1) * (try (Double(width) - cutWidth) + 1)).floor().clamped(max: Double(width - 1))
    let top = try (try uniform(0...1) * (try (Double(height) - cutHeight) + 1)).floor().clamped(max: Double(height - 1))
    let value = try Tensor.randint(0, 256, [count], device: device, generator: generator).to(.float64) / 255.0
    return Draw(applied: applied, top: try top.to(.int64), left: try left.to(.int64), height: try cutHeight.to(.int64),
                width: try cutWidth.to(.int64), value: value)
  }

  /// Cuts `images` (N, C, H, W) with randomness from `generator`, which must live on the images' device.
  public func callAsFunction(_ images: Tensor, generator: Generator) throws -> Tensor {
    guard images.rank == 4 else { throw DatasetError.unsupported("cutout needs (N, C, H, W) images, got \(images.shape)") }
    let (n, h, w) = (images.shape[0], images.shape[2], images.shape[3])
    return try apply(try draw(count: n, height: h, width: w, device: images.device, generator: generator), to: images)
  }

  public func apply(_ d: Draw, to images: Tensor) throws -> Tensor {
    let (n, h, w) = (images.shape[0], images.shape[2], images.shape[3])
    let device = images.device
    let rows = try Tensor.arange(0, Double(h), device: device).reshaped([1, 1, h, 1])
    let columns = try Tensor.arange(0, Double(w), device: device).reshaped([1, 1, 1, w])
    func perSample(_ t: Tensor) throws -> Tensor { try t.to(device).reshaped([n, 1, 1, 1]) }
    let top = try perSample(d.top)
    let left = try perSample(d.left)
    let inRows = try (try rows .>= top).logicalAnd(try rows .< (try top + (try perSample(d.height))))
    let inColumns = try (try columns .>= left).logicalAnd(try columns .< (try left + (try perSample(d.width))))
    let mask = try inRows.logicalAnd(inColumns).logicalAnd(try perSample(d.applied))
    let fill = try perSample(d.value).to(images.dtype)
    return try Tensor.where(mask, try fill.expanded(images.shape), images)
  }
}
