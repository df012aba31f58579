import Foundation
import Testing

@testable import RobustTraining

/// A 64x64 image whose every pixel is `color` (RGB) or `color[0]` (gray).
private func flatImage(_ color: [UInt8], side: Int = 64) throws -> Data {
  try JPEG.encode(Array((0..<(side * side)).map { _ in color }.joined()), width: side, height: side,
                  channels: color.count, quality: 100)
}

private let colors: [String: [UInt8]] = [
  "n01443537": [200, 30, 30], "n01629819": [30, 200, 30], "n01641577": [30, 30, 200],
]

/// The distributed layout: wnids.txt (unsorted), train/<wnid>/images/, val/images + val_annotations.txt.
private func writeTinyImageNet(_ folder: TemporaryFolder, trainPerClass: Int = 2) throws {
  let fm = FileManager.default
  try "n01641577\nn01443537\nn01629819\n".write(to: folder.file("wnids.txt"), atomically: true, encoding: .utf8)
  for (wnid, color) in colors {
    let images = folder.file("train/\(wnid)/images")
    try fm.createDirectory(at: images, withIntermediateDirectories: true)
    try "\(wnid)_0.JPEG\t0\t0\t10\t10\n".write(
      to: folder.file("train/\(wnid)/\(wnid)_boxes.txt"), atomically: true, encoding: .utf8)
    for i in 0..<trainPerClass {
      try flatImage(color).write(to: images.appendingPathComponent("\(wnid)_\(i).JPEG"))
    }
  }
  try fm.createDirectory(at: folder.file("val/images"), withIntermediateDirectories: true)
  try flatImage(colors["n01629819"]!).write(to: folder.file("val/images/val_0.JPEG"))
  try flatImage([90]).write(to: folder.file("val/images/val_1.JPEG"))
  try flatImage(colors["n01641577"]!).write(to: folder.file("val/images/val_2.JPEG"))
  try "val_0.JPEG\tn01629819\t0\t0\t63\t63\nval_1.JPEG\tn01443537\t1\t2\t3\t4\nval_2.JPEG\tn01641577\t0\t0\t9\t9\n"
    .write(to: folder.file("val/val_annotations.txt"), atomically: true, encoding: .utf8)
}

/// The mean of each channel of image `i` of (N, 3, H, W) uint8 data.
private func channelMeans(_ data: LabeledImages, _ i: Int) throws -> [Double] {
  let pixels = try data.images[i].toArray(UInt8.self).map(Double.init)
  let area = pixels.count / 3
  return (0..<3).map { c in pixels[(c * area)..<((c + 1) * area)].reduce(0, +) / Double(area) }
}

@Suite struct JPEGCodecTests {
  @Test func encodeThenDecodeKeepsSizeAndColours() throws {
    // A smooth picture (JPEG's default 4:2:0 chroma subsampling blurs per-pixel colour noise on purpose).
    var pixels = [UInt8]()
    for y in 0..<16 {
      for x in 0..<24 { pixels += [UInt8(x * 10), UInt8(y * 15), UInt8((x + y) * 6)] }
    }
    let image = try JPEG.decode(try JPEG.encode(pixels, width: 24, height: 16, channels: 3, quality: 100))
    #expect(image.width == 24 && image.height == 16 && image.rgb.count == 24 * 16 * 3)
    let errors: [Double] = zip(image.rgb, pixels).map { (a: UInt8, b: UInt8) -> Double in abs(Double(a) - Double(b)) }
    let meanError = errors.reduce(0, +) / Double(pixels.count)
    #expect(meanError < 2, "mean abs error \(meanError) at quality 100")

    let flat = try JPEG.decode(try flatImage([10, 120, 240], side: 8))
    let expected: [Int] = [10, 120, 240]
    #expect(flat.rgb.enumerated().allSatisfy { (i: Int, value: UInt8) -> Bool in abs(Int(value) - expected[i % 3]) <= 2 })
  }

