import Torch

/// One epoch's training augmentations (`TrainingConfiguration.activeAugmentations`) with their generators,
/// seeded by (seed, epoch) so that a resumed run draws what the uninterrupted one drew.
struct EpochAugmentation {
  private let cropFlip: (RandomCropFlip, Generator)?
  /// Cutout draws from a generator of its own, so that crop and flip draw what they drew without it.
  private let cutout: (Cutout, Generator)?

  init(_ c: TrainingConfiguration, epoch: Int, device: Device) throws {
    let kinds = c.activeAugmentations
    cropFlip = kinds.contains(.crop) || kinds.contains(.flip)
      ? (RandomCropFlip(padding: kinds.contains(.crop) ? 4 : 0, flips: kinds.contains(.flip)),
         try Generator(seed: BatchLoader.mix(c.seed ^ 0x5EED_0002, UInt64(epoch)), device: device)) : nil
    cutout = kinds.contains(.cutout)
      ? (Cutout(), try Generator(seed: BatchLoader.mix(c.seed ^ 0x5EED_0004, UInt64(epoch)), device: device)) : nil
  }

  func callAsFunction(_ images: Tensor) throws -> Tensor {
    var images = images
    if let (augmentation, generator) = cropFlip { images = try augmentation(images, generator: generator) }
    if let (cutout, generator) = cutout { images = try cutout(images, generator: generator) }
    return images
  }
}
