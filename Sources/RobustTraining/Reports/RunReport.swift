import Foundation

/// An HTML page and the SVG plots it shows inline.
public struct ReportDocument: Sendable {
  public var html: String
  /// File name (e.g. "accuracy.svg") and SVG text of each plot.
  public var plots: [(name: String, svg: String)]
}

/// The report of one run: configuration, per-epoch table, curves, AGR and gradient diagnostics, evaluation.
public enum RunReport {
  public static func make(_ run: RunRecords) -> ReportDocument {
    var page = HTMLPage(title: "Run report: \(run.name)")
    var plots = [(name: String, svg: String)]()
    func show(_ name: String, _ svg: String?, caption: String? = nil) {
      guard let svg else { return }
      plots.append((name, svg))
      page.figure(svg, caption: caption)
    }

    page.beginSection("summary", "Summary")
    page.table(["", ""], summaryRows(run))
    if !run.isComplete {
      page.paragraph("Interrupted or still running: \(run.epochs.count) of \(run.configuration.epochs) epochs recorded.",
                     note: true)
    }
    page.endSection()

    page.beginSection("configuration", "Configuration")
    page.table(["setting", "value"], configurationRows(run.configuration))
    page.endSection()

    page.beginSection("epochs", "Per-epoch results")
    if run.epochs.isEmpty {
      page.paragraph("No epoch finished yet (metrics.jsonl is missing or empty).", note: true)
    } else {
      page.table(epochHeaders(run), run.epochs.map(epochRow), numeric: Set(0..<epochHeaders(run).count).subtracting([2]))
    }
    page.endSection()

    page.beginSection("curves", "Training curves")
    show("accuracy.svg", RunCharts.accuracy(run)?.svg())
    show("loss.svg", RunCharts.loss(run)?.svg())
    show("learning-rate.svg", RunCharts.learningRate(run)?.svg())
    if run.epochs.isEmpty { page.paragraph("No curves: no epoch recorded.", note: true) }
    page.endSection()

    page.beginSection("agr", "AGR: gradient orthogonal projection rate")
    if let chart = RunCharts.gopRate(run) {
      show("gop-rate.svg", chart.svg(), caption: "Per epoch, the share of (parameter tensor, step) pairs whose clean and "
        + "adversarial gradients conflicted (cosine ≤ 0), so AGR projected instead of interpolating.")
    } else {
      page.paragraph(run.usesAGR ? "No GOP rate recorded: AGR was not active in any recorded epoch (it starts at epoch \(run.configuration.agrStartEpoch))."
        : "AGR is off in this run (method \(run.configuration.method.rawValue), agr \(run.configuration.agr)).", note: true)
    }
    page.endSection()

    page.beginSection("diagnostics", "Gradient diagnostics")
    if run.diagnostics.isEmpty {
      page.paragraph(run.configuration.diagnosticsEvery == 0
        ? "No gradient diagnostics: the run was trained with --diagnostics-every 0."
        : "No gradient diagnostics recorded (diagnostics.jsonl is missing or empty).", note: true)
    } else if RunCharts.convolutionWeights(run).isEmpty {
      page.paragraph("parameters.json is missing or lists no convolution weights: per-layer plots are left out.", note: true)
    }
    show("cosine-per-conv-layer.svg", RunCharts.cosineGrid(run)?.svg(), caption: "Cosine similarity of the clean-loss and "
      + "adversarial-loss gradients of each convolution weight, sampled every \(run.configuration.diagnosticsEvery) "
      + "iterations. Below the dashed zero line the two gradients conflict.")
    show("gradient-norms.svg", RunCharts.gradientNorms(run)?.svg())
    show("gradient-norms-per-conv-layer.svg", RunCharts.layerNormGrid(run)?.svg())
    page.endSection()

    plots += LayerConflictsSection.add(run, to: &page)

    page.beginSection("evaluation", "Evaluation (agr eval)")
    if let eval = run.latestEvaluation {
      page.paragraph("Latest report: \(eval.file?.lastPathComponent ?? "?") — checkpoint \(eval.checkpoint), "
        + "\(eval.examples.map(String.init) ?? "?") test images, L∞ eps \(epsilonText(eval.epsilon)).")
      page.table(["attack", "accuracy", "time"], evaluationRows(eval), numeric: [1, 2])
    } else {
      page.paragraph("No agr eval report (eval-*.json) in this run directory; run "
        + "`agr eval \(run.directory.url.path)/best.safetensors --attacks pgd20,aa` to add one.", note: true)
    }
    page.endSection()
    return ReportDocument(html: page.html, plots: plots)
  }

  static func epsilonText(_ eps: Double?) -> String {
    guard let eps else { return "?" }
    return String(format: "%.4f (%.3g/255)", eps, eps * 255)
  }

  static func summaryRows(_ run: RunRecords) -> [[String]] {
    let c = run.configuration
    let best = run.epochs.filter { $0.testRobustAccuracy != nil }.max { $0.testRobustAccuracy! < $1.testRobustAccuracy! }
    let last = run.epochs.last
    var rows = [
      ["run directory", run.directory.url.path],
      ["method", run.methodDescription],
      ["model / dataset", "\(c.modelSource.name) / \(c.dataset)"],
      ["epochs recorded", "\(run.epochs.count) of \(c.epochs)"],
      ["final test clean / PGD-\(c.evalSteps) accuracy",
       "\(Markup.percent(last?.testCleanAccuracy)) / \(Markup.percent(last?.testRobustAccuracy))"],
      ["training time", Markup.duration(run.totalSeconds)],
    ]
    if let best {
      rows.insert(["best test PGD-\(c.evalSteps) accuracy", "\(Markup.percent(best.testRobustAccuracy)) (epoch \(best.epoch))"],
                  at: 5)
    }
    return rows
  }

  /// The configuration as flat "key: value" rows (nested settings joined with dots).
  static func configurationRows(_ c: TrainingConfiguration) -> [[String]] {
    guard let value = try? JSONValue.of(c) else { return [] }
    return value.flattened(prefix: "").map { [$0.key, $0.value] }
  }

  static func epochHeaders(_ run: RunRecords) -> [String] {
    ["epoch", "lr", "AGR", "train loss", "train clean", "train adv", "test clean loss", "test clean",
     "test PGD-\(run.configuration.evalSteps) loss", "test PGD-\(run.configuration.evalSteps)", "GOP rate", "time"]
  }

  static func epochRow(_ r: EpochRecord) -> [String] {
    [String(r.epoch), Markup.number(r.learningRate), r.agrActive ? "on" : "off", Markup.number(r.trainLoss),
     Markup.percent(r.trainCleanAccuracy), Markup.percent(r.trainAdversarialAccuracy), Markup.number(r.testCleanLoss),
     Markup.percent(r.testCleanAccuracy), Markup.number(r.testRobustLoss), Markup.percent(r.testRobustAccuracy),
     Markup.percent(r.gopRate), Markup.duration(r.seconds)]
  }

  static func evaluationRows(_ e: EvaluationReport) -> [[String]] {
    var rows = [["clean", Markup.percent(e.cleanAccuracy), "–"]]
    rows += e.attacks.map { [$0.name, Markup.percent($0.accuracy), Markup.duration($0.seconds)] }
    if e.attacks.count > 1, let worst = e.worstCaseAccuracy {
      rows.append(["worst case (per sample)", Markup.percent(worst), Markup.duration(e.seconds)])
    }
    return rows
  }
}