  @Test func grayscaleComesBackAsRGB() throws {
    let image = try JPEG.decode(try flatImage([77], side: 16))
    #expect(image.rgb.count == 16 * 16 * 3)
    let pixels = stride(from: 0, to: image.rgb.count, by: 3).map { Array(image.rgb[$0..<($0 + 3)]) }
    #expect(pixels.allSatisfy { (pixel: [UInt8]) -> Bool in
      pixel[0] == pixel[1] && pixel[1] == pixel[2] && abs(Int(pixel[0]) - 77) <= 1
    })
  }

  @Test func largerImagesThanTheFirstGuessDecode() throws {
    let image = try JPEG.decode(try JPEG.encode([UInt8](repeating: 50, count: 300 * 200), width: 300, height: 200,
                                                channels: 1))
    #expect(image.width == 300 && image.height == 200)
  }

  @Test func invalidDataThrowsInsteadOfExiting() throws {
    let good = try flatImage([1, 2, 3])
    for bad in [Data(), Data([0xFF, 0xD8]), Data("not a jpeg".utf8), good.prefix(good.count / 2),
                Data(good.prefix(40) + Data(repeating: 0x55, count: 200))]
    {
      #expect(throws: JPEG.Failure.self) { _ = try JPEG.decode(bad) }
    }
    // Random corruption anywhere in a valid file: decoded or rejected, never a crash.
    var rng = SplitMix64(seed: 11)
    for _ in 0..<300 {
      var bytes = [UInt8](good)
      for _ in 0..<4 { bytes[Int.random(in: 0..<bytes.count, using: &rng)] = UInt8.random(in: 0...255, using: &rng) }
      _ = try? JPEG.decode(Data(bytes))
    }
  }

  @Test func encoderRejectsBadArguments() {
    #expect(throws: JPEG.Failure.self) { _ = try JPEG.encode([1, 2, 3], width: 2, height: 2, channels: 3) }
    #expect(throws: JPEG.Failure.self) { _ = try JPEG.encode([1, 2, 3, 4], width: 2, height: 2, channels: 1, quality: 0) }
    #expect(throws: JPEG.Failure.self) { _ = try JPEG.encode([1, 2], width: 1, height: 1, channels: 2) }
  }

  /// The shared CIFAR-10 JPEGs were turned into data/cifar10 by Pillow (libjpeg-turbo): our decoder must
  /// give the same pixels for the same files.
  @Test(.enabled(if: TestData.hasCIFAR10 && TestData.sharedData != nil))
  func decodesTheSharedCIFARJPEGsLikePillow() throws {
    let members = ["test/airplane/0000.jpg", "test/cat/0007.jpg", "test/truck/0999.jpg"]
    let folder = try TemporaryFolder()
    try #require(try TestData.unpackCIFARJPEGs(members, into: folder.url))

    let records = try Data(contentsOf: TestData.cifar10.appendingPathComponent("test_batch.bin"))
    let classes = ["airplane", "cat", "truck"].map { ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog",
                                                      "horse", "ship", "truck"].firstIndex(of: $0)! }
    for (member, label) in zip(members, classes) {
      let image = try JPEG.decode(try Data(contentsOf: folder.file(member)))
      try #require(image.width == 32 && image.height == 32)
      let planes = (0..<3).flatMap { c in (0..<1024).map { image.rgb[3 * $0 + c] } }
      let match = stride(from: 0, to: records.count, by: 3073).contains { start in
        records[start] == UInt8(label) && records[(start + 1)..<(start + 3073)].elementsEqual(planes)
      }
      #expect(match, "\(member): no record of test_batch.bin has exactly these pixels")
    }
  }
}

@Suite struct TinyImageNetLoadingTests {
  @Test func readsTheDistributedLayoutWithSortedClassIndices() throws {
    let folder = try TemporaryFolder()
    try writeTinyImageNet(folder)
    let train = try DatasetFormat.tinyImageNet.load(from: folder.url, split: .train)
    #expect(train.name == "tiny-imagenet-train")
    #expect(train.images.shape == [6, 3, 64, 64] && train.images.dtype == .uint8)
    #expect(train.classCount == 3)
    // Classes interleaved, so that the first N images cover every class.
    #expect(try train.labels.toArray(Int64.self) == [0, 1, 2, 0, 1, 2])
    // Sorted wnids: n01443537 (red) = 0, n01629819 (green) = 1, n01641577 (blue) = 2.
    for (i, color) in [(0, [200.0, 30, 30]), (1, [30, 200, 30]), (5, [30, 30, 200])] {
      #expect(zip(try channelMeans(train, i), color).allSatisfy { abs($0 - $1) < 2 }, "image \(i)")
    }

    let test = try DatasetFormat.tinyImageNet.load(from: folder.url, split: .test)
    #expect(test.name == "tiny-imagenet-test")
    #expect(try test.labels.toArray(Int64.self) == [1, 0, 2])
    let gray = try channelMeans(test, 1)
    #expect(gray.allSatisfy { abs($0 - 90) < 1.5 } && gray[0] == gray[1] && gray[1] == gray[2])
  }

