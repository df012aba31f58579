import Foundation

extension TrainingConfiguration {
  /// The same run with every setting whose absence means a fixed default written out (AWP's gamma, proxy
  /// rate and warm-up, SmallCNN's dropout, the optimizer and its scope, AdamW's betas, the per-epoch PGD's
  /// step, the augmentations, which weights `best` keeps, ...): what `agr train --dry-run` prints, and a
  /// run file that trains exactly this run. The defaults come from where they are defined. Settings that
  /// follow the device (`channels_last`, `agr_path`) stay absent: `deviceDependentDefaults` says them.
  public func withDefaultsWritten() -> TrainingConfiguration {
    var c = self
    if c.modelFile == nil && c.model == .smallCNN { c.dropout = c.dropout ?? SmallCNN.defaultDropout }
    c.martRepeatedPasses = c.martRepeatedPasses ?? false
    c.awp = c.awp ?? false
    c.awpGamma = c.awpGamma ?? AdversarialWeightPerturbation.defaultGamma
    c.awpProxyLearningRate = c.awpProxyLearningRate ?? AdversarialWeightPerturbation.defaultProxyLearningRate
    c.awpWarmup = c.awpWarmup ?? 0
    c.avmixupSoftLabels = c.avmixupSoftLabels ?? false
    c.augmentations = c.activeAugmentations
    c.bestBy = c.bestBy ?? (c.bestIsAveraged ? .averaged : .model)
    c.synchronizedBatchNorm = c.synchronizedBatchNorm ?? false
    c.cudaGraphs = c.cudaGraphs ?? false
    c.optimizer = c.optimizerKind
    c.weightDecayScope = c.weightDecayScope ?? .all
    if c.optimizerKind == .adamw {
      (c.adamBeta1, c.adamBeta2) = c.adamBetas
      c.adamEpsilon = c.adamEpsilon ?? AdamW.defaultEpsilon
    }
    c.evalStepSize = c.evaluationStepSize
    c.perturbation.attack = c.perturbation.kind
    c.perturbation.norm = c.perturbation.threatNorm
    c.perturbation.iterates = c.perturbation.iterates ?? .clipped
    c.perturbation.attackInTrainMode = c.perturbation.attackInTrainMode ?? false
    if c.perturbation.kind.isSingleStep {
      c.perturbation.noise = c.perturbation.noiseMultiplier
      c.perturbation.stepMultiplier = c.perturbation.stepInEpsilons
    }
    if c.perturbation.kind == .free {
      c.perturbation.stepMultiplier = c.perturbation.stepInEpsilons
      c.perturbation.replays = c.perturbation.replayCount
      c.perturbation.carry = c.perturbation.carry ?? true
    }
    if c.extraData != nil { c.extraFraction = c.extraShare }
    return c
  }

  /// The defaults that follow the device, in words (for `--dry-run`): absent from the JSON so that a run
  /// file moved to another device takes that device's.
  public var deviceDependentDefaults: [String] {
    var lines: [String] = []
    if channelsLast == nil {
      lines.append("channels_last: on for CUDA, off on the CPU (here: \(usesChannelsLast ? "on" : "off"))")
    }
    if agrPath == nil {
      lines.append("agr_path: flat on a GPU, per-tensor on the CPU (here: \(reconstructionPath.rawValue))")
    }
    return lines
  }
}
