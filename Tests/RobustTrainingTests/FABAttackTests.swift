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

  @Test func squaresPerSampleWindowsAreLInfOnly() throws {
    #expect(throws: AttackError.self) { _ = try Square(threatModel: try .l2(0.5), perSampleWindows: true) }
    _ = try Square(threatModel: try .l2(0.5))
    _ = try Square(threatModel: try .l1(5))
  }

  @Test func squareScheduleHalvesTheWindowAtTheReferenceQueries() throws {
    let square = try Square(threatModel: try .lInf(0.1), queries: 10_000)
    #expect(square.fraction(atIteration: 10) == 0.8)
    #expect(square.fraction(atIteration: 11) == 0.4)
    #expect(square.fraction(atIteration: 9000) == 0.8 / 512)
    // square.py's own default rescales the breakpoints to the budget: 6 of 5,000 is 12 of 10,000
    let rescaled = try Square(threatModel: try .lInf(0.1), queries: 5000, rescaledSchedule: true)
    #expect(rescaled.fraction(atIteration: 6) == 0.4)
  }

  /// AutoAttack's standard version (resc_schedule=False) at 5,000 queries: p_selection(it) of square.py,
  /// written out: p_init while it <= 10, then halved past 10, 50, 200, 500, 1000, 2000 and 4000; the
  /// 6000 and 8000 breakpoints are never reached.
  @Test func squareScheduleAt5000QueriesIsTheStandardVersions() throws {
    let square = try Square(threatModel: try .lInf(8.0 / 255))
    #expect(square.queries == 5000 && !square.rescaledSchedule && !square.perSampleWindows)
    let expected: [(Int, Double)] = [
      (0, 0.8), (10, 0.8), (11, 0.4), (50, 0.4), (51, 0.2), (200, 0.2), (201, 0.1), (500, 0.1), (501, 0.05),
      (1000, 0.05), (1001, 0.025), (2000, 0.025), (2001, 0.0125), (4000, 0.0125), (4001, 0.00625), (4999, 0.00625),
    ]
    for (iteration, p) in expected {
      #expect(abs(square.fraction(atIteration: iteration) - p) < 1e-15, "iteration \(iteration)")
    }
  }
}

/// Square's sampling: AutoAttack's standard version draws the initial stripes per sample (in one call) but
/// one window position and one colour per channel per iteration for the whole batch, so a sample's search
/// does not depend on which other samples share its batch; the per-sample option's draws do.
@Suite struct SquareSamplingTests {
  /// Two classes: z0 = <w, x> with positive weights, z1 = a threshold `bias` below it; each sample's logits
  /// are its own row's sum, the same bits whatever the batch.
  final class PixelScore: Classifier {
    var isTraining = true
    let weights: Tensor
    var bias = 0.0
    var classCount: Int { 2 }
    init(side: Int) throws { weights = try Tensor.randn([1, 1, side, side], generator: try Generator(seed: 9)).abs() }
    func callAsFunction(_ x: Tensor) throws -> Tensor {
      let score = try (x * weights).sum(dims: [1, 2, 3])
      return try Tensor.stack([score, try score.zerosLike() + bias], dim: 1)
    }
  }

  @Test func aSamplesSearchDoesNotDependOnItsBatchInTheStandardVersion() throws {
    let model = try PixelScore(side: 16)
    let epsilon = 0.05
    // close to one another and away from 0 and 1, so that every sample is attacked and none is clipped
    let images = try Tensor.rand([8, 1, 16, 16], generator: try Generator(seed: 2)) * 0.04 + 0.48
    let scores = try model(images).select(dim: 1, 0).toArray(Double.self)
    // class 0 until <w, x> drops by about 70% of the most a perturbation can take off (eps * sum |w|)
    model.bias = scores.min()! - 0.7 * epsilon * (try model.weights.sum().item() as Double)
    let labels = try Tensor([Int64](repeating: 0, count: 8))
    /// Sample 0's best point after the search on the first `batch` samples.
    func best(_ square: Square, batch: Int) throws -> Tensor {
      let found = try square.search(model, images: try images.slice(dim: 0, 0, batch),
                                    labels: try labels.slice(dim: 0, 0, batch), generator: try Generator(seed: 4))
      return try found.slice(dim: 0, 0, 1)
    }
    let standard = try Square(threatModel: try .lInf(epsilon), queries: 1000, seed: 4)
    let alone = try best(standard, batch: 1)
    #expect(try model(alone).argmax(dim: 1).item() == 1, "the search broke sample 0")
    let start = try best(try Square(threatModel: try .lInf(epsilon), queries: 1, seed: 4), batch: 1)
    #expect(try model(start).argmax(dim: 1).item() == 0, "not already broken by the initial stripes")
    #expect(try (alone - best(standard, batch: 8)).abs().max().item() == 0)
    let perSample = try Square(threatModel: try .lInf(epsilon), queries: 1000, seed: 4, perSampleWindows: true)
    #expect(try (best(perSample, batch: 1) - best(perSample, batch: 8)).abs().max().item() > 0)
  }
}
