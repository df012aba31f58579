import Foundation
import Torch

/// The standard CIFAR augmentation, batched on the images' device: each sample is zero-padded by
/// `padding` pixels, a random H x W window is cut from it, and the window is mirrored left-right
/// with probability 1/2. All samples are cropped by one gather; no per-sample host loop.
public struct RandomCropFlip: Sendable {
  public var padding: Int
  public var flips: Bool

  public init(padding: Int = 4, flips: Bool = true) {
    self.padding = padding
    self.flips = flips
  }

  /// The random choices for one batch of `count` samples, drawn in a fixed order (row offsets,
  /// column offsets, flips) from `generator`, which must live on `device`.
  public struct Draw {
    /// Top-left corner of each window inside the padded image, int64 (N).
    public let rowOffsets: Tensor
    public let columnOffsets: Tensor
    /// Which samples are mirrored, bool (N).
    public let flipped: Tensor
  }

  public func draw(count: Int, device: Device, generator: Generator) throws -> Draw {
    let rows = try Tensor.randint(0, 2 * padding + 1, [count], device: device, generator: generator)
    let columns = try Tensor.randint(0, 2 * padding + 1, [count], device: device, generator: generator)
    let flipped = flips
      ? try Tensor.randint(0, 2, [count], device: device, generator: generator) .== 1.0
      : try Tensor.zeros([count], dtype: .bool, device: device)
    return Draw(rowOffsets: rows, columnOffsets: columns, flipped: flipped)
  }

  /// Augments `images` (N, C, H, W) with randomness from `generator`, which must live on the images' device.
  public func callAsFunction(_ images: Tensor, generator: Generator) throws -> Tensor {
    try apply(draw(count: images.shape[0], device: images.device, generator: generator), to: images)
  }

  /// Augments `images` with a fresh generator seeded by `seed` (for example one derived from the step).
  public func callAsFunction(_ images: Tensor, seed: UInt64) throws -> Tensor {
    try callAsFunction(images, generator: try Generator(seed: seed, device: images.device))
  }

  public func apply(_ draw: Draw, to images: Tensor) throws -> Tensor {
    guard images.rank == 4 else {
      throw DatasetError.unsupported("random crop/flip needs (N, C, H, W) images, got \(images.shape)")
    }
    let (n, c, h, w) = (images.shape[0], images.shape[1], images.shape[2], images.shape[3])
    let device = images.device
    let p = padding
    let padded = try images.padded([p, p, p, p])

    let rowSteps = try Tensor.arange(0, Double(h), device: device).reshaped([1, h])
    let columnSteps = try Tensor.arange(0, Double(w), device: device).reshaped([1, w])
    let mirroredSteps = try columnSteps.flipped([1])  // W-1, ..., 0
    let rows = try draw.rowOffsets.to(device).reshaped([n, 1]) + rowSteps                      // (N, H)
    let columnStart = try draw.columnOffsets.to(device).reshaped([n, 1])
    let columns = try Tensor.where(
      try draw.flipped.to(device).reshaped([n, 1]), try columnStart + mirroredSteps, try columnStart + columnSteps)  // (N, W)

    let sampleIndex = try Tensor.arange(0, Double(n), device: device).reshaped([n, 1, 1, 1])
    let channelIndex = try Tensor.arange(0, Double(c), device: device).reshaped([1, c, 1, 1])
    return try padded.indexed([
      sampleIndex, channelIndex, try rows.reshaped([n, 1, h, 1]), try columns.reshaped([n, 1, 1, w]),
    ])
  }
}
