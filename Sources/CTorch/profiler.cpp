// Profiler traces: PyTorch's own profiler (Kineto; on a GPU its CUDA activity through CUPTI), started
// and stopped around some code and saved as a Chrome trace (chrome://tracing, Perfetto), the format
// torch.profiler's export_chrome_trace writes, so that ours and PyTorch eager's read the same way
// (scripts/trace_summary.py: how busy the GPU was, and with what).
#include "shim.h"
#include <torch/csrc/autograd/profiler_kineto.h>
#include <set>

namespace {
using torch::profiler::impl::ActivityType;
using torch::profiler::impl::ProfilerConfig;
using torch::profiler::impl::ProfilerState;

std::set<ActivityType> activities(int cuda) {
  std::set<ActivityType> set{ActivityType::CPU};
  if (cuda) set.insert(ActivityType::CUDA);
  return set;
}
}  // namespace

extern "C" {

int ctorch_profiler_start(int cuda) {
  CT_TRY({
    if (torch::profiler::impl::profilerEnabled()) throw std::logic_error("a profiler is already running");
    ProfilerConfig config(ProfilerState::KINETO);
    torch::autograd::profiler::prepareProfiler(config, activities(cuda));
    torch::autograd::profiler::enableProfiler(config, activities(cuda));
  })
}

int ctorch_profiler_stop(const char *path) {
  CT_TRY({
    if (!torch::profiler::impl::profilerEnabled()) throw std::logic_error("no profiler is running");
    auto result = torch::autograd::profiler::disableProfiler();
    if (result && path) result->save(path);
  })
}

}  // extern "C"
