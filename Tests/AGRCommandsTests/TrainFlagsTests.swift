import ArgumentParser
import Foundation
import Testing

@testable import AGRCommands
@testable import RobustTraining

/// How `agr train` resolves presets, defaults and flags into one configuration.
@Suite struct TrainFlagsTests {
  private func configuration(_ arguments: [String]) throws -> TrainingConfiguration {
    try Train.parse(arguments).buildConfiguration()
  }

  /// Each argument list is refused with a usage error that names its flag.
  private func expectRefused(_ cases: [([String], String)], sourceLocation: SourceLocation = #_sourceLocation) throws {
    for (arguments, flag) in cases {
      do {
        _ = try configuration(arguments)
        Issue.record("\(arguments) was accepted", sourceLocation: sourceLocation)
      } catch let error as ValidationError {
        #expect(error.message.contains(flag), "\(arguments): '\(error.message)' does not name \(flag)", sourceLocation: sourceLocation)
      }
    }
  }

  @Test func noFlagsIsTheQuickStartJob() throws {
    let c = try configuration([])
    #expect(c.dataset == "fashion-mnist" && c.model == .smallCNN && c.method == .at && c.agr)
    #expect(c.perturbation.epsilon == 0.1 && c.epochs == 3 && c.trainSubset == 10_000)
  }

  @Test func thePaperPresetAndFlagsOverridingIt() throws {
    let paper = try configuration(["--preset", "cifar10"])
    #expect(paper.model == .preactResNet18 && paper.epochs == 200 && paper.agrStartEpoch == 155)
    #expect(paper.schedule == .multiStep(base: 0.1, milestones: [100, 150], gamma: 0.1))
    #expect(abs(paper.perturbation.epsilon - 8.0 / 255) < 1e-12 && paper.perturbation.steps == 10)
    #expect(paper.agrClip == 0.1 && paper.batchSize == 128 && paper.augment)

    let changed = try configuration(["--preset", "cifar10", "--lr", "0.05", "--eps", "4/255", "--method", "TRADES",
                                     "--no-agr"])
    #expect(changed.learningRate == 0.05 && changed.schedule == .multiStep(base: 0.05, milestones: [100, 150], gamma: 0.1))
    #expect(abs(changed.perturbation.epsilon - 4.0 / 255) < 1e-12)
    #expect(changed.method == .trades && changed.perturbation.loss == .kl && !changed.agr)
    #expect(changed.model == .preactResNet18 && changed.epochs == 200)
  }

  @Test func aNon28PixelDatasetStartsFromThePaperRecipe() throws {
    for dataset in ["cifar10", "cifar100", "tiny-imagenet"] {
      let c = try configuration(["--dataset", dataset])
      #expect(c.dataset == dataset && c.model == .preactResNet18 && c.epochs == 200, "\(dataset)")
    }
  }

  @Test func badValuesAreUsageErrorsNamingTheFlag() throws {
    let cases: [([String], String)] = [
      (["--eps", "2"], "--eps"), (["--epochs", "0"], "--epochs"), (["--model", "vgg"], "--model"),
      (["--method", "awp"], "--method"), (["--preset", "imagenet21k"], "--preset"), (["--precision", "fp64"], "--precision"),
      (["--lr-schedule", "linear"], "--lr-schedule"), (["--agr-start-epoch", "0"], "--agr-start-epoch"),
      (["--eps", "8/0"], "--eps"), (["--cuda-graphs"], "--cuda-graphs"),
      (["--cuda-graphs", "--device", "cuda", "--lr-schedule", "cosine"], "--cuda-graphs"),
      (["--preset", "cifar10", "--agr-path", "packed"], "--agr-path"),
      (["--momentum", "2"], "--momentum"), (["--beta", "nan"], "--beta"), (["--beta", "-6"], "--beta"),
      (["--step-size", "nan"], "--step-size"), (["--agr-clip", "inf"], "--agr-clip"), (["--lr", "inf"], "--lr"),
      (["--dataset", "imagenet21k"], "--dataset"), (["--device", "tpu"], "--device"),
      (["--batch-size", "0"], "--batch-size"), (["--trades-attack", "pgd"], "--trades-attack"),
      (["--normalization", "imagenet1k"], "--normalization"), (["--training-pgd", "loose"], "--training-pgd"),
      (["--augment", "crop,blur"], "--augment"),
      (["--weight-averaging", "1.5"], "--weight-averaging"), (["--best-by", "averaged"], "--best-by"),
      (["--best-by", "ema"], "--best-by"),
      (["--preset", "cifar10", "--awp", "--awp-gamma", "-0.01"], "--awp-gamma"), (["--awp", "--method", "standard"], "--awp"),
      (["--preset", "cifar10", "--awp", "--awp-proxy-lr", "0"], "--awp-proxy-lr"), (["--awp-warmup", "-1"], "--awp-warmup"),
      (["--extra-fraction", "0.5"], "--extra-fraction"), (["--extra-data", "x.npz", "--extra-fraction", "1.5"], "--extra-fraction"),
      (["--epoch-size", "100"], "--epoch-size"), (["--extra-data", "x.npz", "--epoch-size", "0"], "--epoch-size"),
      (["--extra-data", "x.npz", "--epoch-size", "9223372036854775807"], "--epoch-size"),
      (["--extra-data", "x.npz", "--extra-fraction", "nan"], "--extra-fraction"),
      (["--training-attack", "fgsm"], "--training-attack"),
      (["--training-attack", "fgsm-rs", "--training-pgd", "authors"], "--training-pgd"),
    ]
    try expectRefused(cases)
  }

