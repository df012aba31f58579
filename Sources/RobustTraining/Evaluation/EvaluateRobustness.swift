import Foundation
import Torch

/// Evaluates `model` on the first `exampleCount` examples (all when nil) against each attack.
///
/// Batches of `batchSize` are moved to the model's device. Every attack is evaluated
/// independently and only on the clean-correct samples of each batch (a misclassified sample is
/// not robust); its examples are re-checked against its threat model and re-classified here, so
/// an attack cannot over-report robustness. Cascades (`CascadeAttack`, e.g. AutoAttack) also
/// report per-stage counts. `progress` is called after each attack on each batch.
///
/// - Parameters:
///   - images: float images in [0, 1], (N, C, H, W).
///   - labels: int64 class labels, (N).
public func evaluateRobustness(_ model: any Classifier, images: Tensor, labels: Tensor, attacks: [any Attack],
                               batchSize: Int = 256, exampleCount: Int? = nil,
                               progress: ((EvaluationProgress) -> Void)? = nil) throws -> RobustnessReport
{
  guard batchSize >= 1 else { throw AttackError.invalidParameter("batch size \(batchSize) must be at least 1") }
  guard images.rank >= 2, labels.rank == 1, labels.shape[0] == images.shape[0] else {
    throw AttackError.invalidInput("need images (N, ...) and labels (N), got \(images.shape) and \(labels.shape)")
  }
  let available = images.shape[0]
  let total = min(exampleCount ?? available, available)
  guard total >= 0 else { throw AttackError.invalidParameter("example count \(exampleCount ?? 0) must be ≥ 0") }
  let device = model.parameters.first?.device ?? .cpu
  let batchCount = (total + batchSize - 1) / batchSize
  let started = Date()

  var cleanCorrect: [Bool] = []
  var outcomes = attacks.map { AttackOutcome(name: $0.name, robust: [], attacked: 0, seconds: 0, stages: []) }
  for batch in 0..<batchCount {
    let range = (batch * batchSize)..<min((batch + 1) * batchSize, total)
    let x = try images.slice(dim: 0, range.lowerBound, range.upperBound).to(device, .float32)
    let y = try labels.slice(dim: 0, range.lowerBound, range.upperBound).to(device, .int64)
    let correct = try model.withMode(training: false) {
      try AttackSupport.misclassified(model, x, labels: y).logicalNot()
    }
    let correctFlags = try correct.toArray(Bool.self)
    cleanCorrect += correctFlags

    for (index, attack) in attacks.enumerated() {
      let attackStart = Date()
      var batchRobust = correctFlags
      let targets = try AttackSupport.indices(of: correct)
      if targets.shape[0] > 0 {
        let subsetImages = try x.indexed(by: targets)
        let subsetLabels = try y.indexed(by: targets)
        let adversarial: Tensor
        if let cascade = attack as? any CascadeAttack {
          let result = try cascade.run(model, images: subsetImages, labels: subsetLabels)
          adversarial = result.adversarial
          outcomes[index].stages = merge(outcomes[index].stages, result.stages)
        } else {
          adversarial = try attack.perturb(model, images: subsetImages, labels: subsetLabels)
        }
        try attack.threatModel.validate(adversarial, original: subsetImages, attack: attack.name)
        let survived = try model.withMode(training: false) {
          try AttackSupport.misclassified(model, adversarial, labels: subsetLabels).logicalNot()
        }.toArray(Bool.self)
        for (position, sample) in try targets.toArray(Int64.self).enumerated() {
          batchRobust[Int(sample)] = survived[position]
        }
        outcomes[index].attacked += targets.shape[0]
      }
      outcomes[index].robust += batchRobust
      outcomes[index].seconds += Date().timeIntervalSince(attackStart)

      let stepsDone = batch * attacks.count + index + 1
      let elapsed = Date().timeIntervalSince(started)
      let stepsLeft = batchCount * attacks.count - stepsDone
      progress?(EvaluationProgress(
        attackName: attack.name, attackIndex: index, attackCount: attacks.count, batchIndex: batch,
        batchCount: batchCount, examplesDone: index == attacks.count - 1 ? range.upperBound : range.lowerBound,
        exampleCount: total, elapsedSeconds: elapsed,
        estimatedRemainingSeconds: elapsed / Double(stepsDone) * Double(stepsLeft)))
    }
  }
  return RobustnessReport(exampleCount: total, cleanCorrect: cleanCorrect, attacks: outcomes)
}

/// Adds a batch's stage counts to the running totals (stages match by position).
private func merge(_ totals: [CascadeStage], _ batch: [CascadeStage]) -> [CascadeStage] {
  guard !totals.isEmpty else { return batch }
  return zip(totals, batch).map { total, next in
    CascadeStage(name: total.name, attacked: total.attacked + next.attacked, broken: total.broken + next.broken,
                 seconds: total.seconds + next.seconds)
  }
}
