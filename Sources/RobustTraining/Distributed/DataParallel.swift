import Foundation
import Torch

/// Data-parallel training over c10d process groups (Gloo; NCCL for CUDA ranks): every rank holds the same weights, trains on
/// its shard of the global batch, and takes the same update from gradients averaged over all ranks.
///
/// One step moves one flat float32 bucket through one all-reduce: the method gradient and (with AGR or
/// diagnostics) the clean gradient, each scaled by the rank's row count, BatchNorm's running statistics,
/// and the step's metrics. Dividing by the global row count gives the gradient of the global batch's mean
/// loss, so AGR's cosines are those of the global batch and AGR and SGD run identically everywhere.
public final class DataParallel {
  /// Gloo: the store's rendezvous and the collectives on CPU tensors.
  public let group: ProcessGroup
  /// The collectives on the device's tensors (gradients, BatchNorm statistics, metrics): NCCL for CUDA
  /// ranks (`prepare(device:)`), else `group`.
  public internal(set) var deviceGroup: ProcessGroup
  /// This rank's device, once `prepare(device:)` chose it.
  public internal(set) var device: Device?
  public let environment: DistributedEnvironment
  public let timeoutSeconds: Double
  public let options: DataParallelOptions
  /// The overlapped all-reduce's bucket size (0: the flat path).
  public var bucketBytes: Int { options.bucketBytes }
  /// This rank's share of the current global batch (`BatchShard.share`, set by the step): the weight of its
  /// loss in the global mean, which synchronised BatchNorm's backward pass needs.
  public var currentShare = 1.0
  /// Bytes the last step's all-reduce carried (each rank's bucket; a ring all-reduce sends about twice that).
  public private(set) var bytesPerStep = 0

  public var rank: Int { environment.rank }
  public var worldSize: Int { environment.worldSize }
  /// Rank 0 writes the run's files; the others only read them (to resume).
  public var writesFiles: Bool { rank == 0 }

  /// Meets the other ranks at MASTER_ADDR:MASTER_PORT (rank 0 listens there) and sets up Gloo.
  /// `GLOO_SOCKET_IFNAME` names the network interface Gloo uses, as in torch.distributed.
  public init(environment: DistributedEnvironment, timeoutSeconds: Double, options: DataParallelOptions = .init()) throws {
    if let problem = DurationRange.problem(seconds: timeoutSeconds) {
      throw DataParallelError.rendezvous(rank: environment.rank, "the timeout \(problem)")
    }
    if let problem = DataParallelOptions.bucketProblem(options.bucketMegabytes) {
      throw DataParallelError.environment("--bucket-mb \(problem)")
    }
    self.options = options
    self.environment = environment
    self.timeoutSeconds = timeoutSeconds
    let e = environment
    let store: TCPStore
    // Under torchrun (TORCHELASTIC_USE_AGENT_STORE=True) the agent on MASTER_ADDR already serves the store.
    let agentServes = ProcessInfo.processInfo.environment["TORCHELASTIC_USE_AGENT_STORE"]?.lowercased() == "true"
    do {
      store = try TCPStore(host: e.masterAddress, port: e.masterPort, isServer: e.rank == 0 && !agentServes,
                           worldSize: e.worldSize, timeoutSeconds: timeoutSeconds)
    } catch let error as TorchError {
      throw DataParallelError.rendezvous(rank: e.rank, Self.explain(error, environment: e, timeoutSeconds: timeoutSeconds))
    }
    // Gloo binds to GLOO_SOCKET_IFNAME's address when set (as in torch.distributed), else to the address
    // this machine reaches MASTER_ADDR from (torch takes the hostname's, which on machines whose hostname
    // resolves to another network is unreachable from the other nodes).
    let interface = ProcessInfo.processInfo.environment["GLOO_SOCKET_IFNAME"]
    do {
      group = try ProcessGroup(gloo: store, rank: e.rank, worldSize: e.worldSize, interface: interface,
                               hostname: interface == nil ? Self.localAddress(toward: e.masterAddress) : nil,
                               timeoutSeconds: timeoutSeconds)
    } catch let error as TorchError {
      throw DataParallelError.rendezvous(rank: e.rank, "Gloo could not connect the ranks: \(error)")
    }
    deviceGroup = group
  }

