// c10d: a TCPStore for the rendezvous and a Gloo process group for the collectives, both from
// libtorch_cpu.so. The wheel has no Gloo headers: see gloo-declarations/README.md.
#include "distributed.h"
#include <torch/csrc/autograd/custom_function.h>
#include <torch/csrc/distributed/c10d/PrefixStore.hpp>
#include <torch/csrc/distributed/c10d/ProcessGroupGloo.hpp>
#include <torch/csrc/distributed/c10d/TCPStore.hpp>
#include <algorithm>
#include <chrono>
#include <cstring>

using namespace ctorch;

namespace {
struct Store {
  c10::intrusive_ptr<c10d::TCPStore> store;
};
Store &S(ctorch_store s) {
  if (!s) throw std::invalid_argument("null store handle");
  return *reinterpret_cast<Store *>(s);
}
}  // namespace

namespace ctorch {
c10::intrusive_ptr<c10d::Store> store_pointer(ctorch_store s) { return S(s).store; }
c10d::Backend &backend(ctorch_process_group g) {
  if (!g) throw std::invalid_argument("null process group handle");
  return *reinterpret_cast<ProcessGroupHandle *>(g)->group;
}
}  // namespace ctorch

namespace {
// c10d logs each failed connection attempt and timeout (with C++ backtraces) before it throws; the
// exception's message is what reaches the user, in an error that says what to do, so the log is muted
// while a c10d call runs.
struct QuietC10d {
  int saved = FLAGS_caffe2_log_level;
  QuietC10d() { FLAGS_caffe2_log_level = std::max(saved, 3); }
  ~QuietC10d() { FLAGS_caffe2_log_level = saved; }
};
void allreduce_sum(c10d::Backend &group, at::Tensor &t) {
  std::vector<at::Tensor> tensors{t};
  c10d::AllreduceOptions options;
  options.reduceOp = c10d::ReduceOp::SUM;
  group.allreduce(tensors, options)->wait();
}

// y = the sum over ranks of x; its backward is again a sum over ranks of the incoming gradients, each
// weighted by its rank's `weight` (the share of the global loss that rank's loss carries) and the result
// divided by this rank's weight, for callers that scale each rank's gradient by its weight afterwards.
struct DifferentiableAllReduce : public torch::autograd::Function<DifferentiableAllReduce> {
  static at::Tensor forward(torch::autograd::AutogradContext *ctx, const at::Tensor &x, int64_t group, double weight) {
    ctx->saved_data["group"] = group;
    ctx->saved_data["weight"] = weight;
    auto y = x.contiguous().clone();
    allreduce_sum(*reinterpret_cast<c10d::Backend *>(group), y);
    return y;
  }
  static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                 torch::autograd::variable_list grads) {
    auto group = reinterpret_cast<c10d::Backend *>(ctx->saved_data["group"].toInt());
    double weight = ctx->saved_data["weight"].toDouble();
    auto g = (grads[0] * weight).contiguous();
    allreduce_sum(*group, g);
    return {g / weight, at::Tensor(), at::Tensor()};
  }
};
}  // namespace

extern "C" {

int ctorch_store_new(const char *host, int port, int is_server, int world_size, int64_t timeout_ms, ctorch_store *out) {
  CT_TRY({
    QuietC10d quiet;
    c10d::TCPStoreOptions options;
    options.port = static_cast<uint16_t>(port);
    options.isServer = is_server != 0;
    options.numWorkers = world_size;
    options.waitWorkers = true;
    options.timeout = std::chrono::milliseconds(timeout_ms);
    auto store = c10::make_intrusive<c10d::TCPStore>(std::string(host), options);
    *out = reinterpret_cast<ctorch_store>(new Store{std::move(store)});
  })
}

void ctorch_store_free(ctorch_store s) { delete reinterpret_cast<Store *>(s); }

int ctorch_store_set(ctorch_store s, const char *key, const uint8_t *value, size_t n) {
  CT_TRY(QuietC10d quiet; S(s).store->set(key, std::vector<uint8_t>(value, value + n)))
}

int ctorch_store_get(ctorch_store s, const char *key, uint8_t *buf, size_t cap, size_t *n) {
  CT_TRY({
    QuietC10d quiet;
    auto value = S(s).store->get(key);
    *n = value.size();
    if (value.size() <= cap && !value.empty()) std::memcpy(buf, value.data(), value.size());
  })
}

int ctorch_store_add(ctorch_store s, const char *key, int64_t delta, int64_t *out) {
  CT_TRY(QuietC10d quiet; *out = S(s).store->add(key, delta))
}

int ctorch_store_contains(ctorch_store s, const char *key, int *out) {
  CT_TRY(QuietC10d quiet; *out = S(s).store->check({std::string(key)}) ? 1 : 0)
}

int ctorch_process_group_new_gloo(ctorch_store s, int rank, int world_size, const char *interface, const char *hostname,
                                  int64_t timeout_ms, ctorch_process_group *out) {
  CT_TRY({
    QuietC10d quiet;
    auto options = c10d::ProcessGroupGloo::Options::create(std::chrono::milliseconds(timeout_ms));
    if (interface && *interface) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForInterface(interface));
    } else if (hostname && *hostname) {
      options->devices.push_back(c10d::ProcessGroupGloo::createDeviceForHostname(hostname));
    } else {
      options->devices.push_back(c10d::ProcessGroupGloo::createDefaultDevice());
    }
    // Gloo's rendezvous keys live under a prefix of their own, beside the project's keys in the same store.
    auto store = c10::make_intrusive<c10d::PrefixStore>("agr/gloo", S(s).store);
    c10::intrusive_ptr<c10d::Backend> group = c10::make_intrusive<c10d::ProcessGroupGloo>(store, rank, world_size, options);
    *out = reinterpret_cast<ctorch_process_group>(new ProcessGroupHandle{std::move(group)});
  })
}

void ctorch_process_group_free(ctorch_process_group g) { delete reinterpret_cast<ProcessGroupHandle *>(g); }

int ctorch_process_group_allreduce_sum(ctorch_process_group g, ctorch_tensor t) {
  CT_TRY({
    QuietC10d quiet;
    allreduce_sum(backend(g), T(t));
  })
}

int ctorch_process_group_allreduce_sum_differentiable(ctorch_process_group g, ctorch_tensor t, double gradient_weight,
                                                      ctorch_tensor *out) {
  CT_TRY({
    QuietC10d quiet;
    if (!(gradient_weight > 0)) throw std::invalid_argument("the gradient weight must be positive");
    auto group = reinterpret_cast<int64_t>(&backend(g));
    *out = wrap(DifferentiableAllReduce::apply(T(t), group, gradient_weight));
  })
}

int ctorch_process_group_broadcast(ctorch_process_group g, ctorch_tensor t, int root) {
  CT_TRY({
    QuietC10d quiet;
    std::vector<at::Tensor> tensors{T(t)};
    c10d::BroadcastOptions options;
    options.rootRank = root;
    backend(g).broadcast(tensors, options)->wait();
  })
}

int ctorch_process_group_barrier(ctorch_process_group g) {
  CT_TRY(QuietC10d quiet; backend(g).barrier()->wait())
}

}  // extern "C"
