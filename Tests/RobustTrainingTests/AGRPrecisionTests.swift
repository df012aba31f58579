import Foundation
import Testing

@testable import RobustTraining

/// AGR's per-tensor cosine on gradients of millions of entries against a float64 truth, on both
/// arithmetic paths. A sequential float32 sum over one 2.36 M-entry tensor (PreAct-ResNet-18's
/// `layer4.1.conv2.weight`) is 2e-3 off; the cosine near 0 is where AGR picks its branch.
@Suite(.serialized) struct AGRPrecisionTests {
  struct Case {
    let name: String
    let clean: Tensor
    let method: Tensor
  }

  /// Large float32 gradients: strongly aligned (cs ~ 0.997), with a shared offset (cs ~ 0.5), and two
  /// nearly orthogonal ones (cs ~ +0.003 and ~ -0.003, either side of the branch point); small ones between.
  static func cases() throws -> [Case] {
    let generator = try Generator(seed: 32)
    func randn(_ shape: [Int]) throws -> Tensor { try Tensor.randn(shape, generator: generator) }
    let aligned = try randn([512, 512, 3, 3])
    let offset = try randn([3_000_000]) + 1.0
    let nearZero = try randn([2_000_000])
    let small = try randn([64, 3, 3, 3])
    return [
      Case(name: "aligned", clean: aligned, method: try aligned * 0.9 + (try randn([512, 512, 3, 3])) * 0.07),
      Case(name: "small", clean: small, method: try randn([64, 3, 3, 3])),
      Case(name: "offset", clean: offset, method: try randn([3_000_000]) + 1.0),
      Case(name: "near zero, positive", clean: nearZero, method: try randn([2_000_000]) + nearZero * 0.003),
      Case(name: "near zero, negative", clean: nearZero, method: try randn([2_000_000]) - nearZero * 0.003),
    ]
  }

  /// The cosine in float64 from the float32 entries (each product exact in float64).
  static func truth(_ c: Case) throws -> Double {
    let a = try c.clean.toArray(Float.self)
    let b = try c.method.toArray(Float.self)
    var dot = 0.0
    var aa = 0.0
    var bb = 0.0
    for i in a.indices {
      let (x, y) = (Double(a[i]), Double(b[i]))
      dot += x * y
      aa += x * x
      bb += y * y
    }
    return dot / (aa.squareRoot() * bb.squareRoot())
  }

  func check(_ path: String, cosines: [Double], cases: [Case], truths: [Double]) {
    for (i, c) in cases.enumerated() {
      let relative = abs(cosines[i] - truths[i]) / abs(truths[i])
      print("AGR precision (\(path)): \(c.name): cs \(cosines[i]) vs float64 \(truths[i]), relative \(relative)")
      #expect(relative <= 1e-5, "\(path), \(c.name): cs \(cosines[i]) vs float64 \(truths[i]) (relative \(relative))")
      #expect((cosines[i] <= 0) == (truths[i] <= 0), "\(path), \(c.name): the branch differs from float64's")
    }
  }

  @Test func cosinesOfLargeTensorsMatchFloat64OnBothPaths() throws {
    let cases = try Self.cases()
    let truths = try cases.map(Self.truth)
    #expect(truths.contains { $0 > 0.99 } && truths.contains { $0 > 0 && $0 < 0.01 } && truths.contains { $0 < 0 })
    let agr = GradientReconstruction(clip: 0.1)
    let clean = cases.map(\.clean)
    let method = cases.map(\.method)
    let (_, perTensor) = try agr.reconstruct(clean: clean, adversarial: method)
    check("per-tensor", cosines: try perTensor.cosine.toArray(Double.self), cases: cases, truths: truths)
    let (_, flat) = try agr.reconstructFlat(clean: clean, adversarial: method, layout: try FlatLayout(like: clean))
    check("flat", cosines: try flat.cosine.toArray(Double.self), cases: cases, truths: truths)
  }
}
