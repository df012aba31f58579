// Internal helpers shared by the shim's translation units.
#pragma once
#include <ATen/ATen.h>
#include <atomic>
#include <string>
#include <vector>
#include "include/ctorch.h"

namespace ctorch {

void set_error(const std::string &message);
// The folder of the running executable ("" when unknown).
std::string executable_dir();
extern std::atomic<int64_t> live;
extern std::atomic<int64_t> host_waits;

// Calls that make the host wait for a GPU: reading values back, copies between the host and a GPU,
// and indexing with a boolean mask (the result's size depends on the data). Counted on every device,
// so that CPU tests can show a code path has none.
inline void count_host_wait() { host_waits.fetch_add(1, std::memory_order_relaxed); }
inline void count_host_wait_if_mask(const at::Tensor &index) {
  if (index.scalar_type() == at::kBool) count_host_wait();
}

inline at::Tensor &T(ctorch_tensor t) {
  if (!t) throw std::invalid_argument("null tensor handle");
  return *reinterpret_cast<at::Tensor *>(t);
}
inline ctorch_tensor wrap(at::Tensor t) {
  live.fetch_add(1, std::memory_order_relaxed);
  return reinterpret_cast<ctorch_tensor>(new at::Tensor(std::move(t)));
}
inline c10::optional<at::Tensor> opt(ctorch_tensor t) {
  if (!t) return c10::nullopt;
  return T(t);
}
at::ScalarType scalar_type(ctorch_dtype dtype);
ctorch_dtype dtype_code(at::ScalarType s);
at::Device device(ctorch_device code);
ctorch_device device_code(const at::Device &d);
inline at::MemoryFormat memory_format(ctorch_memory_format f) {
  return f == CT_CHANNELS_LAST ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}
inline at::TensorOptions options(ctorch_dtype dtype, ctorch_device dev) {
  return at::TensorOptions().dtype(scalar_type(dtype)).device(device(dev));
}
inline std::vector<at::Tensor> list(const ctorch_tensor *ts, int64_t n) {
  std::vector<at::Tensor> v;
  v.reserve(n);
  for (int64_t i = 0; i < n; i++) v.push_back(T(ts[i]));
  return v;
}
c10::optional<at::Generator> generator(ctorch_generator g);

}  // namespace ctorch

// Runs body; turns every exception into -1 plus a message.
#define CT_TRY(...)                                              \
  try {                                                           \
    __VA_ARGS__;                                                  \
    return 0;                                                     \
  } catch (const std::exception &e) {                             \
    ctorch::set_error(e.what());                                  \
  } catch (...) {                                                 \
    ctorch::set_error("unknown C++ exception in libtorch");       \
  }                                                               \
  return -1;

#define CT_OUT(...) CT_TRY(*out = ctorch::wrap(__VA_ARGS__))
