import Foundation
import RobustTraining

/// Finds a dataset's files: --data-dir when given, else the usual places for that dataset.
enum DatasetLocation {
  static func load(_ name: String, directory: String?, split: DatasetSplit) throws -> LabeledImages {
    guard let format = DatasetFormat(rawValue: name.lowercased()) else {
      throw CommandError("--dataset: unknown dataset '\(name)' (choose from "
        + DatasetFormat.allCases.map(\.rawValue).joined(separator: ", ") + ")")
    }
    let candidates: [URL]
    if let directory {
      candidates = [URL(fileURLWithPath: directory)]
    } else {
      candidates = defaultDirectories(format)
    }
    guard let folder = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
      throw CommandError("\(name): no data folder found (looked in \(candidates.map(\.path).joined(separator: ", "))); "
        + "pass --data-dir" + (format == .cifar10 ? ", or run scripts/get-cifar10.sh" : "")
        + (format == .fashionMNIST ? ", or install it: apt-get install dataset-fashion-mnist" : ""))
    }
    return try format.load(from: folder, split: split)
  }

  static func defaultDirectories(_ format: DatasetFormat) -> [URL] {
    let here = URL(fileURLWithPath: FileManager.default.currentDirectoryPath)
    var list = [here.appendingPathComponent("data/\(format.rawValue)")]
    if let standard = format.defaultDirectory { list.append(standard) }
    if format == .mnist { list.append(here.appendingPathComponent("../shared/data/mnist")) }
    if format == .tinyImageNet { list.append(here.appendingPathComponent("data/tiny-imagenet-200")) }
    return list
  }
}
