import Foundation
import Testing

@testable import RobustTraining

/// idx bytes: magic (0, 0, 0x08, rank), big-endian sizes, then `body`.
private func idx(_ dims: [Int], _ body: [UInt8], type: UInt8 = 0x08, rank: Int? = nil) -> [UInt8] {
  var bytes: [UInt8] = [0, 0, type, UInt8(rank ?? dims.count)]
  for d in dims { bytes += withUnsafeBytes(of: UInt32(d).bigEndian, Array.init) }
  return bytes + body
}

/// A gzip member of the idx label file with labels 0...9 (made with Python's gzip, mtime 0).
private let gzippedLabels: [UInt8] = [
  0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x02, 0xff, 0x63, 0x60, 0xe0, 0x60, 0x64, 0x60, 0x60, 0xe0, 0x62,
  0x60, 0x64, 0x62, 0x66, 0x61, 0x65, 0x63, 0xe7, 0xe0, 0x04, 0x00, 0x5e, 0x6c, 0xba, 0xe9, 0x12, 0x00, 0x00, 0x00,
]

/// Writes a 10-image MNIST-style split (2x3 pixels, value = 6 * image + pixel) to `folder`.
private func writeSmallMNIST(_ folder: TemporaryFolder, labels: [UInt8] = Array(0..<10), imageCount: Int = 10,
                             gzipLabels: Bool = false) throws
{
  try folder.write(idx([imageCount, 2, 3], (0..<(imageCount * 6)).map { UInt8($0 % 256) }), to: "t10k-images-idx3-ubyte")
  if gzipLabels {
    try folder.write(gzippedLabels, to: "t10k-labels-idx1-ubyte.gz")
  } else {
    try folder.write(idx([labels.count], labels), to: "t10k-labels-idx1-ubyte")
  }
}

/// `count` CIFAR records; pixel k of record i is (i + k) % 251.
private func cifarRecords(_ labels: [[UInt8]]) -> [UInt8] {
  labels.enumerated().flatMap { i, label in label + (0..<3072).map { UInt8((i + $0) % 251) } }
}

