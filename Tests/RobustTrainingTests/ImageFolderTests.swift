import Foundation
import Testing

@testable import RobustTraining

@Suite struct ImageFolderLoadingTests {
  private func write(_ color: [UInt8], width: Int = 32, height: Int = 32, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    let pixels = Array((0..<(width * height)).map { _ in color }.joined())
    try JPEG.encode(pixels, width: width, height: height, channels: color.count, quality: 100).write(to: url)
  }

  @Test func readsClassFoldersWithTheSizeOfTheFirstImage() throws {
    let folder = try TemporaryFolder()
    try write([250, 0, 0], width: 40, height: 24, to: folder.file("train/cat/1.jpg"))
    try write([0, 250, 0], width: 40, height: 24, to: folder.file("train/ant/1.jpg"))
    try write([0, 250, 0], width: 40, height: 24, to: folder.file("train/ant/2.JPG"))
    try write([128], width: 40, height: 24, to: folder.file("val/cat/x.jpeg"))
    try write([0, 250, 0], width: 40, height: 24, to: folder.file("val/ant/y.jpg"))
    let train = try DatasetFormat.imageFolder.load(from: folder.url, split: .train)
    #expect(train.images.shape == [3, 3, 24, 40] && train.classCount == 2 && train.name == "image-folder-train")
    #expect(try train.labels.toArray(Int64.self) == [0, 1, 0])  // ant = 0, cat = 1, interleaved
    let test = try DatasetFormat.imageFolder.load(from: folder.url, split: .test)
    #expect(try test.labels.toArray(Int64.self) == [0, 1])
    #expect(DatasetFormat.imageFolder.classCount == nil)
  }

  @Test func badFoldersNameTheProblem() throws {
    let folder = try TemporaryFolder()
    #expect(throws: DatasetError.self) { _ = try ImageFolderLoader.load(from: folder.url, split: .train) }
    try write([1, 2, 3], to: folder.file("train/a/1.jpg"))
    try write([1, 2, 3], width: 16, height: 16, to: folder.file("train/a/2.jpg"))
    do {
      _ = try ImageFolderLoader.load(from: folder.url, split: .train)
      Issue.record("images of two sizes were accepted")
    } catch let error as DatasetError {
      #expect(error.description.contains("train/a/2.jpg") && error.description.contains("16x16"), "\(error)")
    }
    do {
      _ = try ImageFolderLoader.load(from: folder.url, split: .test)
      Issue.record("a missing test folder was accepted")
    } catch let error as DatasetError {
      #expect(error.description.contains("test/<class>/") && error.description.contains("val/<class>/"), "\(error)")
    }
  }

  /// The shared CIFAR-10 archive, unpacked, read as an image folder, holds exactly the records of the
  /// binary test file that Pillow made from it (the same pixels and labels, in another order).
  @Test(.enabled(if: TestData.hasCIFAR10 && TestData.sharedData != nil))
  func theUnpackedCIFARArchiveEqualsTheBinaryTestSet() throws {
    let folder = try TemporaryFolder()
    try #require(try TestData.unpackCIFARJPEGs(["test"], into: folder.url))
    try FileManager.default.createDirectory(at: folder.file("train"), withIntermediateDirectories: true)
    for name in try FileManager.default.contentsOfDirectory(atPath: folder.file("test").path) {
      try FileManager.default.createDirectory(at: folder.file("train/\(name)"), withIntermediateDirectories: true)
    }
    // The archive's folder names sort like CIFAR-10's class order (airplane ... truck).
    let folderSet = try ImageFolderLoader.load(from: folder.url, split: .test)
    let binary = try CIFARLoader.load(.cifar10, from: TestData.cifar10, split: .test)
    #expect(folderSet.images.shape == binary.images.shape)
    func records(_ data: LabeledImages) throws -> [[UInt8]] {
      let pixels = try data.images.toArray(UInt8.self)
      let labels = try data.labels.toArray(Int64.self)
      return labels.indices.map { [UInt8(labels[$0])] + pixels[($0 * 3072)..<(($0 + 1) * 3072)] }
        .sorted { $0.lexicographicallyPrecedes($1) }
    }
    #expect(try records(folderSet) == records(binary))
  }
}
