import ArgumentParser
import Foundation
import Testing

@testable import AGRCommands
@testable import RobustTraining

/// `agr train --model-file`, `agr eval` and `--resume` on a committed TorchScript fixture (tiny_grey.pt, made
/// by Tests/Fixtures/TorchScript/make_fixtures.py), as separate processes on MNIST-format data.
@Suite(.serialized) struct ModelFileRunTests {
  let folder: URL
  let data: URL
  let model: URL

  init() throws {
    (folder, data) = try RunSafetyTests.scratchFolderWithDataset("agr-model-file")
    model = folder.appendingPathComponent("tiny_grey.pt")
    try FileManager.default.copyItem(at: RunSafetyTests.root.appendingPathComponent("Tests/Fixtures/TorchScript/tiny_grey.pt"),
                                     to: model)
  }

  func trainArguments(_ run: URL, epochs: Int) -> [String] {
    ["train", "--dataset", "mnist", "--data-dir", data.path, "--model-file", model.path, "--epochs", "\(epochs)",
     "--batch-size", "32", "--attack-steps", "1", "--eval-steps", "2", "--agr-start-epoch", "2", "--diagnostics-every", "2",
     "--seed", "5", "--output", run.path]
  }

  @Test func aRunTrainsEvaluatesAndResumesTheScriptedModuleAndRefusesAChangedFile() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let straight = folder.appendingPathComponent("straight")
    let trained = try RunSafetyTests.agr(trainArguments(straight, epochs: 2))
    #expect(trained.status == 0, "\(trained.errors)")
    #expect(trained.output.contains("\(model.path) (TorchScript)"), "\(trained.output)")
    let configuration = try RunDirectory(straight).readConfiguration()
    #expect(configuration.modelFile == model.path && configuration.modelFileChecksum?.hasPrefix("crc32:") == true)
    // AGR's statistics per layer kind come from the submodules' class names
    let kinds = try #require(try RunDirectory(straight).readMetrics().last?.gopRateByKind)
    #expect(Set(kinds.keys) == ["conv", "bn", "linear"], "\(kinds)")

    let stopped = folder.appendingPathComponent("stopped")
    let interrupted = try RunSafetyTests.agr(trainArguments(stopped, epochs: 2), interruptAfter: "== epoch 1")
    #expect(interrupted.status == 130, "\(interrupted.errors)")
    let resumed = try RunSafetyTests.agr(["train", "--resume", stopped.path])
    #expect(resumed.status == 0, "\(resumed.errors)")
    for name in ["last.safetensors", "best.safetensors"] {
      #expect(try Data(contentsOf: straight.appendingPathComponent(name)) == Data(contentsOf: stopped.appendingPathComponent(name)),
              "\(name) differs after the resume")
    }

    let checkpoint = straight.appendingPathComponent("best.safetensors").path
    let evaluated = try RunSafetyTests.agr(["eval", checkpoint, "--n-examples", "16", "--attacks", "fgsm"])
    #expect(evaluated.status == 0 && evaluated.output.contains("tiny_grey"), "\(evaluated.errors)")

    let handle = try FileHandle(forWritingTo: model)
    try handle.seekToEnd()
    try handle.write(contentsOf: Data([0]))
    try handle.close()
    for arguments in [["eval", checkpoint, "--n-examples", "16"], ["train", "--resume", stopped.path]] {
      let refused = try RunSafetyTests.agr(arguments)
      #expect(refused.status == 1 && refused.errors.contains("\(model.path) changed since the run started"),
              "\(arguments[0]): \(refused.errors)")
    }
  }

  /// Two data-parallel ranks train a model file as one process does (tiny_grey_plain.pt: no BatchNorm, whose
  /// batch statistics would be per rank); --sync-bn, which swaps agr's own BatchNorm layers, is refused.
  @Test func dataParallelRanksTrainAModelFileAsOneProcess() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let plain = RunSafetyTests.root.appendingPathComponent("Tests/Fixtures/TorchScript/tiny_grey_plain.pt").path
    func arguments(_ run: URL) -> [String] {
      ["train", "--dataset", "mnist", "--data-dir", data.path, "--model-file", plain, "--method", "trades", "--agr",
       "--agr-start-epoch", "1", "--epochs", "2", "--batch-size", "32", "--attack-steps", "2", "--eval-steps", "2",
       "--lr-schedule", "constant", "--no-augment", "--seed", "3", "--output", run.path]
    }
    let alone = folder.appendingPathComponent("alone")
    let single = try RunSafetyTests.agr(arguments(alone))
    #expect(single.status == 0, "\(single.errors)")
    let ranks = folder.appendingPathComponent("ranks")
    let job = try RunSafetyTests.agr(arguments(ranks) + ["--nproc-per-node", "2"])
    #expect(job.status == 0 && job.output.contains("2 data-parallel ranks"), "\(job.errors)")
    let difference = DataParallelTests.largestDifference(try DataParallelTests.weights(alone), try DataParallelTests.weights(ranks))
    #expect(difference < 1e-5, "2 ranks differ from one process by \(difference)")
    let synchronized = try RunSafetyTests.agr(trainArguments(folder.appendingPathComponent("sync"), epochs: 1)
      + ["--sync-bn", "--nproc-per-node", "2"])
    #expect(synchronized.status == 64 && synchronized.errors.contains("--sync-bn"), "\(synchronized.errors)")
  }

  /// Modules that load but fail only in training (train-mode output of the wrong shape, integer or detached
  /// logits, no parameters): refused with the file's name before the run directory exists.
  @Test func aModuleThatFailsOnlyInTrainingIsRefusedBeforeTheRunDirectoryExists() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    for (name, words) in [("train_mode_shape.pt", "train mode"), ("integer_logits.pt", "int64 logits"),
                          ("detached_logits.pt", "do not depend on its parameters"), ("no_parameters.pt", "no parameters")] {
      let file = RunSafetyTests.root.appendingPathComponent("Tests/Fixtures/TorchScript/\(name)").path
      let run = folder.appendingPathComponent("run-\(name)")
      var arguments = trainArguments(run, epochs: 1)
      arguments[arguments.firstIndex(of: model.path)!] = file
      let outcome = try RunSafetyTests.agr(arguments)
      #expect(outcome.status == 1 && outcome.errors.contains("\(file) cannot be trained") && outcome.errors.contains(words),
              "\(name): \(outcome.errors)")
      #expect(!FileManager.default.fileExists(atPath: run.path), "\(name): the run directory was made")
    }
  }

  @Test func theFlagRecordsAnAbsolutePathAndItsChecksum() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let c = try Train.parse(["--model-file", model.path, "--dataset", "mnist"]).buildConfiguration()
    let checksum = try ModelFileChecksum.of(model.path)
    #expect(c.modelFile == model.path && c.modelFileChecksum == checksum)
    #expect(c.modelSource == .scripted(path: model.path, checksum: c.modelFileChecksum))
    #expect(throws: ValidationError.self) { try Train.parse(["--model-file", model.path, "--model", "smallcnn"]).buildConfiguration() }
    #expect(throws: ValidationError.self) {
      try Train.parse(["--model-file", folder.appendingPathComponent("absent.pt").path]).buildConfiguration()
    }
  }
}
