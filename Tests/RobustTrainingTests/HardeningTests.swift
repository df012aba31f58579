import Foundation
import Testing

@testable import RobustTraining

/// Files that would have crashed a reader or been misread: each is refused with a message that names the
/// file (and the key or size at fault), before anything large is allocated.
@Suite struct HostileFileTests {
  /// Streams `header` then `zeros` zero bytes through the system's gzip into `url` (never held whole).
  func writeGzipStream(header: [UInt8], zeros: Int, to url: URL) throws {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = ["gzip", "-c", "-1"]
    let input = Pipe()
    process.standardInput = input
    _ = FileManager.default.createFile(atPath: url.path, contents: nil)
    process.standardOutput = try FileHandle(forWritingTo: url)
    try process.run()
    input.fileHandleForWriting.write(Data(header))
    let block = Data(count: 1 << 20)
    for _ in 0..<(zeros / block.count) { input.fileHandleForWriting.write(block) }
    try input.fileHandleForWriting.close()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
  }

  func idxHeader(_ dims: [Int]) -> [UInt8] {
    [0, 0, 0x08, UInt8(dims.count)] + dims.flatMap { withUnsafeBytes(of: UInt32($0).bigEndian, Array.init) }
  }

  @Test func aGzipBombIsStoppedAtTheSizeItsHeaderPromises() throws {
    let folder = try TemporaryFolder()
    let url = folder.file("t10k-images-idx3-ubyte.gz")
    // 10 images of 28x28 promised (7,840 bytes), 256 MiB of zeros delivered
    try writeGzipStream(header: idxHeader([10, 28, 28]), zeros: 256 << 20, to: url)
    let size = try FileManager.default.attributesOfItem(atPath: url.path)[.size] as? Int
    #expect((size ?? 0) <= (2 << 20))
    expectError({ if case .wrongSize = $0 { true } else { false } }, mentioning: [url.path, "7856 bytes"]) {
      _ = try IDXFile(contentsOf: url, expectedRank: 3)
    }
  }

  @Test func anIDXHeaderPromisingMoreThanTheMemoryIsRefused() throws {
    let folder = try TemporaryFolder()
    let url = folder.file("huge.gz")
    try writeGzipStream(header: idxHeader([4_000_000_000, 255, 255]), zeros: 1 << 20, to: url)
    expectError({ if case .wrongSize = $0 { true } else { false } }, mentioning: [url.path, "more than this machine's memory"]) {
      _ = try IDXFile(contentsOf: url, expectedRank: 3)
    }
    try folder.write(idxHeader([4_000_000_000, 255, 255]), to: "huge-plain")
    expectError(mentioning: [folder.file("huge-plain").path]) {
      _ = try IDXFile(contentsOf: folder.file("huge-plain"), expectedRank: 3)
    }
  }

  /// A JPEG whose frame header declares 65000x65000 pixels (the rest is a real 8x8 image).
  func hugeJPEG() throws -> Data {
    var data = [UInt8](try JPEG.encode([UInt8](repeating: 128, count: 8 * 8 * 3), width: 8, height: 8, channels: 3))
    guard let sof = (0..<(data.count - 9)).first(where: { data[$0] == 0xFF && (data[$0 + 1] == 0xC0 || data[$0 + 1] == 0xC2) })
    else { throw JPEG.Failure(reason: "no frame header") }
    for offset in [5, 7] { data[sof + offset] = 0xFD; data[sof + offset + 1] = 0xE8 }  // 65000
    return Data(data)
  }

  @Test func aJPEGDeclaringHugeDimensionsIsRefusedBeforeAllocating() throws {
    let error = #expect(throws: JPEG.Failure.self) { _ = try JPEG.decode(try hugeJPEG()) }
    #expect("\(error!)".contains("65000x65000"))
    let folder = try TemporaryFolder()
    for split in ["train", "test"] {
      try FileManager.default.createDirectory(at: folder.file("\(split)/a"), withIntermediateDirectories: true)
      try hugeJPEG().write(to: folder.file("\(split)/a/0.jpg"))
    }
    expectError(mentioning: ["0.jpg", "65000x65000"]) { _ = try ImageFolderLoader.load(from: folder.url, split: .train) }
  }

  @Test func aFIFOOrADeviceIsNotReadAsData() throws {
    expectError(mentioning: ["/dev/zero", "not a regular file"]) { _ = try DatasetFile.read(URL(fileURLWithPath: "/dev/zero")) }
    let folder = try TemporaryFolder()
    let fifo = folder.file("t10k-labels-idx1-ubyte")
    #expect(mkfifo(fifo.path, 0o644) == 0)
    expectError(mentioning: [fifo.path, "not a regular file"]) { _ = try DatasetFile.read(fifo) }
    expectError(mentioning: [folder.url.path, "a folder"]) { _ = try DatasetFile.read(folder.url) }
  }

