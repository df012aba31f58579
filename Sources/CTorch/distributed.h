// Internal: the process group handle shared by distributed.cpp (Gloo, collectives), reducer.cpp (the
// bucketed gradient all-reduce) and nccl.cpp (the NCCL library's groups). Any c10d backend fits.
#pragma once
#include <torch/csrc/distributed/c10d/Backend.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include "shim.h"

namespace ctorch {
struct ProcessGroupHandle {
  c10::intrusive_ptr<c10d::Backend> group;
};
c10d::Backend &backend(ctorch_process_group g);
c10::intrusive_ptr<c10d::Store> store_pointer(ctorch_store s);
}  // namespace ctorch