/// `body` throws a DatasetError of the expected kind whose message mentions every one of `texts`.
func expectError(_ expected: (DatasetError) -> Bool = { _ in true }, mentioning texts: [String],
                 _ body: () throws -> Void)
{
  do {
    try body()
    Issue.record("expected a DatasetError mentioning \(texts)")
  } catch let error as DatasetError {
    #expect(expected(error), "unexpected error: \(error)")
    for text in texts { #expect(error.description.contains(text), "'\(error)' does not mention \(text)") }
  } catch {
    Issue.record("expected a DatasetError, got \(error)")
  }
}

func expectError(_ expected: (DatasetError) -> Bool, mentioning text: String, _ body: () throws -> Void) {
  expectError(expected, mentioning: [text], body)
}

@Suite struct IDXLoadingTests {
  @Test func readsPlainIDXFiles() throws {
    let folder = try TemporaryFolder()
    try writeSmallMNIST(folder)
    let data = try MNISTLoader.load(from: folder.url, split: .test)
    #expect(data.count == 10)
    #expect(data.images.shape == [10, 1, 2, 3])
    #expect(data.images.dtype == .uint8)
    #expect(try data.labels.toArray(Int64.self) == Array(0..<10))
    #expect(try data.images.toArray(UInt8.self) == (0..<60).map(UInt8.init))
    #expect(data.classCount == 10)
    #expect(data.name == "mnist-test")
  }

  @Test func readsGzippedLabels() throws {
    let folder = try TemporaryFolder()
    try writeSmallMNIST(folder, gzipLabels: true)
    let data = try MNISTLoader.load(from: folder.url, split: .test)
    #expect(try data.labels.toArray(Int64.self) == Array(0..<10))
  }

  @Test func decodesConcatenatedGzipMembers() throws {
    let twice = try Gzip.decompress(Data(gzippedLabels + gzippedLabels), file: "x.gz")
    let once = try Gzip.decompress(Data(gzippedLabels), file: "x.gz")
    #expect(once.count == 18)
    #expect(twice == once + once)
  }

  @Test func missingFileNamesTheCandidates() throws {
    let folder = try TemporaryFolder()
    expectError({ if case .missingFile = $0 { true } else { false } }, mentioning: "t10k-images-idx3-ubyte.gz") {
      _ = try MNISTLoader.load(from: folder.url, split: .test)
    }
  }

  @Test func badMagicIsReported() throws {
    let folder = try TemporaryFolder()
    try writeSmallMNIST(folder)
    try folder.write(idx([10], Array(0..<10), type: 0x09), to: "t10k-labels-idx1-ubyte")
    expectError({ if case .badMagic = $0 { true } else { false } }, mentioning: "t10k-labels-idx1-ubyte") {
      _ = try MNISTLoader.load(from: folder.url, split: .test)
    }
    try folder.write(idx([10, 2, 3], [UInt8](repeating: 0, count: 60), rank: 2), to: "t10k-images-idx3-ubyte")
    expectError({ if case .badMagic = $0 { true } else { false } }, mentioning: "0x00000802") {
      _ = try MNISTLoader.load(from: folder.url, split: .test)
    }
  }

  @Test func sizeThatDisagreesWithTheHeaderIsReported() throws {
    let folder = try TemporaryFolder()
    try writeSmallMNIST(folder)
    try folder.write(idx([10, 2, 3], [UInt8](repeating: 0, count: 59)), to: "t10k-images-idx3-ubyte")
    expectError({ if case .wrongSize = $0 { true } else { false } }, mentioning: "t10k-images-idx3-ubyte") {
      _ = try MNISTLoader.load(from: folder.url, split: .test)
    }
    try folder.write([0, 0, 8], to: "t10k-images-idx3-ubyte")
    expectError({ if case .wrongSize = $0 { true } else { false } }, mentioning: "too short") {
      _ = try MNISTLoader.load(from: folder.url, split: .test)
    }
    try folder.write(idx([10, 2, 3], []).prefix(9).map { $0 }, to: "t10k-images-idx3-ubyte")
    expectError({ if case .wrongSize = $0 { true } else { false } }, mentioning: "rank-3") {
      _ = try MNISTLoader.load(from: folder.url, split: .test)
    }
    // Sizes near 2^32 must not overflow.
    try folder.write(idx([0xFFFF_FFFF, 0xFFFF_FFFF, 0xFFFF_FFFF], []), to: "t10k-images-idx3-ubyte")
    expectError({ if case .wrongSize = $0 { true } else { false } }, mentioning: "t10k-images-idx3-ubyte") {
      _ = try MNISTLoader.load(from: folder.url, split: .test)
    }
  }

  @Test func imageAndLabelCountsMustAgree() throws {
    let folder = try TemporaryFolder()
    try writeSmallMNIST(folder, labels: Array(0..<9))
    expectError({ if case .mismatch = $0 { true } else { false } }, mentioning: "10 images but 9 labels") {
      _ = try MNISTLoader.load(from: folder.url, split: .test)
    }
  }

  @Test func labelsOutOfRangeAreReported() throws {
    let folder = try TemporaryFolder()
    try writeSmallMNIST(folder, labels: [0, 1, 2, 3, 4, 5, 6, 7, 8, 10])
    expectError({ $0 == .labelOutOfRange(file: folder.file("t10k-labels-idx1-ubyte").path, index: 9, label: 10, classCount: 10) },
                mentioning: "label 10 of record 9") {
      _ = try MNISTLoader.load(from: folder.url, split: .test)
    }
  }

  @Test func truncatedOrCorruptGzipIsReported() throws {
    let folder = try TemporaryFolder()
    try writeSmallMNIST(folder)
    for cut in [1, 4, 9, 20, 30] {
      try folder.write(Array(gzippedLabels.dropLast(cut)), to: "t10k-labels-idx1-ubyte.gz")
      try FileManager.default.removeItem(at: folder.file("t10k-labels-idx1-ubyte"))  // so the .gz is the one found
      expectError({ if case .corruptGzip = $0 { true } else { false } }, mentioning: "t10k-labels-idx1-ubyte.gz") {
        _ = try MNISTLoader.load(from: folder.url, split: .test)
      }
      try writeSmallMNIST(folder)
    }
    var flipped = gzippedLabels
    flipped[14] ^= 0xff
    try folder.write(flipped, to: "labels.gz")
    expectError({ if case .corruptGzip = $0 { true } else { false } }, mentioning: "labels.gz") {
      _ = try DatasetFile.read(folder.file("labels.gz"))
    }
    try folder.write(Array("not gzip".utf8), to: "plain.gz")
    expectError({ if case .corruptGzip = $0 { true } else { false } }, mentioning: "no gzip signature") {
      _ = try DatasetFile.read(folder.file("plain.gz"))
    }
    try folder.write(gzippedLabels + [0, 0, 0], to: "trailing.gz")
    expectError({ if case .corruptGzip = $0 { true } else { false } }, mentioning: "stray bytes") {
      _ = try DatasetFile.read(folder.file("trailing.gz"))
    }
  }

  @Test(.enabled(if: TestData.mnist != nil, "MNIST not found under ../shared/data/mnist or /work/shared/data/mnist"))
  func readsRealMNIST() throws {
    let train = try DatasetFormat.mnist.load(from: TestData.mnist!, split: .train)
    let test = try DatasetFormat.mnist.load(from: TestData.mnist!, split: .test)
    #expect(train.count == 60000)
    #expect(test.count == 10000)
    #expect(train.images.shape == [60000, 1, 28, 28])
    #expect(try train.labels[0..<5].toArray(Int64.self) == [5, 0, 4, 1, 9])
    #expect(try test.labels[0..<5].toArray(Int64.self) == [7, 2, 1, 0, 4])
    #expect(try train.images.max().item() == 255)
  }

  @Test(.enabled(if: TestData.hasFashionMNIST, "Fashion-MNIST not installed (apt-get install dataset-fashion-mnist)"))
  func readsRealFashionMNIST() throws {
    let test = try DatasetFormat.fashionMNIST.load(from: TestData.fashionMNIST, split: .test)
    #expect(test.count == 10000)
    #expect(test.images.shape == [10000, 1, 28, 28])
    #expect(try test.labels[0..<3].toArray(Int64.self) == [9, 2, 1])
    #expect(test.name == "fashion-mnist-test")
    let perClass = try test.labels.oneHot(classes: 10).sum(dims: [0]).toArray(Int64.self)
    #expect(perClass == [Int64](repeating: 1000, count: 10))
  }

  @Test func formatsByNameAndAMissingTinyImageNetFolder() throws {
    expectError({ if case .missingFile = $0 { true } else { false } }, mentioning: "/nonexistent/wnids.txt") {
      _ = try DatasetFormat.tinyImageNet.load(from: URL(fileURLWithPath: "/nonexistent"), split: .train)
    }
    #expect(DatasetFormat(rawValue: "fashion-mnist") == .fashionMNIST)
    #expect(DatasetFormat(rawValue: "tiny-imagenet")?.classCount == 200)
  }
}

@Suite struct CIFARLoadingTests {
  @Test func readsCIFAR100FineLabelsAndPlanes() throws {
    let folder = try TemporaryFolder()
    try folder.write(cifarRecords([[3, 42], [19, 99], [0, 0]]), to: "test.bin")
    let data = try DatasetFormat.cifar100.load(from: folder.url, split: .test)
    #expect(data.count == 3)
    #expect(data.classCount == 100)
    #expect(data.images.shape == [3, 3, 32, 32])
    #expect(try data.labels.toArray(Int64.self) == [42, 99, 0])
    // Record 1, channel 2 (blue), row 5, column 7 is pixel byte 2*1024 + 5*32 + 7.
    let k = 2 * 1024 + 5 * 32 + 7
    #expect(try data.images[1][2][5][7].item() == Double((1 + k) % 251))
    #expect(try data.images.toArray(UInt8.self) == Array(cifarRecords([[3, 42], [19, 99], [0, 0]]).enumerated()
      .filter { $0.offset % 3074 >= 2 }.map(\.element)))
  }

  @Test func concatenatesTheFiveCIFAR10TrainingBatchesInOrder() throws {
    let folder = try TemporaryFolder()
    for b in 1...5 { try folder.write(cifarRecords([[UInt8(b)], [UInt8(b + 1)]]), to: "data_batch_\(b).bin") }
    let data = try DatasetFormat.cifar10.load(from: folder.url, split: .train)
    #expect(data.count == 10)
    #expect(try data.labels.toArray(Int64.self) == [1, 2, 2, 3, 3, 4, 4, 5, 5, 6])
    #expect(data.name == "cifar10-train")
  }

  @Test func sizeThatIsNotWholeRecordsIsReported() throws {
    let folder = try TemporaryFolder()
    try folder.write(cifarRecords([[1], [2]]) + [7, 7, 7], to: "test_batch.bin")
    expectError({ if case .wrongSize = $0 { true } else { false } }, mentioning: "3073-byte record") {
      _ = try DatasetFormat.cifar10.load(from: folder.url, split: .test)
    }
    try folder.write([], to: "test_batch.bin")
    expectError({ if case .wrongSize = $0 { true } else { false } }, mentioning: "test_batch.bin") {
      _ = try DatasetFormat.cifar10.load(from: folder.url, split: .test)
    }
    // A CIFAR-10 file read as CIFAR-100 has the wrong record length.
    try folder.write(cifarRecords([[1], [2], [3]]), to: "test.bin")
    expectError({ if case .wrongSize = $0 { true } else { false } }, mentioning: "3074-byte record") {
      _ = try DatasetFormat.cifar100.load(from: folder.url, split: .test)
    }
  }

  @Test func labelsOutOfRangeAreReported() throws {
    let folder = try TemporaryFolder()
    try folder.write(cifarRecords([[1], [10]]), to: "test_batch.bin")
    expectError({ if case .labelOutOfRange(_, 1, 10, 10) = $0 { true } else { false } }, mentioning: "test_batch.bin") {
      _ = try DatasetFormat.cifar10.load(from: folder.url, split: .test)
    }
    try folder.write(cifarRecords([[1, 100]]), to: "test.bin")
    expectError({ if case .labelOutOfRange(_, 0, 100, 100) = $0 { true } else { false } }, mentioning: "test.bin") {
      _ = try DatasetFormat.cifar100.load(from: folder.url, split: .test)
    }
    try folder.write(cifarRecords([[1, 1], [20, 1]]), to: "test.bin")
    expectError({ if case .labelOutOfRange(_, 1, 20, 20) = $0 { true } else { false } }, mentioning: "test.bin") {
      _ = try DatasetFormat.cifar100.load(from: folder.url, split: .test)
    }
  }

  @Test func missingBatchFileIsNamed() throws {
    let folder = try TemporaryFolder()
    for b in 1...4 { try folder.write(cifarRecords([[1]]), to: "data_batch_\(b).bin") }
    expectError({ if case .missingFile = $0 { true } else { false } }, mentioning: "data_batch_5.bin") {
      _ = try DatasetFormat.cifar10.load(from: folder.url, split: .train)
    }
  }

  @Test(.enabled(if: TestData.hasCIFAR10, "real CIFAR-10 not built; run scripts/get-cifar10.sh"))
  func readsRealCIFAR10() throws {
    let train = try DatasetFormat.cifar10.load(from: TestData.cifar10, split: .train)
    let test = try DatasetFormat.cifar10.load(from: TestData.cifar10, split: .test)
    #expect(train.images.shape == [50000, 3, 32, 32])
    #expect(test.images.shape == [10000, 3, 32, 32])
    #expect(try train.labels.oneHot(classes: 10).sum(dims: [0]).toArray(Int64.self) == [Int64](repeating: 5000, count: 10))
    #expect(try test.labels.oneHot(classes: 10).sum(dims: [0]).toArray(Int64.self) == [Int64](repeating: 1000, count: 10))
    let mean = try train.images[0..<1000].to(.float32).mean().item() / 255
    #expect(mean > 0.4 && mean < 0.55)
  }
}

