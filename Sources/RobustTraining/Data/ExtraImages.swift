import Foundation
import Torch

/// Extra labelled images mixed into training (`extra_data`): the generated data of DM-Improves-AT (Wang et al.
/// 2023, "Better diffusion models further improve adversarial training"), read in place. Its published files
/// are `.npz` archives holding `image` (N x H x W x C, uint8) and `label` (N, integers), the keys its loader
/// (`core/data/semisup.py`) reads. Accepted:
/// - an uncompressed `.npz` (`np.savez`): memory-mapped, each member's bytes found through the ZIP directory
///   and the `.npy` header, so that only the rows a batch takes are read from disk;
/// - a folder holding `image.npy` and `label.npy` (such an archive unpacked: `unzip 1m.npz -d 1m/`), mapped too.
/// A compressed `.npz` (`np.savez_compressed`) cannot be read in place and is refused with the command that
/// rewrites it uncompressed (`conversionCommand`). Every check runs when the file is opened, before training.
public final class ExtraImages {
  /// The path given (a file or a folder).
  public let path: String
  public let count: Int
  /// (C, H, W) of one image, as the dataset's.
  public let imageShape: [Int]
  public let classCount: Int
  private let images: (file: MappedFile, array: NPYArray)
  private let labels: (file: MappedFile, array: NPYArray)

  /// A one-line command that rewrites a compressed `.npz` uncompressed, member by member (never holding an
  /// array in memory): `IN` and `OUT` stand for the file names.
  public static func conversionCommand(_ input: String, _ output: String) -> String {
    "python3 -c \"import sys, shutil, zipfile; src = zipfile.ZipFile(sys.argv[1]); "
      + "dst = zipfile.ZipFile(sys.argv[2], 'w', zipfile.ZIP_STORED, allowZip64=True); "
      + "[shutil.copyfileobj(i, o, 1 << 24) or o.close() for m in src.infolist() for i in [src.open(m)] "
      + "for o in [dst.open(m.filename, 'w', force_zip64=True)]]; dst.close()\" "
      + "\(shellQuoted(input)) \(shellQuoted(output))"
  }

