import Foundation

/// A fresh folder under the system temporary directory, removed when the value is deinitialised.
final class TemporaryFolder {
  let url: URL

  init() throws {
    url = FileManager.default.temporaryDirectory.appendingPathComponent("agr-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
  }

  deinit { try? FileManager.default.removeItem(at: url) }

  func file(_ name: String) -> URL { url.appendingPathComponent(name) }

  @discardableResult
  func write(_ bytes: [UInt8], to name: String) throws -> URL {
    let target = file(name)
    try Data(bytes).write(to: target)
    return target
  }
}

/// Where the tests find data that lives outside the repository.
enum TestData {
  static let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .deletingLastPathComponent()

  /// The shared data folder as CI sees it (beside the repository), else the machine-wide copy.
  static var sharedData: URL? {
    [repositoryRoot.appendingPathComponent("../shared/data").standardized, URL(fileURLWithPath: "/work/shared/data")]
      .first { FileManager.default.fileExists(atPath: $0.path) }
  }

  static var mnist: URL? {
    sharedData.map { $0.appendingPathComponent("mnist") }
      .flatMap { FileManager.default.fileExists(atPath: $0.appendingPathComponent("t10k-labels-idx1-ubyte.gz").path) ? $0 : nil }
  }

  static let fashionMNIST = URL(fileURLWithPath: "/usr/share/datasets/fashion-mnist")
  static var hasFashionMNIST: Bool {
    FileManager.default.fileExists(atPath: fashionMNIST.appendingPathComponent("t10k-images-idx3-ubyte.gz").path)
  }

  /// Built by scripts/get-cifar10.sh (git-ignored).
  static let cifar10 = repositoryRoot.appendingPathComponent("data/cifar10")
  static var hasCIFAR10: Bool {
    FileManager.default.fileExists(atPath: cifar10.appendingPathComponent("test_batch.bin").path)
  }

  /// Unpacks `members` (files or folders, e.g. "test" or "test/cat/0007.jpg") of the shared CIFAR-10 JPEG
  /// archive into `folder`; true when tar succeeded.
  static func unpackCIFARJPEGs(_ members: [String], into folder: URL) throws -> Bool {
    guard let archive = sharedData?.appendingPathComponent("cifar10/cifar10-jpeg.tar.gz") else { return false }
    let tar = Process()
    tar.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    tar.arguments = ["tar", "-xzf", archive.path, "-C", folder.path] + members
    try tar.run()
    tar.waitUntilExit()
    return tar.terminationStatus == 0
  }
}

/// A small deterministic random source for building test inputs.
struct SplitMix64: RandomNumberGenerator {
  var state: UInt64
  init(seed: UInt64) { state = seed }
  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}