  @Test func optimizerFlags() throws {
    let adamw = try configuration(["--optimizer", "AdamW", "--adam-betas", "0.8,0.99", "--adam-eps", "1e-6",
                                   "--weight-decay", "0.05", "--weight-decay-scope", "weights"])
    #expect(adamw.optimizerKind == .adamw && adamw.adamBetas == (0.8, 0.99) && adamw.adamEpsilon == 1e-6)
    #expect(adamw.weightDecay == 0.05 && adamw.weightDecayScope == .weights)
    let sgd = try configuration(["--nesterov"])
    #expect(sgd.optimizerKind == .sgd && sgd.optimizer == nil && sgd.nesterov && sgd.weightDecayScope == nil)
    let bad: [([String], String)] = [
      (["--optimizer", "lion"], "--optimizer"), (["--optimizer", "adamw", "--nesterov"], "--nesterov"),
      (["--nesterov", "--momentum", "0"], "--nesterov"), (["--adam-betas", "0.9,0.999"], "--adam-betas"),
      (["--optimizer", "adamw", "--adam-betas", "0.9"], "--adam-betas"),
      (["--optimizer", "adamw", "--adam-betas", "0.9,1"], "--adam-betas"),
      (["--optimizer", "adamw", "--adam-eps", "-1"], "--adam-eps"), (["--optimizer", "adamw", "--adam-eps", "nan"], "--adam-eps"),
      (["--weight-decay-scope", "convs"], "--weight-decay-scope"),
      (["--optimizer", "adamw", "--device", "cuda", "--cuda-graphs"], "--cuda-graphs"),
    ]
    try expectRefused(bad)
  }

  /// --dry-run writes every default out (from where it is defined), and that JSON is the same run.
  @Test func theDryRunWritesEveryDefault() throws {
    for arguments in [[], ["--preset", "cifar10", "--awp"], ["--optimizer", "adamw", "--method", "trades"],
                      ["--training-attack", "n-fgsm"]] {
      let c = try configuration(arguments)
      let written = c.withDefaultsWritten()
      try written.validate()
      #expect(written.withDefaultsWritten() == written, "\(arguments)")
      let keys = Set((try JSONSerialization.jsonObject(with: try RunDirectory.configurationJSON(written)) as! [String: Any]).keys)
      for key in ["awp", "awp_gamma", "awp_proxy_learning_rate", "awp_warmup", "optimizer", "weight_decay_scope",
                  "eval_step_size", "augmentations", "best_by", "mart_repeated_passes", "cuda_graphs"] {
        #expect(keys.contains(key), "\(arguments): \(key) is not written")
      }
      #expect(keys.contains("adam_beta1") == (c.optimizerKind == .adamw), "\(arguments)")
      #expect(keys.contains("dropout") == (c.model == .smallCNN), "\(arguments)")
      #expect(!keys.contains("channels_last") && !keys.contains("agr_path"), "device-dependent defaults stay absent")
      #expect(written.awpGamma == AdversarialWeightPerturbation.defaultGamma && written.evalStepSize == c.evaluationStepSize)
      #expect(c.deviceDependentDefaults.count == 2)
    }
  }

