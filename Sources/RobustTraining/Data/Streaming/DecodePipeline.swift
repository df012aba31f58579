import Foundation
import Torch

/// Decodes the listed batches of one epoch on a pool of threads, a bounded number of batches ahead of the
/// reader. Threads take samples in order, so the batch the reader waits for is the one being finished; each
/// sample's pixels depend only on (seed, epoch, position), never on the thread or the timing. A sample that
/// cannot be decoded fails its batch: the reader gets the error naming the file (the first failing row), and
/// the pool stops. Dropping the pipeline stops the threads.
final class DecodePipeline {
  /// One batch's uint8 pixels (rows, 3, size, size) on the CPU, its labels and file indices.
  struct Pixels {
    let images: Tensor
    let labels: [Int64]
    let files: [Int64]
    let shard: BatchShard?
  }

  private let state: State

  init(loader: StreamingBatchLoader, epoch: Int, batches: [Int]) {
    state = State(loader: loader, epoch: epoch, batches: batches)
    for _ in 0..<Swift.min(loader.threads, Swift.max(state.taskCount, 1)) {
      let state = self.state
      let thread = Thread { state.work() }
      thread.name = "agr-decode"
      thread.start()
    }
  }

  deinit { state.stop() }

  /// The next listed batch, once decoded; nil after the last.
  func next() throws -> Pixels? { try state.take() }

  private final class State {
    let loader: StreamingBatchLoader
    let epoch: Int
    let batches: [Int]
    let order: [Int]
    /// Each batch's rows that this rank decodes.
    let rows: [Range<Int>]
    /// Task t decodes row `taskRow[t]` of listed batch `taskBatch[t]`.
    let taskBatch: [Int32]
    let taskRow: [Int32]
    let depth: Int
    let slots: [UnsafeMutablePointer<UInt8>]
    let imageBytes: Int

    let condition = NSCondition()
    var nextTask = 0
    /// Listed batches handed to the reader.
    var taken = 0
    var done: [Int]
    var failures: [[(row: Int, error: Error)]]
    var stopped = false

    var taskCount: Int { taskBatch.count }

    init(loader: StreamingBatchLoader, epoch: Int, batches: [Int]) {
      self.loader = loader
      self.epoch = epoch
      self.batches = batches
      order = loader.order(epoch: epoch)
      rows = batches.map { loader.decodedRows(ofBatch: $0) }
      var taskBatch = [Int32]()
      var taskRow = [Int32]()
      for (listed, range) in rows.enumerated() {
        for row in range {
          taskBatch.append(Int32(listed))
          taskRow.append(Int32(row))
        }
      }
      self.taskBatch = taskBatch
      self.taskRow = taskRow
      depth = loader.queueDepth
      let size = loader.transform.outputSize
      imageBytes = 3 * size * size
      let rowsPerSlot = rows.map(\.count).max() ?? 0
      slots = (0..<depth).map { _ in UnsafeMutablePointer<UInt8>.allocate(capacity: Swift.max(1, rowsPerSlot * 3 * size * size)) }
      done = Array(repeating: 0, count: depth)
      failures = Array(repeating: [], count: depth)
    }

    deinit { for slot in slots { slot.deallocate() } }

    func stop() {
      condition.lock()
      stopped = true
      condition.broadcast()
      condition.unlock()
    }

    func work() {
      let decoder = SampleDecoder(transform: loader.transform, seed: loader.seed)
      while true {
        condition.lock()
        while !stopped && nextTask < taskCount && Int(taskBatch[nextTask]) >= taken + depth { condition.wait() }
        guard !stopped, nextTask < taskCount else {
          condition.unlock()
          return
        }
        let task = nextTask
        nextTask += 1
        condition.unlock()

        let listed = Int(taskBatch[task])
        let row = Int(taskRow[task])
        let local = row - rows[listed].lowerBound
        let position = batches[listed] * loader.batchSize + row
        let file = order[position]
        var failure: Error?
        do {
          try decoder.decode(path: loader.images.paths[file], epoch: epoch, position: position,
                             into: slots[listed % depth] + local * imageBytes)
        } catch {
          failure = error
        }
        condition.lock()
        done[listed % depth] += 1
        if let failure { failures[listed % depth].append((local, failure)) }
        if done[listed % depth] == rows[listed].count || failure != nil { condition.broadcast() }
        condition.unlock()
      }
    }

    func take() throws -> Pixels? {
      condition.lock()
      guard taken < batches.count else {
        condition.unlock()
        return nil
      }
      let listed = taken
      let slot = listed % depth
      let count = rows[listed].count
      while !stopped && done[slot] < count && failures[slot].isEmpty { condition.wait() }
      // The first failing row of the batch names its file (wait for the rows before it to settle).
      while !stopped && done[slot] < count && !failures[slot].isEmpty { condition.wait() }
      if let failure = failures[slot].min(by: { $0.row < $1.row }) {
        stopped = true
        condition.broadcast()
        condition.unlock()
        throw failure.error
      }
      let finished = done[slot] == count
      condition.unlock()
      guard finished else { throw DatasetError.unsupported("\(loader.images.name): the decode threads were stopped") }

      let size = loader.transform.outputSize
      let bytes = count * imageBytes
      let source = slots[slot]
      let images = try Tensor.filled([count, 3, size, size], dtype: .uint8) { out in
        out.baseAddress!.copyMemory(from: source, byteCount: bytes)
      }
      let batch = batches[listed]
      let files = rows[listed].map { order[batch * loader.batchSize + $0] }
      let pixels = Pixels(
        images: images, labels: files.map { Int64(loader.images.labels[$0]) }, files: files.map(Int64.init),
        shard: loader.shard(ofBatch: batch))

      condition.lock()
      done[slot] = 0
      failures[slot] = []
      taken += 1
      condition.broadcast()
      condition.unlock()
      return pixels
    }
  }
}