@Suite struct BatchLoaderTests {
  /// 10 samples of 1x2x2; every pixel of sample i is 10*i, its label is i % 3.
  private func tinyDataset() throws -> LabeledImages {
    try LabeledImages(
      name: "tiny", pixels: (0..<10).flatMap { [UInt8](repeating: UInt8(10 * $0), count: 4) },
      labels: (0..<10).map { Int64($0 % 3) }, channels: 1, height: 2, width: 2, classCount: 3)
  }

  private func allBatches(_ loader: BatchLoader, epoch: Int) throws -> [Batch] {
    var batches = try loader.batches(epoch: epoch)
    var out = [Batch]()
    while let b = try batches.next() { out.append(b) }
    return out
  }

  @Test func batchSizesWithAndWithoutDropLast() throws {
    let keep = try BatchLoader(tinyDataset(), batchSize: 4)
    #expect(keep.batchCount == 3)
    #expect(try allBatches(keep, epoch: 0).map { $0.images.shape[0] } == [4, 4, 2])
    let drop = try BatchLoader(tinyDataset(), batchSize: 4, dropLast: true)
    #expect(drop.batchCount == 2)
    #expect(try allBatches(drop, epoch: 0).map { $0.labels.shape[0] } == [4, 4])
  }

  @Test func eachEpochVisitsEverySampleOnceAndBatchesMatchTheData() throws {
    let loader = try BatchLoader(tinyDataset(), batchSize: 3, seed: 7)
    let batches = try allBatches(loader, epoch: 2)
    let indices = try batches.flatMap { try $0.indices.toArray(Int64.self) }
    #expect(indices.sorted() == Array(0..<10))
    #expect(indices != Array(0..<10))
    for b in batches {
      let idx = try b.indices.toArray(Int64.self)
      #expect(b.images.dtype == .float32)
      #expect(b.images.shape == [idx.count, 1, 2, 2])
      #expect(try b.images.toArray(Float.self) == idx.flatMap { i in [Float](repeating: Float(10 * i) / 255, count: 4) })
      #expect(try b.labels.toArray(Int64.self) == idx.map { $0 % 3 })
      #expect(b.labels.dtype == .int64)
    }
  }

