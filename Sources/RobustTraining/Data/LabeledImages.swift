import Foundation
import Torch

/// A labelled image dataset held in memory: uint8 images (N, C, H, W) and int64 labels (N).
public struct LabeledImages {
  public let name: String
  public let images: Tensor
  public let labels: Tensor
  public let classCount: Int

  /// Checks shapes and dtypes; labels are not range-checked here (the loaders do that on the raw bytes).
  public init(name: String, images: Tensor, labels: Tensor, classCount: Int) throws {
    guard images.rank == 4, images.dtype == .uint8 else {
      throw DatasetError.unsupported("\(name): images must be uint8 (N, C, H, W), got \(images.dtype) \(images.shape)")
    }
    guard labels.rank == 1, labels.dtype == .int64, labels.shape[0] == images.shape[0] else {
      throw DatasetError.unsupported(
        "\(name): labels must be int64 (\(images.shape[0])), got \(labels.dtype) \(labels.shape)")
    }
    guard classCount > 0 else { throw DatasetError.unsupported("\(name): classCount must be positive") }
    self.name = name
    self.images = images
    self.labels = labels
    self.classCount = classCount
  }

  /// Builds a dataset from host bytes: `pixels` holds N*C*H*W values, row-major.
  public init(name: String, pixels: [UInt8], labels: [Int64], channels: Int, height: Int, width: Int,
              classCount: Int) throws
  {
    try self.init(
      name: name, images: try Tensor(pixels, shape: [labels.count, channels, height, width]),
      labels: try Tensor(labels), classCount: classCount)
  }

  public var count: Int { labels.shape[0] }
  /// (C, H, W) of one image.
  public var imageShape: [Int] { Array(images.shape.dropFirst()) }

  /// The samples at `indices` (an int64 tensor on the images' device), in that order.
  public func subset(_ indices: Tensor, name: String? = nil) throws -> LabeledImages {
    try LabeledImages(
      name: name ?? self.name, images: try images.indexed(by: indices), labels: try labels.indexed(by: indices),
      classCount: classCount)
  }

  /// The first `n` samples (all when `n` is larger), e.g. for quick runs.
  public func prefix(_ n: Int) throws -> LabeledImages {
    let n = Swift.max(0, Swift.min(n, count))
    return try LabeledImages(name: name, images: try images[0..<n], labels: try labels[0..<n], classCount: classCount)
  }

  /// The same data on `device` (images stay uint8).
  public func to(_ device: Device) throws -> LabeledImages {
    try LabeledImages(name: name, images: try images.to(device), labels: try labels.to(device), classCount: classCount)
  }
}

public enum DatasetSplit: String, CaseIterable, Sendable {
  case train, test
}
