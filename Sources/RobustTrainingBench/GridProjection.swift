import Foundation
import RobustTraining

/// A grid's projected time from measured step times: the JSON that `agr bench --json` prints (one
/// figure per model, method, AGR on or off, and the PGD evaluation of a batch), read through the type the
/// bench writes it with (`BenchmarkResult`).
public struct GridProjection: Sendable {

  /// Per run: projected seconds, or why there is none.
  public struct Estimate: Sendable {
    public let seconds: Double?
    public let basis: String
  }

  public let figures: [BenchmarkResult]
  public let source: String

  public init(benchJSON url: URL) throws {
    do {
      figures = try JSONDecoder().decode([BenchmarkResult].self, from: Data(contentsOf: url))
    } catch let error as DecodingError {
      throw GridError(file: url.path, "is not the output of agr bench --json: \(RunDirectory.decodingText(error))")
    } catch {
      throw GridError(file: url.path, "cannot be read: \(error.localizedDescription)")
    }
    source = url.path
  }

  /// Training images per epoch where the dataset fixes them (`DatasetFormat.imageCount`).
  static func trainImages(_ c: TrainingConfiguration) -> Int? {
    let full = c.datasetFormat?.imageCount(.train)
    return c.trainSubset.map { min($0, full ?? $0) } ?? full
  }

  static func testImages(_ c: TrainingConfiguration) -> Int? {
    let full = c.datasetFormat?.imageCount(.test)
    return c.testSubset.map { min($0, full ?? $0) } ?? full
  }

  /// Training steps from the figure of the same model, method and AGR setting (AGR's epochs and the
  /// others apart), scaled by m (k + 2) / (k_bench + 2) when the training attack's k differs (k attack gradient
  /// passes plus about two of the step itself, for each of Free-AT's m replays; m = 1 otherwise), and the per-epoch test evaluation from the eval figure.
  /// The final evaluations (PGD, AutoAttack) are not included.
  public func estimate(_ c: TrainingConfiguration) -> Estimate {
    guard let images = Self.trainImages(c) else { return Estimate(seconds: nil, basis: "training set size unknown for \(c.dataset)") }
    let agrEpochs = c.agr && c.method.isAdversarial ? max(0, c.epochs - c.agrStartEpoch + 1) : 0
    var seconds = 0.0
    var used = [String]()
    for (agr, epochs) in [(false, c.epochs - agrEpochs), (true, agrEpochs)] where epochs > 0 {
      guard let figure = figures.first(where: {
        $0.kind == "train" && $0.model == c.model.rawValue && $0.method == c.method.rawValue && ($0.agr ?? false) == agr
      }) else {
        return Estimate(seconds: nil, basis: "no bench figure for \(c.model.rawValue) \(c.method.rawValue)\(agr ? "+agr" : "")")
      }
      let scale = Double(c.perturbation.passesPerBatch) / Double(figure.attackSteps + 2)
      seconds += Double(epochs * images) / figure.imagesPerSecond * scale
      used.append(figure.tag + (scale == 1 ? "" : String(format: " x%.2f", scale)))
    }
    if c.evalSteps > 0, let tests = Self.testImages(c),
       let eval = figures.first(where: { $0.kind == "eval" && $0.model == c.model.rawValue }) {
      seconds += Double(c.epochs * tests) / eval.imagesPerSecond * Double(c.evalSteps + 2) / Double(eval.attackSteps + 2)
      used.append(eval.tag)
    }
    return Estimate(seconds: seconds, basis: used.joined(separator: "; "))
  }
}