  /// --set reaches any setting by its key, after the flags, as strictly as a run file.
  @Test func setReachesAnySettingByItsKey() throws {
    let c = try configuration(["--awp", "--awp-gamma", "0.02", "--set", "awp_gamma=5e-3", "--set", "perturbation.epsilon=8/255",
                               "--set", "optimizer=adamw", "--set", "adam_beta1=0.8", "--set", "dropout=0.3"])
    #expect(c.awpGamma == 5e-3 && abs(c.perturbation.epsilon - 8.0 / 255) < 1e-15 && c.optimizerKind == .adamw)
    #expect(c.adamBeta1 == 0.8 && c.dropout == 0.3)
    for (argument, words) in [("epochz=3", "no such setting"), ("awp_gamma=abc", "expected Double"), ("epochs=-1", "must be positive"),
                              ("nope", "expected KEY=VALUE"), ("perturbation..steps=1", "not a setting's name"),
                              ("adam_beta1=0.8", "is AdamW's"), ("perturbation.noise=2", "single-step attack's"),
                              ("perturbation.attack=fgsm", "perturbation.attack")] {
      do {
        _ = try configuration(["--set", argument])
        Issue.record("--set \(argument) was accepted")
      } catch let error as ValidationError {
        #expect(error.message.hasPrefix("--set ") && error.message.contains(words), "\(argument): \(error.message)")
      }
    }
  }

  /// --training-attack picks the single-step attacks; absent, the training attack stays PGD and writes no key.
  @Test func trainingAttackFlag() throws {
    #expect(try configuration([]).perturbation.attack == nil)
    #expect(try configuration(["--preset", "cifar10"]).perturbation.kind == .pgd)
    let fast = try configuration(["--preset", "cifar10", "--training-attack", "fgsm-rs"])
    #expect(fast.perturbation.attack == .fgsmRS && fast.perturbation.stepInEpsilons == 1.25)
    let noisy = try configuration(["--method", "trades", "--training-attack", "N-FGSM", "--set", "perturbation.noise=3",
                                   "--set", "perturbation.attack_in_train_mode=true"])
    #expect(noisy.perturbation.kind == .nFGSM && noisy.perturbation.noiseMultiplier == 3 && noisy.perturbation.attackInTrainMode == true)
    #expect(try configuration(["--set", "perturbation.attack=n-fgsm"]).perturbation.kind == .nFGSM)
    #expect(Train.helpMessage().contains("--training-attack"))
    let free = try configuration(["--training-attack", "free", "--free-replays", "8", "--set", "perturbation.carry=false"])
    #expect(free.perturbation.kind == .free && free.perturbation.replayCount == 8 && free.perturbation.carry == false)
    #expect(try configuration(["--training-attack", "free"]).perturbation.replayCount == FreeAdversarialTraining.defaultReplays)
    #expect(throws: (any Error).self) { try configuration(["--free-replays", "8"]) }
  }

  @Test func fastTrainingFlags() throws {
    let c = try configuration(["--training-attack", "fgsm-rs", "--overfit-check-steps", "10", "--overfit-drop", "0.3",
                               "--overfit-reference", "best", "--stop-on-overfit", "--label-smoothing", "0.1",
                               "--grad-align", "0.2", "--lr-schedule", "onecycle:0.5", "--epochs", "10", "--lr", "0.2"])
    #expect(c.overfitCheckSteps == 10 && c.overfitDrop == 0.3 && c.overfitReference == .best && c.stopOnOverfit == true)
    #expect(try configuration(["--training-attack", "fgsm-rs", "--overfit-check-steps", "5", "--overfit-gap", "0.3"]).overfitGap == 0.3)
    #expect(c.labelSmoothing == 0.1 && c.gradAlign == 0.2)
    #expect(c.schedule == .oneCycle(maximum: 0.2, epochs: 10, peak: 0.5))
    #expect(try configuration(["--stop-on-overfit"]).overfitSteps == 5)
    #expect(try configuration([]).overfitSteps == 0 && configuration([]).labelSmoothing == nil)
    #expect(throws: (any Error).self) { try configuration(["--overfit-reference", "worst"]) }
    #expect(throws: (any Error).self) { try configuration(["--lr-schedule", "onecycle:2"]) }
  }

  @Test func cudaGraphsFlag() throws {
    #expect(try configuration(["--preset", "cifar10", "--device", "cuda", "--cuda-graphs"]).cudaGraphs == true)
    #expect(try configuration(["--preset", "cifar10", "--device", "cuda"]).cudaGraphs == nil)
  }

  @Test func agrPathFlag() throws {
    #expect(try configuration(["--preset", "cifar10", "--agr-path", "per-tensor"]).agrPath == .perTensor)
    #expect(try configuration(["--preset", "cifar10", "--agr-path", "FLAT"]).agrPath == .flat)
    #expect(try configuration(["--preset", "cifar10"]).agrPath == nil)
  }

