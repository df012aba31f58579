// Neural-network functions, autograd and multi-tensor (foreach) operations.
#include "shim.h"
#include <torch/csrc/autograd/autograd.h>
#include <torch/csrc/autograd/grad_mode.h>

using namespace ctorch;

static at::IntArrayRef pair(const int64_t *p) { return at::IntArrayRef(p, 2); }

static int64_t reduction(ctorch_reduction r) {
  switch (r) {
    case CT_REDUCTION_NONE: return at::Reduction::None;
    case CT_REDUCTION_MEAN: return at::Reduction::Mean;
    case CT_REDUCTION_SUM: return at::Reduction::Sum;
  }
  throw std::invalid_argument("unsupported reduction code " + std::to_string(static_cast<int32_t>(r)));
}

extern "C" {

int ctorch_nn_conv2d(ctorch_tensor x, ctorch_tensor w, ctorch_tensor b, const int64_t *stride, const int64_t *padding,
                     const int64_t *dilation, int64_t groups, ctorch_tensor *out) {
  CT_OUT(at::conv2d(T(x), T(w), opt(b), pair(stride), pair(padding), pair(dilation), groups))
}
int ctorch_nn_linear(ctorch_tensor x, ctorch_tensor w, ctorch_tensor b, ctorch_tensor *out) {
  CT_OUT(at::linear(T(x), T(w), opt(b)))
}
int ctorch_nn_batch_norm(ctorch_tensor x, ctorch_tensor w, ctorch_tensor b, ctorch_tensor running_mean,
                         ctorch_tensor running_var, int training, double momentum, double eps, int cudnn,
                         ctorch_tensor *out) {
  CT_OUT(at::batch_norm(T(x), opt(w), opt(b), opt(running_mean), opt(running_var), training != 0, momentum, eps,
                        /*cudnn_enabled=*/cudnn != 0))
}
int ctorch_nn_max_pool2d(ctorch_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                         ctorch_tensor *out) {
  CT_OUT(at::max_pool2d(T(x), pair(kernel), pair(stride), pair(padding)))
}
int ctorch_nn_avg_pool2d(ctorch_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding,
                         ctorch_tensor *out) {
  CT_OUT(at::avg_pool2d(T(x), pair(kernel), pair(stride), pair(padding)))
}
int ctorch_nn_adaptive_avg_pool2d(ctorch_tensor x, const int64_t *size, ctorch_tensor *out) {
  CT_OUT(at::adaptive_avg_pool2d(T(x), pair(size)))
}
int ctorch_nn_softmax(ctorch_tensor x, int64_t dim, int log, ctorch_tensor *out) {
  CT_OUT(log ? at::log_softmax(T(x), dim) : at::softmax(T(x), dim))
}
int ctorch_nn_cross_entropy(ctorch_tensor logits, ctorch_tensor target, ctorch_reduction red, double label_smoothing,
                            ctorch_tensor *out) {
  CT_OUT(at::cross_entropy_loss(T(logits), T(target), {}, reduction(red), -100, label_smoothing))
}
int ctorch_nn_nll_loss(ctorch_tensor logp, ctorch_tensor target, ctorch_reduction red, ctorch_tensor *out) {
  CT_OUT(at::nll_loss(T(logp), T(target), {}, reduction(red)))
}
int ctorch_nn_kl_div(ctorch_tensor input, ctorch_tensor target, ctorch_reduction red, int log_target, ctorch_tensor *out) {
  CT_TRY({
    auto &x = T(input);
    at::Tensor r;
    if (red == CT_REDUCTION_BATCHMEAN) {
      r = at::kl_div(x, T(target), at::Reduction::Sum, log_target != 0) / (x.dim() > 0 ? x.size(0) : 1);
    } else {
      r = at::kl_div(x, T(target), reduction(red), log_target != 0);
    }
    *out = wrap(r);
  })
}
int ctorch_nn_dropout(ctorch_tensor x, double p, int training, ctorch_tensor *out) {
  CT_OUT(at::dropout(T(x), p, training != 0))
}

// ---- autograd ----
int ctorch_grad_set_requires_grad(ctorch_tensor t, int requires) { CT_TRY(T(t).requires_grad_(requires != 0)) }
int ctorch_grad_requires_grad(ctorch_tensor t, int *out) { CT_TRY(*out = T(t).requires_grad()) }
int ctorch_grad_is_leaf(ctorch_tensor t, int *out) { CT_TRY(*out = T(t).is_leaf()) }
int ctorch_grad_get(ctorch_tensor t, ctorch_tensor *out) {
  CT_TRY({
    auto g = T(t).grad();
    *out = g.defined() ? wrap(g) : nullptr;
  })
}
int ctorch_grad_set(ctorch_tensor t, ctorch_tensor g) {
  CT_TRY({
    if (g)
      T(t).mutable_grad() = T(g);
    else
      T(t).mutable_grad().reset();
  })
}
int ctorch_grad_backward(ctorch_tensor loss, ctorch_tensor grad, int retain_graph, int create_graph) {
  CT_TRY({
    std::vector<at::Tensor> grads;
    if (grad) grads.push_back(T(grad));
    torch::autograd::backward({T(loss)}, grads, retain_graph != 0, create_graph != 0);
  })
}
int ctorch_grad_grad(const ctorch_tensor *outputs, int64_t n_out, const ctorch_tensor *grad_outputs,
                     const ctorch_tensor *inputs, int64_t n_in, int retain_graph, int create_graph, int allow_unused,
                     ctorch_tensor *results) {
  CT_TRY({
    std::vector<at::Tensor> gos;
    if (grad_outputs) gos = list(grad_outputs, n_out);
    auto r = torch::autograd::grad(list(outputs, n_out), list(inputs, n_in), gos, retain_graph != 0,
                                   create_graph != 0, allow_unused != 0);
    for (int64_t i = 0; i < n_in; i++) results[i] = r[i].defined() ? wrap(r[i]) : nullptr;
  })
}
int ctorch_grad_set_enabled(int enabled) {
  bool previous = c10::GradMode::is_enabled();
  c10::GradMode::set_enabled(enabled != 0);
  return previous ? 1 : 0;
}
int ctorch_grad_is_enabled(void) { return c10::GradMode::is_enabled() ? 1 : 0; }

// ---- foreach ----
static std::vector<at::Tensor> list_check(const ctorch_tensor *ts, int64_t n) {
  if (n <= 0) throw std::invalid_argument("foreach: empty tensor list");
  return list(ts, n);
}
static void write_out(const std::vector<at::Tensor> &r, ctorch_tensor *out) {
  for (size_t i = 0; i < r.size(); i++) out[i] = wrap(r[i]);
}

int ctorch_foreach_norm(const ctorch_tensor *ts, int64_t n, double p, ctorch_tensor *out) {
  CT_OUT(at::stack(at::_foreach_norm(list_check(ts, n), p)))
}
int ctorch_foreach_dot(const ctorch_tensor *a, const ctorch_tensor *b, int64_t n, ctorch_tensor *out) {
  CT_TRY({
    auto av = list_check(a, n), bv = list_check(b, n);
    for (int64_t i = 0; i < n; i++)
      if (av[i].sizes() != bv[i].sizes()) throw std::invalid_argument("foreach_dot: shapes differ at index " + std::to_string(i));
    // One multi-tensor product, then each tensor's sum accumulated in float64 (a vectorised reduction). A
    // segmented sum (segment_reduce) is sequential within a segment: in float32 it drifts by 1e-3 (relative)
    // over a tensor of millions of entries, enough to move a cosine near 0 across AGR's branch point.
    std::vector<at::Tensor> products = at::_foreach_mul(av, bv);
    std::vector<at::Tensor> sums;
    sums.reserve(n);
    for (auto &p : products) sums.push_back(p.sum(at::kDouble));
    *out = wrap(at::stack(sums).to(av[0].scalar_type()));
  })
}
// out[i] = sum of the i-th run of lengths[i] consecutive entries of the 1-D `values`; `lengths` is an
// int64 tensor on the values' device, kept by the caller (no host-to-device copy, no synchronisation).
int ctorch_segment_sum(ctorch_tensor values, ctorch_tensor lengths, ctorch_tensor *out) {
  CT_TRY({
    if (T(values).dim() != 1 || T(lengths).dim() != 1)
      throw std::invalid_argument("segment_sum: values and lengths must be 1-D");
    *out = wrap(at::segment_reduce(T(values), "sum", T(lengths), {}, {}, 0, /*unsafe=*/true));
  })
}
// values[i] repeated repeats[i] times along dim 0; output_size = sum(repeats), given so nothing waits for the device.
int ctorch_repeat_interleave(ctorch_tensor values, ctorch_tensor repeats, int64_t output_size, ctorch_tensor *out) {
  CT_OUT(at::repeat_interleave(T(values), T(repeats), 0, output_size))
}
int ctorch_foreach_add(const ctorch_tensor *a, const ctorch_tensor *b, int64_t n, double alpha, ctorch_tensor *out) {
  CT_TRY(write_out(at::_foreach_add(list_check(a, n), list_check(b, n), alpha), out))
}
int ctorch_foreach_mul_tensor(const ctorch_tensor *a, int64_t n, ctorch_tensor s, ctorch_tensor *out) {
  CT_TRY({
    auto scal = T(s);
    if (scal.dim() != 1 || scal.size(0) != n)
      throw std::invalid_argument("foreach_mul: scale vector must be 1-D with one entry per tensor");
    write_out(at::_foreach_mul(list_check(a, n), scal.unbind(0)), out);
  })
}
int ctorch_foreach_add_(const ctorch_tensor *a, const ctorch_tensor *b, int64_t n, double alpha) {
  CT_TRY(at::_foreach_add_(list_check(a, n), list_check(b, n), alpha))
}
int ctorch_foreach_mul_scalar_(const ctorch_tensor *a, int64_t n, double s) {
  CT_TRY(at::_foreach_mul_(list_check(a, n), s))
}
int ctorch_foreach_zero_(const ctorch_tensor *a, int64_t n) { CT_TRY(at::_foreach_zero_(list_check(a, n))) }
int ctorch_foreach_copy_(const ctorch_tensor *dst, const ctorch_tensor *src, int64_t n) {
  CT_TRY(at::_foreach_copy_(list_check(dst, n), list_check(src, n)))
}

}  // extern "C"
