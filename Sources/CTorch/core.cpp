// Errors, dtype/device mapping, tensor lifetime and properties, creation, generators.
#include "shim.h"
#include <unistd.h>
#include <ATen/CPUGeneratorImpl.h>
#include <ATen/Parallel.h>
#include <ATen/detail/CUDAHooksInterface.h>
#include <torch/version.h>
#include <cstring>
#include <sstream>

using namespace ctorch;

namespace ctorch {
static thread_local std::string last_error;
std::atomic<int64_t> live{0};
std::atomic<int64_t> host_waits{0};

// The folder of the running executable, where agr looks for the libraries it opens on GPU machines.
std::string executable_dir() {
  char buf[4096];
  ssize_t n = readlink("/proc/self/exe", buf, sizeof(buf) - 1);
  if (n <= 0) return "";
  std::string path(buf, n);
  auto slash = path.rfind('/');
  return slash == std::string::npos ? "" : path.substr(0, slash);
}

void set_error(const std::string &message) {
  // libtorch appends a C++ backtrace to some messages; keep the part a user can act on.
  auto cut = message.find("\nException raised from");
  last_error = cut == std::string::npos ? message : message.substr(0, cut);
}

at::ScalarType scalar_type(ctorch_dtype dtype) {
  switch (dtype) {
    case CT_FLOAT32: return at::kFloat;
    case CT_BFLOAT16: return at::kBFloat16;
    case CT_FLOAT16: return at::kHalf;
    case CT_INT64: return at::kLong;
    case CT_UINT8: return at::kByte;
    case CT_BOOL: return at::kBool;
    case CT_FLOAT64: return at::kDouble;
    case CT_INT32: return at::kInt;
  }
  throw std::invalid_argument("unknown dtype code " + std::to_string(static_cast<int32_t>(dtype)));
}

ctorch_dtype dtype_code(at::ScalarType s) {
  switch (s) {
    case at::kFloat: return CT_FLOAT32;
    case at::kBFloat16: return CT_BFLOAT16;
    case at::kHalf: return CT_FLOAT16;
    case at::kLong: return CT_INT64;
    case at::kByte: return CT_UINT8;
    case at::kBool: return CT_BOOL;
    case at::kDouble: return CT_FLOAT64;
    case at::kInt: return CT_INT32;
    default: throw std::invalid_argument(std::string("unsupported dtype ") + c10::toString(s));
  }
}

at::Device device(ctorch_device code) {
  if (code < 0) return at::Device(at::kCPU);
  return at::Device(at::kCUDA, static_cast<c10::DeviceIndex>(code));
}

ctorch_device device_code(const at::Device &d) {
  if (!d.is_cuda()) return CT_CPU;
  return static_cast<ctorch_device>(d.index() < 0 ? 0 : d.index());
}

c10::optional<at::Generator> generator(ctorch_generator g) {
  if (!g) return c10::nullopt;
  return *reinterpret_cast<at::Generator *>(g);
}
}  // namespace ctorch

