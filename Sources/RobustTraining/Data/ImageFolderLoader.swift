import Dispatch
import Foundation
import Torch

/// A folder of JPEG images, one subfolder per class, as torchvision's `ImageFolder` reads it:
/// `train/<class>/*.jpg` and `test/<class>/*.jpg` (or `val/<class>/`). Classes are numbered by sorted
/// folder name; every image must have the size of the first one (it fixes the dataset's H x W); gray
/// images are expanded to RGB. The shared CIFAR-10 JPEG archive, unpacked, is such a folder.
public enum ImageFolderLoader {
  public static func load(from directory: URL, split: DatasetSplit) throws -> LabeledImages {
    let train = directory.appendingPathComponent("train")
    let classes = subdirectories(of: train)
    guard !classes.isEmpty else { throw DatasetError.missingFile(candidates: [train.path + "/<class>/"]) }
    let folder: URL
    switch split {
    case .train: folder = train
    case .test:
      let candidates = ["test", "val"].map { directory.appendingPathComponent($0) }
      guard let found = candidates.first(where: { !subdirectories(of: $0).isEmpty }) else {
        throw DatasetError.missingFile(candidates: candidates.map { $0.path + "/<class>/" })
      }
      folder = found
    }
    let files = try folderImages(folder, classes: classes)
    let first = try DatasetFile.read(files[0].url)
    let size: (width: Int, height: Int)
    do {
      let image = try JPEG.decode(first)
      size = (image.width, image.height)
    } catch let failure as JPEG.Failure {
      throw DatasetError.unreadable(file: files[0].url.path, reason: failure.reason)
    }
    return try decode(files, name: "image-folder-\(split.rawValue)", classCount: classes.count, width: size.width,
                      height: size.height)
  }

  /// `folder/<wnid>/images/*.JPEG` (or `folder/<wnid>/*.JPEG`), files sorted by name within a class and
  /// the classes interleaved (first image of each class, then the second, ...), so that the first N images
  /// (`--train-subset`) cover all classes evenly instead of the first few.
  static func folderImages(_ folder: URL, classes: [String]) throws -> [(url: URL, label: Int)] {
    let perClass = try classes.enumerated().map { label, wnid -> [(url: URL, label: Int)] in
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

  /// Reads and decodes the images in parallel, straight into one (N, 3, H, W) uint8 tensor (the pixels are
  /// held once: 1.2 GB for Tiny ImageNet's training split).
  static func decode(_ files: [(url: URL, label: Int)], name: String, classCount: Int, width: Int, height: Int) throws
    -> LabeledImages
  {
    let pixelsPerImage = 3 * width * height
    let (total, overflow) = pixelsPerImage.multipliedReportingOverflow(by: files.count)
    guard !overflow, total <= DatasetFile.memoryBound else {
      throw DatasetError.unsupported("\(name): \(files.count) images of \(width)x\(height) pixels (as \(files[0].url.path) "
        + "declares) need more memory than this machine has")
    }
    var firstError: (index: Int, error: Error)?
    let lock = NSLock()
    let images = try Tensor.filled([files.count, 3, height, width], dtype: .uint8) { out in
      guard let base = out.bindMemory(to: UInt8.self).baseAddress else { return }
      let chunk = 256
      DispatchQueue.concurrentPerform(iterations: (files.count + chunk - 1) / chunk) { part in
        let rgb = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: pixelsPerImage)
        defer { rgb.deallocate() }
        for i in (part * chunk)..<min(files.count, (part + 1) * chunk) {
          do {
            try decodeImage(files[i].url, width: width, height: height, into: rgb)
            planarize(rgb, area: width * height, into: base + i * pixelsPerImage)
          } catch {
            lock.lock()
            if firstError.map({ i < $0.index }) ?? true { firstError = (i, error) }
            lock.unlock()
            return
          }
        }
      }
    }
    if let firstError { throw firstError.error }
    return try LabeledImages(name: name, images: images, labels: try Tensor(files.map { Int64($0.label) }),
                             classCount: classCount)
  }

  private static func decodeImage(_ url: URL, width: Int, height: Int, into rgb: UnsafeMutableBufferPointer<UInt8>)
    throws
  {
    let data = try DatasetFile.read(url)
    do {
      try JPEG.decode(data, expectingWidth: width, height: height, into: rgb)
    } catch let failure as JPEG.Failure {
      throw DatasetError.unreadable(file: url.path, reason: failure.reason)
    }
  }

  /// Interleaved RGB (HWC) to planes (CHW).
  private static func planarize(_ rgb: UnsafeMutableBufferPointer<UInt8>, area: Int, into planes: UnsafeMutablePointer<UInt8>) {
    for p in 0..<area {
      planes[p] = rgb[3 * p]
      planes[area + p] = rgb[3 * p + 1]
      planes[2 * area + p] = rgb[3 * p + 2]
    }
  }

  static func jpegFiles(in folder: URL) -> [URL] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { ["jpeg", "jpg"].contains(($0 as NSString).pathExtension.lowercased()) }.sorted()
      .map { folder.appendingPathComponent($0) }
  }

  static func subdirectories(of folder: URL) -> [String] {
    let names = (try? FileManager.default.contentsOfDirectory(atPath: folder.path)) ?? []
    return names.filter { name in
      var isDirectory: ObjCBool = false
      return FileManager.default.fileExists(atPath: folder.appendingPathComponent(name).path, isDirectory: &isDirectory)
        && isDirectory.boolValue
    }.sorted()
  }

  static func lines(of url: URL) throws -> [String] {
    let data = try DatasetFile.read(url)
    guard let text = String(data: data, encoding: .utf8) else {
      throw DatasetError.unreadable(file: url.path, reason: "not UTF-8 text")
    }
    return text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).map(String.init)
  }
}
