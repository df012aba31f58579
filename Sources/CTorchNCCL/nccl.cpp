// libctorch_nccl.so: c10d's ProcessGroupNCCL behind a plain C interface, for data-parallel CUDA ranks.
//
// ProcessGroupNCCL lives in libtorch_cuda.so, which CPU-only machines cannot load, so this is not part
// of the Swift package: scripts/build-nccl.sh builds it (with USE_C10D_NCCL and the nccl.h of the
// nvidia-nccl-cu13 wheel torch 2.11.0 pins), and the CTorch shim opens it with dlopen on first use
// (Sources/CTorch/nccl.cpp), after libtorch_cuda.so is loaded.
//
// The group is handed over as a c10d::Backend* carrying one reference (intrusive_ptr::release); the
// shim reclaims it. The store comes in the same way, as a c10d::Store* the caller keeps alive.
// Every function returns nullptr on success or a message (valid until the next failing call on the
// same thread); no C++ exception crosses this boundary.
#include <torch/csrc/distributed/c10d/ProcessGroupNCCL.hpp>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <chrono>
#include <string>

namespace {
thread_local std::string last_error;

template <typename F>
const char *guarded(F body) {
  try {
    body();
    return nullptr;
  } catch (const std::exception &e) {
    last_error = e.what();
  } catch (...) {
    last_error = "unknown C++ exception in ProcessGroupNCCL";
  }
  return last_error.c_str();
}
}  // namespace

extern "C" {

// A NCCL group of world_size ranks meeting at `store` (under the key prefix "agr/nccl"), bound to
// cuda:device and connected eagerly there; collectives fail after timeout_ms.
const char *ctn_process_group_new(void *store, int rank, int world_size, int device, int64_t timeout_ms,
                                  void **out_backend) {
  return guarded([&] {
    auto shared = c10::intrusive_ptr<c10d::Store>::reclaim_copy(static_cast<c10d::Store *>(store));
    auto prefixed = c10::make_intrusive<c10d::PrefixStore>("agr/nccl", shared);
    auto options = c10d::ProcessGroupNCCL::Options::create();
    options->timeout = std::chrono::milliseconds(timeout_ms);
    at::Device bound(at::kCUDA, static_cast<c10::DeviceIndex>(device));
    auto group = c10::make_intrusive<c10d::ProcessGroupNCCL>(prefixed, rank, world_size, options);
    group->setBoundDeviceId(bound);
    group->eagerConnectSingleDevice(bound);
    c10::intrusive_ptr<c10d::Backend> backend = group;
    *out_backend = backend.release();
  });
}

// NCCL's version as "major.minor.patch".
const char *ctn_nccl_version(char *buffer, int capacity) {
  return guarded([&] {
    auto version = c10d::getNcclVersion();
    std::snprintf(buffer, capacity, "%s", version.c_str());
  });
}

}  // extern "C"
