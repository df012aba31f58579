import Foundation
import Testing
import Torch

@testable import RobustTraining

/// `agr train --norm l2` trains and evaluates in L2 end to end: the run, its checkpoints and `agr eval`'s report
/// record the norm and radius, and eval takes them by default; bad norms and radii are refused naming the flag.
@Suite(.serialized) struct NormRunTests {
  let folder: URL
  let data: URL

  init() throws { (folder, data) = try RunSafetyTests.scratchFolder("agr-norm", trainCount: 96, testCount: 32) }

  func agr(_ arguments: [String]) throws -> RunSafetyTests.Outcome {
    try RunSafetyTests.agr(arguments, environment: ["OMP_NUM_THREADS": "1"])
  }

  func train(_ run: URL, _ extra: [String]) -> [String] {
    ["train", "--dataset", "mnist", "--data-dir", data.path, "--model", "smallcnn", "--epochs", "1", "--batch-size", "32",
     "--attack-steps", "2", "--eval-steps", "2", "--seed", "3", "--output", run.path] + extra
  }

  @Test func l2TrainsAndEvaluatesInL2EndToEnd() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("l2")
    let trained = try agr(train(run, ["--norm", "l2", "--eps", "1.5", "--step-size", "0.5"]))
    #expect(trained.status == 0, "\(trained.output.suffix(2000)) \(trained.errors)")
    #expect(trained.output.contains("PGD-2 L2"), "\(trained.output.prefix(3000))")
    let configuration = try RunDirectory(run).readConfiguration()
    #expect(configuration.perturbation.threatNorm == .l2 && configuration.perturbation.epsilon == 1.5)
    let metadata = try SafeTensors.read(from: run.appendingPathComponent("best.safetensors")).metadata
    #expect(metadata["threat_norm"] == "l2" && metadata["threat_epsilon"] == "1.5")

    // eval takes the run's norm and radius; a copy of the checkpoint outside the run takes its metadata's
    let evaluated = try agr(["eval", run.appendingPathComponent("best.safetensors").path, "--attacks", "pgd5,apgd-ce",
                             "--n-examples", "16"])
    #expect(evaluated.status == 0, "\(evaluated.output.suffix(2000)) \(evaluated.errors)")
    #expect(evaluated.output.contains("L2 eps 1.50000"), "\(evaluated.output)")
    let report = try EvaluationReport.read(run.appendingPathComponent("eval-best.json"))
    #expect(report.norm == "l2" && report.epsilon == 1.5)
    #expect(report.attacks.allSatisfy { $0.attack?.norm == "L2" && $0.attack?.epsilon == 1.5 })
    let loose = folder.appendingPathComponent("loose.safetensors")
    try FileManager.default.copyItem(at: run.appendingPathComponent("best.safetensors"), to: loose)
    let alone = try agr(["eval", loose.path, "--dataset", "mnist", "--data-dir", data.path, "--model", "smallcnn",
                         "--attacks", "pgd2", "--n-examples", "8"])
    #expect(alone.status == 0 && alone.output.contains("L2 eps 1.50000"), "\(alone.output) \(alone.errors)")
    // aa-rand on this deterministic model runs, and says it was not needed (on stdout and in the report)
    let rand = try agr(["eval", run.appendingPathComponent("best.safetensors").path, "--attacks", "aa-rand",
                        "--n-examples", "4", "--output", folder.appendingPathComponent("rand.json").path])
    #expect(rand.status == 0 && rand.output.contains("warning: aa-rand runs on a model whose outputs did not change"),
            "\(rand.output) \(rand.errors)")
    let randReport = try EvaluationReport.read(folder.appendingPathComponent("rand.json"))
    #expect(randReport.warnings?.map(\.kind) == [.randNotNeeded])
    // another norm needs its own radius
    let other = try agr(["eval", run.appendingPathComponent("best.safetensors").path, "--norm", "linf", "--n-examples", "8"])
    #expect(other.status != 0 && other.errors.contains("--eps") && other.errors.contains("l2"), "\(other.errors)")
  }

  @Test func badNormsAndRadiiAreRefusedNamingTheFlag() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let run = folder.appendingPathComponent("bad")
    let l3 = try agr(train(run, ["--norm", "l3"]))
    #expect(l3.status != 0 && l3.errors.contains("--norm") && l3.errors.contains("l3"), "\(l3.errors)")
    let linf = try agr(train(run, ["--eps", "2"]))
    #expect(linf.status != 0 && linf.errors.contains("--eps") && linf.errors.contains("[0, 1]"), "\(linf.errors)")
    // an L2 radius above 1 is fine, above the image's diameter (sqrt(784) = 28) it is refused, saying what is accepted
    let l2 = try agr(train(run, ["--norm", "l2", "--eps", "30"]))
    #expect(l2.status != 0 && l2.errors.contains("--eps") && l2.errors.contains("[0, 28]")
      && l2.errors.contains("not bounded by 1"), "\(l2.errors)")
    let single = try agr(train(run, ["--norm", "l1", "--training-attack", "fgsm-rs"]))
    #expect(single.status != 0 && single.errors.contains("--training-attack"), "\(single.errors)")
    #expect(!FileManager.default.fileExists(atPath: run.path))
  }

  @Test func normWithoutEpsConvertsThePresetsRadius() throws {
    defer { try? FileManager.default.removeItem(at: folder) }
    let dry = try agr(["train", "--preset", "cifar10", "--norm", "l2", "--dry-run"])
    #expect(dry.status == 0, "\(dry.errors)")
    // Rice et al.'s L2 run: eps 128/255, step 15/255 on CIFAR-10
    let text = dry.output
    let body = text[text.firstIndex(of: "{")!...text.lastIndex(of: "}")!]
    let json = try JSONSerialization.jsonObject(with: Data(body.utf8)) as? [String: Any]
    let perturbation = json?["perturbation"] as? [String: Any]
    #expect(perturbation?["norm"] as? String == "l2")
    #expect(abs((perturbation?["epsilon"] as? Double ?? 0) - 128.0 / 255) < 1e-9)
    #expect(abs((perturbation?["step_size"] as? Double ?? 0) - 15.0 / 255) < 1e-9)
  }
}
