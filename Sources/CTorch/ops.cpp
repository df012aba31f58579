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

// The binary ops, one entry per op in code order (checked below): a op b on two tensors; a op s with a scalar
// (null: unsupported); s op a where it is not the tensor-tensor form with s as a 0-dim tensor (null: it is);
// and the in-place forms a op= b, a op= s (null: unsupported). A scalar s reaches the tensor-scalar and
// in-place forms as scalar_for(a, s); the s-op-a form gets the double and converts it itself.
struct BinaryForms {
  ctorch_binary_op op;
  at::Tensor (*tensor)(const at::Tensor &a, const at::Tensor &b);
  at::Tensor (*scalar)(const at::Tensor &a, const at::Scalar &s);
  at::Tensor (*reversed)(const at::Tensor &a, double s);
  void (*in_place)(at::Tensor &a, const at::Tensor &b);
  void (*in_place_scalar)(at::Tensor &a, const at::Scalar &s);
};

#define AB(e) [](const at::Tensor &a, const at::Tensor &b) -> at::Tensor { return e; }
#define AS(e) [](const at::Tensor &a, const at::Scalar &s) -> at::Tensor { return e; }
#define SA(e) [](const at::Tensor &a, double s) -> at::Tensor { return e; }
#define AB_(e) [](at::Tensor &a, const at::Tensor &b) { e; }
#define AS_(e) [](at::Tensor &a, const at::Scalar &s) { e; }
static constexpr BinaryForms binary_ops[] = {
  // op          a op b                     a op s                   s op a                             a op= b         a op= s
  {CT_ADD,       AB(a + b),                 AS(a + s),               SA(a + scalar_for(a, s)),          AB_(a.add_(b)), AS_(a.add_(s))},
  {CT_SUB,       AB(a - b),                 AS(a - s),               SA(at::rsub(a, scalar_for(a, s))), AB_(a.sub_(b)), AS_(a.sub_(s))},
  {CT_MUL,       AB(a * b),                 AS(a * s),               SA(a * scalar_for(a, s)),          AB_(a.mul_(b)), AS_(a.mul_(s))},
  {CT_DIV,       AB(a / b),                 AS(a / s),               SA(a.reciprocal() * s),            AB_(a.div_(b)), AS_(a.div_(s))},
  {CT_POW,       AB(at::pow(a, b)),         AS(at::pow(a, s)),       SA(at::pow(scalar_for(a, s), a)),  nullptr,        nullptr},
  {CT_MAXIMUM,   AB(at::maximum(a, b)),     AS(at::clamp_min(a, s)), nullptr,                           nullptr,        nullptr},
  {CT_MINIMUM,   AB(at::minimum(a, b)),     AS(at::clamp_max(a, s)), nullptr,                           nullptr,        nullptr},
  {CT_EQ,        AB(a.eq(b)),               AS(a.eq(s)),             nullptr,                           nullptr,        nullptr},
  {CT_NE,        AB(a.ne(b)),               AS(a.ne(s)),             nullptr,                           nullptr,        nullptr},
  {CT_LT,        AB(a.lt(b)),               AS(a.lt(s)),             nullptr,                           nullptr,        nullptr},
  {CT_LE,        AB(a.le(b)),               AS(a.le(s)),             nullptr,                           nullptr,        nullptr},
  {CT_GT,        AB(a.gt(b)),               AS(a.gt(s)),             nullptr,                           nullptr,        nullptr},
  {CT_GE,        AB(a.ge(b)),               AS(a.ge(s)),             nullptr,                           nullptr,        nullptr},
  {CT_AND,       AB(at::logical_and(a, b)), nullptr,                 nullptr,                           nullptr,        nullptr},
  {CT_OR,        AB(at::logical_or(a, b)),  nullptr,                 nullptr,                           nullptr,        nullptr},
  {CT_REMAINDER, AB(at::remainder(a, b)),   AS(at::remainder(a, s)), nullptr,                           nullptr,        nullptr},
  {CT_ATAN2,     AB(at::atan2(a, b)),       nullptr,                 nullptr,                           nullptr,        nullptr},
};
#undef AB
#undef AS
#undef SA
#undef AB_
#undef AS_

