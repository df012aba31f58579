import Foundation

/// Where the clean and adversarial gradients conflict (cs <= 0, where AGR projects), per parameter tensor
/// and per layer kind, from a run's gradient samples (`diagnostics.jsonl`: taken with and without AGR).
public struct LayerConflicts: Sendable {
  public let names: [String]
  public let kinds: [LayerKind]
  /// Cosine histogram per tensor over `bins` equal bins of [-1, 1] (counts), and each tensor's conflicts.
  public let histograms: [[Int]]
  public let conflicts: [Int]
  /// Samples per tensor (a sample without a value for a tensor is not counted for it).
  public let samples: [Int]
  /// Share of cs <= 0 per tensor in each of `windows` equal spans of the sampled iterations.
  public let conflictsOverTime: [[Double?]]
  public let iterationRange: ClosedRange<Double>

  public static let bins = 20

  /// The bin of a cosine; bins are (a, b] so that cs = 0, a conflict, falls left of the zero line.
  static func bin(_ cosine: Double) -> Int {
    min(bins - 1, max(0, Int(((cosine + 1) / 2 * Double(bins)).rounded(.up)) - 1))
  }
  public static let windows = 10

  public init?(_ run: RunRecords) {
    guard let index = run.parameters, !run.diagnostics.isEmpty else { return nil }
    names = index.names
    kinds = index.kinds
    let count = index.names.count
    var histograms = Array(repeating: Array(repeating: 0, count: Self.bins), count: count)
    var conflicts = Array(repeating: 0, count: count)
    var samples = Array(repeating: 0, count: count)
    let first = Double(run.diagnostics.first!.iteration), last = Double(run.diagnostics.last!.iteration)
    var windowCounts = Array(repeating: Array(repeating: (0, 0), count: Self.windows), count: count)
    for sample in run.diagnostics {
      let window = last > first ? min(Self.windows - 1, Int((Double(sample.iteration) - first) / (last - first) * Double(Self.windows))) : 0
      for (tensor, cosine) in sample.cosine.prefix(count).enumerated() where cosine.isFinite {
        histograms[tensor][Self.bin(cosine)] += 1
        samples[tensor] += 1
        windowCounts[tensor][window].1 += 1
        if cosine <= 0 {
          conflicts[tensor] += 1
          windowCounts[tensor][window].0 += 1
        }
      }
    }
    self.histograms = histograms
    self.conflicts = conflicts
    self.samples = samples
    conflictsOverTime = windowCounts.map { $0.map { $0.1 > 0 ? Double($0.0) / Double($0.1) : nil } }
    iterationRange = first...max(last, first + 1)
  }

  /// A row of the per-kind table: the kind (convolutions split into the first third by depth and the rest).
  public struct KindRow: Sendable {
    public let name: String
    public let tensors: Int
    public let samples: Int
    public let conflicts: Int
    /// Share of this group's (tensor, sample) pairs with cs <= 0.
    public var rate: Double? { samples > 0 ? Double(conflicts) / Double(samples) : nil }
  }

  /// Early convolutions, later convolutions, BatchNorm, linear (and other) tensors, then all of them.
  public var kindRows: [KindRow] {
    let convolutions = kinds.indices.filter { kinds[$0] == .conv }
    let early = Set(convolutions.prefix(max(1, (convolutions.count + 2) / 3)))
    let groups: [(String, (Int) -> Bool)] = [
      ("conv, first third by depth", { early.contains($0) }),
      ("conv, the rest", { self.kinds[$0] == .conv && !early.contains($0) }),
      ("BatchNorm", { self.kinds[$0] == .batchNorm }),
      ("linear", { self.kinds[$0] == .linear }),
      ("other", { self.kinds[$0] == .other }),
      ("all tensors", { _ in true }),
    ]
    return groups.compactMap { name, member in
      let members = kinds.indices.filter(member)
      guard !members.isEmpty else { return nil }
      return KindRow(name: name, tensors: members.count, samples: members.reduce(0) { $0 + samples[$1] },
                     conflicts: members.reduce(0) { $0 + conflicts[$1] })
    }
  }

  static let kindColors: [LayerKind: String] = [.conv: ChartStyle.palette[0], .batchNorm: ChartStyle.palette[4],
                                                .linear: ChartStyle.palette[2], .other: "#999999"]
  static let kindNames: [LayerKind: String] = [.conv: "convolution", .batchNorm: "BatchNorm", .linear: "linear", .other: "other"]

  var groups: [(color: String, name: String)] {
    LayerKind.allCases.filter(kinds.contains).map { (Self.kindColors[$0]!, Self.kindNames[$0]!) }
  }

  /// Per tensor, the distribution of the cosine over the whole run: the paper's per-layer figure.
  public func distributionMap(title: String) -> HeatMap {
    let values = histograms.enumerated().map { tensor, counts in
      counts.map { samples[tensor] > 0 ? Double($0) / Double(samples[tensor]) as Double? : nil }
    }
    var map = HeatMap(title: title, rowLabels: names, rowColors: kinds.map { Self.kindColors[$0] }, values: values,
                   xLabel: "cosine of the clean and adversarial gradients (cs ≤ 0 left of the dashed line: conflict)",
                   xRange: -1...1, xTicks: [-1, -0.5, 0, 0.5, 1], xLine: 0,
                   rowNotes: conflicts.indices.map { samples[$0] > 0 ? Markup.percent(Double(conflicts[$0]) / Double(samples[$0])) : "–" },
                   rowNotesHeading: "cs ≤ 0", scaleLabel: "share of the tensor's samples in the bin", groups: groups)
    map.squareRootScale = true
    return map
  }

  /// Per tensor, the share of samples with cs <= 0 over training.
  public func timeMap(title: String) -> HeatMap {
    let ticks = NiceTicks(minimum: iterationRange.lowerBound, maximum: iterationRange.upperBound, target: 5).values
      .filter { iterationRange.contains($0) }
    return HeatMap(title: title, rowLabels: names, rowColors: kinds.map { Self.kindColors[$0] }, values: conflictsOverTime,
                   xLabel: "training iteration", xRange: iterationRange, xTicks: ticks,
                   scaleLabel: "share of samples with cs ≤ 0", groups: groups)
  }
}
