import Torch

/// One epoch's step metrics: kept on the device through a log window, read back in one synchronisation per
/// window (`flush`, which also stops a run whose loss or gradient is not finite), and summed over the epoch;
/// AGR's conflicts summed per tensor for the GOP rates.
struct EpochMetrics {
  struct Sums {
    var loss = 0.0
    var clean = 0.0
    var adversarial = 0.0
    var seen = 0
    var steps = 0

    /// correct / seen, nil when the step did not compute it (NaN).
    func ratio(_ correct: Double) -> Double? { correct.isNaN ? nil : correct / Double(Swift.max(seen, 1)) }
  }

  private var pending: [TrainingStep.Output] = []
  private var pendingRows: [Int] = []
  private(set) var epoch = Sums()
  /// The last window read back.
  private(set) var window = Sums()
  private var conflictTotals: Tensor?
  private var agrSteps = 0

  var pendingCount: Int { pending.count }

  mutating func add(_ output: TrainingStep.Output, rows: Int) throws {
    if let conflicts = output.conflicts {
      if let totals = conflictTotals { try totals.add_(conflicts) } else { conflictTotals = try conflicts.clone() }
      agrSteps += 1
    }
    pending.append(output)
    pendingRows.append(rows)
  }

  /// Reads the pending steps back (epoch `epochIndex`, 0-based; the first pending step is `firstStep`, 0-based).
  mutating func flush(epochIndex: Int, firstStep: Int) throws {
    let losses = try Tensor.stack(pending.map(\.loss)).toArray(Double.self)
    let norms = try Tensor.stack(pending.map(\.gradientNorm)).toArray(Double.self)
    for (i, (loss, norm)) in zip(losses, norms).enumerated() {
      if !loss.isFinite { throw TrainingError.nonFinite(epoch: epochIndex + 1, step: firstStep + i + 1, what: "loss (\(loss))") }
      if !norm.isFinite {
        throw TrainingError.nonFinite(epoch: epochIndex + 1, step: firstStep + i + 1, what: "gradient (norm \(norm))")
      }
    }
    func total(_ parts: [Tensor?]) throws -> Double {
      let present = parts.compactMap { $0 }
      guard present.count == parts.count, !present.isEmpty else { return .nan }
      return try Tensor.stack(present).sum().item()
    }
    window = Sums(loss: losses.reduce(0, +), clean: try total(pending.map(\.cleanCorrect)),
                  adversarial: try total(pending.map(\.adversarialCorrect)), seen: pendingRows.reduce(0, +),
                  steps: pending.count)
    epoch.loss += window.loss
    epoch.clean += window.clean
    epoch.adversarial += window.adversarial
    epoch.seen += window.seen
    epoch.steps += window.steps
    pending.removeAll()
    pendingRows.removeAll()
  }

  /// The share of AGR steps in which each tensor conflicted (cs <= 0), overall and by layer kind.
  func gopRates(kinds: [LayerKind]) throws -> (overall: Double, byKind: [String: Double])? {
    guard let conflictTotals, agrSteps > 0 else { return nil }
    let conflicts = try conflictTotals.toArray(Double.self)
    var byKind: [String: (Double, Int)] = [:]
    for (count, kind) in zip(conflicts, kinds) {
      let entry = byKind[kind.rawValue, default: (0, 0)]
      byKind[kind.rawValue] = (entry.0 + count, entry.1 + 1)
    }
    let overall = conflicts.reduce(0, +) / Double(conflicts.count * agrSteps)
    return (overall, byKind.mapValues { $0.0 / Double($0.1 * agrSteps) })
  }
}
