import Dispatch
import Foundation

/// Tiny ImageNet as distributed (`tiny-imagenet-200/`): `wnids.txt`, `train/<wnid>/images/*.JPEG`
/// and `val/images/*.JPEG` labelled by `val/val_annotations.txt`. The validation split is the test split
/// (the test images have no labels). Class indices follow the sorted wnids, as torchvision's `ImageFolder`
/// numbers them, so checkpoints and labels agree with the PyTorch code. The `ImageFolder` layout that many
/// training scripts make (`train/<wnid>/*.JPEG`, `val/<wnid>/*.JPEG`) is read as well.
public enum TinyImageNetLoader {
  public static let side = 64

  public static func load(from directory: URL, split: DatasetSplit) throws -> LabeledImages {
    let wnids = try classes(in: directory)
    let index = Dictionary(uniqueKeysWithValues: wnids.enumerated().map { ($1, $0) })
    let files: [(url: URL, label: Int)]
    switch split {
    case .train: files = try folderImages(directory.appendingPathComponent("train"), wnids: wnids)
    case .test: files = try validationImages(directory.appendingPathComponent("val"), wnids: wnids, index: index)
    }
    return try decode(files, name: "tiny-imagenet-\(split.rawValue)", classCount: wnids.count)
  }

  /// The sorted class ids: from `wnids.txt`, else the folder names under `train/`.
  static func classes(in directory: URL) throws -> [String] {
    let list = directory.appendingPathComponent("wnids.txt")
    let wnids: [String]
    if FileManager.default.fileExists(atPath: list.path) {
      wnids = try lines(of: list).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
      if let repeated = Dictionary(grouping: wnids, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
        throw DatasetError.unsupported("\(list.path): class \(repeated) is listed twice")
      }
    } else {
      let train = directory.appendingPathComponent("train")
      wnids = subdirectories(of: train)
      if wnids.isEmpty { throw DatasetError.missingFile(candidates: [list.path, train.path + "/<wnid>/"]) }
    }
    guard !wnids.isEmpty else { throw DatasetError.unsupported("\(list.path): no class ids") }
    return wnids.sorted()
  }

  /// `folder/<wnid>/images/*.JPEG` (or `folder/<wnid>/*.JPEG`), files sorted by name within a class and
  /// the classes interleaved (first image of each class, then the second, ...), so that the first N images
  /// (`--train-subset`) cover all classes evenly instead of the first few.
  static func folderImages(_ folder: URL, wnids: [String]) throws -> [(url: URL, label: Int)] {
    let perClass = try wnids.enumerated().map { label, wnid -> [(url: URL, label: Int)] in
      let classFolder = folder.appendingPathComponent(wnid)
      let nested = classFolder.appendingPathComponent("images")
      let imageFolder = FileManager.default.fileExists(atPath: nested.path) ? nested : classFolder
      guard FileManager.default.fileExists(atPath: imageFolder.path) else {
        throw DatasetError.missingFile(candidates: [nested.path, classFolder.path])
      }
      let images = jpegFiles(in: imageFolder)
      guard !images.isEmpty else {
        throw DatasetError.unsupported("\(imageFolder.path): no JPEG images for class \(wnid)")
      }
      return images.map { (url: $0, label: label) }
    }
    return (0..<(perClass.map(\.count).max() ?? 0)).flatMap { rank in perClass.compactMap { rank < $0.count ? $0[rank] : nil } }
  }

