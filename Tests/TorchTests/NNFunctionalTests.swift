// Functional neural-network operations against hand-computed values: linear, conv2d,
// batch norm (train and eval), pooling, activations, softmax, losses, dropout.
import Foundation
import Testing
import Torch

@Suite struct NNFunctionalTests {
  @Test func linear() throws {
    let x = try Tensor([1, 2, -1, 0] as [Float], shape: [2, 2])
    let w = try Tensor([1, 0, 0, 1, 1, 1] as [Float], shape: [3, 2])  // out 3, in 2
    let b = try Tensor([0.5, 0, -1] as [Float])
    let y = try Functional.linear(x, weight: w, bias: b)
    #expect(y.shape == [2, 3])
    #expect(try y.toArray(Float.self) == [1.5, 2, 2, -0.5, 0, -2])
    #expect(try Functional.linear(x, weight: w).toArray(Float.self) == [1, 2, 3, -1, 0, -1])
  }

  /// 1x1x3x3 input [[0,1,2],[3,4,5],[6,7,8]].
  func image3() throws -> Tensor { try Tensor.arange(0, 9, dtype: .float32).reshaped([1, 1, 3, 3]) }

  @Test func conv2d() throws {
    let x = try image3()
    let w = try Tensor.ones([1, 1, 2, 2])
    // Each output is the sum of a 2x2 window.
    try expectTensor(Functional.conv2d(x, weight: w), [8, 12, 20, 24], shape: [1, 1, 2, 2])
    try expectTensor(Functional.conv2d(x, weight: w, bias: Tensor([1] as [Float])), [9, 13, 21, 25])
    // Zero padding 1, stride 2: windows whose top-left corners are (-1,-1), (-1,1), (1,-1), (1,1).
    try expectTensor(Functional.conv2d(x, weight: w, stride: 2, padding: 1), [0, 3, 9, 24], shape: [1, 1, 2, 2])
    // Dilation 2: the four corners.
    try expectTensor(Functional.conv2d(x, weight: w, dilation: 2), [16], shape: [1, 1, 1, 1])
    // Padding 1, stride 1: a 4x4 output.
    let p = try Functional.conv2d(x, weight: w, padding: 1)
    #expect(p.shape == [1, 1, 4, 4])
    try expectTensor(p, [0, 1, 3, 2, 3, 8, 12, 7, 9, 20, 24, 13, 6, 13, 15, 8])
  }

  @Test func conv2dChannelsAndGroups() throws {
    // Two input channels (x and 10x); two output channels: [ch0 - ch1] and [ch0 + ch1] with 1x1 kernels.
    let x = try image3()
    let x2 = try Tensor.cat([x, x * 10], dim: 1)
    let w = try Tensor([1, -1, 1, 1] as [Float], shape: [2, 2, 1, 1])
    let y = try Functional.conv2d(x2, weight: w, bias: Tensor([0, 100] as [Float]))
    #expect(y.shape == [1, 2, 3, 3])
    let v = (0..<9).map { Double($0) }
    try expectTensor(y, v.map { -9 * $0 } + v.map { 11 * $0 + 100 })
    // groups = 2: each output channel sees only its own input channel.
    let wg = try Tensor([2, -1] as [Float], shape: [2, 1, 1, 1])
    let g = try Functional.conv2d(x2, weight: wg, groups: 2)
    try expectTensor(g, v.map { 2 * $0 } + v.map { -10 * $0 }, shape: [1, 2, 3, 3])
  }

