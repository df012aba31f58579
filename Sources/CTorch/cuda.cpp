// CUDA: libtorch_cuda.so is loaded at run time (CPU machines cannot load it), then reached
// through ATen's hooks; a few CUDA runtime entry points are looked up with dlsym.
#include "shim.h"
#include <ATen/autocast_mode.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <c10/core/CachingDeviceAllocator.h>
#include <c10/core/Event.h>
#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>
#include <dlfcn.h>
#include <link.h>
#include <cstring>
#include <mutex>

using namespace ctorch;

static std::mutex load_mutex;

// Per thread and device type (0 CPU, 1 CUDA): the autocast state of each enclosing scope.
struct AutocastSaved {
  bool enabled;
  at::ScalarType dtype;
};
static thread_local std::vector<AutocastSaved> autocast_saved[2];
static bool loaded = false;

static int find_torch_cpu(struct dl_phdr_info *info, size_t, void *data) {
  std::string name = info->dlpi_name ? info->dlpi_name : "";
  const std::string suffix = "/libtorch_cpu.so";
  if (name.size() >= suffix.size() && name.compare(name.size() - suffix.size(), suffix.size(), suffix) == 0) {
    *static_cast<std::string *>(data) = name.substr(0, name.size() - suffix.size());
    return 1;
  }
  return 0;
}

// The folder of the libtorch_cpu.so this process loaded: libtorch_cuda.so of the same build sits beside it.
static std::string torch_lib_dir() {
  std::string dir;
  dl_iterate_phdr(find_torch_cpu, &dir);
  if (dir.empty()) throw std::runtime_error("cannot locate the loaded libtorch_cpu.so");
  return dir;
}

static void require_cuda(int device) {
  if (!loaded || !at::hasCUDA()) throw std::runtime_error("CUDA is not available: call Torch.loadCUDA() on a machine with an NVIDIA GPU");
  int n = at::detail::getCUDAHooks().getNumGPUs();
  if (device < 0 || device >= n)
    throw std::invalid_argument("CUDA device " + std::to_string(device) + " does not exist (" + std::to_string(n) + " found)");
}

template <typename F>
static F cudart(const char *name) {
  void *f = dlsym(RTLD_DEFAULT, name);
  if (!f) throw std::runtime_error(std::string("CUDA runtime symbol not found: ") + name);
  return reinterpret_cast<F>(f);
}

