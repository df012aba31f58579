import Foundation
import Testing
import Torch

@testable import RobustTraining

/// `agr train --nproc-per-node N`: ranks as processes over Gloo on loopback. N ranks with the global batch
/// train as one process does; a rank that dies or hangs ends the job with a message naming it; Ctrl-C
/// stops every rank; a stopped job resumes exactly; bad starts are refused with the reason.
@Suite(.serialized) struct DataParallelTests {
  let folder: URL
  let data: URL

  init() throws {
    folder = FileManager.default.temporaryDirectory.appendingPathComponent("agr-ddp-\(UUID().uuidString)")
    data = folder.appendingPathComponent("data")
    try RunSafetyTests.writeDataset(to: data, trainCount: 96, testCount: 40)
  }

  /// SmallCNN without dropout (a model with no randomness and no BatchNorm), AGR from the first step,
  /// 2 epochs of 2 global batches of 48 (divisible by 2 and 3 ranks), diagnostics at every step.
  func arguments(_ run: URL, method: String = "trades", epochs: Int = 2) -> [String] {
    ["train", "--dataset", "mnist", "--data-dir", data.path, "--model", "smallcnn", "--dropout", "0", "--method", method,
     "--agr", "--agr-start-epoch", "1", "--epochs", "\(epochs)", "--batch-size", "48", "--attack-steps", "2",
     "--eval-steps", "2", "--diagnostics-every", "1", "--lr-schedule", "constant", "--seed", "3", "--output", run.path]
  }

  static func weights(_ run: URL) throws -> [String: [Float]] {
    let file = try SafeTensors.read(from: run.appendingPathComponent("last.safetensors"))
    return Dictionary(uniqueKeysWithValues: try file.tensors.map { ($0.name, try $0.tensor.toArray(Float.self)) })
  }

  static func largestDifference(_ a: [String: [Float]], _ b: [String: [Float]]) -> Float {
    guard a.keys.sorted() == b.keys.sorted() else { return .infinity }
    return a.keys.map { key in zip(a[key]!, b[key]!).map { abs($0 - $1) }.max() ?? 0 }.max() ?? 0
  }

