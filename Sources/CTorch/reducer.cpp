// The gradient all-reduce overlapped with the backward pass, as PyTorch DDP's reducer does it: the
// parameters are grouped in buckets (the first of at most 1 MiB) in reverse order (the order backward produces their gradients), a
// hook on each parameter copies its gradient (times a scale) into its bucket as soon as autograd computes
// it, and a bucket whose last gradient has arrived starts its asynchronous all-reduce at once. Buckets
// start in index order on every rank (a ready bucket waits for the ones before it), so the ranks issue the
// same collectives in the same order. `finish` zero-fills what never arrived (unused parameters), starts
// what is left, waits for everything and hands back each parameter's summed gradient.
//
// A reducer has slots (e.g. one for the clean gradient, one for the method gradient), each with its own
// buffers, so that one slot's all-reduce runs while the next gradient is being computed.
#include "distributed.h"
#include <algorithm>
#include <mutex>

using namespace ctorch;

namespace {

struct Slot {
  std::vector<at::Tensor> buffers;                      // one flat float32 buffer per bucket
  std::vector<int64_t> pending;                         // gradients each bucket still waits for
  std::vector<char> arrived;                            // per parameter
  std::vector<c10::intrusive_ptr<c10d::Work>> works;    // per bucket, once started
  size_t next = 0;                                      // the first bucket not yet started
};

struct State {
  std::mutex mutex;
  c10d::Backend *group = nullptr;
  std::vector<at::Tensor> parameters;
  std::vector<std::vector<size_t>> members;  // bucket -> parameters
  std::vector<size_t> bucket_of;
  std::vector<int64_t> offset_of;
  std::vector<Slot> slots;
  int active = -1;
  double scale = 1;

  void start_ready(Slot &slot) {
    while (slot.next < members.size() && slot.pending[slot.next] == 0) {
      std::vector<at::Tensor> tensors{slot.buffers[slot.next]};
      c10d::AllreduceOptions options;
      options.reduceOp = c10d::ReduceOp::SUM;
      slot.works[slot.next] = group->allreduce(tensors, options);
      slot.next++;
    }
  }

  void receive(size_t i, const at::Tensor &gradient) {
    std::lock_guard<std::mutex> lock(mutex);
    if (active < 0) return;
    Slot &slot = slots[active];
    if (slot.arrived[i]) throw std::logic_error("gradient reducer: a parameter's gradient arrived twice in one pass");
    slot.arrived[i] = 1;
    size_t b = bucket_of[i];
    auto view = slot.buffers[b].narrow(0, offset_of[i], parameters[i].numel());
    at::mul_out(view, gradient.reshape({-1}).to(at::kFloat), scale);
    if (--slot.pending[b] == 0) start_ready(slot);
  }
};

struct Reducer {
  std::shared_ptr<State> state;
  std::vector<unsigned> hooks;
  c10::intrusive_ptr<c10d::Backend> group;  // kept alive while works may be in flight
};

Reducer &R(ctorch_reducer r) {
  if (!r) throw std::invalid_argument("null reducer handle");
  return *reinterpret_cast<Reducer *>(r);
}

Slot &slot_at(State &s, int slot) {
  if (slot < 0 || slot >= static_cast<int>(s.slots.size())) throw std::out_of_range("gradient reducer: no such slot");
  return s.slots[slot];
}

void reset(State &s, Slot &slot) {
  for (size_t b = 0; b < s.members.size(); b++) slot.pending[b] = static_cast<int64_t>(s.members[b].size());
  std::fill(slot.arrived.begin(), slot.arrived.end(), 0);
  std::fill(slot.works.begin(), slot.works.end(), c10::intrusive_ptr<c10d::Work>());
  slot.next = 0;
}

}  // namespace