  @Test func orderDependsOnlyOnSeedAndEpoch() throws {
    let a = try BatchLoader(tinyDataset(), batchSize: 4, seed: 1)
    let b = try BatchLoader(tinyDataset(), batchSize: 4, seed: 1)
    let c = try BatchLoader(tinyDataset(), batchSize: 4, seed: 2)
    #expect(try a.order(epoch: 3).toArray(Int64.self) == b.order(epoch: 3).toArray(Int64.self))
    #expect(try a.order(epoch: 3).toArray(Int64.self) != a.order(epoch: 4).toArray(Int64.self))
    #expect(try a.order(epoch: 3).toArray(Int64.self) != c.order(epoch: 3).toArray(Int64.self))
    let unshuffled = try BatchLoader(tinyDataset(), batchSize: 4, shuffle: false)
    #expect(try unshuffled.order(epoch: 5).toArray(Int64.self) == Array(0..<10))
  }

  @Test func resumingMidEpochGivesTheSameBatches() throws {
    let loader = try BatchLoader(tinyDataset(), batchSize: 3, seed: 11)
    let full = try allBatches(loader, epoch: 1)
    let resumedLoader = try BatchLoader(tinyDataset(), batchSize: 3, seed: 11)
    var resumed = try resumedLoader.batches(epoch: 1, startingAt: 2)
    #expect(resumed.nextIndex == 2)
    let third = try #require(try resumed.next())
    #expect(try third.indices.toArray(Int64.self) == full[2].indices.toArray(Int64.self))
    #expect(try resumed.batch(at: 0).indices.toArray(Int64.self) == full[0].indices.toArray(Int64.self))
    #expect(throws: DatasetError.self) { _ = try resumed.batch(at: 4) }
  }

