import Foundation
import Torch

extension DataParallel {
  /// The device this rank trains on for a configuration's `device`, with the gradients' group made ready:
  /// CPU ranks stay on the CPU over Gloo; CUDA ranks use `cuda:LOCAL_RANK`, over NCCL by default
  /// (libctorch_nccl.so) or over Gloo (`--dist-backend gloo`, staged through host memory). CUDA must be
  /// loaded first. Errors name the flag to change.
  public func prepare(device: Device) throws -> Device {
    guard device.isCUDA else {
      if options.backend == .nccl {
        throw DataParallelError.environment(
          "--dist-backend nccl needs CUDA ranks (--device cuda); ranks on the CPU use gloo, the default there")
      }
      self.device = device
      return device
    }
    let local = environment.localRank
    let available = CUDA.deviceCount
    // A rehearsal on one GPU (scripts/gpu-data-parallel.sh): ranks share GPUs, rank r on cuda:(LOCAL_RANK mod count).
    let shared = ProcessInfo.processInfo.environment[Self.shareDeviceVariable] == "1"
    let backend = options.backend ?? .nccl
    guard available > 0, local < available || shared else {
      throw DataParallelError.environment(
        "rank \(rank) would use cuda:\(local) (LOCAL_RANK \(local)), but this machine has \(available) GPU\(available == 1 ? "" : "s"): "
          + "start at most \(available) ranks per machine (--nproc-per-node)")
    }
    if shared && local >= available && backend == .nccl {
      throw DataParallelError.environment(
        "\(Self.shareDeviceVariable)=1 puts several ranks on one GPU, which NCCL refuses: use --dist-backend gloo")
    }
    let chosen = Device.cuda(local % available)
    if backend == .nccl && deviceGroup.backend != "nccl" {
      do {
        try NCCL.loadLibrary()
        deviceGroup = try ProcessGroup(nccl: group.store, rank: rank, worldSize: worldSize, device: local % available,
                                       timeoutSeconds: timeoutSeconds)
      } catch let error as TorchError {
        throw DataParallelError.rendezvous(rank: rank, "the NCCL backend is not usable (\(error.message)); "
          + "--dist-backend gloo trains CUDA ranks over Gloo instead, through host memory")
      }
    }
    self.device = chosen
    return chosen
  }

  /// Set to 1, ranks may share GPUs (rank r on cuda:(LOCAL_RANK mod GPU count); Gloo only): for rehearsals.
  public static let shareDeviceVariable = "AGR_CUDA_RANKS_SHARE_DEVICE"

  /// The group for collectives on `tensor`: the device group for CUDA tensors, Gloo for CPU ones.
  func group(for tensor: Tensor) -> ProcessGroup { tensor.device.isCUDA ? deviceGroup : group }
}