extern "C" {

int ctorch_reducer_new(ctorch_process_group g, const ctorch_tensor *parameters, int64_t n, int64_t bucket_bytes,
                       int slots, ctorch_reducer *out) {
  CT_TRY({
    if (bucket_bytes <= 0) throw std::invalid_argument("gradient reducer: the bucket size must be positive");
    if (slots <= 0) throw std::invalid_argument("gradient reducer: at least one slot");
    auto reducer = std::make_unique<Reducer>();
    auto state = std::make_shared<State>();
    reducer->group = c10::intrusive_ptr<c10d::Backend>::reclaim_copy(&backend(g));
    state->group = reducer->group.get();
    state->parameters = list(parameters, n);
    state->bucket_of.resize(n);
    state->offset_of.resize(n);
    std::vector<int64_t> sizes;
    // As DDP: the first bucket (the last layers, whose gradients come first) is capped at 1 MiB, so that
    // communication starts early even when the whole model would fit in one bucket.
    const int64_t first_bucket_bytes = std::min<int64_t>(bucket_bytes, 1 << 20);
    for (int64_t i = n - 1; i >= 0; i--) {
      int64_t bytes = state->parameters[i].numel() * 4;
      int64_t cap = state->members.size() <= 1 ? first_bucket_bytes : bucket_bytes;
      if (state->members.empty() || (sizes.back() > 0 && sizes.back() + bytes > cap)) {
        state->members.emplace_back();
        sizes.push_back(0);
      }
      state->bucket_of[i] = state->members.size() - 1;
      state->offset_of[i] = sizes.back() / 4;
      state->members.back().push_back(i);
      sizes.back() += bytes;
    }
    auto device = n > 0 ? state->parameters[0].device() : at::Device(at::kCPU);
    state->slots.resize(slots);
    for (auto &slot : state->slots) {
      for (auto bytes : sizes) slot.buffers.push_back(at::zeros({bytes / 4}, at::TensorOptions().dtype(at::kFloat).device(device)));
      slot.pending.resize(sizes.size());
      slot.arrived.resize(n);
      slot.works.resize(sizes.size());
      reset(*state, slot);
    }
    std::weak_ptr<State> weak = state;
    for (int64_t i = 0; i < n; i++) {
      auto &p = state->parameters[i];
      if (!p.requires_grad()) throw std::invalid_argument("gradient reducer: a parameter does not require a gradient");
      reducer->hooks.push_back(p.register_hook([weak, i](const at::Tensor &gradient) {
        if (auto s = weak.lock()) s->receive(static_cast<size_t>(i), gradient);
      }));
    }
    reducer->state = std::move(state);
    *out = reinterpret_cast<ctorch_reducer>(reducer.release());
  })
}

void ctorch_reducer_free(ctorch_reducer r) {
  auto *reducer = reinterpret_cast<Reducer *>(r);
  if (!reducer) return;
  try {
    for (size_t i = 0; i < reducer->hooks.size(); i++) reducer->state->parameters[i].remove_hook(reducer->hooks[i]);
    for (auto &slot : reducer->state->slots)
      for (auto &work : slot.works)
        if (work) work->wait();
  } catch (...) {
  }
  delete reducer;
}

int ctorch_reducer_bucket_count(ctorch_reducer r, int64_t *out) { CT_TRY(*out = R(r).state->members.size()) }

int ctorch_reducer_started(ctorch_reducer r, int slot, int64_t *out) {
  CT_TRY({
    auto &s = *R(r).state;
    std::lock_guard<std::mutex> lock(s.mutex);
    *out = static_cast<int64_t>(slot_at(s, slot).next);
  })
}

int ctorch_reducer_arm(ctorch_reducer r, int slot, double scale) {
  CT_TRY({
    auto &s = *R(r).state;
    std::lock_guard<std::mutex> lock(s.mutex);
    if (s.active >= 0) throw std::logic_error("gradient reducer: a pass is already armed");
    auto &target = slot_at(s, slot);
    if (target.next > 0 || std::any_of(target.arrived.begin(), target.arrived.end(), [](char a) { return a != 0; }))
      throw std::logic_error("gradient reducer: the slot holds a pass that was not finished");
    s.active = slot;
    s.scale = scale;
  })
}

int ctorch_reducer_disarm(ctorch_reducer r) {
  CT_TRY({
    auto &s = *R(r).state;
    std::lock_guard<std::mutex> lock(s.mutex);
    s.active = -1;
  })
}

int ctorch_reducer_finish(ctorch_reducer r, int slot, ctorch_tensor *out) {
  CT_TRY({
    auto &s = *R(r).state;
    std::vector<c10::intrusive_ptr<c10d::Work>> works;
    {
      std::lock_guard<std::mutex> lock(s.mutex);
      if (s.active == slot) throw std::logic_error("gradient reducer: finish the pass after disarming it");
      auto &target = slot_at(s, slot);
      for (size_t i = 0; i < s.parameters.size(); i++) {
        if (target.arrived[i]) continue;
        size_t b = s.bucket_of[i];
        target.buffers[b].narrow(0, s.offset_of[i], s.parameters[i].numel()).zero_();
        target.arrived[i] = 1;
        target.pending[b]--;
      }
      s.start_ready(target);
      works = target.works;
    }
    for (auto &work : works) work->wait();
    std::lock_guard<std::mutex> lock(s.mutex);
    auto &target = slot_at(s, slot);
    for (size_t i = 0; i < s.parameters.size(); i++) {
      auto &p = s.parameters[i];
      out[i] = wrap(target.buffers[s.bucket_of[i]].narrow(0, s.offset_of[i], p.numel()).view(p.sizes()));
    }
    reset(s, target);
  })
}

}  // extern "C"