  @Test func residentLoaderGivesTheSameBatches() throws {
    let host = try BatchLoader(tinyDataset(), batchSize: 4, seed: 3)
    let resident = try BatchLoader(tinyDataset(), batchSize: 4, seed: 3, resident: true)
    #expect(resident.isResident)
    for (x, y) in zip(try allBatches(host, epoch: 0), try allBatches(resident, epoch: 0)) {
      #expect(try x.images.toArray(Float.self) == y.images.toArray(Float.self))
      #expect(try x.labels.toArray(Int64.self) == y.labels.toArray(Int64.self))
    }
  }

  @Test func rejectsABadBatchSize() throws {
    #expect(throws: DatasetError.self) { _ = try BatchLoader(tinyDataset(), batchSize: 0) }
  }
}

/// Where datasets are found: the data root, a format's usual folder names and its system package folder.
@Suite struct DataRootTests {
  @Test func aDatasetIsFoundUnderTheRootByItsNames() throws {
    let folder = try TemporaryFolder()
    let root = DataRoot(folder.url)
    #expect(root.candidates(for: .cifar10) == [folder.file("cifar10")])
    #expect(root.candidates(for: .tinyImageNet) == [folder.file("tiny-imagenet"), folder.file("tiny-imagenet-200")])
    #expect(root.candidates(for: .fashionMNIST).last?.path == "/usr/share/datasets/fashion-mnist")
    try FileManager.default.createDirectory(at: folder.file("tiny-imagenet-200"), withIntermediateDirectories: true)
    #expect(try root.folder(for: .tinyImageNet) == folder.file("tiny-imagenet-200"))
  }