  /// Opens the extra data at `path` for a dataset of `imageShape` (C, H, W) images and `classCount` classes.
  public init(path: String, imageShape: [Int], classCount: Int) throws {
    self.path = path
    self.imageShape = imageShape
    self.classCount = classCount
    let url = URL(fileURLWithPath: path)
    var isFolder: ObjCBool = false
    guard FileManager.default.fileExists(atPath: path, isDirectory: &isFolder) else {
      throw DatasetError.missingFile(candidates: [path])
    }
    if isFolder.boolValue {
      func array(_ key: String) throws -> (MappedFile, NPYArray) {
        let file = try MappedFile(url.appendingPathComponent("\(key).npy"))
        return (file, try NPYArray(in: file, range: 0..<file.count, name: file.path))
      }
      images = try array("image")
      labels = try array("label")
    } else {
      let file = try MappedFile(url)
      let start = file.data(0..<Swift.min(6, file.count))
      if start == NPYArray.magic {
        throw DatasetError.invalidContent(
          file: path, detail: "a single .npy array; give an .npz holding 'image' and 'label', or a folder holding "
            + "image.npy and label.npy")
      }
      let archive = try ZipDirectory(file)
      func member(_ key: String) throws -> (MappedFile, NPYArray) {
        guard let entry = archive.entry(named: "\(key).npy") ?? archive.entry(named: key) else {
          let names = archive.entries.map { "'\($0.name.hasSuffix(".npy") ? String($0.name.dropLast(4)) : $0.name)'" }
          throw DatasetError.invalidContent(
            file: path, detail: "has no '\(key)' array (it holds \(names.isEmpty ? "none" : names.joined(separator: ", "))); "
              + "extra data needs 'image' (N x H x W x C, uint8) and 'label' (N, integers), as DM-Improves-AT's files")
        }
        guard !entry.isEncrypted else { throw DatasetError.invalidContent(file: path, detail: "member '\(entry.name)' is encrypted") }
        switch entry.method {
        case 0: break
        case 8:
          let output = url.deletingPathExtension().path + "-uncompressed.npz"
          throw DatasetError.invalidContent(
            file: path, detail: "member '\(entry.name)' is compressed (np.savez_compressed), which cannot be read in place; "
              + "rewrite it uncompressed once (member by member, in little memory) with\n  "
              + Self.conversionCommand(path, output) + "\nand give \(output)")
        default:
          throw DatasetError.invalidContent(file: path, detail: "member '\(entry.name)' uses ZIP compression method \(entry.method), not NumPy's")
        }
        guard entry.compressedSize == entry.uncompressedSize else {
          throw DatasetError.invalidContent(
            file: path, detail: "member '\(entry.name)' is stored but its sizes differ (\(entry.compressedSize) and \(entry.uncompressedSize) bytes)")
        }
        return (file, try NPYArray(in: file, range: try archive.dataRange(of: entry), name: "\(path): member '\(entry.name)'"))
      }
      images = try member("image")
      labels = try member("label")
    }
    let (image, label) = (images.array, labels.array)
    guard image.kind == "u", image.itemSize == 1 else {
      throw DatasetError.invalidContent(
        file: image.name, detail: "dtype '\(image.descr)', expected uint8 ('|u1'): pixels 0-255 (np.uint8)")
    }
    let (c, h, w) = (imageShape[0], imageShape[1], imageShape[2])
    guard image.shape.count == 4 else {
      throw DatasetError.invalidContent(file: image.name, detail: "shape \(image.shape), expected (N, H, W, C) = (N, \(h), \(w), \(c))")
    }
    guard Array(image.shape.dropFirst()) == [h, w, c] else {
      throw DatasetError.invalidContent(
        file: image.name, detail: "images of H x W x C = \(image.shape[1]) x \(image.shape[2]) x \(image.shape[3]), "
          + "the dataset's are \(h) x \(w) x \(c)")
    }
    guard label.isInteger else {
      throw DatasetError.invalidContent(file: label.name, detail: "dtype '\(label.descr)', expected integer class labels")
    }
    guard label.shape.count == 1 else {
      throw DatasetError.invalidContent(file: label.name, detail: "shape \(label.shape), expected (N)")
    }
    guard label.shape[0] == image.shape[0] else {
      throw DatasetError.mismatch(files: [image.name, label.name], detail: "\(image.shape[0]) images but \(label.shape[0]) labels")
    }
    guard image.shape[0] > 0 else { throw DatasetError.invalidContent(file: path, detail: "holds no images") }
    count = image.shape[0]
    if let (index, value) = label.firstInteger(outside: Int64(classCount), in: labels.file) {
      throw DatasetError.labelOutOfRange(file: label.name, index: index, label: Int(value), classCount: classCount)
    }
  }

  /// Opens the extra data at `path` for `data`'s image shape and classes.
  public convenience init(path: String, fitting data: LabeledImages) throws {
    try self.init(path: path, imageShape: data.imageShape, classCount: data.classCount)
  }

  /// The images at `rows`, in that order: uint8 (n, C, H, W) on the CPU. Only their pages are read.
  public func pixels(rows: [Int]) throws -> Tensor {
    let (c, h, w) = (imageShape[0], imageShape[1], imageShape[2])
    let rowBytes = h * w * c
    try check(rows)
    let base = images.file.bytes + images.array.dataOffset
    let hwc = try Tensor.filled([rows.count, h, w, c], dtype: .uint8) { buffer in
      guard let target = buffer.baseAddress else { return }
      for (k, row) in rows.enumerated() {
        (target + k * rowBytes).copyMemory(from: base + row * rowBytes, byteCount: rowBytes)
        images.file.release((images.array.dataOffset + row * rowBytes)..<(images.array.dataOffset + (row + 1) * rowBytes))
      }
    }
    return try hwc.permuted([0, 3, 1, 2]).contiguous()
  }

  /// The labels at `rows`, in that order: int64 (n) on the CPU.
  public func labels(rows: [Int]) throws -> Tensor {
    try check(rows)
    return try Tensor(rows.map { labels.array.integer(at: $0, in: labels.file) })
  }

  private func check(_ rows: [Int]) throws {
    if let row = rows.first(where: { !(0..<count).contains($0) }) {
      throw DatasetError.unsupported("\(path): row \(row) is outside 0..<\(count)")
    }
  }

  private static func shellQuoted(_ text: String) -> String {
    text.allSatisfy { $0.isLetter || $0.isNumber || "/._-+".contains($0) } ? text
      : "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'"
  }
}
