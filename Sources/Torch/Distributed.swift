import CTorch
import Foundation

/// c10d's TCPStore: the key-value rendezvous of a data-parallel job. The server (rank 0) listens on
/// `port`; the others connect to `host:port`. Creating one waits for all `worldSize` workers.
public final class TCPStore {
  let handle: OpaquePointer

  public init(host: String, port: Int, isServer: Bool, worldSize: Int, timeoutSeconds: Double) throws {
    var out: OpaquePointer?
    try check(ctorch_store_new(host, Int32(port), isServer ? 1 : 0, Int32(worldSize), Self.milliseconds(timeoutSeconds), &out))
    handle = out!
  }

  deinit { ctorch_store_free(handle) }

  public func set(_ key: String, _ value: [UInt8]) throws {
    try check(value.withUnsafeBufferPointer { ctorch_store_set(handle, key, $0.baseAddress, $0.count) })
  }

  public func set(_ key: String, _ value: String) throws { try set(key, Array(value.utf8)) }

  /// The value of `key`, waiting for it (up to the store's timeout).
  public func get(_ key: String) throws -> [UInt8] {
    var buffer = [UInt8](repeating: 0, count: 256)
    while true {
      var length = 0
      try check(buffer.withUnsafeMutableBufferPointer { ctorch_store_get(handle, key, $0.baseAddress, $0.count, &length) })
      if length <= buffer.count { return Array(buffer.prefix(length)) }
      buffer = [UInt8](repeating: 0, count: length)
    }
  }

  public func string(_ key: String) throws -> String { String(decoding: try get(key), as: UTF8.self) }

  /// Adds `delta` to the integer at `key` (0 when absent) and returns the sum.
  @discardableResult
  public func add(_ key: String, _ delta: Int) throws -> Int {
    var out: Int64 = 0
    try check(ctorch_store_add(handle, key, Int64(delta), &out))
    return Int(out)
  }

  public func contains(_ key: String) throws -> Bool {
    var out: Int32 = 0
    try check(ctorch_store_contains(handle, key, &out))
    return out != 0
  }

  static func milliseconds(_ seconds: Double) -> Int64 { Int64((seconds * 1000).rounded()) }

  /// A TCP port that was free on the loopback interface a moment ago (for a rendezvous on this machine).
  public static func freeLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    guard fd >= 0 else { throw TorchError("cannot open a socket to find a free port") }
    defer { close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
      $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0 }
    }
    guard bound else { throw TorchError("cannot bind a socket to find a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
  }
}

/// A c10d process group (Gloo, or NCCL on GPUs): collectives among `worldSize` processes that met at
/// `store`. Each call blocks until the collective is done, and fails (rather than hangs) after `timeoutSeconds`.
public final class ProcessGroup {
  let handle: OpaquePointer
  /// "gloo" or "nccl".
  public let backend: String
  public let rank: Int
  public let worldSize: Int
  /// Kept alive as long as the group: Gloo reads and writes its keys.
  public let store: TCPStore

  /// `interface` (a network interface name, as `GLOO_SOCKET_IFNAME`) or `hostname` choose the address
  /// Gloo binds to; with neither, this machine's hostname's (falling back to loopback).
  public convenience init(gloo store: TCPStore, rank: Int, worldSize: Int, interface: String? = nil, hostname: String? = nil,
              timeoutSeconds: Double) throws
  {
    var out: OpaquePointer?
    try check(ctorch_process_group_new_gloo(store.handle, Int32(rank), Int32(worldSize), interface, hostname,
                                            TCPStore.milliseconds(timeoutSeconds), &out))
    self.init(handle: out!, backend: "gloo", rank: rank, worldSize: worldSize, store: store)
  }

  /// A NCCL group (CUDA tensors on `cuda:device`), from libctorch_nccl.so (`NCCL.loadLibrary`).
  public convenience init(nccl store: TCPStore, rank: Int, worldSize: Int, device: Int, timeoutSeconds: Double) throws {
    var out: OpaquePointer?
    try check(ctorch_process_group_new_nccl(store.handle, Int32(rank), Int32(worldSize), Int32(device),
                                            TCPStore.milliseconds(timeoutSeconds), &out))
    self.init(handle: out!, backend: "nccl", rank: rank, worldSize: worldSize, store: store)
  }

  private init(handle: OpaquePointer, backend: String, rank: Int, worldSize: Int, store: TCPStore) {
    self.handle = handle
    self.backend = backend
    self.rank = rank
    self.worldSize = worldSize
    self.store = store
  }

  deinit { ctorch_process_group_free(handle) }

  /// Replaces `tensor` (in place) by its sum over all ranks.
  public func allReduceSum(_ tensor: Tensor) throws { try check(ctorch_process_group_allreduce_sum(handle, tensor.handle)) }

  /// The sum of `tensor` over all ranks as a new tensor, through which gradients flow: the backward pass
  /// sums each rank's incoming gradient times its `gradientWeight` and divides by this rank's (so that
  /// gradients scaled by the weight afterwards are those of the weighted sum of the ranks' losses).
  public func allReduceSumDifferentiable(_ tensor: Tensor, gradientWeight: Double) throws -> Tensor {
    try make { ctorch_process_group_allreduce_sum_differentiable(handle, tensor.handle, gradientWeight, $0) }
  }

  /// Replaces `tensor` (in place) on every rank by rank `root`'s.
  public func broadcast(_ tensor: Tensor, from root: Int = 0) throws {
    try check(ctorch_process_group_broadcast(handle, tensor.handle, Int32(root)))
  }

  public func barrier() throws { try check(ctorch_process_group_barrier(handle)) }
}

/// libctorch_nccl.so: c10d's ProcessGroupNCCL, built apart (scripts/build-nccl.sh) because it links
/// libtorch_cuda.so, and opened on first use on GPU machines only.
public enum NCCL {
  /// Opens the library (`path`, else `$AGR_NCCL_LIBRARY`, else libctorch_nccl.so beside the executable);
  /// needs CUDA (`CUDA.load()`); fails with the reason and what to do.
  public static func loadLibrary(path: String? = nil) throws { try check(ctorch_nccl_library_load(path)) }

  /// The path `loadLibrary(path:)` opens.
  public static func libraryPath(_ path: String? = nil) -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    guard ctorch_nccl_library_path(path, &buffer, buffer.count) == 0 else { return path ?? "libctorch_nccl.so" }
    return String(cString: buffer)
  }

  /// Opens the library without asking for CUDA: on a CPU-only machine this fails at dlopen (libtorch_cuda.so
  /// cannot load), with the message a user would see; a missing file or symbol is named the same way.
  public static func probeLibrary(path: String? = nil) throws { try check(ctorch_nccl_library_probe(path)) }

  /// NCCL's version ("2.28.9"), once the library is loaded.
  public static func version() throws -> String {
    var buffer = [CChar](repeating: 0, count: 64)
    try check(ctorch_nccl_version(&buffer, Int32(buffer.count)))
    return String(cString: buffer)
  }
}