extern "C" {

const char *ctorch_last_error(void) { return last_error.c_str(); }
const char *ctorch_version(void) { return TORCH_VERSION; }
int64_t ctorch_live_tensors(void) { return live.load(); }
int64_t ctorch_host_waits(void) { return host_waits.load(); }

void ctorch_manual_seed(uint64_t seed) {
  try {
    at::manual_seed(seed);
  } catch (...) {
  }
}
int ctorch_set_num_threads(int n) { CT_TRY(at::set_num_threads(n)) }
int ctorch_get_num_threads(void) { return at::get_num_threads(); }

void ctorch_tensor_free(ctorch_tensor t) {
  if (!t) return;
  delete reinterpret_cast<at::Tensor *>(t);
  live.fetch_sub(1, std::memory_order_relaxed);
}

int ctorch_tensor_dim(ctorch_tensor t, int64_t *out) { CT_TRY(*out = T(t).dim()) }
int ctorch_tensor_shape(ctorch_tensor t, int64_t *out, int64_t cap) {
  CT_TRY({
    auto s = T(t).sizes();
    if ((int64_t)s.size() > cap) throw std::invalid_argument("shape buffer too small");
    for (size_t i = 0; i < s.size(); i++) out[i] = s[i];
  })
}
int ctorch_tensor_strides(ctorch_tensor t, int64_t *out, int64_t cap) {
  CT_TRY({
    auto s = T(t).strides();
    if ((int64_t)s.size() > cap) throw std::invalid_argument("stride buffer too small");
    for (size_t i = 0; i < s.size(); i++) out[i] = s[i];
  })
}
int ctorch_tensor_numel(ctorch_tensor t, int64_t *out) { CT_TRY(*out = T(t).numel()) }
int ctorch_tensor_dtype(ctorch_tensor t, ctorch_dtype *out) { CT_TRY(*out = dtype_code(T(t).scalar_type())) }
int ctorch_tensor_device(ctorch_tensor t, ctorch_device *out) { CT_TRY(*out = device_code(T(t).device())) }
int ctorch_tensor_is_contiguous(ctorch_tensor t, ctorch_memory_format format, int *out) {
  CT_TRY(*out = T(t).is_contiguous(memory_format(format)))
}

int ctorch_tensor_copy_out(ctorch_tensor t, ctorch_dtype dtype, void *dst, size_t bytes) {
  CT_TRY({
    count_host_wait();
    auto c = T(t).detach().to(at::kCPU, scalar_type(dtype)).contiguous();
    size_t need = c.numel() * c.element_size();
    if (need != bytes)
      throw std::invalid_argument("copy_out: buffer holds " + std::to_string(bytes) + " bytes, tensor needs " +
                                  std::to_string(need));
    if (need) std::memcpy(dst, c.data_ptr(), need);
  })
}

int ctorch_tensor_host_data(ctorch_tensor t, void **out, size_t *bytes) {
  CT_TRY({
    auto &x = T(t);
    if (!x.device().is_cpu() || !x.is_contiguous())
      throw std::invalid_argument("host_data: the tensor must be a contiguous CPU tensor");
    *out = x.data_ptr();
    *bytes = static_cast<size_t>(x.numel()) * x.element_size();
  })
}
int ctorch_tensor_item(ctorch_tensor t, double *out) { CT_TRY({ count_host_wait(); *out = T(t).item<double>(); }) }

int ctorch_tensor_description(ctorch_tensor t, char *buf, size_t cap) {
  CT_TRY({
    count_host_wait();
    std::ostringstream s;
    s << T(t);
    auto str = s.str();
    std::snprintf(buf, cap, "%s", str.c_str());
  })
}

int ctorch_make_from_data(const void *data, ctorch_dtype src_dtype, const int64_t *shape, int64_t ndim,
                          ctorch_device dev, ctorch_tensor *out) {
  count_host_wait();  // a copy from host memory (blocking when it goes to a GPU); counted on every device
  CT_OUT(at::from_blob(const_cast<void *>(data), at::IntArrayRef(shape, ndim), options(src_dtype, CT_CPU))
             .to(device(dev), /*non_blocking=*/false, /*copy=*/true))
}
int ctorch_make_full(const int64_t *shape, int64_t ndim, double value, ctorch_dtype dtype, ctorch_device dev,
                     ctorch_tensor *out) {
  CT_OUT(at::full(at::IntArrayRef(shape, ndim), value, options(dtype, dev)))
}
int ctorch_make_arange(double start, double end, double step, ctorch_dtype dtype, ctorch_device dev,
                       ctorch_tensor *out) {
  CT_OUT(at::arange(start, end, step, options(dtype, dev)))
}
int ctorch_make_rand(const int64_t *shape, int64_t ndim, int normal, ctorch_dtype dtype, ctorch_device dev,
                     ctorch_generator gen, ctorch_tensor *out) {
  CT_OUT(normal ? at::randn(at::IntArrayRef(shape, ndim), generator(gen), options(dtype, dev))
                : at::rand(at::IntArrayRef(shape, ndim), generator(gen), options(dtype, dev)))
}
int ctorch_make_randint(int64_t low, int64_t high, const int64_t *shape, int64_t ndim, ctorch_device dev,
                        ctorch_generator gen, ctorch_tensor *out) {
  CT_OUT(at::randint(low, high, at::IntArrayRef(shape, ndim), generator(gen), options(CT_INT64, dev)))
}
int ctorch_make_randperm(int64_t n, ctorch_device dev, ctorch_generator gen, ctorch_tensor *out) {
  CT_OUT(at::randperm(n, generator(gen), options(CT_INT64, dev)))
}
int ctorch_make_like(ctorch_tensor t, double value, ctorch_like_kind kind, ctorch_tensor *out) {
  CT_OUT(kind == CT_LIKE_EMPTY ? at::empty_like(T(t)) : at::full_like(T(t), value))
}

// ---- generators ----
static at::Generator new_generator(uint64_t seed, ctorch_device dev) {
  if (dev < 0) return at::make_generator<at::CPUGeneratorImpl>(seed);
  auto g = at::detail::getCUDAHooks().getNewGenerator(static_cast<c10::DeviceIndex>(dev));
  g.set_current_seed(seed);
  return g;
}

int ctorch_gen_new(uint64_t seed, ctorch_device dev, ctorch_generator *out) {
  CT_TRY(*out = reinterpret_cast<ctorch_generator>(new at::Generator(new_generator(seed, dev))))
}
void ctorch_gen_free(ctorch_generator g) { delete reinterpret_cast<at::Generator *>(g); }
int ctorch_gen_default(ctorch_device dev, ctorch_generator *out) {
  CT_TRY({
    at::Generator g = dev < 0 ? at::detail::getDefaultCPUGenerator()
                              : at::detail::getCUDAHooks().getDefaultGenerator(static_cast<c10::DeviceIndex>(dev));
    *out = reinterpret_cast<ctorch_generator>(new at::Generator(g));
  })
}
int ctorch_gen_get_state(ctorch_generator g, ctorch_tensor *out) {
  CT_TRY({
    auto &gen = *reinterpret_cast<at::Generator *>(g);
    std::lock_guard<std::mutex> lock(gen.mutex());
    *out = wrap(gen.get_state());
  })
}
int ctorch_gen_set_state(ctorch_generator g, ctorch_tensor state) {
  CT_TRY({
    auto &gen = *reinterpret_cast<at::Generator *>(g);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_state(T(state));
  })
}
int ctorch_gen_seed(ctorch_generator g, uint64_t seed) {
  CT_TRY({
    auto &gen = *reinterpret_cast<at::Generator *>(g);
    std::lock_guard<std::mutex> lock(gen.mutex());
    gen.set_current_seed(seed);
  })
}

}  // extern "C"
