import Foundation
import Testing

@testable import RobustTraining

/// TensorBoard event files: TFRecord framing with masked CRC-32C read back, the events' fields decoded,
/// and (opt-in, AGR_TENSORBOARD_PYTHON=a Python with the tensorboard package) TensorBoard's own reader.
@Suite struct TensorBoardTests {
  @Test func crc32cMatchesTheStandardCheckValue() {
    #expect(CRC32C.checksum(Array("123456789".utf8)) == 0xE306_9283)
    #expect(CRC32C.checksum([UInt8](repeating: 0, count: 32)) == 0x8A91_36AA)
  }

  /// A log with two windows, one epoch and one gradient sample of a two-tensor model.
  func writeLog(_ folder: TemporaryFolder) throws -> TensorBoardLog {
    let log = try TensorBoardLog(run: RunDirectory(folder.url))
    for batch in [2, 4] {
      log.training(progress: BatchProgress(epoch: 1, epochs: 2, batch: batch, batches: 4, loss: 2.5 - Double(batch) / 10,
                                           cleanAccuracy: 0.25, adversarialAccuracy: nil, imagesPerSecond: 100, etaSeconds: 1,
                                           learningRate: 0.1, agrActive: true))
    }
    log.logCosines([-0.25, 0.5], names: ["conv1.weight", "bn1.weight"], kinds: [.conv, .batchNorm], step: 3)
    log.training(finished: EpochRecord(epoch: 1, learningRate: 0.1, agrActive: true, trainLoss: 2.2, trainCleanAccuracy: 0.25,
                                       trainAdversarialAccuracy: nil, testCleanLoss: 2, testCleanAccuracy: 0.375,
                                       testRobustLoss: 2.4, testRobustAccuracy: 0.125, gopRate: 0.5,
                                       gopRateByKind: ["conv": 1, "bn": 0], seconds: 3, imagesPerSecond: 100))
    return log
  }

  /// (field number, wire type, bytes or integer) of one message's fields.
  func fields(_ bytes: [UInt8]) -> [(Int, Int, [UInt8], UInt64)] {
    var out = [(Int, Int, [UInt8], UInt64)](), i = 0
    func varint() -> UInt64 {
      var value: UInt64 = 0, shift: UInt64 = 0
      while true {
        let b = bytes[i]
        i += 1
        value |= UInt64(b & 0x7F) << shift
        shift += 7
        if b < 0x80 { return value }
      }
    }
    while i < bytes.count {
      let key = varint()
      let (field, wire) = (Int(key >> 3), Int(key & 7))
      switch wire {
      case 0: out.append((field, wire, [], varint()))
      case 1: out.append((field, wire, Array(bytes[i..<i + 8]), 0)); i += 8
      case 5: out.append((field, wire, Array(bytes[i..<i + 4]), 0)); i += 4
      default:
        let n = Int(varint())
        out.append((field, wire, Array(bytes[i..<i + n]), 0))
        i += n
      }
    }
    return out
  }

  /// Step and tag -> scalar value, for every scalar of every event.
  func scalars(_ records: [[UInt8]]) -> [String: (Int64, Float)] {
    var out = [String: (Int64, Float)]()
    for record in records {
      let event = fields(record)
      let step = Int64(bitPattern: event.first { $0.0 == 2 }?.3 ?? 0)
      for summary in event where summary.0 == 5 {
        for value in fields(summary.2) where value.0 == 1 {
          let parts = fields(value.2)
          guard let tag = parts.first(where: { $0.0 == 1 }), let scalar = parts.first(where: { $0.0 == 2 }) else { continue }
          let bits = scalar.2.enumerated().reduce(UInt32(0)) { $0 | UInt32($1.element) << (8 * $1.offset) }
          out[String(decoding: tag.2, as: UTF8.self)] = (step, Float(bitPattern: bits))
        }
      }
    }
    return out
  }

  @Test func eventFilesReadBackWithTheirFramingChecksumsAndValues() throws {
    let folder = try TemporaryFolder()
    let log = try writeLog(folder)
    let records = try EventFile.records(in: log.file.url)
    #expect(log.file.url.lastPathComponent.hasPrefix("events.out.tfevents."))
    let version = fields(records[0]).first { $0.0 == 3 }.map { String(decoding: $0.2, as: UTF8.self) }
    #expect(version == "brain.Event:2")
    #expect(fields(records[1]).contains { $0.0 == 7 }, "a session start (SessionLog, field 7) before the first values")
    let values = scalars(records)
    #expect(values["train/loss"]?.0 == 4 && values["train/loss"]?.1 == Float(2.1))
    #expect(values["epoch/test_robust_accuracy"]?.0 == 4 && values["epoch/test_robust_accuracy"]?.1 == 0.125)
    #expect(values["epoch/gop_rate/conv"]?.1 == 1)
    #expect(values["cosine/conv1.weight"]?.0 == 3 && values["cosine/conv1.weight"]?.1 == -0.25)
    #expect(values["train/adversarial_accuracy"] == nil)

    var bytes = try Data(contentsOf: log.file.url)
    bytes[bytes.count - 10] ^= 0xFF
    try bytes.write(to: log.file.url)
    #expect(throws: EventFileError.self) { _ = try EventFile.records(in: log.file.url) }
    try bytes.prefix(bytes.count - 3).write(to: log.file.url)
    #expect(try EventFile.records(in: log.file.url).count == records.count - 1, "a record cut short ends the file")
  }

  @Test(.enabled(if: ProcessInfo.processInfo.environment["AGR_TENSORBOARD_PYTHON"] != nil))
  func tensorBoardsOwnReaderReadsTheFiles() throws {
    let folder = try TemporaryFolder()
    let log = try writeLog(folder)
    let process = Process()
    process.executableURL = URL(fileURLWithPath: ProcessInfo.processInfo.environment["AGR_TENSORBOARD_PYTHON"]!)
    process.arguments = [TestData.repositoryRoot.appendingPathComponent("scripts/read_tensorboard.py").path, log.folder.path]
    let pipe = Pipe()
    process.standardOutput = pipe
    try process.run()
    let output = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    #expect(process.terminationStatus == 0)
    let json = try JSONSerialization.jsonObject(with: output) as! [String: [String: [[Double]]]]
    #expect(json["scalars"]?["train/loss"]?.map { $0[0] } == [2, 4])
    #expect(json["scalars"]?["epoch/test_clean_accuracy"]?.first?[1] == 0.375)
    #expect(json["scalars"]?["cosine/bn1.weight"]?.first == [3, 0.5])
    #expect(json["histograms"]?["cosine_histogram/conv"]?.first == [3, 1])
  }
}