  /// The same weights (within float32 reduction-order noise: the global mean gradient is summed per rank
  /// and then across ranks instead of in one pass, a relative difference of ~1e-7 per step; after 4
  /// steps of SGD on weights of size ~1 that stays far below 1e-5) and the same test metrics.
  @Test(arguments: ["at", "trades", "mart"])
  func ranksTrainAsOneProcessWithTheGlobalBatch(method: String) throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let alone = folder.appendingPathComponent("alone")
    let single = try RunSafetyTests.agr(arguments(alone, method: method))
    #expect(single.status == 0, "\(single.errors)")
    let reference = try Self.weights(alone)
    let referenceRecords = try RunDirectory(alone).readMetrics()
    for ranks in [2, 3] {
      let run = folder.appendingPathComponent("ranks-\(ranks)")
      let job = try RunSafetyTests.agr(arguments(run, method: method) + ["--nproc-per-node", "\(ranks)"])
      #expect(job.status == 0, "\(ranks) ranks: \(job.errors)")
      #expect(job.output.contains("\(ranks) data-parallel ranks"))
      let difference = Self.largestDifference(reference, try Self.weights(run))
      #expect(difference < 1e-5, "\(method), \(ranks) ranks: weights differ by \(difference)")
      let records = try RunDirectory(run).readMetrics()
      #expect(records.count == referenceRecords.count)
      for (got, expected) in zip(records, referenceRecords) {
        // the sharded evaluation counts the same correct answers
        #expect(got.testCleanAccuracy == expected.testCleanAccuracy && got.testRobustAccuracy == expected.testRobustAccuracy)
        #expect(abs(got.testCleanLoss - expected.testCleanLoss) < 1e-5)
        #expect(abs(got.trainLoss - expected.trainLoss) < 1e-5)
        #expect(got.trainCleanAccuracy == expected.trainCleanAccuracy)
      }
      // only rank 0 wrote: one set of files, no stray temporaries
      let names = try FileManager.default.contentsOfDirectory(atPath: run.path)
      #expect(!names.contains { $0.hasSuffix(".tmp") })
    }
  }

  /// The single-step attacks' noise is drawn for the global batch: FGSM-RS and N-FGSM + AGR on 2 ranks train as
  /// in one process.
  @Test(arguments: ["fgsm-rs", "n-fgsm"])
  func singleStepAttackRanksTrainAsOneProcess(attack: String) throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let alone = folder.appendingPathComponent("alone")
    let single = try RunSafetyTests.agr(arguments(alone, method: "at") + ["--training-attack", attack, "--eps", "0.3"])
    #expect(single.status == 0, "\(single.errors)")
    let run = folder.appendingPathComponent("ranks")
    let job = try RunSafetyTests.agr(arguments(run, method: "at") + ["--training-attack", attack, "--eps", "0.3", "--nproc-per-node", "2"])
    #expect(job.status == 0, "\(job.errors)")
    let difference = Self.largestDifference(try Self.weights(alone), try Self.weights(run))
    #expect(difference < 1e-5, "\(attack) on 2 ranks: weights differ by \(difference)")
  }

  /// The overlapped all-reduce (the default, here in buckets small enough that the small CNN's gradients fill
  /// several) against the flat one (`--bucket-mb 0`, the reference): on 2 ranks each element is the same sum of
  /// the same two values, so the weights and metrics agree bit for bit, with AGR's clean gradient and the
  /// method's each in buckets of their own.
  @Test(arguments: ["trades", "at"])
  func overlappedBucketsEqualTheFlatAllReduce(method: String) throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    var weights: [Data] = []
    var metrics: [Data] = []
    for bucket in ["0", "0.05", "25"] {
      let run = folder.appendingPathComponent("bucket-\(bucket)")
      let job = try RunSafetyTests.agr(arguments(run, method: method) + ["--nproc-per-node", "2", "--bucket-mb", bucket])
      #expect(job.status == 0, "--bucket-mb \(bucket): \(job.errors)")
      switch bucket {
      case "0": #expect(job.output.contains("in one flat all-reduce after the backward passes"), "\(job.output)")
      case "25": #expect(job.output.contains("gradients in 2 buckets of up to 25 MB"), "\(job.output)")
      default: #expect(job.output.contains("gradients in 9 buckets of up to 0.05 MB"), "\(job.output)")
      }
      weights.append(try Data(contentsOf: run.appendingPathComponent("last.safetensors")))
      metrics.append(try RunDirectory(run).metricsIgnoringTimes())
    }
    #expect(weights[1] == weights[0] && weights[2] == weights[0], "\(method): the overlapped all-reduce's weights differ from the flat one's")
    #expect(metrics[1] == metrics[0] && metrics[2] == metrics[0])
  }

  /// AWP's proxy step averaged over the ranks: AT + AWP + AGR on 2 ranks as in one process.
  @Test func awpRanksTrainAsOneProcess() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let awp = ["--awp", "--awp-gamma", "0.02"]
    let alone = folder.appendingPathComponent("alone")
    let single = try RunSafetyTests.agr(arguments(alone, method: "at") + awp)
    #expect(single.status == 0, "\(single.errors)")
    let run = folder.appendingPathComponent("ranks")
    let job = try RunSafetyTests.agr(arguments(run, method: "at") + awp + ["--nproc-per-node", "2"])
    #expect(job.status == 0, "\(job.errors)")
    let difference = Self.largestDifference(try Self.weights(alone), try Self.weights(run))
    #expect(difference < 1e-5, "AWP on 2 ranks: weights differ by \(difference)")
  }

  @Test func aKilledRankEndsTheJobAndIsNamed() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let started = Date()
    let job = try RunSafetyTests.agr(arguments(folder.appendingPathComponent("killed")) + ["--nproc-per-node", "2", "--dist-timeout", "60"],
                                     environment: ["AGR_TEST_KILL_AT": "step@2#1"])
    #expect(job.status != 0)
    #expect(job.errors.contains("rank 1 was killed by signal 9"), "\(job.errors)")
    #expect(job.errors.contains("rank 0:") && job.errors.contains("rank 1 is behind"), "\(job.errors)")
    #expect(Date().timeIntervalSince(started) < 60, "the job outlived its timeout")
  }

  @Test func aHungRankIsNamedAfterTheTimeout() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let started = Date()
    let job = try RunSafetyTests.agr(arguments(folder.appendingPathComponent("hung")) + ["--nproc-per-node", "2", "--dist-timeout", "3"],
                                     environment: ["AGR_TEST_KILL_AT": "step@2#1", "AGR_TEST_KILL_SIGNAL": "STOP"])
    #expect(job.status != 0)
    #expect(job.errors.contains("rank 1 is behind"), "\(job.errors)")
    #expect(Date().timeIntervalSince(started) < 30)
  }

  /// Rank 0 killed after its epoch-1 checkpoint; the job resumed on 2 ranks ends bit for bit where the
  /// uninterrupted job ends, and resumed on 1 process (the same semantics) within the reduction noise.
  @Test func aStoppedJobResumesExactly() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let straight = folder.appendingPathComponent("straight")
    let reference = try RunSafetyTests.agr(arguments(straight, epochs: 3) + ["--nproc-per-node", "2"])
    #expect(reference.status == 0, "\(reference.errors)")
    for resumeRanks in [2, 1] {
      let run = folder.appendingPathComponent("stopped-\(resumeRanks)")
      let stopped = try RunSafetyTests.agr(arguments(run, epochs: 3) + ["--nproc-per-node", "2"],
                                           environment: ["AGR_TEST_KILL_AT": "state@1"])
      #expect(stopped.status != 0 && stopped.errors.contains("rank 0 was killed"), "\(stopped.errors)")
      let resumed = try RunSafetyTests.agr(["train", "--resume", run.path, "--nproc-per-node", "\(resumeRanks)"])
      #expect(resumed.status == 0 && resumed.output.contains("resuming"), "\(resumed.errors)")
      let got = try Data(contentsOf: run.appendingPathComponent("last.safetensors"))
      let expected = try Data(contentsOf: straight.appendingPathComponent("last.safetensors"))
      if resumeRanks == 2 {
        #expect(got == expected, "the resumed job's weights differ from the uninterrupted job's")
        #expect(try RunDirectory(run).metricsIgnoringTimes() == RunDirectory(straight).metricsIgnoringTimes())
      } else {
        #expect(Self.largestDifference(try Self.weights(run), try Self.weights(straight)) < 1e-5)
      }
    }
  }

  @Test func ctrlCStopsEveryRankTogether() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("interrupted")
    let job = try RunSafetyTests.agr(arguments(run, epochs: 20) + ["--nproc-per-node", "2"], interruptAfter: "== epoch 1")
    #expect(job.status == 130, "\(job.status) \(job.errors)")
    #expect(job.errors.contains("interrupted at step") && job.errors.contains("agr train --resume"), "\(job.errors)")
    #expect(!job.errors.contains("was killed") && !job.errors.contains("stopping the other ranks"), "\(job.errors)")
  }

  /// Ranks started by hand (as torchrun would) with different settings, on a port in use, or without rank 0.
  @Test func badStartsAreRefusedWithTheReason() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let port = try TCPStore.freeLoopbackPort()
    let place: @Sendable (Int, Int) -> [String: String] = { rank, port in
      ["RANK": "\(rank)", "WORLD_SIZE": "2", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "\(port)"]
    }
    let run = folder.appendingPathComponent("mismatch")
    let results = Results(count: 2)
    let ranks = DispatchGroup()
    for rank in 0..<2 {
      ranks.enter()
      Thread {
        let outcome = try? RunSafetyTests.agr(self.arguments(run) + ["--seed", "\(rank + 1)", "--dist-timeout", "20"],
                                              environment: place(rank, port))
        results.set(rank, outcome)
        ranks.leave()
      }.start()
    }
    ranks.wait()
    for rank in 0..<2 {
      let outcome = results.get(rank)
      #expect(outcome?.status == 1 && outcome?.errors.contains("rank 1 started with settings different from rank 0's") == true,
              "rank \(rank): \(outcome?.errors ?? "no outcome")")
    }
    #expect(!FileManager.default.fileExists(atPath: run.path), "a refused job wrote files")

    let listener = try TCPStore(host: "127.0.0.1", port: port, isServer: true, worldSize: 1, timeoutSeconds: 5)
    let busy = try RunSafetyTests.agr(arguments(run) + ["--nproc-per-node", "2", "--master-port", "\(port)"])
    #expect(busy.status == 1 && busy.errors.contains("port \(port) is in use"), "\(busy.errors)")
    withExtendedLifetime(listener) {}

    let nobody = try TCPStore.freeLoopbackPort()
    let alone = try RunSafetyTests.agr(arguments(run) + ["--dist-timeout", "2"], environment: place(1, nobody))
    #expect(alone.status == 1 && alone.errors.contains("could not reach rank 0's store at 127.0.0.1:\(nobody)"), "\(alone.errors)")
    let noRank = try RunSafetyTests.agr(arguments(run), environment: ["WORLD_SIZE": "2"])
    #expect(noRank.status != 0 && noRank.errors.contains("WORLD_SIZE is 2 but RANK is not set"), "\(noRank.errors)")
  }

  /// The backend and bucket flags: refused with the flag's name before any rank starts or anything is written.
  @Test func backendAndBucketFlagsAreCheckedFirst() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("refused")
    let cases: [([String], [String: String], String)] = [
      (["--nproc-per-node", "2", "--dist-backend", "nccl"], [:], "--dist-backend nccl needs CUDA ranks (--device cuda)"),
      (["--nproc-per-node", "2", "--dist-backend", "mpi"], [:], "--dist-backend must be nccl or gloo, not 'mpi'"),
      (["--nproc-per-node", "2", "--bucket-mb", "-1"], [:], "--bucket-mb must be 0 (one flat all-reduce after the backward pass) or a size"),
      (["--nproc-per-node", "2", "--bucket-mb", "1e-9"], [:], "--bucket-mb is below one float32 gradient"),
      (["--nproc-per-node", "2", "--device", "cuda"], [:], "--device cuda:0: CUDA cannot be used"),
      (["--dist-backend", "gloo"], [:], "--dist-backend applies to data-parallel ranks"),
      // a rank started by hand (as torchrun would), alone
      (["--dist-backend", "nccl", "--dist-timeout", "5"],
       ["RANK": "0", "WORLD_SIZE": "1", "MASTER_ADDR": "127.0.0.1", "MASTER_PORT": "\(try TCPStore.freeLoopbackPort())"],
       "--dist-backend nccl needs CUDA ranks"),
    ]
    for (flags, environment, expected) in cases {
      let outcome = try RunSafetyTests.agr(arguments(run) + flags, environment: environment)
      #expect(outcome.status != 0 && outcome.errors.contains(expected), "\(flags): \(outcome.errors)")
      #expect(!FileManager.default.fileExists(atPath: run.path), "\(flags) wrote \(run.path)")
    }
  }

  final class Results: @unchecked Sendable {
    private let lock = NSLock()
    private var outcomes: [RunSafetyTests.Outcome?]
    init(count: Int) { outcomes = Array(repeating: nil, count: count) }
    func set(_ rank: Int, _ outcome: RunSafetyTests.Outcome?) { lock.withLock { outcomes[rank] = outcome } }
    func get(_ rank: Int) -> RunSafetyTests.Outcome? { lock.withLock { outcomes[rank] } }
  }
}
