import Foundation

/// MNIST and Fashion-MNIST in their original idx files (`train-images-idx3-ubyte`,
/// `train-labels-idx1-ubyte`, `t10k-...`), plain or gzipped: 1x28x28 grey images, 10 classes.
public enum MNISTLoader {
  public static let classCount = 10

  public static func load(from directory: URL, split: DatasetSplit, name: String = "mnist") throws -> LabeledImages {
    let stem = split == .train ? "train" : "t10k"
    let imagesURL = try DatasetFile.locate(["\(stem)-images-idx3-ubyte", "\(stem)-images.idx3-ubyte"], in: directory)
    let labelsURL = try DatasetFile.locate(["\(stem)-labels-idx1-ubyte", "\(stem)-labels.idx1-ubyte"], in: directory)
    let images = try IDXFile(contentsOf: imagesURL, expectedRank: 3)
    let labels = try IDXFile(contentsOf: labelsURL, expectedRank: 1)

    let (count, height, width) = (images.dimensions[0], images.dimensions[1], images.dimensions[2])
    guard labels.dimensions[0] == count else {
      throw DatasetError.mismatch(
        files: [imagesURL.path, labelsURL.path], detail: "\(count) images but \(labels.dimensions[0]) labels")
    }
    let labelValues = try checkedLabels(labels.elements, classCount: classCount, file: labelsURL.path)
    return try LabeledImages(
      name: "\(name)-\(split.rawValue)", pixels: [UInt8](images.elements), labels: labelValues, channels: 1,
      height: height, width: width, classCount: classCount)
  }

  static func checkedLabels(_ bytes: Data, classCount: Int, file: String) throws -> [Int64] {
    var labels = [Int64]()
    labels.reserveCapacity(bytes.count)
    for (index, byte) in bytes.enumerated() {
      guard Int(byte) < classCount else {
        throw DatasetError.labelOutOfRange(file: file, index: index, label: Int(byte), classCount: classCount)
      }
      labels.append(Int64(byte))
    }
    return labels
  }
}