  @Test func readsTheImageFolderLayoutWithoutWnidsFile() throws {
    let folder = try TemporaryFolder()
    for (wnid, color) in colors {
      for split in ["train", "val"] {
        try FileManager.default.createDirectory(at: folder.file("\(split)/\(wnid)"), withIntermediateDirectories: true)
        try flatImage(color).write(to: folder.file("\(split)/\(wnid)/a.jpeg"))
      }
    }
    let train = try TinyImageNetLoader.load(from: folder.url, split: .train)
    let test = try TinyImageNetLoader.load(from: folder.url, split: .test)
    #expect(try train.labels.toArray(Int64.self) == [0, 1, 2])
    #expect(try test.labels.toArray(Int64.self) == [0, 1, 2])
    #expect(try train.images.toArray(UInt8.self) == test.images.toArray(UInt8.self))
  }

  @Test func badInputNamesTheFileAndTheProblem() throws {
    let empty = try TemporaryFolder()
    expectError(mentioning: ["wnids.txt", "train"]) {
      _ = try TinyImageNetLoader.load(from: empty.url, split: .train)
    }

    let folder = try TemporaryFolder()
    try writeTinyImageNet(folder)
    let corrupt = folder.file("train/n01629819/images/n01629819_1.JPEG")
    let bytes = try Data(contentsOf: corrupt)
    try bytes.prefix(bytes.count / 3).write(to: corrupt)
    expectError(mentioning: [corrupt.path]) { _ = try TinyImageNetLoader.load(from: folder.url, split: .train) }

    try flatImage([1, 2, 3], side: 32).write(to: corrupt)
    expectError(mentioning: [corrupt.path, "32x32", "64x64"]) {
      _ = try TinyImageNetLoader.load(from: folder.url, split: .train)
    }

    try "not a jpeg".write(to: corrupt, atomically: true, encoding: .utf8)
    expectError(mentioning: [corrupt.path]) { _ = try TinyImageNetLoader.load(from: folder.url, split: .train) }

    try FileManager.default.removeItem(at: folder.file("train/n01443537"))
    expectError(mentioning: ["train/n01443537"]) { _ = try TinyImageNetLoader.load(from: folder.url, split: .train) }

    let annotations = folder.file("val/val_annotations.txt")
    try "val_0.JPEG\tn99999999\t0\t0\t1\t1\n".write(to: annotations, atomically: true, encoding: .utf8)
    expectError(mentioning: [annotations.path, "line 1", "n99999999"]) {
      _ = try TinyImageNetLoader.load(from: folder.url, split: .test)
    }
    try "val_7.JPEG\tn01443537\t0\t0\t1\t1\n".write(to: annotations, atomically: true, encoding: .utf8)
    expectError(mentioning: ["val/images/val_7.JPEG"]) { _ = try TinyImageNetLoader.load(from: folder.url, split: .test) }
    try "val_0.JPEG n01443537\n".write(to: annotations, atomically: true, encoding: .utf8)
    expectError(mentioning: [annotations.path, "line 1"]) { _ = try TinyImageNetLoader.load(from: folder.url, split: .test) }
    try FileManager.default.removeItem(at: annotations)
    expectError(mentioning: ["val_annotations.txt"]) { _ = try TinyImageNetLoader.load(from: folder.url, split: .test) }

    try "n01443537\nn01443537\n".write(to: folder.file("wnids.txt"), atomically: true, encoding: .utf8)
    expectError(mentioning: ["wnids.txt", "twice"]) { _ = try TinyImageNetLoader.load(from: folder.url, split: .train) }
  }
}