  /// The local IPv4 address of the route to `host` (a UDP socket's connect sends nothing), or nil.
  static func localAddress(toward host: String) -> String? {
    if ["127.0.0.1", "localhost"].contains(host) { return "127.0.0.1" }
    var hints = addrinfo()
    hints.ai_family = AF_INET
    hints.ai_socktype = Int32(SOCK_DGRAM.rawValue)
    var found: UnsafeMutablePointer<addrinfo>?
    guard getaddrinfo(host, "9", &hints, &found) == 0, let info = found else { return nil }
    defer { freeaddrinfo(found) }
    let fd = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
    guard fd >= 0 else { return nil }
    defer { close(fd) }
    guard connect(fd, info.pointee.ai_addr, info.pointee.ai_addrlen) == 0 else { return nil }
    var local = sockaddr_in()
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let named = withUnsafeMutablePointer(to: &local) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(fd, $0, &length) == 0 }
    }
    guard named else { return nil }
    var text = [CChar](repeating: 0, count: Int(INET_ADDRSTRLEN))
    guard inet_ntop(AF_INET, &local.sin_addr, &text, socklen_t(text.count)) != nil else { return nil }
    return String(cString: text)
  }

  static func explain(_ error: TorchError, environment e: DistributedEnvironment, timeoutSeconds: Double) -> String {
    let message = error.message
    if message.contains("EADDRINUSE") || message.contains("address already in use") {
      return "port \(e.masterPort) is in use on this machine: choose a free one (MASTER_PORT, or --master-port)"
    }
    if e.rank == 0 && (message.contains("Timed out") || message.contains("timeout") || message.contains("waiting")) {
      return "not all \(e.worldSize) ranks arrived at \(e.masterAddress):\(e.masterPort) within \(Int(timeoutSeconds)) s "
        + "(start every rank with the same MASTER_ADDR, MASTER_PORT and WORLD_SIZE) [\(message)]"
    }
    return "could not reach rank 0's store at \(e.masterAddress):\(e.masterPort) within \(Int(timeoutSeconds)) s: "
      + "is rank 0 running, and are the address and port right and reachable? [\(message)]"
  }

  /// The rows of a global batch of `total` that this rank trains on.
  public func shard(of total: Int) -> BatchShard { BatchShard(rank: rank, worldSize: worldSize, total: total) }

  /// Runs a collective, turning its failure into an error that says which rank saw it, what was under
  /// way, and which ranks had not got as far (from the progress each rank posts in the store before its
  /// step-level collectives; not before each layer's, whose store round trips would add up).
  func collective<R>(_ what: String, postsProgress: Bool = true, _ body: () throws -> R) throws -> R {
    do {
      if postsProgress {
        progress += 1
        try group.store.set(Self.progressKey(rank), String(progress))
      }
      return try body()
    } catch let error as TorchError {
      throw DataParallelError.collective(rank: rank, what: what, error.message + laggards())
    }
  }

  private var progress = 0
  private static func progressKey(_ rank: Int) -> String { keyPrefix + "progress/\(rank)" }
  /// The project's keys in the store (which torchrun's agent may share with keys of its own).
  static let keyPrefix = "agr/"

  /// "; rank 2 is behind (...)" for the ranks whose posted progress is below this rank's.
  private func laggards() -> String {
    var behind: [String] = []
    for other in 0..<worldSize where other != rank {
      do {
        guard try group.store.contains(Self.progressKey(other)) else {
          behind.append("rank \(other) never got here")
          continue
        }
        let reached = Int(try group.store.string(Self.progressKey(other))) ?? 0
        if reached < progress { behind.append("rank \(other) is behind, at collective \(reached) of this rank's \(progress)") }
      } catch {
        return "; rank 0's store does not answer: rank 0 probably died"
      }
    }
    return behind.isEmpty ? "" : "; " + behind.joined(separator: "; ") + ": it died, hung or stopped"
  }

  // MARK: the start of a job

  /// Fails on every rank, naming them, when the ranks' `settings` (e.g. `Trainer.sharedSettings`) differ.
  public func checkSameSettings(_ settings: String) throws {
    let key = Self.keyPrefix + "settings/"
    try collective("sharing the settings") { try group.store.set(key + String(rank), settings) }
    let all = try collective("comparing the settings") { try (0..<worldSize).map { try group.store.string(key + String($0)) } }
    let differing = all.indices.filter { all[$0] != all[0] }
    guard differing.isEmpty else {
      throw DataParallelError.mismatch("rank\(differing.count == 1 ? "" : "s") \(differing.map(String.init).joined(separator: ", ")) "
        + "started with settings different from rank 0's: start every rank with the same flags and files")
    }
  }

  /// Rank 0's `value` on every rank (e.g. the run directory, whose default name holds the time).
  public func agree(on value: String, key: String) throws -> String {
    let entry = Self.keyPrefix + "agree/" + key
    if rank == 0 { try collective("publishing \(key)") { try group.store.set(entry, value) } }
    return rank == 0 ? value : try collective("reading \(key) from rank 0") { try group.store.string(entry) }
  }

  /// Makes `model`'s BatchNorm layers normalise with statistics over all ranks' batches (`--sync-bn`).
  public func synchronizeBatchNorm(in model: any Module) {
    for case let layer as BatchNorm2d in model.allModules() {
      layer.statisticsSum = { [unowned self] local in
        try collective("the BatchNorm statistics all-reduce", postsProgress: false) {
          try self.group(for: local).allReduceSumDifferentiable(local, gradientWeight: currentShare)
        }
      }
    }
  }

  /// Makes every rank's `tensors` equal to rank 0's (weights, buffers and momentum at the start).
  public func broadcastFromRankZero(_ tensors: [Tensor]) throws {
    guard !tensors.isEmpty else { return }
    let bucket = try Tensor.cat(tensors.map { try $0.detached().to(.float32).flattened() })
    try collective("the broadcast of the starting weights") { try group(for: bucket).broadcast(bucket, from: 0) }
    try unpack(bucket, into: tensors)
  }

  // MARK: steps

  /// The overlapped all-reduce of `parameters`' gradients (nil with `bucketBytes` 0: the flat path).
  public func makeReducer(for parameters: [Tensor], bucketBytes: Int) throws -> GradientReducer? {
    guard bucketBytes > 0, !parameters.isEmpty else { return nil }
    return try GradientReducer(group: group(for: parameters[0]), parameters: parameters, bucketBytes: bucketBytes, slots: GradientSlot.allCases.count)
  }

  /// The step's exchange. `rows`: this rank's batch rows. Returns the global batch's mean gradients
  /// and weighted metrics and the summed counts; `buffers` are replaced in place by their mean over ranks.
  /// With a `reducer`, the gradients were captured by it during the backward passes (`method` and `clean`
  /// are then only their shapes and dtypes): its sums are collected first, and one small all-reduce carries
  /// the rest. Without, one flat bucket carries everything.
  public func average(method: [Tensor], clean: [Tensor]?, buffers: [Tensor], weighted: [Tensor], summed: [Tensor],
                      rows: Int, reducer: GradientReducer? = nil) throws
    -> (method: [Tensor], clean: [Tensor]?, weighted: [Tensor], summed: [Tensor])
  {
    let n = Double(rows)
    var reduced: (method: [Tensor], clean: [Tensor]?)?
    if let reducer {
      reduced = try collective("the gradient all-reduce") {
        (try reducer.finish(slot: GradientSlot.method.rawValue),
         try clean.map { _ in try reducer.finish(slot: GradientSlot.clean.rawValue) })
      }
    }
    var parts: [Tensor] = []
    if reduced == nil {
      parts += try method.map { try ($0.detached().to(.float32) * n).flattened() }
      if let clean { parts += try clean.map { try ($0.detached().to(.float32) * n).flattened() } }
    }
    parts += try buffers.map { try $0.to(.float32).flattened() }
    parts += try weighted.map { try ($0.to(.float32) * n).flattened() }
    parts += try summed.map { try $0.to(.float32).flattened() }
    parts.append(try Tensor.full([1], n))
    let bucket = try Tensor.cat(parts)
    bytesPerStep = bucket.count * 4 + (reduced.map { ($0.method + ($0.clean ?? [])).reduce(0) { $0 + $1.count } * 4 } ?? 0)
    try collective(reduced == nil ? "the gradient all-reduce" : "the all-reduce of the step's statistics") {
      try group(for: bucket).allReduceSum(bucket)
    }
    let total = try bucket.slice(bucket.count - 1, bucket.count)
    var offset = 0
    func take(_ like: [Tensor], divideBy divisor: Tensor?) throws -> [Tensor] {
      try like.map { tensor in
        let piece = try bucket.slice(offset, offset + tensor.count).reshaped(tensor.shape)
        offset += tensor.count
        let value = try divisor.map { try piece / $0 } ?? piece
        return try value.to(tensor.dtype)
      }
    }
    func mean(_ sums: [Tensor], like: [Tensor]) throws -> [Tensor] {
      try zip(sums, like).map { try ($0 / total).to($1.dtype) }
    }
    let globalMethod = try reduced.map { try mean($0.method, like: method) } ?? take(method, divideBy: total)
    let globalClean = try reduced.map { r in try r.clean.map { try mean($0, like: clean!) } }
      ?? clean.map { try take($0, divideBy: total) }
    let means = try take(buffers, divideBy: try Tensor.full([1], Double(worldSize)))
    try Autograd.withNoGrad { for (buffer, mean) in zip(buffers, means) { try buffer.copy_(mean) } }
    let globalWeighted = try take(weighted, divideBy: total)
    let globalSummed = try take(summed, divideBy: nil)
    return (globalMethod, globalClean, globalWeighted, globalSummed)
  }

  /// `gradients` of this rank's `rows` to their mean over the global batch (e.g. AWP's proxy step).
  public func averageGradients(_ gradients: [Tensor], rows: Int) throws -> [Tensor] {
    try average(method: gradients, clean: nil, buffers: [], weighted: [], summed: [], rows: rows).method
  }

  /// `values` summed over ranks (float64, e.g. the evaluation's loss sums and correct counts).
  public func sum(_ values: Tensor, what: String) throws -> Tensor {
    let bucket = try values.to(.float64).contiguous()
    try collective(what) { try group(for: bucket).allReduceSum(bucket) }
    return bucket
  }

  /// Whether any rank asks to stop (Ctrl-C there), so that all stop at the same step.
  public func anyRank(_ flag: Bool) throws -> Bool {
    let bucket = try Tensor.full([1], flag ? 1 : 0)
    try collective("agreeing whether to stop") { try group.allReduceSum(bucket) }
    return try bucket.item() > 0
  }

  /// Waits for every rank (e.g. before rank 0 reports the run done).
  public func barrier(_ what: String) throws { try collective(what) { try group.barrier() } }

  private func unpack(_ bucket: Tensor, into tensors: [Tensor]) throws {
    var offset = 0
    try Autograd.withNoGrad {
      for tensor in tensors {
        let piece = try bucket.slice(offset, offset + tensor.count).reshaped(tensor.shape)
        offset += tensor.count
        try tensor.copy_(piece)
      }
    }
  }
}