  @Test func anEmptyTrainingOrTestSetIsRefused() throws {
    var c = TrainingConfiguration()
    c.epochs = 1
    let empty = try LabeledImages(name: "none", pixels: [], labels: [], channels: 1, height: 8, width: 8, classCount: 2)
    let some = try halvesDataset(count: 8, seed: 1)
    for (train, test) in [(empty, some), (some, empty)] {
      let error = #expect(throws: TrainingError.self) {
        _ = try Trainer(configuration: c, model: TinyConvNet(), train: train, test: test, run: nil)
      }
      #expect("\(error!)".contains("holds no images"))
    }
  }

  @Test func aModelRefusesImagesTooSmallForIt() throws {
    let error = #expect(throws: (any Error).self) {
      _ = try ModelArchitecture.preactResNet18.make(classCount: 10, inputShape: [3, 2, 2])
    }
    #expect("\(error!)".contains("at least 8x8") && "\(error!)".contains("2x2"))
    _ = try ModelArchitecture.preactResNet18.make(classCount: 10, inputShape: [3, 8, 8])
  }
}

/// safetensors files the format forbids: duplicate keys, bytes that belong to no tensor, a header length
/// that lands in the padding (which would shift every tensor).
@Suite struct StrictSafeTensorsTests {
  func raw(_ header: String, _ data: [UInt8]) -> Data {
    var out = Data()
    withUnsafeBytes(of: UInt64(header.utf8.count).littleEndian) { out.append(contentsOf: $0) }
    out.append(contentsOf: Array(header.utf8))
    out.append(contentsOf: data)
    return out
  }

  func message(_ bytes: Data) -> String? {
    do {
      _ = try SafeTensors.decode(bytes, file: "x.safetensors")
      return nil
    } catch { return "\(error)" }
  }

  @Test func duplicateKeysAreRefusedByName() {
    let same = #"{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}"#
    let different = #"{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}"#
    for header in [same, different] {
      let text = message(raw(header, [1, 2]))
      #expect(text?.contains("'a' twice") == true && text?.contains("x.safetensors") == true, "\(text ?? "accepted")")
    }
    let metadata = #"{"__metadata__": {"k": "1"}, "__metadata__": {"k": "2"}}"#
    #expect(message(raw(metadata, []))?.contains("'__metadata__' twice") == true)
    // an escaped key is the same key
    let escaped = #"{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}, "\u0061": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}"#
    #expect(message(raw(escaped, [1, 2]))?.contains("'a' twice") == true)
    // keys inside values do not count
    let nested = #"{"__metadata__": {"a": "1"}, "a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}"#
    #expect(message(raw(nested, [1])) == nil)
  }

  @Test func bytesThatBelongToNoTensorAreRefused() {
    let header = #"{"a": {"dtype": "U8", "shape": [2], "data_offsets": [0, 2]}}"#
    #expect(message(raw(header, [1, 2])) == nil)
    #expect(message(raw(header, [1, 2, 0]))?.contains("cover 2 bytes but the data buffer holds 3") == true)
    let gap = #"{"a": {"dtype": "U8", "shape": [1], "data_offsets": [1, 2]}}"#
    #expect(message(raw(gap, [1, 2]))?.contains("bytes 0..<1") == true)
    var large = raw(header, [1, 2])
    large.append(Data(count: 1 << 20))
    #expect(message(large)?.contains("holds 1048578") == true)
  }

