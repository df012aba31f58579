import Testing
@testable import RobustTraining

@Suite struct FABAttackTests {
  @Test func linfProjectionReachesTheHyperplaneWithAMinimalStep() throws {
    let generator = try Generator(seed: 4)
    let points = try Tensor.rand([8, 10], generator: generator)
    let normals = try Tensor.randn([8, 10], generator: generator)
    let offsets = try Tensor.randn([8], generator: generator) * 0.3
    let steps = try LinfHyperplaneProjection.minimalSteps(points: points, normals: normals, offsets: offsets)
    let moved = try points + steps
    #expect(try moved.min().item() >= 0 && moved.max().item() <= 1)
    let reached = try (normals * steps).sum(dims: [1]).toArray(Float.self)
    let wanted = try offsets.toArray(Float.self)
    let lengths = try steps.abs().max(dims: [1]).toArray(Float.self)
    // Largest reachable <w, d> over the box for each row: where that falls short, the step is the best effort.
    let direction = try normals.sign() * offsets.sign().unsqueezed(1)
    let room = try Tensor.where(try direction .> 0.0, try 1 - points, points)
    let reachable = try (normals.abs() * room).sum(dims: [1]).toArray(Float.self)
    for i in 0..<8 where reachable[i] > abs(wanted[i]) + 1e-4 {
      #expect(abs(reached[i] - wanted[i]) < 1e-4)
      // Any shorter step reaches less: shrinking the L-inf bound by 1% falls short.
      let shorter = try room.slice(dim: 0, i, i + 1).clamped(max: Double(lengths[i]) * 0.99)
      let shorterReach = try (normals.slice(dim: 0, i, i + 1).abs() * shorter).sum().item()
      #expect(shorterReach < Double(abs(wanted[i])))
    }
  }

  @Test func fabIsLInfOnly() throws {
    #expect(throws: AttackError.self) { _ = try FABTargeted(threatModel: try .l2(0.5)) }
    #expect(throws: AttackError.self) { _ = try Square(threatModel: try .l2(0.5)) }
  }

  @Test func squareScheduleHalvesTheWindowAtTheReferenceQueries() throws {
    let square = try Square(threatModel: try .lInf(0.1), queries: 10_000)
    #expect(square.fraction(atQuery: 10) == 0.8)
    #expect(square.fraction(atQuery: 11) == 0.4)
    #expect(square.fraction(atQuery: 9000) == 0.8 / 512)
    let short = try Square(threatModel: try .lInf(0.1), queries: 5000)
    #expect(short.fraction(atQuery: 6) == 0.4)  // 6 of 5,000 is 12 of 10,000
  }
}