extern "C" {

int ctorch_cuda_load(void) {
  CT_TRY({
    std::lock_guard<std::mutex> lock(load_mutex);
    if (loaded) return 0;
    std::string path = torch_lib_dir() + "/libtorch_cuda.so";
    void *h = dlopen(path.c_str(), RTLD_NOW | RTLD_GLOBAL);
    if (!h) {
      const char *e = dlerror();
      throw std::runtime_error("cannot load " + path + ": " + (e ? e : "unknown dlopen error"));
    }
    if (!at::hasCUDA()) throw std::runtime_error("libtorch_cuda.so loaded but no CUDA device or driver was found");
    loaded = true;
  })
}
int ctorch_cuda_is_available(void) {
  try {
    return loaded && at::hasCUDA() ? 1 : 0;
  } catch (...) {
    return 0;
  }
}
int ctorch_cuda_device_count(void) {
  try {
    return loaded ? at::detail::getCUDAHooks().getNumGPUs() : 0;
  } catch (...) {
    return 0;
  }
}
int ctorch_cuda_device_name(int device, char *buf, size_t cap) {
  CT_TRY({
    require_cuda(device);
    // cudaDeviceProp begins with char name[256]; the struct is far smaller than 16 KiB.
    std::vector<char> prop(16384, 0);
    typedef int (*props_fn)(void *, int);
    props_fn f;
    try {
      f = cudart<props_fn>("cudaGetDeviceProperties_v2");
    } catch (...) {
      f = cudart<props_fn>("cudaGetDeviceProperties");
    }
    int rc = f(prop.data(), device);
    if (rc != 0) throw std::runtime_error("cudaGetDeviceProperties failed with code " + std::to_string(rc));
    std::snprintf(buf, cap, "%s", prop.data());
  })
}
int ctorch_cuda_synchronize(int device) {
  CT_TRY({
    require_cuda(device);
    at::detail::getCUDAHooks().deviceSynchronize(static_cast<c10::DeviceIndex>(device));
  })
}
int ctorch_cuda_memory_stats(int device, int64_t *allocated, int64_t *peak, int64_t *reserved) {
  CT_TRY({
    require_cuda(device);
    auto stats = c10::getDeviceAllocator(at::kCUDA)->getDeviceStats(static_cast<c10::DeviceIndex>(device));
    auto all = static_cast<size_t>(c10::CachingAllocator::StatType::AGGREGATE);
    *allocated = stats.allocated_bytes[all].current;
    *peak = stats.allocated_bytes[all].peak;
    *reserved = stats.reserved_bytes[all].current;
  })
}
int ctorch_cuda_reset_peak(int device) {
  CT_TRY({
    require_cuda(device);
    c10::getDeviceAllocator(at::kCUDA)->resetPeakStats(static_cast<c10::DeviceIndex>(device));
  })
}
int ctorch_make_pinned_zeros(const int64_t *shape, int64_t ndim, ctorch_dtype dtype, ctorch_tensor *out) {
  CT_TRY({
    require_cuda(0);
    *out = wrap(at::zeros(at::IntArrayRef(shape, ndim), at::TensorOptions().dtype(scalar_type(dtype)).pinned_memory(true)));
  })
}

// Device-generic c10 streams and events (no CUDA headers): the CUDA implementations registered by libtorch_cuda.
int ctorch_cuda_copy_on_side_stream(ctorch_tensor t, ctorch_device dev, ctorch_tensor *out) {
  CT_TRY({
    auto target = device(dev);
    if (!target.is_cuda()) throw std::invalid_argument("copy_on_side_stream: the target must be a CUDA device");
    c10::impl::VirtualGuardImpl guard_impl(c10::DeviceType::CUDA);
    if (!target.has_index()) target = c10::Device(c10::DeviceType::CUDA, guard_impl.getDevice().index());
    require_cuda(target.index());
    c10::Stream compute = guard_impl.getStream(target);
    c10::Stream side = guard_impl.getStreamFromGlobalPool(target, /*isHighPriority=*/false);
    at::Tensor copied;
    {
      c10::StreamGuard on_side(side);
      copied = T(t).to(target, /*non_blocking=*/true);
    }
    c10::Event ready(c10::DeviceType::CUDA);
    ready.record(side);
    ready.block(compute);
    copied.record_stream(compute);
    *out = wrap(copied);
  })
}

int ctorch_cuda_runtime_version(int *out) {
  CT_TRY({
    require_cuda(0);
    *out = static_cast<int>(at::detail::getCUDAHooks().versionCUDART());
  })
}
int ctorch_set_cudnn_benchmark(int on) { CT_TRY(at::globalContext().setBenchmarkCuDNN(on != 0)) }
int ctorch_set_cuda_tf32(int convolutions, int matmuls) {
  CT_TRY({
    auto &context = at::globalContext();
    auto precision = [](int on) { return on ? at::Float32Precision::TF32 : at::Float32Precision::IEEE; };
    context.setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::CONV, precision(convolutions));
    context.setFloat32Precision(at::Float32Backend::CUDA, at::Float32Op::MATMUL, precision(matmuls));
  })
}
int ctorch_get_cuda_tf32(int *convolutions, int *matmuls) {
  CT_TRY({
    auto &context = at::globalContext();
    *convolutions = context.float32Precision(at::Float32Backend::CUDA, at::Float32Op::CONV) == at::Float32Precision::TF32;
    *matmuls = context.float32Precision(at::Float32Backend::CUDA, at::Float32Op::MATMUL) == at::Float32Precision::TF32;
  })
}

int ctorch_autocast_enter(ctorch_device_type device_type, ctorch_dtype dtype) {
  CT_TRY({
    auto dt = device_type == CT_DEVICE_TYPE_CUDA ? at::kCUDA : at::kCPU;
    auto type = scalar_type(dtype);
    // Remember the enclosing scope's state so that exit restores it (nested scopes).
    autocast_saved[device_type == CT_DEVICE_TYPE_CUDA].push_back({at::autocast::is_autocast_enabled(dt), at::autocast::get_autocast_dtype(dt)});
    at::autocast::set_autocast_dtype(dt, type);
    at::autocast::set_autocast_enabled(dt, true);
    at::autocast::increment_nesting();
  })
}
int ctorch_autocast_exit(ctorch_device_type device_type) {
  CT_TRY({
    auto dt = device_type == CT_DEVICE_TYPE_CUDA ? at::kCUDA : at::kCPU;
    auto &saved = autocast_saved[device_type == CT_DEVICE_TYPE_CUDA];
    if (saved.empty()) {
      at::autocast::set_autocast_enabled(dt, false);
    } else {
      at::autocast::set_autocast_enabled(dt, saved.back().enabled);
      at::autocast::set_autocast_dtype(dt, saved.back().dtype);
      saved.pop_back();
    }
    if (at::autocast::decrement_nesting() == 0) at::autocast::clear_cache();
  })
}

}  // extern "C"