  @Test func batchNormTrainingUpdatesRunningStatistics() throws {
    // Channel 0: 1, 2, 3, 4 (mean 2.5, biased var 1.25, unbiased 5/3)
    // Channel 1: 2, 4, 6, 8 (mean 5, biased var 5, unbiased 20/3)
    let x = try Tensor([1, 2, 2, 4, 3, 6, 4, 8] as [Double], shape: [4, 2])
    let weight = try Tensor([2, 1] as [Double])
    let bias = try Tensor([0, 1] as [Double])
    let runningMean = try Tensor([0, 0] as [Double])
    let runningVar = try Tensor([1, 1] as [Double])
    let eps = 1e-5
    let y = try Functional.batchNorm(x, weight: weight, bias: bias, runningMean: runningMean,
                                     runningVar: runningVar, training: true, momentum: 0.1, eps: eps)
    var expected: [Double] = []
    for i in 0..<4 {
      let c0 = Double(i + 1), c1 = Double(2 * (i + 1))
      expected.append(2 * (c0 - 2.5) / (1.25 + eps).squareRoot())
      expected.append((c1 - 5) / (5 + eps).squareRoot() + 1)
    }
    try expectTensor(y, expected, shape: [4, 2], tolerance: 1e-12)
    // running = (1 - momentum) * running + momentum * batch statistic (unbiased variance).
    try expectTensor(runningMean, [0.25, 0.5], tolerance: 1e-12)
    try expectTensor(runningVar, [0.9 + 0.1 * 5 / 3, 0.9 + 0.1 * 20 / 3], tolerance: 1e-12)
    // A second step with another momentum.
    _ = try Functional.batchNorm(x, weight: weight, bias: bias, runningMean: runningMean,
                                 runningVar: runningVar, training: true, momentum: 0.5, eps: eps)
    try expectTensor(runningMean, [0.5 * 0.25 + 0.5 * 2.5, 0.5 * 0.5 + 0.5 * 5], tolerance: 1e-12)
    try expectTensor(runningVar, [0.5 * (0.9 + 0.1 * 5 / 3) + 0.5 * 5 / 3, 0.5 * (0.9 + 0.1 * 20 / 3) + 0.5 * 20 / 3],
                     tolerance: 1e-12)
  }

  @Test func batchNormEvalUsesRunningStatistics() throws {
    let x = try Tensor([1, 2, 2, 4, 3, 6, 4, 8] as [Double], shape: [4, 2])
    let runningMean = try Tensor([1, -1] as [Double])
    let runningVar = try Tensor([4, 0.25] as [Double])
    let weight = try Tensor([2, 1] as [Double])
    let bias = try Tensor([0, 1] as [Double])
    let y = try Functional.batchNorm(x, weight: weight, bias: bias, runningMean: runningMean,
                                     runningVar: runningVar, training: false, eps: 0)
    var expected: [Double] = []
    for i in 0..<4 {
      expected.append(2 * (Double(i + 1) - 1) / 2)
      expected.append((Double(2 * (i + 1)) + 1) / 0.5 + 1)
    }
    try expectTensor(y, expected, tolerance: 1e-12)
    // Eval mode leaves the statistics alone.
    #expect(try runningMean.toArray(Double.self) == [1, -1])
    #expect(try runningVar.toArray(Double.self) == [4, 0.25])
    // ATen's own kernels (cudnn: false) give the same numbers.
    let native = try Functional.batchNorm(x, weight: weight, bias: bias, runningMean: runningMean,
                                          runningVar: runningVar, training: false, eps: 0, cudnn: false)
    try expectTensor(native, expected, tolerance: 1e-12)
  }

  @Test func batchNormOverImages() throws {
    // N=2, C=1, H=1, W=2: values 0, 2, 4, 6 (mean 3, biased var 5); no affine, no running stats.
    let x = try Tensor([0, 2, 4, 6] as [Double], shape: [2, 1, 1, 2])
    let y = try Functional.batchNorm(x, weight: nil, bias: nil, runningMean: nil, runningVar: nil, training: true,
                                     eps: 0)
    try expectTensor(y, [-3, -1, 1, 3].map { $0 / 5.0.squareRoot() }, shape: [2, 1, 1, 2], tolerance: 1e-12)
  }

  /// 1x1x4x4 input 0...15.
  func image4() throws -> Tensor { try Tensor.arange(0, 16, dtype: .float32).reshaped([1, 1, 4, 4]) }