static constexpr bool binary_ops_in_code_order() {
  for (size_t i = 0; i < sizeof(binary_ops) / sizeof(binary_ops[0]); i++)
    if (binary_ops[i].op != static_cast<int32_t>(i)) return false;
  return true;
}
static_assert(binary_ops_in_code_order(), "binary_ops: entry i must be the op with code i");

// The table entry for op, or null for a code outside it.
static const BinaryForms *binary_forms(ctorch_binary_op op) {
  auto i = static_cast<int32_t>(op);
  return i >= 0 && i < static_cast<int32_t>(sizeof(binary_ops) / sizeof(binary_ops[0])) ? &binary_ops[i] : nullptr;
}
static std::string op_code(ctorch_binary_op op) { return std::to_string(static_cast<int32_t>(op)); }

static at::Tensor binary(ctorch_binary_op op, const at::Tensor &a, const at::Tensor &b) {
  auto forms = binary_forms(op);
  if (!forms) throw std::invalid_argument("unknown binary op " + op_code(op));
  return forms->tensor(a, b);
}

static at::Tensor binary_scalar(ctorch_binary_op op, const at::Tensor &a, const at::Scalar &s) {
  auto forms = binary_forms(op);
  if (!forms || !forms->scalar) throw std::invalid_argument("unsupported tensor-scalar op " + op_code(op));
  return forms->scalar(a, s);
}

// The in-place form of op (checked before its operands are read).
template <class Form>
static Form in_place_form(ctorch_binary_op op, Form BinaryForms::*member) {
  auto forms = binary_forms(op);
  if (!forms || !(forms->*member)) throw std::invalid_argument("unsupported in-place op " + op_code(op));
  return forms->*member;
}

static at::Tensor unary(ctorch_unary_op op, at::Tensor &a) {
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
  throw std::invalid_argument("unknown unary op " + std::to_string(static_cast<int32_t>(op)));
}

extern "C" {

int ctorch_op_to(ctorch_tensor t, ctorch_dtype dtype, ctorch_device dev, int copy, ctorch_tensor *out) {
  CT_TRY({
    auto target = device(dev);
    if (T(t).device() != target && (target.is_cuda() || T(t).is_cuda())) count_host_wait();
    *out = wrap(T(t).to(target, scalar_type(dtype), /*non_blocking=*/false, copy != 0));
  })
}
int ctorch_op_contiguous(ctorch_tensor t, ctorch_memory_format format, ctorch_tensor *out) {
  CT_OUT(T(t).contiguous(memory_format(format)))
}
int ctorch_op_clone(ctorch_tensor t, ctorch_tensor *out) { CT_OUT(T(t).clone()) }
int ctorch_op_detach(ctorch_tensor t, ctorch_tensor *out) { CT_OUT(T(t).detach()) }
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

int ctorch_op_binary(ctorch_binary_op op, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out) {
  CT_OUT(binary(op, T(a), T(b)))
}
int ctorch_op_binary_scalar(ctorch_binary_op op, ctorch_tensor a, double s, ctorch_tensor *out) {
  CT_OUT(binary_scalar(op, T(a), scalar_for(T(a), s)))
}
int ctorch_op_rbinary_scalar(ctorch_binary_op op, double s, ctorch_tensor a, ctorch_tensor *out) {
  CT_TRY({
    auto &x = T(a);
    auto forms = binary_forms(op);
    *out = wrap(forms && forms->reversed ? forms->reversed(x, s) : binary(op, at::scalar_tensor(s, x.options()), x));
  })
}
int ctorch_op_unary(ctorch_unary_op op, ctorch_tensor a, ctorch_tensor *out) { CT_OUT(unary(op, T(a))) }
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

int ctorch_op_binary_(ctorch_binary_op op, ctorch_tensor a, ctorch_tensor b) {
  CT_TRY({
    auto &x = T(a);
    in_place_form(op, &BinaryForms::in_place)(x, T(b));
  })
}
int ctorch_op_binary_scalar_(ctorch_binary_op op, ctorch_tensor a, double s) {
  CT_TRY({
    auto &x = T(a);
    in_place_form(op, &BinaryForms::in_place_scalar)(x, scalar_for(x, s));
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

int ctorch_op_reduce(ctorch_reduce_op op, ctorch_tensor a, const int64_t *dims, int64_t ndims, int keepdim, ctorch_tensor *out) {
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
      default: throw std::invalid_argument("unknown reduction " + std::to_string(static_cast<int32_t>(op)));
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
