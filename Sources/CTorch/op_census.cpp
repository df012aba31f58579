// Operation census: the ATen operations libtorch dispatches while a census is open, through a global
// RecordFunction callback (the hook PyTorch's profiler uses), counting those that do work themselves:
// an operation counts when no operation it dispatched does work and it is not one that only makes
// a view, reads metadata or allocates (NO_KERNEL). Wrappers (aten::conv2d -> ... -> the convolution
// itself) count once, at the bottom; a multi-tensor aten::_foreach_* operation counts once. Counted the same way on both sides, it compares how many
// kernels a step of ours and of PyTorch eager launch, even on a CPU (scripts/count_torch_ops.py).
// A proxy: an operation that dispatches a helper which does work (a fill_ to initialise its output, a
// copy_ of a wrapped scalar) is counted under the helper's name, once.
#include "shim.h"
#include <ATen/record_function.h>
#include <cstring>
#include <map>
#include <mutex>
#include <set>
#include <sstream>

namespace {

// Launch no kernel on a GPU: views, metadata, allocation without initialisation (the same list is in
// scripts/count_torch_ops.py).
const std::set<std::string> NO_KERNEL = {
    "aten::view", "aten::_unsafe_view", "aten::as_strided", "aten::as_strided_", "aten::t", "aten::transpose",
    "aten::expand", "aten::select", "aten::slice", "aten::unsqueeze", "aten::unsqueeze_", "aten::squeeze",
    "aten::squeeze_", "aten::permute", "aten::detach", "aten::detach_", "aten::alias", "aten::empty",
    "aten::empty_like", "aten::empty_strided", "aten::resize_", "aten::resolve_conj", "aten::resolve_neg",
    "aten::lift_fresh", "aten::_reshape_alias", "aten::narrow", "aten::contiguous", "aten::to", "aten::reshape",
    "aten::view_as", "aten::requires_grad_", "aten::set_", "aten::result_type", "aten::size", "aten::stride",
    "aten::dim", "aten::is_same_size", "aten::_has_compatible_shallow_copy_type", "aten::retains_grad",
    "aten::output_nr", "aten::_version", "aten::flatten", "aten::unflatten", "aten::chunk", "aten::split",
    "aten::unbind", "aten::movedim", "aten::diagonal", "aten::expand_as", "aten::record_stream",
    "aten::split_with_sizes", "aten::_nested_tensor_from_mask_left_aligned",
};

std::mutex census_mutex;
std::map<std::string, int64_t> working;
int64_t dispatched = 0;
at::CallbackHandle census_handle = 0;
// Per thread, one entry per operation still running: whether something it dispatched did work.
thread_local std::vector<char> running;
// Per thread, how many multi-tensor (aten::_foreach_*) operations are running: one counts as one
// kernel whatever it dispatches (on a GPU it is one fused launch per chunk of tensors; elsewhere a
// loop of per-tensor operations).
thread_local int in_foreach = 0;

bool is_foreach(const char *name) { return std::strncmp(name, "aten::_foreach_", 15) == 0; }

std::unique_ptr<at::ObserverContext> census_enter(const at::RecordFunction &fn) {
  running.push_back(0);
  if (is_foreach(fn.name())) in_foreach++;
  return nullptr;
}

void census_exit(const at::RecordFunction &fn, at::ObserverContext *) {
  if (running.empty()) return;  // entered before the census opened
  bool below = running.back() != 0;
  running.pop_back();
  const char *name = fn.name();
  bool foreach = is_foreach(name);
  if (foreach) in_foreach--;
  bool counts = foreach ? in_foreach == 0
                        : in_foreach == 0 && !below && std::strncmp(name, "aten::", 6) == 0 && NO_KERNEL.count(name) == 0;
  if ((counts || below) && !running.empty()) running.back() = 1;
  if (std::strncmp(name, "aten::", 6) != 0) return;
  std::lock_guard<std::mutex> lock(census_mutex);
  dispatched++;
  if (counts) working[name]++;
}

}  // namespace

extern "C" {

int ctorch_op_census_start(void) {
  CT_TRY({
    std::lock_guard<std::mutex> lock(census_mutex);
    if (census_handle != 0) throw std::logic_error("an operation census is already open");
    working.clear();
    dispatched = 0;
    running.clear();
    in_foreach = 0;
    census_handle = at::addGlobalCallback(at::RecordFunctionCallback(census_enter, census_exit));
  })
}
int ctorch_op_census_stop(void) {
  CT_TRY({
    at::CallbackHandle handle;
    {
      std::lock_guard<std::mutex> lock(census_mutex);
      if (census_handle == 0) throw std::logic_error("no operation census is open");
      handle = census_handle;
      census_handle = 0;
    }
    at::removeCallback(handle);
  })
}

int ctorch_op_census_report(char *buf, size_t cap, size_t *needed, int64_t *calls) {
  CT_TRY({
    std::ostringstream out;
    std::lock_guard<std::mutex> lock(census_mutex);
    for (const auto &entry : working) out << entry.first << '\t' << entry.second << '\n';
    std::string text = out.str();
    *needed = text.size() + 1;
    *calls = dispatched;
    if (buf && cap >= text.size() + 1) std::memcpy(buf, text.c_str(), text.size() + 1);
  })
}

}  // extern "C"