  @Test func maxPool() throws {
    try expectTensor(Functional.maxPool2d(image4(), kernel: 2), [5, 7, 13, 15], shape: [1, 1, 2, 2])
    try expectTensor(Functional.maxPool2d(image4(), kernel: 2, stride: 1), [5, 6, 7, 9, 10, 11, 13, 14, 15],
                     shape: [1, 1, 3, 3])
    // Padding is -infinity for max pooling.
    let neg = try image4() * -1
    try expectTensor(Functional.maxPool2d(neg, kernel: 2, stride: 2, padding: 1),
                     [0, -1, -3, -4, -5, -7, -12, -13, -15], shape: [1, 1, 3, 3])
  }

  @Test func avgPool() throws {
    try expectTensor(Functional.avgPool2d(image4(), kernel: 2), [2.5, 4.5, 10.5, 12.5], shape: [1, 1, 2, 2])
    try expectTensor(Functional.avgPool2d(image4(), kernel: 4), [7.5], shape: [1, 1, 1, 1])
    // Zero padding counts in the average (count_include_pad): the corner window holds only 0.
    try expectTensor(Functional.avgPool2d(image4(), kernel: 2, padding: 1),
                     [0, 3.0 / 4, 3.0 / 4, 12.0 / 4, 30.0 / 4, 18.0 / 4, 12.0 / 4, 27.0 / 4, 15.0 / 4], shape: [1, 1, 3, 3])
  }

  @Test func adaptiveAvgPool() throws {
    try expectTensor(Functional.adaptiveAvgPool2d(image4()), [7.5], shape: [1, 1, 1, 1])
    try expectTensor(Functional.adaptiveAvgPool2d(image4(), outputSize: (2, 2)), [2.5, 4.5, 10.5, 12.5])
    // 4 -> 1 rows, 4 -> 2 columns: mean of the left and right halves.
    try expectTensor(Functional.adaptiveAvgPool2d(image4(), outputSize: (1, 2)), [6.5, 8.5], shape: [1, 1, 1, 2])
  }

  @Test func activations() throws {
    let x = try Tensor([-1, 0, 2] as [Double])
    try expectTensor(x.relu(), [0, 0, 2])
    try expectTensor(x.sigmoid(), [1 / (1 + exp(1.0)), 0.5, 1 / (1 + exp(-2.0))], tolerance: 1e-12)
    try expectTensor(x.softplus(), [log(1 + exp(-1.0)), log(2.0), log(1 + exp(2.0))], tolerance: 1e-12)
  }

  @Test func softmaxAndLogSoftmax() throws {
    let x = try Tensor([1, 2, 3, 1, 1, 1] as [Double], shape: [2, 3])
    let z = exp(1.0) + exp(2.0) + exp(3.0)
    let expected = [exp(1.0) / z, exp(2.0) / z, exp(3.0) / z, 1.0 / 3, 1.0 / 3, 1.0 / 3]
    try expectTensor(Functional.softmax(x), expected, shape: [2, 3], tolerance: 1e-12)
    try expectTensor(Functional.logSoftmax(x), expected.map { log($0) }, tolerance: 1e-12)
    // Along dim 0: columns [1,1], [2,1], [3,1].
    let s = 1 / (1 + exp(-1.0)), t = 1 / (1 + exp(-2.0))
    try expectTensor(Functional.softmax(x, dim: 0), [0.5, s, t, 0.5, 1 - s, 1 - t], tolerance: 1e-12)
    // Stable for large logits.
    try expectTensor(Functional.softmax(Tensor([1000, 1000] as [Float])), [0.5, 0.5])
  }

  /// Logits [[1, 2, 3], [1, 1, 1]] with labels [2, 0].
  func logitsAndLabels() throws -> (Tensor, Tensor) {
    (try Tensor([1, 2, 3, 1, 1, 1] as [Double], shape: [2, 3]), try Tensor([2, 0] as [Int64]))
  }

