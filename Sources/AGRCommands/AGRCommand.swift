import ArgumentParser

/// The `agr` tool: robust training of image classifiers on libtorch.
public struct AGRCommand: ParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "agr",
    abstract: "Adversarial training with adaptive gradient reconstruction (AGR), on libtorch.",
    subcommands: [Train.self, Grid.self, Eval.self, Report.self, Compare.self, Landscape.self, Bench.self, CommBench.self, DataBench.self, Doctor.self, Interop.self],
    defaultSubcommand: nil
  )

  public init() {}
}