  /// `val/images/*` labelled by `val/val_annotations.txt` (file, wnid, box, tab-separated), in the
  /// annotation file's order; or the `ImageFolder` layout `val/<wnid>/`.
  static func validationImages(_ folder: URL, wnids: [String], index: [String: Int]) throws
    -> [(url: URL, label: Int)]
  {
    let annotations = folder.appendingPathComponent("val_annotations.txt")
    guard FileManager.default.fileExists(atPath: annotations.path) else {
      if !subdirectories(of: folder).filter({ index[$0] != nil }).isEmpty {
        return try folderImages(folder, wnids: wnids)
      }
      throw DatasetError.missingFile(candidates: [annotations.path, folder.path + "/<wnid>/"])
    }
    var files = [(url: URL, label: Int)]()
    for (number, line) in try lines(of: annotations).enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
      let fields = line.split(separator: "\t", omittingEmptySubsequences: false).map(String.init)
      guard fields.count >= 2, !fields[0].isEmpty else {
        throw DatasetError.unsupported("\(annotations.path): line \(number + 1): expected FILE<TAB>WNID, got \"\(line)\"")
      }
      guard let label = index[fields[1]] else {
        throw DatasetError.unsupported(
          "\(annotations.path): line \(number + 1): class \(fields[1]) is not among the \(wnids.count) classes")
      }
      files.append((folder.appendingPathComponent("images").appendingPathComponent(fields[0]), label))
    }
    guard !files.isEmpty else { throw DatasetError.unsupported("\(annotations.path): no annotations") }
    return files
  }

  /// Reads and decodes the images in parallel into one (N, 3, 64, 64) uint8 dataset.
  static func decode(_ files: [(url: URL, label: Int)], name: String, classCount: Int) throws -> LabeledImages {
    let pixelsPerImage = 3 * side * side
    var firstError: (index: Int, error: Error)?
    let lock = NSLock()
    let pixels = [UInt8](unsafeUninitializedCapacity: files.count * pixelsPerImage) { out, initialized in
      let base = out.baseAddress!
      let chunk = 256
      DispatchQueue.concurrentPerform(iterations: (files.count + chunk - 1) / chunk) { part in
        let rgb = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: pixelsPerImage)
        defer { rgb.deallocate() }
        for i in (part * chunk)..<min(files.count, (part + 1) * chunk) {
          do {
            try decodeImage(files[i].url, into: rgb)
            planarize(rgb, into: base + i * pixelsPerImage)
          } catch {
            lock.lock()
            if firstError == nil || i < firstError!.index { firstError = (i, error) }
            lock.unlock()
            return
          }
        }
      }
      initialized = files.count * pixelsPerImage
    }
    if let firstError { throw firstError.error }
    return try LabeledImages(
      name: name, pixels: pixels, labels: files.map { Int64($0.label) }, channels: 3, height: side, width: side,
      classCount: classCount)
  }

  private static func decodeImage(_ url: URL, into rgb: UnsafeMutableBufferPointer<UInt8>) throws {
    let data = try DatasetFile.read(url)
    do {
      try JPEG.decode(data, expectingWidth: side, height: side, into: rgb)
    } catch let failure as JPEG.Failure {
      throw DatasetError.unreadable(file: url.path, reason: failure.reason)
    }
  }

  /// Interleaved RGB (HWC) to planes (CHW).
  private static func planarize(_ rgb: UnsafeMutableBufferPointer<UInt8>, into planes: UnsafeMutablePointer<UInt8>) {
    let area = side * side
    for p in 0..<area {
      planes[p] = rgb[3 * p]
      planes[area + p] = rgb[3 * p + 1]
      planes[2 * area + p] = rgb[3 * p + 2]
    }
  }

  private static func jpegFiles(in folder: URL) -> [URL] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { ["jpeg", "jpg"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
      .map { folder.appendingPathComponent($0) }
  }

  private static func subdirectories(of folder: URL) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { name in
      var isDirectory: ObjCBool = false
      return FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &isDirectory)
        && isDirectory.boolValue
    }.sorted()
  }

  private static func lines(of url: URL) throws -> [String] {
    let data = try DatasetFile.read(url)
    guard let text = String(data: data, encoding: .utf8) else {
      throw DatasetError.unreadable(file: url.path, reason: "not UTF-8 text")
    }
    return text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
  }
}
