import Foundation
import Testing
import Torch

@testable import RobustTraining

/// `agr train --extra-data`: a run on the MNIST-format scratch data mixed with an `.npz` of extra images trains,
/// resumes exactly after a kill, and bad extra data is refused before the run directory is made.
@Suite(.serialized) struct ExtraDataRunTests {
  let folder: URL
  let data: URL

  init() throws {
    (folder, data) = try RunSafetyTests.scratchFolderWithDataset("agr-extra-data")
  }

  static func le(_ value: Int, _ size: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: value >> (8 * $0)) } }

  /// One `.npy` array (format 1.0) as `np.save` writes it.
  static func npy(_ descr: String, _ shape: [Int], _ body: [UInt8]) -> [UInt8] {
    let shapeText = shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
    header += String(repeating: " ", count: (64 - (10 + header.utf8.count + 1) % 64) % 64) + "\n"
    return [0x93] + Array("NUMPY".utf8) + [1, 0] + le(header.utf8.count, 2) + Array(header.utf8) + body
  }

  /// An `.npz` as `np.savez` (method 0) or `np.savez_compressed` (method 8: the bytes are not really deflated,
  /// the reader refuses such a member before it reads one) writes it.
  static func npz(_ members: [(String, [UInt8])], method: Int = 0) -> Data {
    var out = [UInt8]()
    var central = [UInt8]()
    for (name, bytes) in members {
      let offset = out.count
      let nameBytes = Array(name.utf8)
      out += le(0x0403_4B50, 4) + le(45, 2) + le(0, 2) + le(method, 2) + le(0, 2) + le(0x21, 2) + le(0, 4)
        + le(0xFFFF_FFFF, 4) + le(0xFFFF_FFFF, 4) + le(nameBytes.count, 2) + le(20, 2) + nameBytes
        + le(1, 2) + le(16, 2) + le(bytes.count, 8) + le(bytes.count, 8) + bytes
      central += le(0x0201_4B50, 4) + le(45, 2) + le(45, 2) + le(0, 2) + le(method, 2) + le(0, 2) + le(0x21, 2)
        + le(0, 4) + le(bytes.count, 4) + le(bytes.count, 4) + le(nameBytes.count, 2) + le(0, 2) + le(0, 2) + le(0, 2)
        + le(0, 2) + le(0, 4) + le(offset, 4) + nameBytes
    }
    let directoryOffset = out.count
    out += central + le(0x0605_4B50, 4) + le(0, 2) + le(0, 2) + le(members.count, 2) + le(members.count, 2)
      + le(central.count, 4) + le(directoryOffset, 4) + le(0, 2)
    return Data(out)
  }

  /// `count` extra images like the scratch data's (the label's band bright, noise elsewhere), (N, 28, 28, 1).
  static func extraImages(count: Int, height: Int = 28, channels: Int = 1, method: Int = 0) -> Data {
    var state: UInt64 = 99
    func next() -> Int {
      state = state &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
      return Int(state >> 33)
    }
    let labels = (0..<count).map { _ in next() % 10 }
    var pixels = [UInt8]()
    for label in labels {
      for row in 0..<height {
        for _ in 0..<(28 * channels) { pixels.append(UInt8((row / 3 == label ? 160 : 0) + next() % 90)) }
      }
    }
    return npz([("image.npy", npy("|u1", [count, height, 28, channels], pixels)),
                ("label.npy", npy("<i8", [count], labels.flatMap { le($0, 8) }))], method: method)
  }

  func arguments(_ run: URL, extra: URL, epochs: Int = 3) -> [String] {
    ["train", "--dataset", "mnist", "--data-dir", data.path, "--model", "smallcnn", "--epochs", "\(epochs)",
     "--batch-size", "32", "--attack-steps", "1", "--eval-steps", "2", "--agr-start-epoch", "2", "--diagnostics-every", "2",
     "--seed", "5", "--output", run.path, "--extra-data", extra.path, "--extra-fraction", "0.5", "--epoch-size", "96"]
  }

  func results(_ run: URL) throws -> [String: Data] {
    var out = [String: Data]()
    for name in ["last.safetensors", "best.safetensors", "diagnostics.jsonl", "config.json"] {
      out[name] = try Data(contentsOf: run.appendingPathComponent(name))
    }
    out["metrics"] = try RunDirectory(run).metricsIgnoringTimes()
    return out
  }

  @Test func aRunWithExtraDataTrainsAndResumesExactly() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let extra = folder.appendingPathComponent("generated.npz")
    try Self.extraImages(count: 300).write(to: extra)
    let straight = folder.appendingPathComponent("straight")
    let reference = try RunSafetyTests.agr(arguments(straight, extra: extra))
    #expect(reference.status == 0 && !reference.killed, "\(reference.errors)")
    #expect(reference.output.contains("extra:    \(extra.path): 300 images, 16 of each batch of 32"), "\(reference.output)")
    #expect(reference.output.contains("epoch 1/3  batch 3/3"), "\(reference.output)")
    let configuration = try RunDirectory(straight).readConfiguration()
    #expect(configuration.extraData == extra.path && configuration.extraFraction == 0.5 && configuration.epochSize == 96)
    let expected = try results(straight)
    // killed in epoch 2's second step (re-run from epoch 1's checkpoint), and just after epoch 2's checkpoint
    for point in ["step@5", "state@2"] {
      let run = folder.appendingPathComponent("killed-\(point)")
      let stopped = try RunSafetyTests.agr(arguments(run, extra: extra), environment: ["AGR_TEST_KILL_AT": point])
      #expect(stopped.killed && stopped.status == SIGKILL, "\(point): \(stopped.status) \(stopped.errors)")
      let resumed = try RunSafetyTests.agr(["train", "--resume", run.path])
      #expect(resumed.status == 0 && !resumed.killed, "\(point): \(resumed.errors)")
      let got = try results(run)
      for (name, bytes) in expected where name != "config.json" {
        #expect(got[name] == bytes, "\(point): \(name) differs from the uninterrupted run")
      }
    }
  }

  /// Data parallelism unchanged: every rank draws the same mixed global batch and keeps its rows, so 2 ranks
  /// train as one process (SmallCNN without dropout, as in DataParallelTests; same tolerance).
  @Test func twoRanksWithExtraDataTrainAsOneProcess() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let extra = folder.appendingPathComponent("generated.npz")
    try Self.extraImages(count: 200).write(to: extra)
    func arguments(_ run: URL) -> [String] {
      ["train", "--dataset", "mnist", "--data-dir", data.path, "--model", "smallcnn", "--dropout", "0", "--method", "at",
       "--agr", "--agr-start-epoch", "1", "--epochs", "2", "--batch-size", "48", "--attack-steps", "2", "--eval-steps", "2",
       "--lr-schedule", "constant", "--seed", "3", "--output", run.path, "--extra-data", extra.path,
       "--extra-fraction", "0.6", "--epoch-size", "96"]
    }
    let alone = folder.appendingPathComponent("alone")
    let single = try RunSafetyTests.agr(arguments(alone))
    #expect(single.status == 0, "\(single.errors)")
    let run = folder.appendingPathComponent("ranks-2")
    let job = try RunSafetyTests.agr(arguments(run) + ["--nproc-per-node", "2"])
    #expect(job.status == 0, "\(job.errors)")
    let difference = DataParallelTests.largestDifference(try DataParallelTests.weights(alone), try DataParallelTests.weights(run))
    #expect(difference < 1e-5, "2 ranks with extra data: weights differ by \(difference)")
    let (records, reference) = (try RunDirectory(run).readMetrics(), try RunDirectory(alone).readMetrics())
    #expect(records.map(\.testCleanAccuracy) == reference.map(\.testCleanAccuracy) && records.count == 2)
  }

  @Test func badExtraDataIsRefusedBeforeTheRunDirectoryIsMade() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let cases: [(String, Data, [String])] = [
      ("compressed.npz", Self.extraImages(count: 8, method: 8), ["compressed (np.savez_compressed)", "python3 -c"]),
      ("cifar-sized.npz", Self.extraImages(count: 8, height: 32, channels: 3), ["32 x 28 x 3", "the dataset's are 28 x 28 x 1"]),
      ("labels-only.npz", Self.npz([("label.npy", Self.npy("<i8", [1], Self.le(0, 8)))]), ["no 'image' array"]),
    ]
    for (name, bytes, texts) in cases {
      let extra = folder.appendingPathComponent(name)
      try bytes.write(to: extra)
      let run = folder.appendingPathComponent("run-\(name)")
      let refused = try RunSafetyTests.agr(arguments(run, extra: extra, epochs: 1))
      #expect(refused.status == 1, "\(name): \(refused.status) \(refused.errors)")
      for text in [extra.path] + texts { #expect(refused.errors.contains(text), "\(name): \(refused.errors)") }
      #expect(!FileManager.default.fileExists(atPath: run.path), "\(name): the run directory was made")
    }
    let run = folder.appendingPathComponent("run-no-file")
    let missing = try RunSafetyTests.agr(arguments(run, extra: folder.appendingPathComponent("none.npz"), epochs: 1))
    #expect(missing.status == 1 && missing.errors.contains("none.npz"), "\(missing.errors)")
    #expect(!FileManager.default.fileExists(atPath: run.path))
    let lone = try RunSafetyTests.agr(["train", "--extra-fraction", "0.5", "--dry-run"])
    #expect(lone.status == 64 && lone.errors.contains("--extra-fraction") && lone.errors.contains("extra_data"), "\(lone.errors)")
  }
}
