// Generators: seeding, saving and restoring state to replay the same random stream.
import Testing
import Torch

@Suite struct RandomTests {
  @Test func stateSaveAndRestoreReplaysTheStream() throws {
    let g = try Generator(seed: 123)
    _ = try Tensor.rand([10], generator: g)  // move away from the seed's start
    let state = try g.state()
    #expect(state.dtype == .uint8)
    #expect(state.rank == 1 && state.count > 0)
    let first = try Tensor.rand([32], generator: g).toArray(Float.self)
    let firstNormal = try Tensor.randn([32], generator: g).toArray(Float.self)
    let firstInts = try Tensor.randint(0, 1000, [32], generator: g).toArray(Int64.self)
    let firstPerm = try Tensor.randperm(32, generator: g).toArray(Int64.self)
    try g.setState(state)
    #expect(try Tensor.rand([32], generator: g).toArray(Float.self) == first)
    #expect(try Tensor.randn([32], generator: g).toArray(Float.self) == firstNormal)
    #expect(try Tensor.randint(0, 1000, [32], generator: g).toArray(Int64.self) == firstInts)
    #expect(try Tensor.randperm(32, generator: g).toArray(Int64.self) == firstPerm)
    // The stream moved on: fresh draws differ.
    #expect(try Tensor.rand([32], generator: g).toArray(Float.self) != first)
  }

  @Test func stateTransfersBetweenGenerators() throws {
    let g = try Generator(seed: 5)
    _ = try Tensor.randn([7], generator: g)
    let h = try Generator(seed: 999)
    try h.setState(g.state())
    #expect(try Tensor.rand([16], generator: h).toArray(Float.self) == Tensor.rand([16], generator: g).toArray(Float.self))
  }

  @Test func savedStateIsASnapshot() throws {
    let g = try Generator(seed: 77)
    let state = try g.state()
    let before = try state.toArray(UInt8.self)
    _ = try Tensor.rand([100], generator: g)
    #expect(try state.toArray(UInt8.self) == before)
    #expect(try g.state().toArray(UInt8.self) != before)
  }

  @Test func reseedingRestartsTheStream() throws {
    let g = try Generator(seed: 1)
    let a = try Tensor.rand([8], generator: g).toArray(Float.self)
    try g.seed(1)
    #expect(try Tensor.rand([8], generator: g).toArray(Float.self) == a)
    try g.seed(2)
    #expect(try Tensor.rand([8], generator: g).toArray(Float.self) != a)
    #expect(try Tensor.rand([8], generator: Generator(seed: 2)).toArray(Float.self) != a)
  }

  @Test func defaultGeneratorStateMatchesManualSeed() throws {
    let cpu = try Generator.defaultGenerator(for: .cpu)
    Torch.manualSeed(2024)
    let saved = try cpu.state()
    let a = try Tensor.randn([20]).toArray(Float.self)
    try cpu.setState(saved)
    #expect(try Tensor.randn([20]).toArray(Float.self) == a)
    // Drawing through the default generator explicitly is the same as passing none.
    try cpu.setState(saved)
    #expect(try Tensor.randn([20], generator: cpu).toArray(Float.self) == a)
  }

  @Test func inPlaceSamplersUseTheGenerator() throws {
    let g = try Generator(seed: 31)
    let state = try g.state()
    let x = try Tensor.zeros([2000], dtype: .float64)
    try x.normal_(mean: 10, std: 0.5, generator: g)
    let v = try x.toArray(Double.self)
    let mean = v.reduce(0, +) / Double(v.count)
    let sd = (v.map { ($0 - mean) * ($0 - mean) }.reduce(0, +) / Double(v.count - 1)).squareRoot()
    // Standard errors: 0.011 for the mean, ~0.008 for the standard deviation.
    #expect(Swift.abs(mean - 10) < 0.06)
    #expect(Swift.abs(sd - 0.5) < 0.04)
    try g.setState(state)
    let y = try Tensor.zeros([2000], dtype: .float64)
    try y.normal_(mean: 10, std: 0.5, generator: g)
    #expect(try y.toArray(Double.self) == v)
    try x.uniform_(low: 5, high: 6, generator: g)
    #expect(try x.toArray(Double.self).allSatisfy { $0 >= 5 && $0 < 6 })
  }

  @Test func setStateRejectsGarbage() throws {
    let g = try Generator(seed: 1)
    expectTorchError(containing: "RNG state") { try g.setState(Tensor([1, 2, 3] as [UInt8])) }
    // The generator still works.
    #expect(try Tensor.rand([4], generator: g).count == 4)
  }
}
