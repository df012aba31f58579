import Foundation
import Torch

/// The CIFAR "binary version" files: fixed-size records of label byte(s) then 3072 pixel bytes
/// (R, G and B planes of 32x32, row-major).
public enum CIFARLoader {
  public enum Variant: Sendable {
    /// `data_batch_1..5.bin`, `test_batch.bin`; records: label, pixels (3073 bytes).
    case cifar10
    /// `train.bin`, `test.bin`; records: coarse label, fine label, pixels (3074 bytes). Fine labels are used.
    case cifar100

    public var classCount: Int { self == .cifar10 ? 10 : 100 }
    var labelBytes: Int { self == .cifar10 ? 1 : 2 }
    var recordSize: Int { labelBytes + CIFARLoader.pixelsPerImage }
    var name: String { self == .cifar10 ? "cifar10" : "cifar100" }

    func fileNames(_ split: DatasetSplit) -> [String] {
      switch (self, split) {
      case (.cifar10, .train): return (1...5).map { "data_batch_\($0).bin" }
      case (.cifar10, .test): return ["test_batch.bin"]
      case (.cifar100, .train): return ["train.bin"]
      case (.cifar100, .test): return ["test.bin"]
      }
    }
  }

  static let pixelsPerImage = 3 * 32 * 32
  static let coarseClassCount = 20

  public static func load(_ variant: Variant, from directory: URL, split: DatasetSplit) throws -> LabeledImages {
    let urls = try variant.fileNames(split).map { try DatasetFile.locate([$0], in: directory) }
    return try load(variant, files: urls, name: "\(variant.name)-\(split.rawValue)")
  }

  /// Reads and concatenates the given record files, in order.
  public static func load(_ variant: Variant, files: [URL], name: String) throws -> LabeledImages {
    var contents = [(file: String, bytes: Data)]()
    var labels = [Int64]()
    for url in files {
      let bytes = try DatasetFile.read(url)
      labels += try checkedLabels(bytes, variant: variant, file: url.path)
      contents.append((url.path, bytes))
    }
    // The pixels go straight into the dataset tensor (held once, not also in an array).
    let images = try Tensor.filled([labels.count, 3, 32, 32], dtype: .uint8) { out in
      var image = 0
      for (_, bytes) in contents {
        bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
          for record in stride(from: 0, to: raw.count, by: variant.recordSize) {
            let source = UnsafeRawBufferPointer(rebasing: raw[(record + variant.labelBytes)..<(record + variant.recordSize)])
            UnsafeMutableRawBufferPointer(rebasing: out[(image * pixelsPerImage)...]).copyMemory(from: source)
            image += 1
          }
        }
      }
    }
    return try LabeledImages(name: name, images: images, labels: try Tensor(labels), classCount: variant.classCount)
  }

  /// The (fine) labels of a file's records, after checking its size and every label.
  static func checkedLabels(_ bytes: Data, variant: Variant, file: String) throws -> [Int64] {
    let recordSize = variant.recordSize
    guard !bytes.isEmpty, bytes.count % recordSize == 0 else {
      throw DatasetError.wrongSize(
        file: file, detail: "\(bytes.count) bytes is not a positive multiple of the \(recordSize)-byte record")
    }
    return try bytes.withUnsafeBytes { (raw: UnsafeRawBufferPointer) in
      try (0..<(bytes.count / recordSize)).map { index in
        let record = index * recordSize
        if variant == .cifar100, Int(raw[record]) >= coarseClassCount {
          throw DatasetError.labelOutOfRange(
            file: file, index: index, label: Int(raw[record]), classCount: coarseClassCount)
        }
        let label = Int(raw[record + variant.labelBytes - 1])
        guard label < variant.classCount else {
          throw DatasetError.labelOutOfRange(file: file, index: index, label: label, classCount: variant.classCount)
        }
        return Int64(label)
      }
    }
  }
}
