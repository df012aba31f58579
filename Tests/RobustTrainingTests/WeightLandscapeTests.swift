import Foundation
import Testing
import Torch

@testable import RobustTraining

@Suite(.serialized) struct WeightLandscapeTests {
  func rows(_ t: Tensor) throws -> [[Float]] {
    let flat = try t.contiguous().toArray(Float.self)
    let width = t.count / t.shape[0]
    return (0..<t.shape[0]).map { Array(flat[($0 * width)..<(($0 + 1) * width)]) }
  }

  func norm(_ v: [Float]) -> Double { v.reduce(0) { $0 + Double($1) * Double($1) }.squareRoot() }

  @Test func directionIsFilterNormalisedAndZeroForBiasesAndBatchNorm() throws {
    let model = TinyConvNet()
    let parameters = model.parameters
    let direction = try WeightLandscape.filterNormalizedDirection(for: parameters, seed: 7)
    #expect(direction.map(\.shape) == parameters.map(\.shape))
    for (p, d) in zip(parameters, direction) {
      if p.rank >= 2 {
        for (wRow, dRow) in zip(try rows(p), try rows(d)) {
          #expect(abs(norm(dRow) - norm(wRow)) <= 1e-4 * norm(wRow))
        }
      } else {
        #expect(try d.toArray(Float.self).allSatisfy { $0 == 0 })
      }
    }
    let again = try WeightLandscape.filterNormalizedDirection(for: parameters, seed: 7)
    let other = try WeightLandscape.filterNormalizedDirection(for: parameters, seed: 8)
    #expect(try direction[0].toArray(Float.self) == again[0].toArray(Float.self))
    #expect(try direction[0].toArray(Float.self) != other[0].toArray(Float.self))
  }

  @Test func scanRestoresTheWeightsBitForBit() throws {
    let model = TinyConvNet()
    model.train()
    let data = try halvesDataset(count: 16, seed: 3)
    let images = try data.images.to(.float32) / 255.0
    let before = try model.stateDict().map { try $0.tensor.contiguous().toArray(Float.self) }
    let direction = try WeightLandscape.filterNormalizedDirection(for: model.parameters, seed: 1)
    let attack = try PGD(threatModel: .lInf(0.1), steps: 2, seed: 0)
    let points = try WeightLandscape.scan(model, direction: direction, alphas: [-1, 0, 0.5], images: images,
                                          labels: data.labels, attack: attack, batchSize: 10)
    let after = try model.stateDict().map { try $0.tensor.contiguous().toArray(Float.self) }
    #expect(before == after)
    #expect(model.isTraining)
    #expect(points.map(\.alpha) == [-1, 0, 0.5])

    // At alpha 0 the clean loss is the model's own (eval mode) loss.
    let logits = try model.withMode(training: false) { try Autograd.withNoGrad { try model(images) } }
    let loss = try Functional.crossEntropy(logits, data.labels).item()
    #expect(abs(points[1].cleanLoss - loss) < 1e-5)
    #expect(points.allSatisfy { $0.adversarialLoss?.isFinite == true && $0.adversarialAccuracy != nil })
  }

  @Test func scanRestoresWeightsWhenEvaluationFails() throws {
    let model = TinyConvNet()
    let before = try model.parameters.map { try $0.toArray(Float.self) }
    let direction = try WeightLandscape.filterNormalizedDirection(for: model.parameters, seed: 1)
    let wrongImages = try Tensor.zeros([2, 3, 8, 8])  // three channels: the conv layer rejects them
    #expect(throws: (any Error).self) {
      try WeightLandscape.scan(model, direction: direction, alphas: [0.5], images: wrongImages,
                               labels: try Tensor.zeros([2], dtype: .int64), attack: nil)
    }
    #expect(try model.parameters.map { try $0.toArray(Float.self) } == before)
  }

  @Test func alphaRangesIncludeBothEnds() throws {
    #expect(try WeightLandscape.parseRange("-1:1:5") == [-1, -0.5, 0, 0.5, 1])
    #expect(try WeightLandscape.parseRange("0:2:1") == [0])
    #expect(throws: (any Error).self) { try WeightLandscape.parseRange("-1:1") }
    #expect(throws: (any Error).self) { try WeightLandscape.parseRange("a:1:3") }
  }

  @Test func landscapeReportOverlaysCheckpointsAndWritesCSV() throws {
    let points = [WeightLandscape.Point(alpha: -1, cleanLoss: 2, cleanAccuracy: 0.5, adversarialLoss: 3, adversarialAccuracy: 0.2),
                  WeightLandscape.Point(alpha: 0, cleanLoss: 1, cleanAccuracy: 0.9, adversarialLoss: 2, adversarialAccuracy: 0.4)]
    let report = LandscapeReport(seed: 0, examples: 10, curves: [
      .init(label: "at/best", checkpoint: "runs/at/best.safetensors", epsilon: 0.1, attack: "PGD-10", points: points),
      .init(label: "agr,best", checkpoint: "runs/agr/best.safetensors", epsilon: 0.1, attack: "PGD-10", points: points),
    ])
    let chart = report.chart
    #expect(chart.series.map(\.name) == ["at/best: clean", "at/best: PGD-10", "agr,best: clean", "agr,best: PGD-10"])
    #expect(chart.series[1].dashed && chart.series[0].color == chart.series[1].color)
    #expect(chart.series[1].points.map(\.y) == [3, 2])
    let lines = report.csv.split(separator: "\n")
    #expect(lines.count == 5)
    #expect(lines[3] == "runs/agr/best.safetensors,\"agr,best\",-1,2,0.5,3,0.2")
    let decoded = try JSONSerialization.jsonObject(with: try report.json()) as? [String: Any]
    #expect((decoded?["curves"] as? [Any])?.count == 2)
    #expect(XMLCheck(report.document().html).isWellFormed)
  }
}
