import Foundation

/// The on-disk dataset formats the loaders understand, by the name users pass (`--dataset`).
public enum DatasetFormat: String, CaseIterable, Sendable {
  case mnist
  case fashionMNIST = "fashion-mnist"
  case cifar10
  case cifar100
  /// Tiny ImageNet (200 classes, 64x64 JPEGs in `train/<wnid>/images/`, `val/val_annotations.txt`).
  case tinyImageNet = "tiny-imagenet"
  /// JPEG images in `train/<class>/` and `test/<class>/` (or `val/<class>/`), any fixed size.
  case imageFolder = "image-folder"
  /// JPEG folders too large to hold decoded, read as a stream (`StreamingBatchLoader`): the ImageNet layout
  /// (`train/<wnid>/`, `val/<wnid>/` or `val/` + `LOC_val_solution.csv`) or any `ImageFolder` tree; images of any
  /// size, RandomResizedCrop(224) + flip for training, resize 256 + centre crop 224 for evaluation.
  case imagenet

  /// The shape (C, H, W) of every image, where the format fixes it (an image folder's comes from its files).
  public var imageShape: [Int]? {
    switch self {
    case .mnist, .fashionMNIST: return [1, 28, 28]
    case .cifar10, .cifar100: return [3, 32, 32]
    case .tinyImageNet: return [3, 64, 64]
    case .imageFolder: return nil
    case .imagenet: return [3, FolderTransform.training.outputSize, FolderTransform.training.outputSize]
    }
  }

  /// Whether the training split is decoded as it is read (never held in memory): `FolderImageList` and
  /// `StreamingBatchLoader` read it, not `load`.
  public var isStreamed: Bool { self == .imagenet }

  /// The number of classes, where the format fixes it (an image folder has as many as subfolders).
  /// The images of a split as the dataset is distributed (nil: a folder of any size).
  public func imageCount(_ split: DatasetSplit) -> Int? {
    switch self {
    case .mnist, .fashionMNIST: return split == .train ? 60_000 : 10_000
    case .cifar10, .cifar100: return split == .train ? 50_000 : 10_000
    case .tinyImageNet: return split == .train ? 100_000 : 10_000
    case .imageFolder, .imagenet: return nil
    }
  }

  public var classCount: Int? {
    switch self {
    case .mnist, .fashionMNIST, .cifar10: return 10
    case .cifar100: return 100
    case .tinyImageNet: return 200
    case .imageFolder, .imagenet: return nil
    }
  }

  /// Where a system package installs the data, if one does (Debian's `dataset-fashion-mnist`).
  public var systemDirectory: URL? {
    switch self {
    case .fashionMNIST: return URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
    default: return nil
    }
  }

  /// The folder names this format's data usually has under a data root, most usual first.
  public var folderNames: [String] {
    self == .tinyImageNet ? [rawValue, "tiny-imagenet-200"] : [rawValue]
  }

  /// How to get the data, for an error that found none.
  public var howToGet: String? {
    switch self {
    case .cifar10: return "scripts/get-cifar10.sh builds data/cifar10 from the CIFAR-10 archive"
    case .fashionMNIST: return "as root: apt-get install dataset-fashion-mnist"
    default: return nil
    }
  }

  /// The format called `name` (case-insensitive).
  public static func named(_ name: String) throws -> DatasetFormat {
    guard let format = DatasetFormat(rawValue: name.lowercased()) else {
      throw DatasetError.unsupported("unknown dataset '\(name)' (choose from \(allCases.map(\.rawValue).joined(separator: ", ")))")
    }
    return format
  }

  /// The split held in memory. A streamed format's test split is decoded through the evaluation transform
  /// for `imageSize` inputs (default 224; the first `limit` images when given; `agr eval`); its training split
  /// is refused.
  public func load(from directory: URL, split: DatasetSplit, limit: Int? = nil, imageSize: Int? = nil) throws
    -> LabeledImages
  {
    switch self {
    case .mnist: return try MNISTLoader.load(from: directory, split: split, name: rawValue)
    case .fashionMNIST: return try MNISTLoader.load(from: directory, split: split, name: rawValue)
    case .cifar10: return try CIFARLoader.load(.cifar10, from: directory, split: split)
    case .cifar100: return try CIFARLoader.load(.cifar100, from: directory, split: split)
    case .tinyImageNet: return try TinyImageNetLoader.load(from: directory, split: split)
    case .imageFolder: return try ImageFolderLoader.load(from: directory, split: split)
    case .imagenet:
      guard split == .test else {
        throw DatasetError.unsupported("\(directory.path): the \(rawValue) training split is streamed, never held in memory")
      }
      let transform = FolderTransform.evaluation(size: imageSize ?? FolderTransform.training.outputSize)
      return try StreamingBatchLoader(FolderImageList.load(from: directory, split: .test), transform: transform,
                                      batchSize: 256, shuffle: false).decodeAll(limit: limit)
    }
  }
}
