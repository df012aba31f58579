import Torch

extension Trainer {
  public struct Evaluation: Sendable {
    public var cleanLoss: Double
    public var cleanAccuracy: Double
    public var robustLoss: Double?
    public var robustAccuracy: Double?
  }

  /// Clean and PGD-`evalSteps` loss and accuracy on the test set, in eval mode. The evaluation PGD of `agr
  /// eval` (`PGD.evaluation`) with the run's `evaluationStepSize`: one random start (seeded per epoch), best
  /// iterate per sample. With `--cuda-graphs` each full test
  /// batch is replayed from one CUDA graph (recorded once per run).
  public func evaluate(epoch: Int) throws -> Evaluation {
    let c = configuration
    let robust = c.method.isAdversarial && c.evalSteps > 0
    let attack = robust
      ? try PGD.evaluation(epsilon: c.perturbation.epsilon, norm: c.perturbation.threatNorm, steps: c.evalSteps,
                           stepSize: c.evaluationStepSize,
                           seed: BatchLoader.mix(c.seed ^ 0x5EED_0003, UInt64(epoch))) : nil
    let evaluateBatch = Self.batchEvaluation(model: model, attack: attack, precision: c.precision, device: device)
    if c.cudaGraphs == true, evaluationGraph == nil, case .cuda(let index) = device {
      evaluationGraph = GraphedFunction(
        device: index, ifRecordingFails: .runPlain(report: Self.warn("the test evaluation could not be recorded, it runs plain")),
        evaluateBatch)
    }
    var noises: [[Int]: Tensor] = [:]  // the start noise of a batch shape (the same for every batch of it)
    var sums: [Tensor] = []
    // Under data parallelism rank r evaluates batches r, r + N, ...: each batch exactly as one process would.
    let (rank, ranks) = (dataParallel?.rank ?? 0, dataParallel?.worldSize ?? 1)
    var batches = try testBatches.batches(epoch: 0, indices: Array(stride(from: rank, to: testBatches.batchCount, by: ranks)))
    try model.withMode(training: false) {
      while let batch = try batches.next() {
        let images = try memoryFormat.map { try batch.images.contiguous($0) } ?? batch.images
        var inputs = [images, batch.labels]
        if let attack {
          if noises[images.shape] == nil { noises[images.shape] = try attack.startNoise(like: images) }
          if let noise = noises[images.shape] { inputs.append(noise) }
        }
        if let evaluationGraph {
          sums.append(try evaluationGraph(inputs)[0].clone())  // the graph's output is overwritten by its next replay
        } else {
          sums.append(try evaluateBatch(inputs)[0])
        }
      }
    }
    let n = Double(testBatches.imageCount)
    var local = try sums.isEmpty ? Tensor.zeros([4], dtype: .float64) : Tensor.stack(sums).to(.float64).sum(dims: [0])
    if let dataParallel { local = try dataParallel.sum(local, what: "the sum of the epoch's evaluation") }
    let totals = try local.toArray(Double.self)
    return Evaluation(
      cleanLoss: totals[0] / n, cleanAccuracy: totals[1] / n,
      robustLoss: robust ? totals[2] / n : nil, robustAccuracy: robust ? totals[3] / n : nil)
  }

  /// One test batch, inputs [images, labels] or [images, labels, start noise] (model in eval mode):
  /// [clean loss sum, clean correct, PGD loss sum, PGD correct] as float32 (zeros for PGD without an
  /// attack). No host waits, so that a CUDA graph can record it.
  public static func batchEvaluation(model: any Classifier, attack: PGD?, precision: Precision, device: Device)
    -> ([Tensor]) throws -> [Tensor]
  {
    { inputs in
      let (images, labels) = (inputs[0], inputs[1])
      return try Torch.withAutocast(device: device, enabled: precision == .bf16) {
        func lossAndCorrect(_ x: Tensor) throws -> [Tensor] {
          try Autograd.withNoGrad {
            let logits = try model(x)
            return [try Functional.crossEntropy(logits, labels, reduction: .sum).to(.float32),
                    try TrainingStep.correct(logits, labels).to(.float32)]
          }
        }
        var parts = try lossAndCorrect(images)
        if let attack {
          let adversarial = try attack.bestIterate(model, images: images, labels: labels,
                                                   noise: inputs.count > 2 ? inputs[2] : nil)
          parts += try lossAndCorrect(adversarial)
        } else {
          parts += [try parts[0].zerosLike(), try parts[0].zerosLike()]
        }
        return [try Tensor.stack(parts)]
      }
    }
  }
}
