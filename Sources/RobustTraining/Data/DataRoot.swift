import Foundation

/// Where datasets are found: a dataset's own folder when one is given, else `<root>/<name>` under the
/// data root, else the folder a system package installs it to. The root is `$AGR_DATA_DIR` when set,
/// else `data` in the working directory.
public struct DataRoot: Sendable {
  /// The environment variable that sets the data root.
  public static let environmentVariable = "AGR_DATA_DIR"

  public let url: URL

  public init(_ url: URL) { self.url = url }

  /// `$AGR_DATA_DIR`, else `./data`.
  public static var standard: DataRoot {
    let variable = ProcessInfo.processInfo.environment[environmentVariable].flatMap { $0.isEmpty ? nil : $0 }
    return DataRoot(URL(fileURLWithPath: variable ?? "data"))
  }

  /// The folders looked in for `format`, in order.
  public func candidates(for format: DatasetFormat) -> [URL] {
    format.folderNames.map { url.appendingPathComponent($0) } + (format.systemDirectory.map { [$0] } ?? [])
  }

  /// The folder holding `format`'s data: `directory` when given (it must exist), else the first candidate that exists.
  public func folder(for format: DatasetFormat, directory: URL? = nil) throws -> URL {
    let candidates = directory.map { [$0] } ?? candidates(for: format)
    guard let folder = candidates.first(where: { FileManager.default.fileExists(atPath: $0.path) }) else {
      throw DataRootError(format: format, looked: candidates, givenDirectory: directory != nil)
    }
    return folder
  }

  /// Loads `split` of `format` (see `folder(for:directory:)`); `limit`: see `DatasetFormat.load`.
  public func load(_ format: DatasetFormat, directory: URL? = nil, split: DatasetSplit, limit: Int? = nil,
                   imageSize: Int? = nil) throws -> LabeledImages
  {
    try format.load(from: try folder(for: format, directory: directory), split: split, limit: limit, imageSize: imageSize)
  }
}

/// No folder holds a dataset.
public struct DataRootError: Error, CustomStringConvertible {
  public let format: DatasetFormat
  public let looked: [URL]
  /// Whether the one folder looked in was given explicitly (a wrong path rather than missing data).
  public let givenDirectory: Bool

  public var description: String {
    if givenDirectory { return "\(format.rawValue): \(looked[0].path) does not exist" }
    return "\(format.rawValue): no data folder found (looked in \(looked.map(\.path).joined(separator: ", ")); "
      + "set \(DataRoot.environmentVariable) to the folder that holds \(format.folderNames[0])/"
      + (format.howToGet.map { ", or \($0)" } ?? "") + ")"
  }
}
