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
    case .train: files = try ImageFolderLoader.folderImages(directory.appendingPathComponent("train"), classes: wnids)
    case .test: files = try validationImages(directory.appendingPathComponent("val"), wnids: wnids, index: index)
    }
    return try ImageFolderLoader.decode(files, name: "tiny-imagenet-\(split.rawValue)", classCount: wnids.count,
                                        width: side, height: side)
  }

  /// The sorted class ids: from `wnids.txt`, else the folder names under `train/`.
  static func classes(in directory: URL) throws -> [String] {
    let list = directory.appendingPathComponent("wnids.txt")
    let wnids: [String]
    if FileManager.default.fileExists(atPath: list.path) {
      wnids = try ImageFolderLoader.lines(of: list).map { $0.trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
      if let repeated = Dictionary(grouping: wnids, by: { $0 }).first(where: { $0.value.count > 1 })?.key {
        throw DatasetError.unsupported("\(list.path): class \(repeated) is listed twice")
      }
    } else {
      let train = directory.appendingPathComponent("train")
      wnids = ImageFolderLoader.subdirectories(of: train)
      if wnids.isEmpty { throw DatasetError.missingFile(candidates: [list.path, train.path + "/<wnid>/"]) }
    }
    guard !wnids.isEmpty else { throw DatasetError.unsupported("\(list.path): no class ids") }
    return wnids.sorted()
  }

  /// `val/images/*` labelled by `val/val_annotations.txt` (file, wnid, box, tab-separated), in the
  /// annotation file's order; or the `ImageFolder` layout `val/<wnid>/`.
  static func validationImages(_ folder: URL, wnids: [String], index: [String: Int]) throws
    -> [(url: URL, label: Int)]
  {
    let annotations = folder.appendingPathComponent("val_annotations.txt")
    guard FileManager.default.fileExists(atPath: annotations.path) else {
      if !ImageFolderLoader.subdirectories(of: folder).filter({ index[$0] != nil }).isEmpty {
        return try ImageFolderLoader.folderImages(folder, classes: wnids)
      }
      throw DatasetError.missingFile(candidates: [annotations.path, folder.path + "/<wnid>/"])
    }
    var files = [(url: URL, label: Int)]()
    for (number, line) in try ImageFolderLoader.lines(of: annotations).enumerated() where !line.trimmingCharacters(in: .whitespaces).isEmpty {
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

}
