// Conversions, views, elementwise arithmetic, reductions, indexing.
#include "shim.h"
#include <cmath>

using namespace ctorch;

static at::IntArrayRef ints(const int64_t *p, int64_t n) { return at::IntArrayRef(p, n); }

// The C API passes every scalar as a double. For an integer or bool tensor an integral value is
// handed to libtorch as an integer, so that e.g. int64 + 1 stays int64 (as `t + 1` does in PyTorch)
// and in-place updates such as add_(1) on an int64 tensor are not refused as a float result.
static at::Scalar scalar_for(const at::Tensor &t, double s) {
  if (c10::isIntegralType(t.scalar_type(), /*includeBool=*/true) && std::nearbyint(s) == s && std::fabs(s) < 9.0e18)
    return at::Scalar(static_cast<int64_t>(s));
  return at::Scalar(s);
}

static at::Tensor binary(int op, const at::Tensor &a, const at::Tensor &b) {
  switch (op) {
    case CT_ADD: return a + b;
    case CT_SUB: return a - b;
    case CT_MUL: return a * b;
    case CT_DIV: return a / b;
    case CT_POW: return at::pow(a, b);
    case CT_MAXIMUM: return at::maximum(a, b);
    case CT_MINIMUM: return at::minimum(a, b);
    case CT_EQ: return a.eq(b);
    case CT_NE: return a.ne(b);
    case CT_LT: return a.lt(b);
    case CT_LE: return a.le(b);
    case CT_GT: return a.gt(b);
    case CT_GE: return a.ge(b);
    case CT_AND: return at::logical_and(a, b);
    case CT_OR: return at::logical_or(a, b);
    case CT_REMAINDER: return at::remainder(a, b);
    case CT_ATAN2: return at::atan2(a, b);
  }
  throw std::invalid_argument("unknown binary op " + std::to_string(op));
}

static at::Tensor binary_scalar(int op, const at::Tensor &a, const at::Scalar &s) {
  switch (op) {
    case CT_ADD: return a + s;
    case CT_SUB: return a - s;
    case CT_MUL: return a * s;
    case CT_DIV: return a / s;
    case CT_POW: return at::pow(a, s);
    case CT_MAXIMUM: return at::clamp_min(a, s);
    case CT_MINIMUM: return at::clamp_max(a, s);
    case CT_EQ: return a.eq(s);
    case CT_NE: return a.ne(s);
    case CT_LT: return a.lt(s);
    case CT_LE: return a.le(s);
    case CT_GT: return a.gt(s);
    case CT_GE: return a.ge(s);
    case CT_REMAINDER: return at::remainder(a, s);
  }
  throw std::invalid_argument("unsupported tensor-scalar op " + std::to_string(op));
}

static at::Tensor unary(int op, at::Tensor &a) {
  switch (op) {
    case CT_NEG: return -a;
    case CT_ABS: return a.abs();
    case CT_SIGN: return a.sign();
    case CT_EXP: return a.exp();
    case CT_LOG: return a.log();
    case CT_SQRT: return a.sqrt();
    case CT_RSQRT: return a.rsqrt();
    case CT_RELU: return at::relu(a);
    case CT_SIGMOID: return a.sigmoid();
    case CT_TANH: return a.tanh();
    case CT_FLOOR: return a.floor();
    case CT_CEIL: return a.ceil();
    case CT_ROUND: return a.round();
    case CT_NOT: return a.logical_not();
    case CT_SQUARE: return a.square();
    case CT_RECIPROCAL: return a.reciprocal();
    case CT_SIN: return a.sin();
    case CT_COS: return a.cos();
    case CT_LOG1P: return a.log1p();
    case CT_ISFINITE: return a.isfinite();
    case CT_ISNAN: return a.isnan();
    case CT_ZERO_: return a.zero_();
    case CT_RELU_: return a.relu_();
  }
  throw std::invalid_argument("unknown unary op " + std::to_string(op));
}

