import Foundation
import Testing

@testable import RobustTraining

/// AGR arithmetic on hand-made gradients.
@Suite struct AGRTests {
  func reconstruct(_ nat: [[Double]], _ adv: [[Double]], clip: Double = 10) throws -> [[Double]] {
    let agr = GradientReconstruction(clip: clip)
    let (g, _) = try agr.reconstruct(clean: try nat.map { try Tensor($0) }, adversarial: try adv.map { try Tensor($0) })
    return try g.map { try $0.toArray(Double.self) }
  }

  func close(_ a: [Double], _ b: [Double], _ tol: Double = 1e-9) -> Bool {
    a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tol }
  }

  @Test func conflictProjectsOntoTheNormalPlaneOfTheCleanGradient() throws {
    // cs = -1/sqrt(2) <= 0: G = g_adv - (<g_adv,g_nat>/|g_nat|^2) g_nat = [-1, 1] + [1, 0] = [0, 1]
    let g = try reconstruct([[1, 0]], [[-1, 1]])
    #expect(close(g[0], [0, 1]))
    // orthogonal to g_nat in general
    let h = try reconstruct([[1, 2, -1]], [[-3, 0.5, 2]])[0]
    #expect(abs(h[0] * 1 + h[1] * 2 + h[2] * -1) < 1e-12)
    // cs exactly 0 counts as a conflict: the projection leaves g_adv unchanged
    #expect(close(try reconstruct([[1, 0]], [[0, 3]])[0], [0, 3]))
  }

  @Test func agreementInterpolatesWithTheCosine() throws {
    let cs = 1 / 2.0.squareRoot()
    let g = try reconstruct([[1, 0]], [[1, 1]])
    #expect(close(g[0], [cs * 1 + (1 - cs) * 1, (1 - cs) * 1]))
    // identical directions: cs = 1, G = g_nat
    #expect(close(try reconstruct([[2, 4]], [[1, 2]])[0], [2, 4]))
  }

  @Test func eachTensorIsClippedToNormC() throws {
    let g = try reconstruct([[3, 4]], [[3, 4]], clip: 0.1)[0]
    #expect(close(g, [0.06, 0.08]))
    // below the clip: untouched
    #expect(close(try reconstruct([[0.03, 0.04]], [[0.03, 0.04]], clip: 0.1)[0], [0.03, 0.04]))
  }

  @Test func everyTensorIsItsOwnUnit() throws {
    let nat: [[Double]] = [[1, 0], [1, 0], [0, 0, 5]]
    let adv: [[Double]] = [[-1, 1], [1, 1], [1, 1, 1]]
    let together = try reconstruct(nat, adv)
    for i in nat.indices {
      #expect(close(together[i], try reconstruct([nat[i]], [adv[i]])[0]))
    }
  }

  @Test func zeroCleanGradientLeavesTheMethodGradient() throws {
    #expect(close(try reconstruct([[0, 0]], [[0.3, -0.4]])[0], [0.3, -0.4]))
  }

  @Test func statisticsReportCosineAndNorms() throws {
    let agr = GradientReconstruction(clip: 0.1)
    let (_, stats) = try agr.reconstruct(clean: [try Tensor([3.0, 4.0]), try Tensor([1.0, 0.0])],
                                         adversarial: [try Tensor([3.0, 4.0]), try Tensor([-1.0, 0.0])])
    #expect(close(try stats.cosine.toArray(Double.self), [1, -1]))
    #expect(close(try stats.cleanNorm.toArray(Double.self), [5, 1]))
    #expect(close(try stats.adversarialNorm.toArray(Double.self), [5, 1]))
  }

  /// The reconstructed direction never opposes either gradient: <G, g_nat> >= 0 and <G, g_adv> >= 0.
  @Test func reconstructedGradientAgreesWithBothGradients() throws {
    let generator = try Generator(seed: 7)
    let shapes = [[3, 3], [16], [4, 2, 3, 3], [10, 5], [1]]
    for trial in 0..<50 {
      let nat = try shapes.map { try Tensor.randn($0, dtype: .float64, generator: generator) }
      // make about half the pairs conflict
      let adv = try nat.enumerated().map { i, g in
        let noise = try Tensor.randn(g.shape, dtype: .float64, generator: generator)
        return try (i + trial) % 2 == 0 ? noise - g : noise + g
      }
      let (rebuilt, _) = try GradientReconstruction(clip: 0.1).reconstruct(clean: nat, adversarial: adv)
      for i in shapes.indices {
        let withNat = try (rebuilt[i] * nat[i]).sum().item()
        let withAdv = try (rebuilt[i] * adv[i]).sum().item()
        #expect(withNat >= -1e-9, "tensor \(i): <G, g_nat> = \(withNat)")
        #expect(withAdv >= -1e-9, "tensor \(i): <G, g_adv> = \(withAdv)")
        #expect(try rebuilt[i].norm().item() <= 0.1 + 1e-9)
      }
    }
  }

  @Test func startEpochGatesAGR() throws {
    var config = TrainingConfiguration()
    config.method = .at
    config.agr = true
    config.agrStartEpoch = 3  // 1-based: the third epoch, index 2
    #expect(!config.agrActive(inEpoch: 1))
    #expect(config.agrActive(inEpoch: 2))
    config.agr = false
    #expect(!config.agrActive(inEpoch: 5))
    config.agr = true
    config.method = .standard
    #expect(!config.agrActive(inEpoch: 5))
  }

  @Test func invalidInputsThrow() throws {
    #expect(throws: TorchError.self) { try GradientReconstruction(clip: 0).reconstruct(clean: [try Tensor([1.0])], adversarial: [try Tensor([1.0])]) }
    #expect(throws: TorchError.self) { try GradientReconstruction().reconstruct(clean: [], adversarial: []) }
    #expect(throws: TorchError.self) {
      try GradientReconstruction().reconstruct(clean: [try Tensor([1.0, 2.0])], adversarial: [try Tensor([1.0])])
    }
  }
}
