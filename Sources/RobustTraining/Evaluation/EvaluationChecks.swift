import Foundation
import Torch

/// Checks before trusting an evaluation's numbers, after the official AutoAttack's `checks.py` (written anew
/// here): each finding is an `EvaluationWarning` saying what was found and what it means. `beforeAttacks`
/// looks at the model and a batch of inputs; `gradientMasking` at the per-sample results.
public enum EvaluationChecks {
  /// Largest change of the L1-normalised outputs between two identical passes still counted as deterministic.
  public static let randomnessTolerance = 1e-4
  /// Rows within this of summing to 1 (and non-negative) count as probabilities.
  public static let probabilityTolerance = 1e-5
  /// Square breaking more than this share of the examples beyond the white-box attacks is reported.
  public static let squareMargin = 0.002

  /// The checks on the model and `images` (a batch of the evaluated examples, in eval mode): randomised
  /// outputs (and `rand` where it is not needed), probabilities instead of logits, inputs outside [0, 1],
  /// samples whose input gradient is zero, and targeted attacks asking for more targets than the model has.
  public static func beforeAttacks(_ model: any Classifier, images: Tensor, labels: Tensor,
                                   attacks: [AttackSpecification]) throws -> [EvaluationWarning]
  {
    var warnings: [EvaluationWarning] = []
    guard images.shape[0] > 0 else { return warnings }
    let low = try images.min().item()
    let high = try images.max().item()
    if low < 0 || high > 1 {
      warnings.append(EvaluationWarning(
        .inputsOutOfRange, finding: String(format: "inputs span [%.4g, %.4g], outside [0, 1]", low, high),
        meaning: "the threat models and the attacks assume images in [0, 1] with any normalisation inside the model; "
          + "normalised inputs make eps mean another radius and the [0, 1] box cut the wrong values"))
    }
    let inputs = try images.clamped(min: 0, max: 1)
    let (first, second) = try model.withMode(training: false) {
      try Autograd.withNoGrad { (try model(inputs).to(.float64), try model(inputs).to(.float64)) }
    }
    let change = try (try normalised(first) - normalised(second)).abs().max().item()
    let predictionsDiffer = try (try first.argmax(dim: 1) .!= second.argmax(dim: 1)).any().item() != 0
    let randomised = change > randomnessTolerance || predictionsDiffer
    if randomised {
      warnings.append(EvaluationWarning(
        .randomizedOutputs,
        finding: String(format: "two identical forward passes in eval mode gave different outputs (largest change %.3g)", change),
        meaning: "the model is randomised, and an attack that sees one draw of it overestimates its robustness; "
          + "evaluate it with aa-rand (APGD-CE and APGD-DLR with gradients averaged over 20 passes)"))
    } else if attacks.contains(where: { $0.kind == .autoAttackRand }) {
      warnings.append(EvaluationWarning(
        .randNotNeeded, finding: "aa-rand runs on a model whose outputs did not change between two identical passes",
        meaning: "its 20-pass gradient averaging is for randomised models: here it spends 20 times the gradient passes "
          + "for the same gradients; the standard version (aa) is the stronger evaluation (the numbers are still valid)"))
    }
    let rowSums = try first.sum(dims: [1])
    let probabilities = try (try (try rowSums - 1).abs().max().item()) < probabilityTolerance && first.min().item() >= 0
    if probabilities {
      warnings.append(EvaluationWarning(
        .probabilityOutputs, finding: "the model's outputs are non-negative and every row sums to 1",
        meaning: "it returns probabilities, not logits: the attacks' cross-entropy and DLR losses then act on them as "
          + "on logits, their gradients flatten and the attacks weaken; return logits (drop the final softmax)"))
    }
    let (_, _, gradient) = try model.withMode(training: false) {
      try AttackSupport.lossAndGradient(model, at: inputs) { try AttackLoss.crossEntropy($0, labels) }
    }
    let zero = try AttackSupport.count(try gradient.flattened(from: 1).abs().sum(dims: [1]) .== 0.0)
    if zero > 0 {
      let n = images.shape[0]
      warnings.append(EvaluationWarning(
        .zeroGradients,
        finding: "\(zero) of \(n) points (\(String(format: "%.1f", 100 * Double(zero) / Double(n)))%) have an input "
          + "gradient of the cross-entropy that is exactly zero",
        meaning: "gradient-based attacks cannot move these points (a saturated softmax, a non-differentiable input "
          + "layer, float16 underflow: gradient masking), so their robustness is an artefact; trust the black-box "
          + "Square and the per-sample worst case there, not APGD or PGD"))
    }
    let classes = first.shape[1]
    for attack in attacks where attack.kind.isTargeted {
      let targets = AttackCatalog.targetClasses
      guard targets > classes - 1 else { continue }
      warnings.append(EvaluationWarning(
        .fewClasses,
        finding: "\(attack.kind.rawValue) asks for \(targets) target classes, the model has \(classes) classes "
          + "(\(classes - 1) possible targets)",
        meaning: "only \(classes - 1) targets run: fewer than the attack's definition, so the number is not the "
          + "one the papers report for \(targets) targets (and with fewer than 4 classes the targeted DLR loss "
          + "is undefined)"))
    }
    return warnings
  }

  /// Samples broken by Square but by none of the white-box attacks, as a share of `examples`: more than
  /// `squareMargin` is a sign of gradient masking. `robust[name]` holds each attack's per-sample flags (true:
  /// still correct); `squareStageBroken` is what a cascade's Square stage broke after its white-box stages.
  public static func gradientMasking(examples: Int, robust: [String: [Bool]], squareStageBroken: Int?) -> EvaluationWarning? {
    guard examples > 0 else { return nil }
    var brokenOnlyBySquare = squareStageBroken ?? 0
    let whiteBox = robust.filter { !$0.key.lowercased().hasPrefix("square") }
    if let square = robust.first(where: { $0.key.lowercased().hasPrefix("square") })?.value, !whiteBox.isEmpty {
      let onlySquare = square.indices.filter { i in !square[i] && whiteBox.values.allSatisfy { $0[i] } }.count
      brokenOnlyBySquare = max(brokenOnlyBySquare, onlySquare)
    }
    let share = Double(brokenOnlyBySquare) / Double(examples)
    guard share > squareMargin else { return nil }
    return EvaluationWarning(
      .gradientMasking,
      finding: "Square (black-box, no gradients) broke \(brokenOnlyBySquare) of \(examples) points "
        + "(\(String(format: "%.2f", share * 100))%) that the white-box attacks left robust",
      meaning: "the gradients mislead the white-box attacks (gradient masking or obfuscation), so their numbers "
        + "overestimate robustness; report the per-sample worst case with Square, or AutoAttack, and look for the cause")
  }

  /// Rows scaled to L1 norm 1 (as the reference compares outputs).
  private static func normalised(_ outputs: Tensor) throws -> Tensor {
    try outputs / (try outputs.abs().sum(dims: [1], keepDim: true) + 1e-10)
  }
}