extern "C" {

int ctorch_op_to(ctorch_tensor t, int dtype, int dev, int copy, ctorch_tensor *out) {
  CT_TRY({
    auto target = device(dev);
    if (T(t).device() != target && (target.is_cuda() || T(t).is_cuda())) count_host_wait();
    *out = wrap(T(t).to(target, scalar_type(dtype), /*non_blocking=*/false, copy != 0));
  })
}
int ctorch_op_contiguous(ctorch_tensor t, int memory_format, ctorch_tensor *out) {
  CT_OUT(T(t).contiguous(memory_format == 1 ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous))
}
int ctorch_op_clone(ctorch_tensor t, ctorch_tensor *out) { CT_OUT(T(t).clone()) }
int ctorch_op_detach(ctorch_tensor t, ctorch_tensor *out) { CT_OUT(T(t).detach()) }
int ctorch_op_alias(ctorch_tensor t, ctorch_tensor *out) { CT_OUT(T(t)) }
int ctorch_op_reshape(ctorch_tensor t, const int64_t *shape, int64_t ndim, ctorch_tensor *out) {
  CT_OUT(T(t).reshape(ints(shape, ndim)))
}
int ctorch_op_permute(ctorch_tensor t, const int64_t *dims, int64_t ndim, ctorch_tensor *out) {
  CT_OUT(T(t).permute(ints(dims, ndim)))
}
int ctorch_op_transpose(ctorch_tensor t, int64_t d0, int64_t d1, ctorch_tensor *out) { CT_OUT(T(t).transpose(d0, d1)) }
int ctorch_op_expand(ctorch_tensor t, const int64_t *shape, int64_t ndim, ctorch_tensor *out) {
  CT_OUT(T(t).expand(ints(shape, ndim)))
}
int ctorch_op_slice(ctorch_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step, ctorch_tensor *out) {
  CT_OUT(T(t).slice(dim, start, end, step))
}
int ctorch_op_select(ctorch_tensor t, int64_t dim, int64_t index, ctorch_tensor *out) { CT_OUT(T(t).select(dim, index)) }
int ctorch_op_unsqueeze(ctorch_tensor t, int64_t dim, ctorch_tensor *out) { CT_OUT(T(t).unsqueeze(dim)) }
int ctorch_op_squeeze(ctorch_tensor t, int64_t dim, ctorch_tensor *out) {
  CT_OUT(dim == INT64_MIN ? T(t).squeeze() : T(t).squeeze(dim))
}
int ctorch_op_flatten(ctorch_tensor t, int64_t start, int64_t end, ctorch_tensor *out) { CT_OUT(T(t).flatten(start, end)) }
int ctorch_op_index(ctorch_tensor t, ctorch_tensor index, ctorch_tensor *out) {
  CT_TRY({
    count_host_wait_if_mask(T(index));
    *out = wrap(T(t).index({T(index)}));
  })
}
int ctorch_op_index_select(ctorch_tensor t, int64_t dim, ctorch_tensor index, ctorch_tensor *out) {
  CT_OUT(T(t).index_select(dim, T(index)))
}
int ctorch_op_index_put_(ctorch_tensor t, ctorch_tensor index, ctorch_tensor values) {
  CT_TRY({
    count_host_wait_if_mask(T(index));
    T(t).index_put_({T(index)}, T(values));
  })
}
int ctorch_op_index_multi(ctorch_tensor t, const ctorch_tensor *indices, int64_t n, ctorch_tensor *out) {
  CT_TRY({
    std::vector<at::indexing::TensorIndex> idx;
    for (int64_t i = 0; i < n; i++) {
      if (indices[i]) {
        count_host_wait_if_mask(T(indices[i]));
        idx.emplace_back(T(indices[i]));
      }
      else
        idx.emplace_back(at::indexing::Slice());
    }
    *out = wrap(T(t).index(idx));
  })
}
int ctorch_op_assign(ctorch_tensor dst, ctorch_tensor src) { CT_TRY(T(dst) = T(src)) }
int ctorch_op_cat(const ctorch_tensor *ts, int64_t n, int64_t dim, ctorch_tensor *out) { CT_OUT(at::cat(list(ts, n), dim)) }
int ctorch_op_stack(const ctorch_tensor *ts, int64_t n, int64_t dim, ctorch_tensor *out) {
  CT_OUT(at::stack(list(ts, n), dim))
}
int ctorch_op_flip(ctorch_tensor t, const int64_t *dims, int64_t ndim, ctorch_tensor *out) {
  CT_OUT(T(t).flip(ints(dims, ndim)))
}
int ctorch_op_pad(ctorch_tensor t, const int64_t *pad, int64_t npad, double value, ctorch_tensor *out) {
  CT_OUT(at::constant_pad_nd(T(t), ints(pad, npad), value))
}

int ctorch_op_binary(int op, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out) { CT_OUT(binary(op, T(a), T(b))) }
int ctorch_op_binary_scalar(int op, ctorch_tensor a, double s, ctorch_tensor *out) {
  CT_OUT(binary_scalar(op, T(a), scalar_for(T(a), s)))
}
int ctorch_op_rbinary_scalar(int op, double s, ctorch_tensor a, ctorch_tensor *out) {
  CT_TRY({
    auto &x = T(a);
    auto sc = scalar_for(x, s);
    at::Tensor r;
    switch (op) {
      case CT_ADD: r = x + sc; break;
      case CT_SUB: r = at::rsub(x, sc); break;
      case CT_MUL: r = x * sc; break;
      case CT_DIV: r = x.reciprocal() * s; break;
      case CT_POW: r = at::pow(sc, x); break;
      default: r = binary(op, at::scalar_tensor(s, x.options()), x);
    }
    *out = wrap(r);
  })
}
int ctorch_op_unary(int op, ctorch_tensor a, ctorch_tensor *out) { CT_OUT(unary(op, T(a))) }
int ctorch_op_add_scaled(ctorch_tensor a, ctorch_tensor b, double alpha, ctorch_tensor *out) {
  CT_OUT(at::add(T(a), T(b), alpha))
}
int ctorch_op_clamp(ctorch_tensor a, double lo, double hi, int has_lo, int has_hi, ctorch_tensor *out) {
  CT_OUT(at::clamp(T(a), has_lo ? c10::optional<at::Scalar>(scalar_for(T(a), lo)) : c10::nullopt,
                   has_hi ? c10::optional<at::Scalar>(scalar_for(T(a), hi)) : c10::nullopt))
}
int ctorch_op_clamp_tensor(ctorch_tensor a, ctorch_tensor lo, ctorch_tensor hi, ctorch_tensor *out) {
  CT_OUT(at::clamp(T(a), opt(lo), opt(hi)))
}
int ctorch_op_where(ctorch_tensor cond, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out) {
  CT_OUT(at::where(T(cond), T(a), T(b)))
}
int ctorch_op_masked_fill(ctorch_tensor a, ctorch_tensor mask, double value, ctorch_tensor *out) {
  CT_OUT(T(a).masked_fill(T(mask), value))
}
int ctorch_op_softplus(ctorch_tensor a, double beta, double threshold, ctorch_tensor *out) {
  CT_OUT(at::softplus(T(a), beta, threshold))
}
int ctorch_op_lerp(ctorch_tensor a, ctorch_tensor b, double w, ctorch_tensor *out) { CT_OUT(at::lerp(T(a), T(b), w)) }

int ctorch_op_binary_(int op, ctorch_tensor a, ctorch_tensor b) {
  CT_TRY({
    auto &x = T(a);
    switch (op) {
      case CT_ADD: x.add_(T(b)); break;
      case CT_SUB: x.sub_(T(b)); break;
      case CT_MUL: x.mul_(T(b)); break;
      case CT_DIV: x.div_(T(b)); break;
      default: throw std::invalid_argument("unsupported in-place op " + std::to_string(op));
    }
  })
}
int ctorch_op_binary_scalar_(int op, ctorch_tensor a, double s) {
  CT_TRY({
    auto &x = T(a);
    auto sc = scalar_for(x, s);
    switch (op) {
      case CT_ADD: x.add_(sc); break;
      case CT_SUB: x.sub_(sc); break;
      case CT_MUL: x.mul_(sc); break;
      case CT_DIV: x.div_(sc); break;
      default: throw std::invalid_argument("unsupported in-place op " + std::to_string(op));
    }
  })
}
int ctorch_op_add_scaled_(ctorch_tensor a, ctorch_tensor b, double alpha) { CT_TRY(T(a).add_(T(b), alpha)) }
int ctorch_op_copy_(ctorch_tensor dst, ctorch_tensor src) { CT_TRY(T(dst).copy_(T(src))) }
int ctorch_op_fill_(ctorch_tensor a, double value) { CT_TRY(T(a).fill_(scalar_for(T(a), value))) }
int ctorch_op_clamp_(ctorch_tensor a, double lo, double hi) { CT_TRY(T(a).clamp_(scalar_for(T(a), lo), scalar_for(T(a), hi))) }
int ctorch_op_uniform_(ctorch_tensor a, double lo, double hi, ctorch_generator gen) {
  CT_TRY(T(a).uniform_(lo, hi, generator(gen)))
}
int ctorch_op_normal_(ctorch_tensor a, double mean, double std, ctorch_generator gen) {
  CT_TRY(T(a).normal_(mean, std, generator(gen)))
}

int ctorch_op_reduce(int op, ctorch_tensor a, const int64_t *dims, int64_t ndims, int keepdim, ctorch_tensor *out) {
  CT_TRY({
    auto &x = T(a);
    // keepdim over everything keeps the rank (shape [1, ..., 1]), as in PyTorch: reduce over every dim.
    std::vector<int64_t> every;
    if (ndims == 0 && keepdim && x.dim() > 0 && op != CT_ARGMAX && op != CT_ARGMIN && op != CT_PROD) {
      for (int64_t i = 0; i < x.dim(); i++) every.push_back(i);
      dims = every.data();
      ndims = x.dim();
    }
    bool all = ndims == 0;
    auto d = ints(dims, ndims);
    at::Tensor r;
    switch (op) {
      case CT_SUM: r = all ? x.sum() : x.sum(d, keepdim); break;
      case CT_MEAN: r = all ? x.mean() : x.mean(d, keepdim); break;
      case CT_MAX: r = all ? x.max() : at::amax(x, d, keepdim); break;
      case CT_MIN: r = all ? x.min() : at::amin(x, d, keepdim); break;
      case CT_ARGMAX:
        if (ndims > 1) throw std::invalid_argument("argmax takes one dim");
        r = all ? x.argmax(c10::nullopt, keepdim) : x.argmax(dims[0], keepdim);
        break;
      case CT_ARGMIN:
        if (ndims > 1) throw std::invalid_argument("argmin takes one dim");
        r = all ? x.argmin(c10::nullopt, keepdim) : x.argmin(dims[0], keepdim);
        break;
      case CT_PROD:
        if (ndims > 1) throw std::invalid_argument("prod takes one dim");
        r = all ? (keepdim ? x.reshape({-1}).prod(0).reshape(std::vector<int64_t>(x.dim(), 1)) : x.prod())
                : x.prod(dims[0], keepdim);
        break;
      case CT_ANY: r = all ? x.any() : x.any(d, keepdim); break;
      case CT_ALL: r = all ? x.all() : x.all(d, keepdim); break;
      case CT_LOGSUMEXP: r = all ? at::logsumexp(x.flatten(), 0) : at::logsumexp(x, d, keepdim); break;
      case CT_VAR: r = all ? x.var() : x.var(d, /*unbiased=*/true, keepdim); break;
      case CT_STD: r = all ? x.std() : x.std(d, /*unbiased=*/true, keepdim); break;
      default: throw std::invalid_argument("unknown reduction " + std::to_string(op));
    }
    *out = wrap(r);
  })
}
int ctorch_op_norm(ctorch_tensor a, double p, const int64_t *dims, int64_t ndims, int keepdim, ctorch_tensor *out) {
  CT_OUT(ndims == 0 ? at::linalg_vector_norm(T(a), p, c10::nullopt, keepdim)
                    : at::linalg_vector_norm(T(a), p, ints(dims, ndims), keepdim))
}
int ctorch_op_sort(ctorch_tensor a, int64_t dim, int descending, ctorch_tensor *values, ctorch_tensor *indices) {
  CT_TRY({
    auto r = T(a).sort(dim, descending != 0);
    *values = wrap(std::get<0>(r));
    *indices = wrap(std::get<1>(r));
  })
}
int ctorch_op_topk(ctorch_tensor a, int64_t k, int64_t dim, int largest, ctorch_tensor *values, ctorch_tensor *indices) {
  CT_TRY({
    auto r = T(a).topk(k, dim, largest != 0, true);
    *values = wrap(std::get<0>(r));
    *indices = wrap(std::get<1>(r));
  })
}
int ctorch_op_gather(ctorch_tensor a, int64_t dim, ctorch_tensor index, ctorch_tensor *out) {
  CT_OUT(T(a).gather(dim, T(index)))
}
int ctorch_op_scatter(ctorch_tensor a, int64_t dim, ctorch_tensor index, ctorch_tensor src, ctorch_tensor *out) {
  CT_OUT(T(a).scatter(dim, T(index), T(src)))
}
int ctorch_op_scatter_value(ctorch_tensor a, int64_t dim, ctorch_tensor index, double value, ctorch_tensor *out) {
  CT_OUT(T(a).scatter(dim, T(index), value))
}
int ctorch_op_one_hot(ctorch_tensor labels, int64_t classes, ctorch_tensor *out) {
  CT_OUT(at::one_hot(T(labels), classes))
}
int ctorch_op_matmul(ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out) { CT_OUT(at::matmul(T(a), T(b))) }
int ctorch_op_allclose(ctorch_tensor a, ctorch_tensor b, double rtol, double atol, int *out) {
  CT_TRY(*out = at::allclose(T(a), T(b), rtol, atol))
}

}  // extern "C"
