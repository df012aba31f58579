import Foundation
import Testing
import Torch

@testable import RobustTraining

/// `agr train --dataset imagenet` over a JPEG folder, alone and as 2 ranks that each decode only their rows of
/// every global batch: the ranks train as the one process does.
@Suite(.serialized) struct StreamedDataParallelTests {
  let folder: URL
  let data: URL

  init() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("agr-streamed-\(UUID().uuidString)")
    data = folder.appendingPathComponent("data")
    let sizes = [(60, 48), (41, 70), (90, 64), (33, 33)]
    for (c, name) in ["n01", "n02", "n03"].enumerated() {
      for i in 0..<8 {
        let (w, h) = sizes[(c + i) % sizes.count]
        try Self.write(width: w, height: h, seed: 10 * c + i, to: data.appendingPathComponent("train/\(name)/\(i).JPEG"))
      }
      for i in 0..<2 { try Self.write(width: 50, height: 40, seed: 90 + 10 * c + i, to: data.appendingPathComponent("val/\(name)/v\(i).JPEG")) }
    }
  }

  static func write(width: Int, height: Int, seed: Int, to url: URL) throws {
    try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
    let pixels = (0..<(width * height * 3)).map { UInt8(truncatingIfNeeded: ($0 * 7 + seed * 31 + ($0 / (3 * width)) * 5) % 251) }
    try JPEG.encode(pixels, width: width, height: height, channels: 3, quality: 90).write(to: url)
  }

  /// SmallCNN without dropout on 28x28 crops, 2 epochs of 2 global batches of 12.
  func arguments(_ run: URL) -> [String] {
    ["train", "--dataset", "imagenet", "--data-dir", data.path, "--image-size", "28", "--model", "smallcnn", "--dropout", "0",
     "--method", "at", "--epochs", "2", "--batch-size", "12", "--attack-steps", "2", "--eval-steps", "2",
     "--lr-schedule", "constant", "--decode-threads", "2", "--seed", "3", "--output", run.path]
  }

  @Test func twoRanksDecodingTheirShardsTrainAsOneProcess() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let alone = folder.appendingPathComponent("alone")
    let single = try RunSafetyTests.agr(arguments(alone))
    #expect(single.status == 0, "\(single.errors)")
    #expect(single.output.contains("24 train / 6 test images, 3 classes, decoded as read (2 threads)"), "\(single.output)")
    let run = folder.appendingPathComponent("ranks")
    let job = try RunSafetyTests.agr(arguments(run) + ["--nproc-per-node", "2"])
    #expect(job.status == 0, "\(job.errors)")
    let difference = DataParallelTests.largestDifference(try DataParallelTests.weights(alone), try DataParallelTests.weights(run))
    #expect(difference < 1e-5, "weights differ by \(difference)")
    let (one, two) = (try RunDirectory(alone).readMetrics(), try RunDirectory(run).readMetrics())
    #expect(one.count == 2 && two.count == 2)
    for (a, b) in zip(one, two) {
      #expect(a.testCleanAccuracy == b.testCleanAccuracy && a.testRobustAccuracy == b.testRobustAccuracy)
      #expect(abs(a.trainLoss - b.trainLoss) < 1e-5 && a.trainCleanAccuracy == b.trainCleanAccuracy)
    }
  }

  @Test func tensorAugmentationsOnAStreamedDatasetAreRefused() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let outcome = try RunSafetyTests.agr(arguments(folder.appendingPathComponent("run")) + ["--augment", "crop,flip"])
    #expect(outcome.status != 0 && outcome.errors.contains("augmentations"), "\(outcome.errors)")
  }
}
