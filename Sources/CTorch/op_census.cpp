// Operation census: the ATen operations libtorch dispatches while a census is open, through a global
// RecordFunction callback (the hook PyTorch's profiler uses), counting those that do work themselves:
// an operation counts when no operation it dispatched does work and it is not one that only makes
// a view, reads metadata or allocates (NO_KERNEL). Wrappers (aten::conv2d -> ... -> the convolution
// itself) count once, at the bottom; a multi-tensor aten::_foreach_* operation counts once where it takes
// CUDA's fused route and otherwise by what it dispatches (fused_route). Counted the same way on both sides,
// it compares how many kernels a step of ours and of PyTorch eager launch, even on a CPU
// (scripts/count_torch_ops.py).
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
// Per thread, one entry per operation still running.
struct Running {
  bool below = false;  // something it dispatched did work
  bool fused = false;  // a multi-tensor operation on its fused route (see fused_route)
};
thread_local std::vector<Running> running;
// Per thread, how many fused multi-tensor operations are running: one counts as one kernel whatever it
// dispatches (on a GPU one launch per chunk of tensors; on a CPU a loop of per-tensor operations).
thread_local int in_fused = 0;

bool is_foreach(const char *name) { return std::strncmp(name, "aten::_foreach_", 15) == 0; }

// Whether a multi-tensor operation takes CUDA's fused route, the way ATen decides it
// (check_fast_path_restrictions): every pair of corresponding tensors in its tensor lists has the same
// sizes. A list against a list of 0-dim factors (a per-tensor scale) does not, and on a GPU falls back to
// one operation per tensor: those are then counted, not the multi-tensor call. (ATen also compares strides,
// dtypes and devices, which agree in the steps counted here; count_torch_ops.py applies the same rule.)
bool fused_route(const at::RecordFunction &fn) {
  std::vector<c10::List<at::Tensor>> lists;
  for (const auto &input : fn.inputs())
    if (input.isTensorList()) lists.push_back(input.toTensorList());
  for (size_t l = 1; l < lists.size(); l++) {
    if (lists[l].size() != lists[0].size()) return false;
    for (size_t i = 0; i < lists[0].size(); i++)
      if (lists[l].get(i).sizes() != lists[0].get(i).sizes()) return false;
  }
  return true;
}

std::unique_ptr<at::ObserverContext> census_enter(const at::RecordFunction &fn) {
  Running entry;
  entry.fused = in_fused == 0 && is_foreach(fn.name()) && fused_route(fn);
  if (entry.fused) in_fused++;
  running.push_back(entry);
  return nullptr;
}

void census_exit(const at::RecordFunction &fn, at::ObserverContext *) {
  if (running.empty()) return;  // entered before the census opened
  Running entry = running.back();
  running.pop_back();
  const char *name = fn.name();
  if (entry.fused) in_fused--;
  // A multi-tensor operation off its fused route is a wrapper: what it dispatched counts.
  bool counts = entry.fused || (in_fused == 0 && !entry.below && !is_foreach(name) &&
                                std::strncmp(name, "aten::", 6) == 0 && NO_KERNEL.count(name) == 0);
  if ((counts || entry.below) && !running.empty()) running.back().below = true;
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
    in_fused = 0;
    census_handle = at::addGlobalCallback(at::RecordFunctionCallback(census_enter, census_exit).needsInputs(true));
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
