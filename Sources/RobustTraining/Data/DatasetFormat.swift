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

  /// The number of classes, where the format fixes it (an image folder has as many as subfolders).
  public var classCount: Int? {
    switch self {
    case .mnist, .fashionMNIST, .cifar10: return 10
    case .cifar100: return 100
    case .tinyImageNet: return 200
    case .imageFolder: return nil
    }
  }

  /// Where the data usually lives on this project's machines, if anywhere standard.
  public var defaultDirectory: URL? {
    switch self {
    case .fashionMNIST: return URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
    default: return nil
    }
  }

  public func load(from directory: URL, split: DatasetSplit) throws -> LabeledImages {
    switch self {
    case .mnist: return try MNISTLoader.load(from: directory, split: split, name: rawValue)
    case .fashionMNIST: return try MNISTLoader.load(from: directory, split: split, name: rawValue)
    case .cifar10: return try CIFARLoader.load(.cifar10, from: directory, split: split)
    case .cifar100: return try CIFARLoader.load(.cifar100, from: directory, split: split)
    case .tinyImageNet: return try TinyImageNetLoader.load(from: directory, split: split)
    case .imageFolder: return try ImageFolderLoader.load(from: directory, split: split)
    }
  }
}
