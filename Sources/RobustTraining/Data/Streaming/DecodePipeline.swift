import Foundation
import Torch

/// Decodes the listed batches of one epoch on a pool of threads, a bounded number of batches ahead of the
/// reader, each straight into the tensor the reader gets (bytes, or floats in [0, 1]). Threads take samples
/// in order, so the batch the reader waits for is the one being finished; each sample's pixels depend only on
/// (seed, epoch, position), never on the thread or the timing. A sample that cannot be decoded fails its
/// batch: the reader gets the error naming the file (the first failing row), and the pool stops. Dropping
/// the pipeline stops the threads.
final class DecodePipeline {
  /// One batch: its pixels (rows, 3, size, size) on the CPU (pinned when the loader's device is a GPU), its labels
  /// and file indices.
  struct Pixels {
    let images: Tensor
    let labels: [Int64]
    let files: [Int64]
    let shard: BatchShard?
  }

  private let state: State

  /// `floats`: the pixels as float32 in [0, 1], else as bytes.
  init(loader: StreamingBatchLoader, epoch: Int, batches: [Int], floats: Bool) throws {
    state = try State(loader: loader, epoch: epoch, batches: batches, floats: floats)
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
    let floats: Bool
    let valuesPerImage: Int
    /// The tensor each slot's batch is decoded into, and its bytes.
    var slots: [(tensor: Tensor, bytes: UnsafeMutableRawPointer)?]

    let condition = NSCondition()
    var nextTask = 0
    /// Listed batches handed to the reader.
    var taken = 0
    var done: [Int]
    var failures: [[(row: Int, error: Error)]]
    var stopped = false

    var taskCount: Int { taskBatch.count }

    init(loader: StreamingBatchLoader, epoch: Int, batches: [Int], floats: Bool) throws {
      self.loader = loader
      self.epoch = epoch
      self.batches = batches
      self.floats = floats
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
      valuesPerImage = 3 * size * size
      slots = Array(repeating: nil, count: depth)
      done = Array(repeating: 0, count: depth)
      failures = Array(repeating: [], count: depth)
      for listed in 0..<Swift.min(depth, batches.count) { slots[listed] = try makeSlot(listed) }
    }

    /// The tensor listed batch `listed` is decoded into.
    private func makeSlot(_ listed: Int) throws -> (tensor: Tensor, bytes: UnsafeMutableRawPointer) {
      let size = loader.transform.outputSize
      // for a GPU, in pinned memory: the copy to the device then leaves the host free (`StreamingEpochBatches`)
      let made = try Tensor.writable([rows[listed].count, 3, size, size], dtype: floats ? .float32 : .uint8,
                                     pinned: loader.device.isCUDA)
      return (made.tensor, made.bytes.baseAddress!)
    }

    func stop() {
      condition.lock()
      stopped = true
      condition.broadcast()
      condition.unlock()
    }

    func work() {
      let decoder = SampleDecoder(transform: loader.transform, seed: loader.seed, profile: loader.profile)
      while true {
        condition.lock()
        while !stopped && nextTask < taskCount && Int(taskBatch[nextTask]) >= taken + depth { condition.wait() }
        guard !stopped, nextTask < taskCount, let slot = slots[Int(taskBatch[nextTask]) % depth] else {
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
        let path = loader.images.paths[order[position]]
        var failure: Error?
        do {
          if floats {
            let planes = slot.bytes.assumingMemoryBound(to: Float.self) + local * valuesPerImage
            try decoder.decode(path: path, epoch: epoch, position: position, into: planes)
          } else {
            let planes = slot.bytes.assumingMemoryBound(to: UInt8.self) + local * valuesPerImage
            try decoder.decode(path: path, epoch: epoch, position: position, into: planes)
          }
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
      // The first failing row of the batch names its file: wait for all its rows to settle.
      while !stopped && done[slot] < count { condition.wait() }
      if let failure = failures[slot].min(by: { $0.row < $1.row }) {
        stopped = true
        condition.broadcast()
        condition.unlock()
        throw failure.error
      }
      let finished = done[slot] == count
      let filled = slots[slot]
      condition.unlock()
      guard finished, let filled else {
        throw DatasetError.unsupported("\(loader.images.name): the decode threads were stopped")
      }
      let batch = batches[listed]
      let files = rows[listed].map { order[batch * loader.batchSize + $0] }
      let pixels = Pixels(
        images: filled.tensor, labels: files.map { Int64(loader.images.labels[$0]) }, files: files.map(Int64.init),
        shard: loader.shard(ofBatch: batch))
      // the slot's next batch gets a tensor of its own before the threads may start on it
      let next = listed + depth < batches.count ? try makeSlot(listed + depth) : nil
      condition.lock()
      slots[slot] = next
      done[slot] = 0
      failures[slot] = []
      taken += 1
      condition.broadcast()
      condition.unlock()
      return pixels
    }
  }
}
