import Foundation

/// A TensorBoard `Event` (tensorflow/core/util/event.proto): its wall time and step, and one of a file
/// version, a summary of scalars and histograms, or a session-log status.
struct TensorBoardEvent {
  enum Value {
    case scalar(Float)
    case histogram(Histogram)
  }

  /// `HistogramProto`: bucket i holds the values in (limit[i-1], limit[i]].
  struct Histogram {
    var minimum: Double, maximum: Double, count: Double, sum: Double, sumOfSquares: Double
    var bucketLimits: [Double]
    var buckets: [Double]

    /// The histogram of `values` over `edges` (ascending upper limits; the last should be >= every value).
    init(_ values: [Double], limits edges: [Double]) {
      minimum = values.min() ?? 0
      maximum = values.max() ?? 0
      count = Double(values.count)
      sum = values.reduce(0, +)
      sumOfSquares = values.reduce(0) { $0 + $1 * $1 }
      bucketLimits = edges
      buckets = Array(repeating: 0, count: edges.count)
      for v in values { buckets[edges.firstIndex { v <= $0 } ?? edges.count - 1] += 1 }
    }
  }

  var wallTime: Double
  var step: Int64
  var fileVersion: String? = nil
  var values: [(tag: String, value: Value)] = []
  /// `SessionLog.START`: TensorBoard drops the events of this file's earlier sessions at steps >= `step`.
  var sessionStart = false

  /// The serialized message.
  var bytes: [UInt8] {
    var event = ProtobufWriter()
    event.double(1, wallTime)
    event.int64(2, step)
    if let fileVersion { event.string(3, fileVersion) }
    if !values.isEmpty {
      event.message(5) { summary in
        for (tag, value) in values {
          summary.message(1) { entry in
            entry.string(1, tag)
            switch value {
            case .scalar(let v): entry.float(2, v)
            case .histogram(let h):
              entry.message(5) { histo in
                histo.double(1, h.minimum)
                histo.double(2, h.maximum)
                histo.double(3, h.count)
                histo.double(4, h.sum)
                histo.double(5, h.sumOfSquares)
                histo.packedDoubles(6, h.bucketLimits)
                histo.packedDoubles(7, h.buckets)
              }
            }
          }
        }
      }
    }
    if sessionStart { event.message(7) { $0.int64(1, 1) } }
    return event.bytes
  }
}