  @Test func aMissingDatasetNamesEveryFolderLookedIn() throws {
    let folder = try TemporaryFolder()
    let error = #expect(throws: DataRootError.self) { _ = try DataRoot(folder.url).folder(for: .cifar100) }
    #expect("\(error!)".contains(folder.file("cifar100").path) && "\(error!)".contains(DataRoot.environmentVariable))
    let given = #expect(throws: DataRootError.self) {
      _ = try DataRoot(folder.url).folder(for: .cifar10, directory: folder.file("elsewhere"))
    }
    #expect(given!.givenDirectory && "\(given!)".contains("elsewhere"))
  }

  @Test func theStartingPresetFollowsTheDatasetsImageShape() {
    #expect(TrainingPreset.starting(dataset: nil) == .quickstart)
    #expect(TrainingPreset.starting(dataset: "mnist") == .quickstart)
    #expect(TrainingPreset.starting(dataset: "CIFAR100") == .cifar10)
    #expect(TrainingPreset.starting(dataset: "image-folder") == .cifar10)
  }
}

extension EpochBatches {
  /// Batch `index` of the epoch, out of order (the tests' look at one batch).
  func batch(at index: Int) throws -> Batch {
    guard (0..<loader.batchCount).contains(index) else {
      throw DatasetError.unsupported("\(loader.dataset.name): batch \(index) is outside 0..<\(loader.batchCount)")
    }
    return try loader.batch(index, order: order)
  }
}