  @Test func aHeaderLengthShortenedIntoThePaddingIsRefused() throws {
    let valid = try SafeTensors(tensors: [("w", try Tensor([Float](arrayLiteral: 1, 2, 3)))]).encoded()
    let length = Int(valid.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    let padding = valid[8..<(8 + length)].reversed().prefix { $0 == UInt8(ascii: " ") }.count
    #expect(padding >= 1, "the sample needs header padding")
    for cut in 1...padding {
      var bytes = valid
      withUnsafeBytes(of: UInt64(length - cut).littleEndian) { for k in 0..<8 { bytes[k] = $0[k] } }
      #expect(message(bytes) != nil, "a header \(cut) bytes short was accepted")
    }
  }

  @Test func anInvalidUTF8HeaderIsRefused() {
    var header = Array(#"{"a": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}"#.utf8)
    header[2] = 0xFF
    var bytes = Data()
    withUnsafeBytes(of: UInt64(header.count).littleEndian) { bytes.append(contentsOf: $0) }
    bytes.append(contentsOf: header + [7])
    #expect(message(bytes)?.contains("UTF-8") == true)
  }
}

/// Seeded mutants of the files the loaders and the resume read: each loads, or is refused with the
/// reader's own error; none crashes the process.
@Suite(.serialized) struct ReaderFuzzTests {
  /// `count` mutants of `valid`: truncations, 1-3 byte flips (mostly within `hot`), random bytes.
  func mutants(of valid: [UInt8], count: Int, hot: Range<Int>, seed: UInt64) -> [[UInt8]] {
    var random = SplitMix64(seed: seed)
    return (0..<count).map { k in
      switch k % 4 {
      case 0: return Array(valid.prefix(Int.random(in: 0..<valid.count, using: &random)))
      case 3: return (0..<Int.random(in: 0..<64, using: &random)).map { _ in UInt8.random(in: 0...255, using: &random) }
      default:
        var bytes = valid
        for _ in 0..<Int.random(in: 1...3, using: &random) {
          let position = Bool.random(using: &random) && !hot.isEmpty
            ? Int.random(in: hot, using: &random) : Int.random(in: 0..<valid.count, using: &random)
          bytes[position] ^= UInt8.random(in: 1...255, using: &random)
        }
        return bytes
      }
    }
  }

  @Test func trainingStateMutantsResumeOrAreRefused() throws {
    let run = temporaryRun("fuzz-state")
    defer { try? FileManager.default.removeItem(at: run.url) }
    var c = TrainingConfiguration()
    c.epochs = 2
    c.batchSize = 16
    c.perturbation = TrainingPerturbation(epsilon: 0.1, stepSize: 0.05, steps: 1)
    c.evalSteps = 1
    c.diagnosticsEvery = 0
    func trainer() throws -> Trainer {
      Torch.manualSeed(1)
      return try Trainer(configuration: c, model: TinyConvNet(), train: try halvesDataset(count: 32, seed: 1),
                         test: try halvesDataset(count: 16, seed: 2), run: run)
    }
    try trainer().train(until: 1)
    let valid = [UInt8](try Data(contentsOf: run.lastState))
    let headerEnd = 8 + Int(valid.prefix(8).reversed().reduce(UInt64(0)) { $0 << 8 | UInt64($1) })
    let restoring = try trainer()
    var (restored, refused) = (0, 0)
    for bytes in mutants(of: valid, count: 2000, hot: 8..<headerEnd, seed: 7) {
      try Data(bytes).write(to: run.lastState)
      do {
        _ = try restoring.restore(from: run)
        restored += 1
      } catch is CheckpointError {
        refused += 1
      } catch is TrainingError {
        refused += 1
      } catch {
        Issue.record("\(type(of: error)): \(error)")
      }
    }
    #expect(restored + refused == 2000 && refused > 1000 && restored > 0, "\(restored) restored, \(refused) refused")
  }

  @Test func idxMutantsLoadOrAreRefused() throws {
    let valid: [UInt8] = [0, 0, 0x08, 3, 0, 0, 0, 4, 0, 0, 0, 5, 0, 0, 0, 6] + (0..<120).map { UInt8($0) }
    var (loaded, refused) = (0, 0)
    for bytes in mutants(of: valid, count: 3000, hot: 0..<16, seed: 11) {
      do {
        _ = try IDXFile(bytes: Data(bytes), file: "fuzz-idx", expectedRank: 3)
        loaded += 1
      } catch let error as DatasetError {
        #expect(error.description.contains("fuzz-idx"))
        refused += 1
      }
    }
    #expect(loaded + refused == 3000 && refused > 1500 && loaded > 0)
  }

  @Test func jpegMutantsDecodeOrAreRefused() throws {
    var random = SplitMix64(seed: 3)
    let pixels = (0..<(16 * 16 * 3)).map { _ in UInt8.random(in: 0...255, using: &random) }
    let valid = [UInt8](try JPEG.encode(pixels, width: 16, height: 16, channels: 3))
    var (decoded, refused) = (0, 0)
    for bytes in mutants(of: valid, count: 2000, hot: 0..<Swift.min(valid.count, 400), seed: 5) {
      do {
        _ = try JPEG.decode(Data(bytes))
        decoded += 1
      } catch is JPEG.Failure {
        refused += 1
      }
    }
    #expect(decoded + refused == 2000 && refused > 500 && decoded > 0, "\(decoded) decoded, \(refused) refused")
  }
}

/// A landscape is written whole or not at all: its values are checked finite and every file's content made
/// before the first is written (a scan at alphas far enough out overflows the loss).
@Suite struct LandscapeOutputTests {
  func report(_ losses: [Double]) -> LandscapeReport {
    let points = losses.enumerated().map { i, loss in
      WeightLandscape.Point(alpha: Double(i), cleanLoss: loss, cleanAccuracy: 0.5, adversarialLoss: loss + 1, adversarialAccuracy: 0.25)
    }
    return LandscapeReport(seed: 0, examples: 4, curves: [.init(label: "run/best", checkpoint: "best.safetensors", epsilon: 0.1,
                                                               attack: "PGD-2", points: points)])
  }

  @Test func aNonFiniteLandscapeWritesNothing() throws {
    let folder = try TemporaryFolder()
    for losses in [[1, .nan, 2], [1, .infinity], [-.infinity]] as [[Double]] {
      let error = #expect(throws: ConfigurationError.self) { _ = try report(losses).write(to: folder.file("out"), png: false) }
      #expect(error?.key == "alphas" && error?.message.contains("not finite for run/best at alpha") == true, "\(String(describing: error))")
      #expect(!FileManager.default.fileExists(atPath: folder.file("out").path))
    }
    _ = try report([1, 2, 3]).write(to: folder.file("out"), png: false)
    let written = try FileManager.default.contentsOfDirectory(atPath: folder.file("out").path).sorted()
    #expect(written == ["landscape.csv", "landscape.html", "landscape.json", "plots"], "\(written)")
    #expect(try String(contentsOf: folder.file("out/landscape.csv"), encoding: .utf8).split(separator: "\n").count == 4)
  }

  @Test func theAlphaRangeIsBounded() throws {
    #expect(try WeightLandscape.parseRange("-1:1:21").count == 21)
    #expect(try WeightLandscape.parseRange("0:1:\(WeightLandscape.maximumPoints)").count == WeightLandscape.maximumPoints)
    for text in ["0:1:1e30", "0:1:1e12", "0:1:\(WeightLandscape.maximumPoints + 1)", "-1e308:1e308:3", "0:1:inf", "nan:1:3"] {
      #expect(throws: (any Error).self, "\(text)") { _ = try WeightLandscape.parseRange(text) }
    }
  }
}

/// A run's config.json (read by --resume, eval, landscape, report) goes through the settings-file reader's
/// budget too: it may have been edited or replaced since the run wrote it.
@Suite struct TamperedRunConfigurationTests {
  @Test func anEditedConfigJSONIsRefusedByTheReadersBudget() throws {
    let folder = try TemporaryFolder()
    let run = RunDirectory(folder.url)
    let valid = String(decoding: try RunDirectory.configurationJSON(TrainingConfiguration()), as: UTF8.self)
    try Data(valid.utf8).write(to: run.config)
    #expect(try run.readConfiguration() == TrainingConfiguration())
    let cases: [(String, String)] = [
      (valid.replacingOccurrences(of: "\"epochs\" : ", with: "\"epochs\" : 1, \"epochs\" : "), "'epochs' twice"),
      (valid + String(repeating: " ", count: 2 << 20), "larger than 1 MiB"),
      ("{\"a\": " + String(repeating: "[", count: 10_000) + String(repeating: "]", count: 10_000) + "}", "nested more than"),
      (String(valid.dropLast(20)), "is not JSON: line"),
    ]
    for (text, words) in cases {
      try Data(text.utf8).write(to: run.config)
      let error = #expect(throws: TrainingError.self) { _ = try run.readConfiguration() }
      #expect("\(error!)".contains(run.config.path) && "\(error!)".contains(words), "\(error!)")
    }
  }

  /// `agr eval` of a checkpoint beside a config.json it cannot read stops naming the file, instead of
  /// evaluating with CIFAR-10, PreAct-ResNet-18 and 8/255; a checkpoint outside a run still takes those.
  @Test func aCheckpointBesideAnUnreadableConfigurationIsRefused() throws {
    let folder = try TemporaryFolder()
    let checkpoint = folder.url.appendingPathComponent("best.safetensors")
    try Data("not a checkpoint".utf8).write(to: checkpoint)
    let bare = try CheckpointSource(url: checkpoint)
    #expect(bare.runConfiguration == nil && bare.dataset == .cifar10 && abs(bare.epsilon - 8.0 / 255) < 1e-12)
    let run = RunDirectory(folder.url)
    try Data("{\"epochs\": ".utf8).write(to: run.config)
    let error = #expect(throws: TrainingError.self) { _ = try CheckpointSource(url: checkpoint) }
    #expect("\(error!)".contains(run.config.path), "\(error!)")
  }
}
