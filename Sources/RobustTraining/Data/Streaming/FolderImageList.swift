import Foundation

/// The JPEG files of one split of a folder dataset and their labels, without reading an image: the ImageNet
/// layout (`train/<wnid>/*.JPEG`; `val/<wnid>/*.JPEG`, or `val/*.JPEG` labelled by the ILSVRC
/// `LOC_val_solution.csv`) or any torchvision `ImageFolder` tree (`train/<class>/`, `val/<class>/` or
/// `test/<class>/`). Classes are numbered by sorted folder name under `train/`, as `ImageFolder` numbers them.
public struct FolderImageList: Sendable {
  public let name: String
  public let classes: [String]
  public let paths: [String]
  public let labels: [Int32]

  public var count: Int { paths.count }
  public var classCount: Int { classes.count }

  public init(name: String, classes: [String], paths: [String], labels: [Int32]) {
    (self.name, self.classes, self.paths, self.labels) = (name, classes, paths, labels)
  }

  /// The first `n` images (all when `n` is larger). The files are interleaved by class (see
  /// `ImageFolderLoader.folderImages`), so a prefix covers the classes evenly.
  public func prefix(_ n: Int) -> FolderImageList {
    FolderImageList(name: name, classes: classes, paths: Array(paths.prefix(n)), labels: Array(labels.prefix(n)))
  }

  /// The class folders under `directory/train`, sorted.
  public static func classes(in directory: URL) throws -> [String] {
    let train = directory.appendingPathComponent("train")
    let classes = ImageFolderLoader.subdirectories(of: train)
    guard !classes.isEmpty else { throw DatasetError.missingFile(candidates: [train.path + "/<class>/"]) }
    return classes
  }

  /// `split` of the dataset in `directory`. Throws naming the folder or file: a class folder without JPEG
  /// images, a labels file that names an image or class that is not there, an image it does not label.
  public static func load(from directory: URL, split: DatasetSplit) throws -> FolderImageList {
    let classes = try classes(in: directory)
    let name = "\(directory.lastPathComponent)-\(split.rawValue)"
    let files: [(url: URL, label: Int)]
    switch split {
    case .train: files = try ImageFolderLoader.folderImages(directory.appendingPathComponent("train"), classes: classes)
    case .test: files = try validation(in: directory, classes: classes)
    }
    return FolderImageList(name: name, classes: classes, paths: files.map(\.url.path), labels: files.map { Int32($0.label) })
  }

  /// `val/<class>/` or `test/<class>/` (every training class must have a folder), else `val/*.JPEG` with the
  /// ILSVRC labels file.
  static func validation(in directory: URL, classes: [String]) throws -> [(url: URL, label: Int)] {
    let candidates = ["val", "test"].map { directory.appendingPathComponent($0) }
    if let folder = candidates.first(where: { !ImageFolderLoader.subdirectories(of: $0).isEmpty }) {
      let known = Set(classes)
      if let stray = ImageFolderLoader.subdirectories(of: folder).first(where: { !known.contains($0) }) {
        throw DatasetError.unsupported("\(folder.appendingPathComponent(stray).path): class \(stray) has no training folder "
          + "under \(directory.appendingPathComponent("train").path)")
      }
      return try ImageFolderLoader.folderImages(folder, classes: classes)
    }
    let val = candidates[0]
    let labelFiles = [directory.appendingPathComponent(ILSVRCLabels.fileName), val.appendingPathComponent(ILSVRCLabels.fileName)]
    guard let labels = labelFiles.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
      throw DatasetError.missingFile(candidates: candidates.map { $0.path + "/<class>/" } + labelFiles.map(\.path))
    }
    return try ILSVRCLabels.read(labels, images: val, classes: classes)
  }
}

/// The ILSVRC validation labels as the ImageNet challenge distributes them with the images
/// (`LOC_val_solution.csv`: `ImageId,PredictionString`, the string's first word the image's wnid).
enum ILSVRCLabels {
  static let fileName = "LOC_val_solution.csv"

  /// Every image of `images/` labelled, in the order of sorted file names; the file must label exactly the
  /// JPEG images in the folder.
  static func read(_ url: URL, images folder: URL, classes: [String]) throws -> [(url: URL, label: Int)] {
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    var labelOf = [String: Int]()
    for (number, line) in try ImageFolderLoader.lines(of: url).enumerated() {
      let text = line.trimmingCharacters(in: .whitespaces)
      if text.isEmpty || (number == 0 && text.hasPrefix("ImageId")) { continue }
      let fields = text.split(separator: ",", maxSplits: 1).map(String.init)
      guard fields.count == 2, let wnid = fields[1].split(separator: " ").first.map(String.init) else {
        throw DatasetError.invalidContent(file: url.path, detail: "line \(number + 1): expected IMAGE_ID,WNID ..., got \"\(text)\"")
      }
      guard let label = index[wnid] else {
        throw DatasetError.invalidContent(
          file: url.path, detail: "line \(number + 1): class \(wnid) is not among the \(classes.count) training classes")
      }
      guard labelOf.updateValue(label, forKey: fields[0]) == nil else {
        throw DatasetError.invalidContent(file: url.path, detail: "line \(number + 1): image \(fields[0]) is labelled twice")
      }
    }
    let images = ImageFolderLoader.jpegFiles(in: folder)
    guard !images.isEmpty else { throw DatasetError.unsupported("\(folder.path): no JPEG images") }
    var files = [(url: URL, label: Int)]()
    for image in images {
      let id = image.deletingPathExtension().lastPathComponent
      guard let label = labelOf.removeValue(forKey: id) else {
        throw DatasetError.mismatch(files: [url.path, image.path], detail: "the labels file has no line for this image")
      }
      files.append((image, label))
    }
    if let missing = labelOf.keys.sorted().first {
      throw DatasetError.mismatch(
        files: [url.path, folder.path], detail: "\(labelOf.count) labelled images are not in the folder (first: \(missing))")
    }
    return files
  }
}