  @Test func channelsLastIsOnByDefaultOnCUDAOnly() throws {
    #expect(try configuration(["--preset", "cifar10", "--device", "cuda"]).usesChannelsLast)
    #expect(try !configuration(["--preset", "cifar10", "--device", "cpu"]).usesChannelsLast)
    #expect(try !configuration(["--preset", "cifar10", "--device", "cuda", "--no-channels-last"]).usesChannelsLast)
    #expect(try configuration(["--preset", "cifar10", "--device", "cpu", "--channels-last"]).usesChannelsLast)
    // a run configuration written before the default existed says false and keeps it
    var old = try configuration(["--preset", "cifar10", "--device", "cuda"])
    old.channelsLast = false
    let decoder = JSONDecoder()
    decoder.keyDecodingStrategy = .convertFromSnakeCase
    let decoded = try decoder.decode(TrainingConfiguration.self, from: try RunDirectory.configurationJSON(old))
    #expect(decoded.channelsLast == false && !decoded.usesChannelsLast)
  }

  @Test func benchRefusesGraphsItCannotRun() throws {
    for arguments in [["--cuda-graphs", "maybe"], ["--cuda-graphs", "on", "--model", "smallcnn"],
                      ["--check-noise-factor=-1", "--model", "smallcnn"],
                      ["--check-steps=-1", "--model", "smallcnn"], ["--threads", "0", "--model", "smallcnn"], ["--awp", "maybe", "--model", "smallcnn"],
                      ["--trace", "/dev/null/traces", "--model", "smallcnn"]] {
      do {
        try Bench.parse(arguments).run()
        Issue.record("\(arguments) was accepted")
      } catch let error as ExitCode {
        #expect(error == .validationFailure, "\(arguments)")
      }
    }
  }

  /// The paper's presets follow the AGR authors' code; the quick start and explicit flags keep their own.
  @Test func thePaperPresetsUseTheAuthorsNormalisationAndMARTPasses() throws {
    for preset in ["cifar10", "cifar100", "tiny-imagenet", "cifar10-short"] {
      let c = try configuration(["--preset", preset])
      #expect(c.normalization == .imagenet && c.martRepeatedPasses == true, "\(preset)")
      #expect(c.perturbation.iterates == nil, "\(preset): the standard PGD stays the default")
    }
    let quick = try configuration([])
    #expect(quick.normalization == nil && quick.martRepeatedPasses == nil)
    let chosen = try configuration(["--preset", "cifar10", "--normalization", "none", "--no-mart-repeated-passes",
                                    "--training-pgd", "authors"])
    #expect(chosen.normalization == nil && chosen.martRepeatedPasses == false && chosen.perturbation.iterates == .authors)
    #expect(try configuration(["--preset", "cifar10"]).activeAugmentations == [.crop, .flip, .cutout])
    #expect(try configuration([]).activeAugmentations == [])
    #expect(try configuration(["--preset", "cifar10", "--augment", "cutout,crop"]).activeAugmentations == [.crop, .cutout])
    #expect(try configuration(["--preset", "cifar10", "--augment", "none"]).activeAugmentations == [])
    #expect(try configuration(["--preset", "cifar10", "--no-augment"]).activeAugmentations == [])
    let values = try configuration(["--normalization", "0.5/0.25"])
    #expect(values.normalization == InputNormalization(mean: [0.5], std: [0.25]))
  }

  /// Every configuration key that validate() can name maps to a flag `agr train` has.
  @Test func configurationKeysMapToTrainFlags() throws {
    let keys = ["epochs", "batch_size", "learning_rate", "momentum", "weight_decay", "agr_clip", "agr_start_epoch",
                "beta", "perturbation.epsilon", "perturbation.step_size", "perturbation.steps", "eval_steps", "log_every",
                "diagnostics_every", "train_subset", "test_subset", "cuda_graphs", "dataset", "weight_averaging", "best_by",
                "awp", "awp_gamma", "awp_proxy_learning_rate", "awp_warmup", "normalization", "dropout", "synchronized_batch_norm", "model_file",
                "extra_data", "extra_fraction", "epoch_size", "perturbation.attack", "perturbation.replays"]
    let help = Train.helpMessage()
    for key in keys {
      let name = flag(forKey: key)
      #expect(help.contains(name + " ") || help.contains(name + "/"), "\(key) -> \(name) is not a flag of agr train")
    }
  }

  @Test func dryRunPrintsTheConfigurationAndWritesNothing() throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("agr-dry-\(UUID().uuidString)")
    let command = try Train.parse(["--dry-run", "--preset", "cifar10-short", "--output", folder.path])
    try command.run()
    #expect(!FileManager.default.fileExists(atPath: folder.path))
    let json = try RunDirectory.configurationJSON(try configuration(["--preset", "cifar10-short"]))
    let decoded = try JSONSerialization.jsonObject(with: json) as? [String: Any]
    #expect(decoded?["epochs"] as? Int == 15 && decoded?["agr_start_epoch"] as? Int == 11)
  }
}
