import Testing
@testable import RobustTraining

/// Each norm's projection, steepest-ascent step and random start against their formulas.
@Suite struct NormGeometryTests {
  func rows(_ values: [[Double]]) throws -> Tensor {
    try Tensor(values.flatMap { $0 }.map(Float.init), shape: [values.count, values[0].count])
  }

  func values(_ t: Tensor) throws -> [Double] { try t.to(.float64).flattened(from: 0).toArray(Double.self) }

  func expectClose(_ a: [Double], _ b: [Double], _ tolerance: Double = 1e-5, _ what: String) {
    #expect(a.count == b.count && zip(a, b).allSatisfy { abs($0 - $1) <= tolerance }, "\(what): \(a) vs \(b)")
  }

  @Test func normNamesParseAndBadOnesAreRefusedNamingThem() throws {
    #expect(try Norm(parsing: "linf") == .lInf && Norm(parsing: "Linf") == .lInf && Norm(parsing: "L-inf") == .lInf)
    #expect(try Norm(parsing: "L2") == .l2 && Norm(parsing: "l1") == .l1)
    do {
      _ = try Norm(parsing: "l3")
      Issue.record("l3 was accepted")
    } catch { #expect("\(error)".contains("'l3'") && "\(error)".contains("linf, l2, l1")) }
  }

  @Test func radiiAboveOneAreL2AndL1sNotLinfs() throws {
    #expect(try ThreatModel.l2(128.0 / 255 * 4).epsilon > 1)
    #expect(try ThreatModel.l1(12).epsilon == 12)
    #expect(throws: AttackError.self) { try ThreatModel.lInf(1.5) }
    #expect(Norm.l2.diameter(features: 3072) == 3072.0.squareRoot() && Norm.l1.diameter(features: 784) == 784)
  }

  @Test func linfAndL2ProjectionsFollowTheirFormulas() throws {
    let center = try Tensor.full([1, 3], 0.5)
    let x = try rows([[0.9, 0.45, 0.2]])
    expectClose(try values(try ThreatModel.lInf(0.1).project(x, around: center)), [0.6, 0.45, 0.4], 1e-6, "L-inf clamp")
    // L2: the offset (0.4, -0.05, -0.3) has length 0.5025; scaled to 0.25 along itself
    let offset = [0.4, -0.05, -0.3]
    let length = offset.map { $0 * $0 }.reduce(0, +).squareRoot()
    expectClose(try values(try ThreatModel.l2(0.25).project(x, around: center)), offset.map { 0.5 + $0 * 0.25 / length },
                1e-6, "L2 rescaling")
    // a point inside the ball is unchanged
    let inside = try rows([[0.55, 0.5, 0.45]])
    expectClose(try values(try ThreatModel.l2(0.25).project(inside, around: center)), [0.55, 0.5, 0.45], 1e-6, "L2 inside")
  }

  @Test func l1ProjectionIsSoftThresholdingAndMindsTheBox() throws {
    // Away from the box faces: soft thresholding by λ = 0.1 puts (0.3, 0.1, -0.2) on the sphere of radius 0.3
    let center = try Tensor.full([1, 3], 0.5)
    let offset = try rows([[0.3, 0.1, -0.2]])
    expectClose(try values(try L1BoxProjection.project(offset: offset, center: center, epsilon: 0.3)), [0.2, 0, -0.1],
                1e-5, "soft threshold")
    // With the first coordinate 0.05 from its face: the box takes 0.05 there, λ = 0.025 spreads the rest
    // ("Mind the box": clipping after the L1 projection would leave the point at L1 distance 0.25 < eps)
    let nearFace = try rows([[0.95, 0.5, 0.5]])
    let boxed = try L1BoxProjection.project(offset: offset, center: nearFace, epsilon: 0.3)
    expectClose(try values(boxed), [0.05, 0.075, -0.175], 1e-5, "box-aware")
    // inside both: unchanged
    expectClose(try values(try L1BoxProjection.project(offset: offset, center: center, epsilon: 1)), [0.3, 0.1, -0.2],
                1e-6, "inside")
    // ThreatModel.project for L1 lands in the ball and the box, and is the closest such point: no random
    // feasible point is closer
    let generator = try Generator(seed: 4)
    let images = try Tensor.rand([6, 1, 4, 4], generator: generator)
    let far = try images + (try Tensor.randn([6, 1, 4, 4], generator: generator) * 0.6)
    let threat = try ThreatModel.l1(1.5)
    let projected = try threat.project(far, around: images)
    try threat.validate(projected, original: images, attack: "L1 projection")
    let distance = try values(try (try projected - far).flattened(from: 1).norm(2, dims: [1]))
    for _ in 0..<20 {
      let candidate = try threat.project(try images + (try Tensor.randn([6, 1, 4, 4], generator: generator) * 0.3), around: images)
      let other = try values(try (try candidate - far).flattened(from: 1).norm(2, dims: [1]))
      #expect(zip(distance, other).allSatisfy { $0 <= $1 + 1e-5 }, "a feasible point is closer than the projection")
    }
  }

  @Test func eachNormsStepHasUnitNormAndItsDirection() throws {
    let gradient = try rows([[0.5, -2, 0.1, 1, 0, -0.3, 0.2, 0.05]])
    let g = try values(gradient)
    expectClose(try values(try ThreatModel.lInf(0.1).steepestAscentStep(gradient)), g.map { $0 > 0 ? 1 : $0 < 0 ? -1 : 0 },
                0, "L-inf: the sign")
    let length = g.map { $0 * $0 }.reduce(0, +).squareRoot()
    expectClose(try values(try ThreatModel.l2(1).steepestAscentStep(gradient)), g.map { $0 / length }, 1e-6,
                "L2: the unit gradient")
    // L1 with a share of 1/4 of 8 entries: the two largest magnitudes (-2 and 1), each ±1/2
    let sparse = try ThreatModel.l1Step(gradient, share: try Tensor([Float(0.25)]))
    expectClose(try values(sparse), [0, -0.5, 0, 0.5, 0, 0, 0, 0], 1e-6, "L1: the sparse step")
    // the default share moves at least one coordinate and has L1 norm 1
    let step = try ThreatModel.l1(1).steepestAscentStep(gradient)
    #expect(abs(try step.abs().sum().item() - 1) < 1e-6)
  }

  @Test func randomStartsLieInTheirBalls() throws {
    let images = try Tensor.full([32, 3, 4, 4], 0.5)
    for threat in [try ThreatModel.lInf(0.1), try ThreatModel.l2(0.5), try ThreatModel.l1(2)] {
      let offset = try threat.randomOffset(like: images, generator: try Generator(seed: 9))
      let lengths = try values(try offset.flattened(from: 1).norm(threat.norm.p, dims: [1]))
      #expect(lengths.allSatisfy { $0 <= threat.epsilon * (1 + 1e-5) }, "\(threat): \(lengths.max()!)")
      #expect(lengths.contains { $0 > threat.epsilon * 0.2 }, "\(threat) starts are all near the centre")
    }
  }

  @Test func l2HyperplaneStepsAreMinimalAndStayInTheBox() throws {
    // Away from the faces the minimal L2 step onto <w, d> = r is r w / |w|²
    let points = try Tensor.full([1, 4], 0.5)
    let normals = try rows([[1, -2, 0.5, 0]])
    let step = try L2HyperplaneProjection.minimalSteps(points: points, normals: normals, offsets: try Tensor([Float(0.3)]))
    let w = [1.0, -2, 0.5, 0]
    let squared = w.map { $0 * $0 }.reduce(0, +)
    expectClose(try values(step), w.map { 0.3 * $0 / squared }, 1e-5, "unconstrained")
    // Near a face the box caps that coordinate and the others make up the offset
    let nearFace = try rows([[0.98, 0.5, 0.5, 0.5]])
    let capped = try values(try L2HyperplaneProjection.minimalSteps(points: nearFace, normals: try rows([[1, 1, 0, 0]]),
                                                                     offsets: try Tensor([Float(0.3)])))
    #expect(abs(capped[0] - 0.02) < 1e-5 && abs(capped[0] + capped[1] - 0.3) < 1e-4, "\(capped)")
  }

  @Test func l1HyperplaneStepsFillTheLargestWeightsFirst() throws {
    // <w, d> = 0.3 with w = (1, -2, 0.5): the cheapest L1 step moves the coordinate of weight 2 by 0.15 (its
    // room, 0.5, suffices); near its face (room 0.1) it moves 0.1 there and the rest, 0.1 of the offset, on the
    // next largest weight (1): 0.1
    let normals = try rows([[1, -2, 0.5]])
    let free = try L1HyperplaneProjection.minimalSteps(points: try Tensor.full([1, 3], 0.5), normals: normals,
                                                       offsets: try Tensor([Float(0.3)]))
    expectClose(try values(free), [0, -0.15, 0], 1e-5, "one coordinate")
    let nearFace = try L1HyperplaneProjection.minimalSteps(points: try rows([[0.5, 0.1, 0.5]]), normals: normals,
                                                           offsets: try Tensor([Float(0.3)]))
    expectClose(try values(nearFace), [0.1, -0.1, 0], 1e-5, "the next weight")
  }
}
