/// The rows of a global batch that one rank trains on. Every rank draws the global batch's random
/// values (attack starts) and keeps its rows, so N ranks see exactly the starts one process would.
public struct BatchShard: Equatable, Sendable {
  public let rows: Range<Int>
  public let total: Int

  public init(rows: Range<Int>, total: Int) {
    self.rows = rows
    self.total = total
  }

  /// Rank `rank`'s contiguous share of `total` rows among `worldSize` ranks (sizes differ by at most one).
  public init(rank: Int, worldSize: Int, total: Int) {
    self.init(rows: (total * rank / worldSize)..<(total * (rank + 1) / worldSize), total: total)
  }

  public var count: Int { rows.count }
  /// The shard's rows over the batch's: the weight of this rank's mean loss in the batch's.
  public var share: Double { Double(count) / Double(total) }
}
