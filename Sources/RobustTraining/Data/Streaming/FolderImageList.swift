import Foundation

/// The JPEG files of one split of a folder dataset and their labels, without reading an image: the ImageNet
/// layout (`train/<wnid>/*.JPEG`; `val/<wnid>/*.JPEG`, or `val/*.JPEG` labelled by the ILSVRC
/// `LOC_val_solution.csv` or by the devkit's ground truth and `meta.mat`) or any torchvision `ImageFolder` tree (`train/<class>/`, `val/<class>/` or
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
  /// ILSVRC labels file, else with the ILSVRC2012 devkit's ground truth (`ILSVRCDevkit.folders`).
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
    if let labels = labelFiles.first(where: { FileManager.default.fileExists(atPath: $0.path) }) {
      return try ILSVRCLabels.read(labels, images: val, classes: classes)
    }
    let devkits = ILSVRCDevkit.folders(in: directory)
    if let devkit = devkits.first(where: { FileManager.default.fileExists(atPath: $0.appendingPathComponent(ILSVRCDevkit.groundTruthName).path) }) {
      return try ILSVRCDevkit.read(groundTruth: devkit.appendingPathComponent(ILSVRCDevkit.groundTruthName),
                                   meta: devkit.appendingPathComponent(ILSVRCDevkit.metaName), images: val, classes: classes)
    }
    throw DatasetError.missingFile(candidates: candidates.map { $0.path + "/<class>/" } + labelFiles.map(\.path)
      + devkits.map { $0.appendingPathComponent(ILSVRCDevkit.groundTruthName).path })
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

/// The ILSVRC2012 validation labels as the challenge's development kit ships them
/// (`ILSVRC2012_devkit_t12.tar.gz`, unpacked): `data/ILSVRC2012_validation_ground_truth.txt`, one ILSVRC2012_ID
/// per line, line n labelling `ILSVRC2012_val_<n, 8 digits>.JPEG`; and `data/meta.mat`, whose struct array
/// `synsets` maps each ILSVRC2012_ID to a WNID. The classes are the synsets without children (`num_children`
/// 0: the 1,000 leaves, ids 1...1000); the label is the WNID's index among the sorted training folders, as
/// torchvision's `ImageNet` numbers them (not the ILSVRC2012_ID minus one: the ids are not in WNID order).
enum ILSVRCDevkit {
  static let folderName = "ILSVRC2012_devkit_t12"
  static let groundTruthName = "ILSVRC2012_validation_ground_truth.txt"
  static let metaName = "meta.mat"

  /// Where the two files are looked for, in order: `ILSVRC2012_devkit_t12/data/` in the dataset folder (the
  /// archive unpacked there), or the dataset folder itself.
  static func folders(in directory: URL) -> [URL] {
    [directory.appendingPathComponent(folderName).appendingPathComponent("data"), directory]
  }

  /// ILSVRC2012_ID to WNID for the leaf synsets of `meta.mat`; the leaves' ids must be exactly 1...count.
  static func leafWNIDs(meta url: URL) throws -> [String] {
    let variables = try MATFile.read(url)
    guard let synsets = variables.first(where: { $0.name == "synsets" })?.value else {
      throw DatasetError.invalidContent(file: url.path, detail: "no variable synsets (it holds: "
        + "\(variables.map(\.name).joined(separator: ", ")))")
    }
    guard let ids = synsets.field("ILSVRC2012_ID"), let wnids = synsets.field("WNID"),
          let children = synsets.field("num_children") else {
      throw DatasetError.invalidContent(
        file: url.path, detail: "synsets is not a struct array with fields ILSVRC2012_ID, WNID and num_children")
    }
    var byID = [Int: String]()
    for (i, (id, (wnid, childCount))) in zip(ids, zip(wnids, children)).enumerated() {
      guard let count = childCount.scalar else {
        throw DatasetError.invalidContent(file: url.path, detail: "synsets(\(i + 1)).num_children is not a number")
      }
      guard count == 0 else { continue }
      guard let number = id.scalar, let key = Int(exactly: number), let name = wnid.string, !name.isEmpty else {
        throw DatasetError.invalidContent(
          file: url.path, detail: "synsets(\(i + 1)): ILSVRC2012_ID is not an integer or WNID is not a string")
      }
      guard byID.updateValue(name, forKey: key) == nil else {
        throw DatasetError.invalidContent(file: url.path, detail: "ILSVRC2012_ID \(key) names two leaf synsets")
      }
    }
    guard !byID.isEmpty, byID.keys.min() == 1, byID.keys.max() == byID.count else {
      throw DatasetError.invalidContent(file: url.path, detail: "the \(byID.count) leaf synsets' ILSVRC2012_IDs are not 1...\(byID.count)")
    }
    return (1...byID.count).map { byID[$0]! }
  }

  /// Every image of `images/` labelled, in the order of sorted file names. Each image must be named
  /// `ILSVRC2012_val_<n>` and the ground truth must have exactly one line per image (line n for image n).
  static func read(groundTruth: URL, meta: URL, images folder: URL, classes: [String]) throws -> [(url: URL, label: Int)] {
    guard FileManager.default.fileExists(atPath: meta.path) else {
      throw DatasetError.mismatch(files: [groundTruth.path, meta.path], detail: "the ground truth's ids need meta.mat beside it")
    }
    let wnids = try leafWNIDs(meta: meta)
    let index = Dictionary(uniqueKeysWithValues: classes.enumerated().map { ($1, $0) })
    var lines = try ImageFolderLoader.lines(of: groundTruth)
    while lines.last?.trimmingCharacters(in: .whitespaces).isEmpty == true { lines.removeLast() }
    let labels = try lines.enumerated().map { number, line -> Int in
      let text = line.trimmingCharacters(in: .whitespaces)
      guard let id = Int(text) else {
        throw DatasetError.invalidContent(file: groundTruth.path, detail: "line \(number + 1): expected an ILSVRC2012_ID, got \"\(text)\"")
      }
      guard (1...wnids.count).contains(id) else {
        throw DatasetError.invalidContent(file: groundTruth.path, detail: "line \(number + 1): ILSVRC2012_ID \(id) is not in "
          + "1...\(wnids.count), the leaf synsets of \(meta.path)")
      }
      guard let label = index[wnids[id - 1]] else {
        throw DatasetError.invalidContent(file: groundTruth.path, detail: "line \(number + 1): class \(wnids[id - 1]) "
          + "(ILSVRC2012_ID \(id)) is not among the \(classes.count) training classes")
      }
      return label
    }
    let images = ImageFolderLoader.jpegFiles(in: folder)
    guard !images.isEmpty else { throw DatasetError.unsupported("\(folder.path): no JPEG images") }
    guard images.count == labels.count else {
      throw DatasetError.mismatch(files: [groundTruth.path, folder.path],
                                  detail: "\(labels.count) lines for \(images.count) JPEG images (one line per image)")
    }
    var seen = Set<Int>()
    return try images.map { image in
      let stem = image.deletingPathExtension().lastPathComponent
      let prefix = "ILSVRC2012_val_"
      guard stem.hasPrefix(prefix), let n = Int(stem.dropFirst(prefix.count)), (1...labels.count).contains(n),
            seen.insert(n).inserted else {
        throw DatasetError.mismatch(files: [groundTruth.path, image.path],
                                    detail: "not named \(prefix)<n> with a line n in 1...\(labels.count) of its own")
      }
      return (image, labels[n - 1])
    }
  }
}
