import ArgumentParser
import Foundation
import Testing

@testable import AGRCommands
@testable import RobustTraining

/// Flags given hostile values: durations that are not one (--dist-timeout nan, inf, 1e300, 0, -1), more ranks
/// than the machine can hold, landscapes of 10^30 points, negative numbers. Each is read, and refused with a
/// message naming the flag before anything starts.
@Suite struct HostileFlagsTests {
  func agr(_ arguments: [String]) throws -> RunSafetyTests.Outcome { try RunSafetyTests.agr(arguments) }

  @Test func aTimeoutThatIsNotADurationIsRefusedByTrainAndCommBench() throws {
    for value in ["nan", "inf", "-inf", "1e300", "0", "-1", "0.0001"] {
      for arguments in [["train", "--dist-timeout", value, "--dry-run"], ["train", "--nproc-per-node", "2", "--dist-timeout", value],
                        ["comm-bench", "--dist-timeout", value], ["comm-bench", "--nproc-per-node", "2", "--dist-timeout", value]] {
        let outcome = try agr(arguments)
        #expect(outcome.status == 64 && outcome.errors.contains("--dist-timeout must be"), "\(arguments): \(outcome.errors)")
        #expect(!outcome.output.contains("starting") && !outcome.errors.contains("signal"), "\(arguments): \(outcome.output)")
      }
    }
    // the one check, as the library applies it
    for seconds in [Double.nan, .infinity, 1e300, 0, -1, 1e-4] { #expect(DurationRange.problem(seconds: seconds) != nil, "\(seconds)") }
    for seconds in [0.001, 3, 300, 604_800] { #expect(DurationRange.problem(seconds: seconds) == nil, "\(seconds)") }
    let place = DistributedEnvironment(rank: 0, worldSize: 1, localRank: 0, masterAddress: "127.0.0.1", masterPort: 1)
    let error = #expect(throws: DataParallelError.self) { _ = try DataParallel(environment: place, timeoutSeconds: .nan) }
    #expect("\(error!)".contains("the timeout must be a number of seconds"))
  }

  @Test func moreRanksThanTheMachineHoldsAreRefused() throws {
    let limit = WorkerLauncher.maximumProcessCount
    #expect(WorkerLauncher.processCountProblem(limit) == nil && WorkerLauncher.processCountProblem(limit + 1) != nil)
    for arguments in [["train", "--nproc-per-node", "1000"], ["comm-bench", "--nproc-per-node", "1000"],
                      ["train", "--nproc-per-node", "\(limit + 1)"], ["train", "--nproc-per-node", "0"],
                      ["comm-bench", "--nproc-per-node", "1"], ["train", "--nproc-per-node", "-2"],
                      ["train", "--nproc-per-node", "2", "--nnodes", "9223372036854775807", "--master-addr", "a", "--master-port", "1"]] {
      let outcome = try agr(arguments)
      #expect(outcome.status == 64 && (outcome.errors.contains("--nproc-per-node must be at") || outcome.errors.contains("--nnodes must lie")),
              "\(arguments): \(outcome.errors)")
      #expect(!outcome.output.contains("starting"), "\(arguments): \(outcome.output)")
    }
  }

  @Test func aLandscapeOfTooManyPointsIsRefusedBeforeAnyScan() throws {
    for alphas in ["0:1:1e30", "0:1:1e12", "0:1:1e400", "0:1:9223372036854775808", "-1e308:1e308:3", "0:1:1001"] {
      let outcome = try agr(["landscape", "missing.safetensors", "--alphas=\(alphas)"])
      #expect(outcome.status == 64 && outcome.errors.contains("--alphas"), "\(alphas): \(outcome.errors)")
    }
    #expect(try WeightLandscape.parseRange("-1:1:1000").count == 1000)
    #expect(throws: (any Error).self) { _ = try WeightLandscape.parseRange("0:1:1e30") }
  }

  /// A negative number is read as the flag's value (not as a flag: "Missing value for '--seed'"), then refused
  /// by range with the flag's name.
  @Test func negativeNumbersAreReadAndRefusedByRange() throws {
    let trainFlags = ["--train-subset", "--test-subset", "--dropout", "--agr-start-epoch", "--agr-clip", "--beta", "--awp-gamma",
                      "--awp-proxy-lr", "--awp-warmup", "--epochs", "--batch-size", "--lr", "--momentum", "--weight-decay", "--eps",
                      "--step-size", "--attack-steps", "--eval-steps", "--weight-averaging", "--diagnostics-every", "--log-every",
                      "--nproc-per-node", "--nnodes", "--node-rank", "--master-port", "--dist-timeout"]
    for flag in trainFlags { #expect(throws: Never.self, "\(flag)") { _ = try Train.parse([flag, "-3"]) } }
    for flag in ["--n-examples", "--batch-size", "--eps"] { #expect(throws: Never.self, "\(flag)") { _ = try Eval.parse(["x", flag, "-3"]) } }
    for flag in ["--n-examples", "--steps", "--batch-size", "--eps"] {
      do { _ = try Landscape.parse(["x", flag, "-3"]) } catch {
        #expect(Landscape.message(for: error).contains(flag) && !Landscape.message(for: error).contains("Missing value"),
                "\(flag): \(Landscape.message(for: error))")
      }
    }
    for flag in ["--steps", "--warmup", "--batch-size", "--attack-steps", "--eval-steps", "--threads", "--image-size", "--check-steps"] {
      #expect(throws: Never.self, "\(flag)") { _ = try Bench.parse([flag, "-3"]) }
    }
    for flag in ["--count", "--classes", "--image-size"] { #expect(throws: Never.self, "\(flag)") { _ = try Interop.parse([flag, "-3", "--output", "x"]) } }
    // a seed is a UInt64: -1 is read and refused by ArgumentParser with the flag's name
    for (command, arguments) in [("train", ["--seed", "-1"]), ("eval", ["x", "--seed", "-1"]), ("landscape", ["x", "--seed", "-1"]),
                                 ("bench", ["--seed", "-1"])] {
      let outcome = try agr([command] + arguments)
      #expect(outcome.errors.contains("'-1' is invalid for '--seed") && !outcome.errors.contains("Missing value"),
              "\(command): \(outcome.errors)")
    }
    // and refused by range, naming the flag
    for arguments in [["train", "--epochs", "-3", "--dry-run"], ["train", "--train-subset", "-3", "--dry-run"],
                      ["eval", "x.safetensors", "--batch-size", "-3"], ["landscape", "x.safetensors", "--n-examples", "-3"],
                      ["landscape", "x.safetensors", "--steps", "-3"], ["bench", "--steps", "-3"], ["interop", "--count", "-3", "--output", "x"]] {
      let outcome = try agr(arguments)
      let flag = arguments.first { $0.hasPrefix("--") && $0 != "--dry-run" }!
      #expect(outcome.status == 64 && outcome.errors.contains(flag), "\(arguments): \(outcome.errors)")
    }
  }
}
