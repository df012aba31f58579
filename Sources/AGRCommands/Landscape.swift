import ArgumentParser
import Foundation
import RobustTraining

struct Landscape: ParsableCommand {
  static let configuration = CommandConfiguration(
    abstract: "Plot the weight loss landscape of checkpoints along a filter-normalised random direction.",
    discussion: """
      For each checkpoint: clean and PGD test loss at w + alpha*d, d a seeded Gaussian direction with each \
      conv/linear filter scaled to the weight's filter norm (Li et al., 2018; biases and BatchNorm are not moved). \
      The same seed gives every checkpoint of one architecture the same raw direction, so AT and AT+AGR \
      compare at a glance. A checkpoint in a run directory takes the dataset, model and eps from its config.json. \
      Writes landscape.html, landscape.csv, landscape.json and plots/landscape.svg (.png) to --output. \
      The weights are restored exactly afterwards.
      """)

  @Argument(help: "Model checkpoints (.safetensors), e.g. runs/A/best.safetensors runs/B/best.safetensors.")
  var checkpoints: [String]
  @Option(help: "alpha values as START:END:COUNT; write --alphas=-2:2:41 when START is negative.") var alphas: String = "-1:1:21"
  @Option(parsing: .unconditional, help: "Evaluate on the first N test images.") var nExamples: Int = 500
  @Option(parsing: .unconditional, help: "L-inf radius of the PGD loss (default: each run's; 0 skips the adversarial loss).")
  var eps: String?
  @Option(parsing: .unconditional, help: "PGD steps.") var steps: Int = 10
  @Option(parsing: .unconditional, help: "Seed of the direction (and the PGD random starts).") var seed: UInt64 = 0
  @OptionGroup var source: CheckpointOptions
  @Option(parsing: .unconditional, help: "Batch size.") var batchSize: Int = 250
  @Option(help: "cpu, cuda or cuda:N.") var device: String = "cpu"
  @Option(help: "Output folder.") var output: String = "landscape"
  @Flag(help: "Do not write a PNG version of the plot.") var noPng = false

  func validate() throws {
    guard !checkpoints.isEmpty else { throw ValidationError("give at least one checkpoint") }
    guard nExamples > 0 else { throw ValidationError("--n-examples: must be positive") }
    guard steps > 0 else { throw ValidationError("--steps: must be positive") }
    guard batchSize > 0 else { throw ValidationError("--batch-size: must be positive") }
    do { _ = try WeightLandscape.parseRange(alphas) } catch { throw ValidationError("--alphas: \(error)") }
  }

  func run() throws {
    try reportingErrors(Landscape.self) {
      let alphaValues = try WeightLandscape.parseRange(alphas)
      let device = try prepareDevice(self.device)
      var curves = [LandscapeReport.Curve]()
      var examples = 0
      for path in checkpoints {
        let curve = try scan(path, alphas: alphaValues, device: device, examples: &examples)
        curves.append(curve)
      }
      let report = LandscapeReport(seed: seed, examples: examples, curves: curves)
      let folder = URL(fileURLWithPath: output)
      let messages = try report.write(to: folder, png: !noPng)
      print("data: \(folder.appendingPathComponent("landscape.csv").path), landscape.json")
      messages.forEach { print($0) }
    }
  }

  private func scan(_ path: String, alphas: [Double], device: Device, examples: inout Int) throws
    -> LandscapeReport.Curve
  {
    let context = try source.source(path, eps: eps)
    let url = context.url
    let runFolder = url.deletingLastPathComponent()
    let (epsilon, datasetName, architecture) = (context.epsilon, context.dataset.rawValue, context.model.name)
    let (test, classifier) = try context.load(on: device)
    let n = min(nExamples, test.count)
    examples = n
    let images = try (try test.images[0..<n].to(.float32) / 255.0).to(device)
    let labels = try test.labels[0..<n].to(device)
    let attack: (any Attack)? = epsilon > 0
      ? try PGD(threatModel: ThreatModel(norm: context.norm, epsilon: epsilon), steps: steps,
                stepSize: 2.5 * epsilon / Double(steps), seed: seed,
                name: PGD.label(steps: steps, stepSize: 2.5 * epsilon / Double(steps), norm: context.norm))
      : nil
    let label = "\(runFolder.lastPathComponent)/\(url.deletingPathExtension().lastPathComponent)"
    print("\(label): \(architecture), \(datasetName), \(n) test images, "
      + (attack.map { "\($0.name) at eps \(String(format: "%.4f", epsilon))" } ?? "clean only"))
    let direction = try WeightLandscape.filterNormalizedDirection(for: classifier.parameters, seed: seed)
    let points = try WeightLandscape.scan(classifier, direction: direction, alphas: alphas, images: images,
                                          labels: labels, attack: attack, batchSize: batchSize) { p in
      print(String(format: "  alpha %+.3f  clean loss %.4f (acc %.1f%%)", p.alpha, p.cleanLoss, p.cleanAccuracy * 100)
        + (p.adversarialLoss.map { String(format: "  adv loss %.4f (acc %.1f%%)", $0, (p.adversarialAccuracy ?? 0) * 100) } ?? ""))
    }
    return LandscapeReport.Curve(label: label, checkpoint: url.path, epsilon: epsilon, attack: attack?.name, points: points)
  }
}