  @Test func crossEntropy() throws {
    let (logits, labels) = try logitsAndLabels()
    let l0 = log(exp(1.0) + exp(2.0) + exp(3.0)) - 3, l1 = log(3.0)
    try expectTensor(Functional.crossEntropy(logits, labels), [(l0 + l1) / 2], shape: [], tolerance: 1e-12)
    try expectTensor(Functional.crossEntropy(logits, labels, reduction: .sum), [l0 + l1], tolerance: 1e-12)
    try expectTensor(Functional.crossEntropy(logits, labels, reduction: .none), [l0, l1], shape: [2], tolerance: 1e-12)
    // Label smoothing e: (1 - e) * nll + e * mean over classes of -log p.
    let lse0 = l0 + 3
    let uniform0 = (3 * lse0 - 6) / 3
    let smoothed = [0.9 * l0 + 0.1 * uniform0, l1]
    try expectTensor(Functional.crossEntropy(logits, labels, reduction: .none, labelSmoothing: 0.1), smoothed,
                     tolerance: 1e-12)
    expectTorchError(containing: "batchmean") { _ = try Functional.crossEntropy(logits, labels, reduction: .batchMean) }
  }

  @Test func nllLoss() throws {
    let logp = try Tensor([-1, -2, -3, -0.5] as [Double], shape: [2, 2])
    let labels = try Tensor([1, 0] as [Int64])
    try expectTensor(Functional.nllLoss(logp, labels), [2.5])
    try expectTensor(Functional.nllLoss(logp, labels, reduction: .sum), [5])
    try expectTensor(Functional.nllLoss(logp, labels, reduction: .none), [2, 3])
    // cross_entropy is nll of log_softmax.
    let (logits, l) = try logitsAndLabels()
    let a = try Functional.nllLoss(Functional.logSoftmax(logits), l).item()
    let b = try Functional.crossEntropy(logits, l).item()
    #expect(Swift.abs(a - b) < 1e-12)
  }

  @Test func klDivergence() throws {
    // target p = [[0.5, 0.5], [0.25, 0.75]], input = log q with q = [[0.25, 0.75], [0.5, 0.5]].
    // Pointwise p * (log p - log q).
    let p: [Double] = [0.5, 0.5, 0.25, 0.75]
    let q: [Double] = [0.25, 0.75, 0.5, 0.5]
    let pointwise = zip(p, q).map { $0 * log($0 / $1) }
    let input = try Tensor(q.map { log($0) }, shape: [2, 2])
    let target = try Tensor(p, shape: [2, 2])
    let total = pointwise.reduce(0, +)
    try expectTensor(Functional.klDiv(input, target), [total / 2], shape: [], tolerance: 1e-12)  // batchmean
    try expectTensor(Functional.klDiv(input, target, reduction: .sum), [total], tolerance: 1e-12)
    try expectTensor(Functional.klDiv(input, target, reduction: .mean), [total / 4], tolerance: 1e-12)
    try expectTensor(Functional.klDiv(input, target, reduction: .none), pointwise, shape: [2, 2], tolerance: 1e-12)
    let logTarget = try Tensor(p.map { log($0) }, shape: [2, 2])
    try expectTensor(Functional.klDiv(input, logTarget, logTarget: true), [total / 2], tolerance: 1e-12)
    // KL(p || p) = 0
    try expectTensor(Functional.klDiv(logTarget, target), [0], tolerance: 1e-12)
  }

  @Test func dropout() throws {
    let x = try Tensor.ones([1000])
    #expect(try Functional.dropout(x, probability: 0.5, training: false).toArray(Float.self) == Array(repeating: 1, count: 1000))
    #expect(try Functional.dropout(x, probability: 0, training: true).toArray(Float.self) == Array(repeating: 1, count: 1000))
    Torch.manualSeed(0)
    let d = try Functional.dropout(x, probability: 0.5, training: true).toArray(Float.self)
    // Kept elements are scaled by 1 / (1 - p).
    #expect(d.allSatisfy { $0 == 0 || $0 == 2 })
    let kept = d.filter { $0 == 2 }.count
    #expect(kept > 400 && kept < 600)
  }
}
