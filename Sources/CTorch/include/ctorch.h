// ctorch: the project's plain C interface over libtorch (ATen + autograd).
//
// Conventions (after tch-rs):
// - every function that can fail returns int: 0 on success, -1 on failure, with the
//   libtorch message left in a thread-local buffer read by ctorch_last_error();
// - results come back through out-parameters; a tensor handle owns one at::Tensor and is
//   released with ctorch_tensor_free;
// - no C++ exception ever crosses this boundary;
// - every code (dtype, device, op, ...) is a named enum type with a fixed int32_t underlying type, so that
//   Swift imports it as a struct with `rawValue: Int32` and each constant (CT_ADD, ...) as a global of it:
//   the Swift side names the constants and never repeats their numbers.
#ifndef CTORCH_H
#define CTORCH_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct ctorch_tensor_opaque *ctorch_tensor;
typedef struct ctorch_generator_opaque *ctorch_generator;

// dtypes (the project's own codes; mapped to c10::ScalarType inside)
typedef enum ctorch_dtype : int32_t {
  CT_FLOAT32 = 0, CT_BFLOAT16 = 1, CT_FLOAT16 = 2, CT_INT64 = 3, CT_UINT8 = 4, CT_BOOL = 5, CT_FLOAT64 = 6, CT_INT32 = 7
} ctorch_dtype;
// devices: CT_CPU (-1) is the CPU, k >= 0 is CUDA device k (every negative code is taken as the CPU)
typedef enum ctorch_device : int32_t { CT_CPU = -1 } ctorch_device;
// kinds of device, for autocast
typedef enum ctorch_device_type : int32_t { CT_DEVICE_TYPE_CPU = 0, CT_DEVICE_TYPE_CUDA = 1 } ctorch_device_type;
// memory layouts of 4-D tensors (any other code is taken as CT_CONTIGUOUS)
typedef enum ctorch_memory_format : int32_t { CT_CONTIGUOUS = 0, CT_CHANNELS_LAST = 1 } ctorch_memory_format;

// ---- library --------------------------------------------------------------------------
const char *ctorch_last_error(void);
const char *ctorch_version(void);           // libtorch version, e.g. "2.11.0"
int64_t ctorch_live_tensors(void);          // handles created and not yet freed
int64_t ctorch_host_waits(void);            // calls that make the host wait for a GPU (see shim.h), on any device
void ctorch_manual_seed(uint64_t seed);     // CPU and every loaded CUDA device
int ctorch_set_num_threads(int n);
int ctorch_get_num_threads(void);

// ---- tensor lifetime and properties ---------------------------------------------------
void ctorch_tensor_free(ctorch_tensor t);
int ctorch_tensor_dim(ctorch_tensor t, int64_t *out);
int ctorch_tensor_shape(ctorch_tensor t, int64_t *out, int64_t cap);     // cap >= dim
int ctorch_tensor_strides(ctorch_tensor t, int64_t *out, int64_t cap);
int ctorch_tensor_numel(ctorch_tensor t, int64_t *out);
int ctorch_tensor_dtype(ctorch_tensor t, ctorch_dtype *out);
int ctorch_tensor_device(ctorch_tensor t, ctorch_device *out);
int ctorch_tensor_is_contiguous(ctorch_tensor t, ctorch_memory_format memory_format, int *out);
// Copies all elements, converted to dtype, row-major, into dst (bytes must equal numel*size).
int ctorch_tensor_copy_out(ctorch_tensor t, ctorch_dtype dtype, void *dst, size_t bytes);
// the data of a contiguous CPU tensor, for filling it in place (no copy); valid while the tensor lives
int ctorch_tensor_host_data(ctorch_tensor t, void **out, size_t *bytes);
int ctorch_tensor_item(ctorch_tensor t, double *out);
int ctorch_tensor_description(ctorch_tensor t, char *buf, size_t cap);   // at::Tensor printed

// ---- creation ---------------------------------------------------------------------------
// from host memory (copied); src_dtype describes data
int ctorch_make_from_data(const void *data, ctorch_dtype src_dtype, const int64_t *shape, int64_t ndim,
                          ctorch_device device, ctorch_tensor *out);
int ctorch_make_full(const int64_t *shape, int64_t ndim, double value, ctorch_dtype dtype, ctorch_device device,
                     ctorch_tensor *out);
int ctorch_make_arange(double start, double end, double step, ctorch_dtype dtype, ctorch_device device,
                       ctorch_tensor *out);
// random: gen may be NULL (the device's default generator)
int ctorch_make_rand(const int64_t *shape, int64_t ndim, int normal, ctorch_dtype dtype, ctorch_device device,
                     ctorch_generator gen, ctorch_tensor *out);
int ctorch_make_randint(int64_t low, int64_t high, const int64_t *shape, int64_t ndim, ctorch_device device,
                        ctorch_generator gen, ctorch_tensor *out);
int ctorch_make_randperm(int64_t n, ctorch_device device, ctorch_generator gen, ctorch_tensor *out);
// same shape, dtype and device as t: filled with value, or left uninitialised (any other kind is CT_LIKE_FULL)
typedef enum ctorch_like_kind : int32_t { CT_LIKE_FULL = 0, CT_LIKE_EMPTY = 1 } ctorch_like_kind;
int ctorch_make_like(ctorch_tensor t, double value, ctorch_like_kind kind, ctorch_tensor *out);

// ---- generators --------------------------------------------------------------------------
int ctorch_gen_new(uint64_t seed, ctorch_device device, ctorch_generator *out);
void ctorch_gen_free(ctorch_generator g);
int ctorch_gen_default(ctorch_device device, ctorch_generator *out);       // borrowed view of the default one; free it too
int ctorch_gen_get_state(ctorch_generator g, ctorch_tensor *out);  // uint8 tensor
int ctorch_gen_set_state(ctorch_generator g, ctorch_tensor state);
int ctorch_gen_seed(ctorch_generator g, uint64_t seed);

// ---- conversion and views ----------------------------------------------------------------
int ctorch_op_to(ctorch_tensor t, ctorch_dtype dtype, ctorch_device device, int copy, ctorch_tensor *out);
int ctorch_op_contiguous(ctorch_tensor t, ctorch_memory_format memory_format, ctorch_tensor *out);
int ctorch_op_clone(ctorch_tensor t, ctorch_tensor *out);
int ctorch_op_detach(ctorch_tensor t, ctorch_tensor *out);
int ctorch_op_reshape(ctorch_tensor t, const int64_t *shape, int64_t ndim, ctorch_tensor *out);
int ctorch_op_permute(ctorch_tensor t, const int64_t *dims, int64_t ndim, ctorch_tensor *out);
int ctorch_op_transpose(ctorch_tensor t, int64_t d0, int64_t d1, ctorch_tensor *out);
int ctorch_op_expand(ctorch_tensor t, const int64_t *shape, int64_t ndim, ctorch_tensor *out);
int ctorch_op_slice(ctorch_tensor t, int64_t dim, int64_t start, int64_t end, int64_t step, ctorch_tensor *out);
int ctorch_op_select(ctorch_tensor t, int64_t dim, int64_t index, ctorch_tensor *out);
int ctorch_op_unsqueeze(ctorch_tensor t, int64_t dim, ctorch_tensor *out);
int ctorch_op_squeeze(ctorch_tensor t, int64_t dim, ctorch_tensor *out);  // dim = INT64_MIN: all
int ctorch_op_flatten(ctorch_tensor t, int64_t start, int64_t end, ctorch_tensor *out);
int ctorch_op_index(ctorch_tensor t, ctorch_tensor index, ctorch_tensor *out);   // t[index] (long or bool)
int ctorch_op_index_select(ctorch_tensor t, int64_t dim, ctorch_tensor index, ctorch_tensor *out);
int ctorch_op_index_put_(ctorch_tensor t, ctorch_tensor index, ctorch_tensor values); // t[index] = values
// t[i0, i1, ...] with one entry per leading dim; a NULL entry takes the whole dim (":")
int ctorch_op_index_multi(ctorch_tensor t, const ctorch_tensor *indices, int64_t n, ctorch_tensor *out);
// Makes the handle dst refer to src's tensor (the Swift object keeps its identity; used to move
// parameters between devices or memory formats in place).
int ctorch_op_assign(ctorch_tensor dst, ctorch_tensor src);
int ctorch_op_cat(const ctorch_tensor *ts, int64_t n, int64_t dim, ctorch_tensor *out);
int ctorch_op_stack(const ctorch_tensor *ts, int64_t n, int64_t dim, ctorch_tensor *out);
int ctorch_op_flip(ctorch_tensor t, const int64_t *dims, int64_t ndim, ctorch_tensor *out);
int ctorch_op_pad(ctorch_tensor t, const int64_t *pad, int64_t npad, double value, ctorch_tensor *out);

// ---- elementwise --------------------------------------------------------------------------
// binary ops: which forms each has (tensor-scalar, in place) is in ops.cpp's table
typedef enum ctorch_binary_op : int32_t {
  CT_ADD = 0, CT_SUB, CT_MUL, CT_DIV, CT_POW, CT_MAXIMUM, CT_MINIMUM, CT_EQ, CT_NE, CT_LT, CT_LE,
  CT_GT, CT_GE, CT_AND, CT_OR, CT_REMAINDER, CT_ATAN2
} ctorch_binary_op;
typedef enum ctorch_unary_op : int32_t {
  CT_NEG = 0, CT_ABS, CT_SIGN, CT_EXP, CT_LOG, CT_SQRT, CT_RSQRT, CT_RELU, CT_SIGMOID, CT_TANH,
  CT_FLOOR, CT_CEIL, CT_ROUND, CT_NOT, CT_SQUARE, CT_RECIPROCAL, CT_SIN, CT_COS, CT_LOG1P,
  CT_ISFINITE, CT_ISNAN, CT_ZERO_, CT_RELU_
} ctorch_unary_op;
int ctorch_op_binary(ctorch_binary_op op, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out);
int ctorch_op_binary_scalar(ctorch_binary_op op, ctorch_tensor a, double s, ctorch_tensor *out);
int ctorch_op_rbinary_scalar(ctorch_binary_op op, double s, ctorch_tensor a, ctorch_tensor *out); // s op a
int ctorch_op_unary(ctorch_unary_op op, ctorch_tensor a, ctorch_tensor *out);   // in-place kinds return the same tensor
int ctorch_op_add_scaled(ctorch_tensor a, ctorch_tensor b, double alpha, ctorch_tensor *out); // a + alpha*b
int ctorch_op_clamp(ctorch_tensor a, double lo, double hi, int has_lo, int has_hi, ctorch_tensor *out);
int ctorch_op_clamp_tensor(ctorch_tensor a, ctorch_tensor lo, ctorch_tensor hi, ctorch_tensor *out); // lo/hi may be NULL
int ctorch_op_where(ctorch_tensor cond, ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out);
int ctorch_op_masked_fill(ctorch_tensor a, ctorch_tensor mask, double value, ctorch_tensor *out);
int ctorch_op_softplus(ctorch_tensor a, double beta, double threshold, ctorch_tensor *out);
int ctorch_op_lerp(ctorch_tensor a, ctorch_tensor b, double w, ctorch_tensor *out);

// in place (the handle keeps pointing at the updated tensor)
int ctorch_op_binary_(ctorch_binary_op op, ctorch_tensor a, ctorch_tensor b);   // ADD SUB MUL DIV only
int ctorch_op_binary_scalar_(ctorch_binary_op op, ctorch_tensor a, double s);   // ADD SUB MUL DIV only
int ctorch_op_add_scaled_(ctorch_tensor a, ctorch_tensor b, double alpha); // a += alpha*b
int ctorch_op_copy_(ctorch_tensor dst, ctorch_tensor src);
int ctorch_op_fill_(ctorch_tensor a, double value);
int ctorch_op_clamp_(ctorch_tensor a, double lo, double hi);
int ctorch_op_uniform_(ctorch_tensor a, double lo, double hi, ctorch_generator gen);
int ctorch_op_normal_(ctorch_tensor a, double mean, double std, ctorch_generator gen);

// ---- reductions -----------------------------------------------------------------------------
typedef enum ctorch_reduce_op : int32_t {
  CT_SUM = 0, CT_MEAN, CT_MAX, CT_MIN, CT_ARGMAX, CT_ARGMIN, CT_PROD, CT_ANY, CT_ALL, CT_LOGSUMEXP, CT_VAR, CT_STD
} ctorch_reduce_op;
// ndims == 0 reduces over everything (argmax/argmin: over the flattened tensor)
int ctorch_op_reduce(ctorch_reduce_op op, ctorch_tensor a, const int64_t *dims, int64_t ndims, int keepdim, ctorch_tensor *out);
int ctorch_op_norm(ctorch_tensor a, double p, const int64_t *dims, int64_t ndims, int keepdim, ctorch_tensor *out);
int ctorch_op_sort(ctorch_tensor a, int64_t dim, int descending, ctorch_tensor *values, ctorch_tensor *indices);
int ctorch_op_topk(ctorch_tensor a, int64_t k, int64_t dim, int largest, ctorch_tensor *values, ctorch_tensor *indices);
int ctorch_op_gather(ctorch_tensor a, int64_t dim, ctorch_tensor index, ctorch_tensor *out);
int ctorch_op_scatter(ctorch_tensor a, int64_t dim, ctorch_tensor index, ctorch_tensor src, ctorch_tensor *out);
int ctorch_op_scatter_value(ctorch_tensor a, int64_t dim, ctorch_tensor index, double value, ctorch_tensor *out);
int ctorch_op_one_hot(ctorch_tensor labels, int64_t classes, ctorch_tensor *out);
int ctorch_op_matmul(ctorch_tensor a, ctorch_tensor b, ctorch_tensor *out);
int ctorch_op_allclose(ctorch_tensor a, ctorch_tensor b, double rtol, double atol, int *out);

// ---- neural-network functions ------------------------------------------------------------------
int ctorch_nn_conv2d(ctorch_tensor x, ctorch_tensor w, ctorch_tensor b /*nullable*/, const int64_t *stride,
                     const int64_t *padding, const int64_t *dilation, int64_t groups, ctorch_tensor *out);
int ctorch_nn_linear(ctorch_tensor x, ctorch_tensor w, ctorch_tensor b /*nullable*/, ctorch_tensor *out);
// running_mean/var nullable; in training mode they are updated in place. cudnn: 0 takes ATen's own kernels
// on CUDA (the formula of PyTorch's native batch norm) instead of cuDNN's.
int ctorch_nn_batch_norm(ctorch_tensor x, ctorch_tensor w, ctorch_tensor b, ctorch_tensor running_mean,
                         ctorch_tensor running_var, int training, double momentum, double eps, int cudnn,
                         ctorch_tensor *out);
int ctorch_nn_max_pool2d(ctorch_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding, ctorch_tensor *out);
int ctorch_nn_avg_pool2d(ctorch_tensor x, const int64_t *kernel, const int64_t *stride, const int64_t *padding, ctorch_tensor *out);
int ctorch_nn_adaptive_avg_pool2d(ctorch_tensor x, const int64_t *size, ctorch_tensor *out);
int ctorch_nn_softmax(ctorch_tensor x, int64_t dim, int log, ctorch_tensor *out);
// how a loss reduces over the batch
typedef enum ctorch_reduction : int32_t {
  CT_REDUCTION_NONE = 0, CT_REDUCTION_MEAN = 1, CT_REDUCTION_SUM = 2, CT_REDUCTION_BATCHMEAN = 3
} ctorch_reduction;
int ctorch_nn_cross_entropy(ctorch_tensor logits, ctorch_tensor target, ctorch_reduction reduction, double label_smoothing,
                            ctorch_tensor *out);
int ctorch_nn_nll_loss(ctorch_tensor logp, ctorch_tensor target, ctorch_reduction reduction, ctorch_tensor *out);
int ctorch_nn_kl_div(ctorch_tensor input, ctorch_tensor target, ctorch_reduction reduction, int log_target,
                     ctorch_tensor *out);
int ctorch_nn_dropout(ctorch_tensor x, double p, int training, ctorch_tensor *out);

// ---- autograd ----------------------------------------------------------------------------------
int ctorch_grad_set_requires_grad(ctorch_tensor t, int requires);
int ctorch_grad_requires_grad(ctorch_tensor t, int *out);
int ctorch_grad_is_leaf(ctorch_tensor t, int *out);
int ctorch_grad_get(ctorch_tensor t, ctorch_tensor *out);   // *out NULL when no gradient
int ctorch_grad_set(ctorch_tensor t, ctorch_tensor g);      // g NULL clears it
int ctorch_grad_backward(ctorch_tensor loss, ctorch_tensor grad /*nullable*/, int retain_graph, int create_graph);
// like torch.autograd.grad; results[i] is NULL for an unused input when allow_unused
int ctorch_grad_grad(const ctorch_tensor *outputs, int64_t n_out, const ctorch_tensor *grad_outputs /*nullable*/,
                     const ctorch_tensor *inputs, int64_t n_in, int retain_graph, int create_graph,
                     int allow_unused, ctorch_tensor *results);
int ctorch_grad_set_enabled(int enabled);   // returns the previous state (0/1)
int ctorch_grad_is_enabled(void);

// ---- multi-tensor (foreach) ------------------------------------------------------------------------
int ctorch_foreach_norm(const ctorch_tensor *ts, int64_t n, double p, ctorch_tensor *out);        // 1-D, n entries
int ctorch_foreach_dot(const ctorch_tensor *a, const ctorch_tensor *b, int64_t n, ctorch_tensor *out); // 1-D, n entries, each sum accumulated in float64
int ctorch_foreach_add(const ctorch_tensor *a, const ctorch_tensor *b, int64_t n, double alpha, ctorch_tensor *out);
// out[i] = a[i] * s[i], s a 1-D tensor with n entries (no host synchronisation)
int ctorch_foreach_mul_tensor(const ctorch_tensor *a, int64_t n, ctorch_tensor s, ctorch_tensor *out);
// in place
int ctorch_foreach_add_(const ctorch_tensor *a, const ctorch_tensor *b, int64_t n, double alpha);
int ctorch_foreach_mul_scalar_(const ctorch_tensor *a, int64_t n, double s);
int ctorch_foreach_zero_(const ctorch_tensor *a, int64_t n);
int ctorch_foreach_copy_(const ctorch_tensor *dst, const ctorch_tensor *src, int64_t n);
// segmented sum of a 1-D tensor (lengths: int64, same device); values[i] repeated repeats[i] times
int ctorch_segment_sum(ctorch_tensor values, ctorch_tensor lengths, ctorch_tensor *out);
int ctorch_repeat_interleave(ctorch_tensor values, ctorch_tensor repeats, int64_t output_size, ctorch_tensor *out);

// ---- CUDA and accelerated paths --------------------------------------------------------------------
// Loads libtorch_cuda.so beside the loaded libtorch_cpu.so. 0: loaded (or already); -1: see last error.
int ctorch_cuda_load(void);
int ctorch_cuda_is_available(void);
int ctorch_cuda_device_count(void);
int ctorch_cuda_device_name(int device, char *buf, size_t cap);
int ctorch_cuda_synchronize(int device);
// bytes: current allocated, peak allocated, reserved; reset peak with ctorch_cuda_reset_peak
int ctorch_cuda_memory_stats(int device, int64_t *allocated, int64_t *peak, int64_t *reserved);
int ctorch_cuda_reset_peak(int device);
int ctorch_cuda_runtime_version(int *out);
// Zeros in page-locked (pinned) host memory, which CUDA copies from asynchronously (needs CUDA loaded).
int ctorch_make_pinned_zeros(const int64_t *shape, int64_t ndim, ctorch_dtype dtype, ctorch_tensor *out);
// A host tensor copied to a CUDA device on a side stream of the pool; the device's current stream waits for the
// copy (an event), and the copy's memory is recorded as used on it, so work queued later sees the data while the
// copy overlaps the work queued before. Asynchronous to the host when the source is pinned.
int ctorch_cuda_copy_on_side_stream(ctorch_tensor t, ctorch_device device, ctorch_tensor *out);
int ctorch_set_cudnn_benchmark(int on);
// TF32 for fp32 CUDA convolutions and matmuls (PyTorch's defaults: convolutions on, matmuls off)
int ctorch_set_cuda_tf32(int convolutions, int matmuls);
int ctorch_get_cuda_tf32(int *convolutions, int *matmuls);
// ---- operation census (a RecordFunction hook, as PyTorch's profiler uses) -------------------
// Between start and stop, counts the ATen operations dispatched; the report lists those that did work
// themselves (see op_census.cpp) as "name\tcount\n" lines and gives all dispatches in *calls.
// *needed: the buffer size the report takes (call with buf NULL to ask).
int ctorch_op_census_start(void);
int ctorch_op_census_stop(void);
int ctorch_op_census_report(char *buf, size_t cap, size_t *needed, int64_t *calls);

// ---- profiler traces (PyTorch's Kineto profiler; CUDA activity when cuda != 0) -------------------
// Started on the calling thread; stop saves a Chrome trace to path (NULL: discard).
int ctorch_profiler_start(int cuda);
int ctorch_profiler_stop(const char *path);

// ---- distributed: c10d's TCPStore (rendezvous, small keys) and a Gloo process group ----------------
typedef struct ctorch_store_opaque *ctorch_store;
typedef struct ctorch_process_group_opaque *ctorch_process_group;
// A TCPStore: the server (is_server != 0) listens on port, the others connect to host:port; both wait up
// to timeout_ms for all world_size workers, and each later get/wait waits at most timeout_ms.
int ctorch_store_new(const char *host, int port, int is_server, int world_size, int64_t timeout_ms, ctorch_store *out);
void ctorch_store_free(ctorch_store s);
int ctorch_store_set(ctorch_store s, const char *key, const uint8_t *value, size_t n);
// Waits for key; copies its value into buf when it fits in cap bytes; *n is its length either way.
int ctorch_store_get(ctorch_store s, const char *key, uint8_t *buf, size_t cap, size_t *n);
int ctorch_store_add(ctorch_store s, const char *key, int64_t delta, int64_t *out);
int ctorch_store_contains(ctorch_store s, const char *key, int *out);
// Gloo over the store: its device binds to interface (when non-empty), else to hostname's address (when
// non-empty), else to this machine's hostname's (falling back to loopback), as torch.distributed does.
// Collectives fail after timeout_ms.
int ctorch_process_group_new_gloo(ctorch_store s, int rank, int world_size, const char *interface, const char *hostname,
                                  int64_t timeout_ms, ctorch_process_group *out);
void ctorch_process_group_free(ctorch_process_group g);
// In place, blocking until done (the tensor is one flat bucket; CPU tensors).
int ctorch_process_group_allreduce_sum(ctorch_process_group g, ctorch_tensor t);
// out = the sum of t over ranks, differentiable: the backward pass sums gradient * gradient_weight over
// ranks and divides by this rank's gradient_weight (> 0). The group must outlive the graph.
int ctorch_process_group_allreduce_sum_differentiable(ctorch_process_group g, ctorch_tensor t, double gradient_weight,
                                                      ctorch_tensor *out);
int ctorch_process_group_broadcast(ctorch_process_group g, ctorch_tensor t, int root);
int ctorch_process_group_barrier(ctorch_process_group g);

// NCCL (nccl.cpp, forwarding to libctorch_nccl.so, opened on first use: `path`, else $AGR_NCCL_LIBRARY,
// else libctorch_nccl.so beside the executable; needs ctorch_cuda_load() first). A NCCL group meets the
// other ranks at the store (keys under "agr/nccl"), bound to cuda:device.
int ctorch_nccl_library_load(const char *path);
// The path ctorch_nccl_library_load(path) would open.
int ctorch_nccl_library_path(const char *path, char *buffer, size_t capacity);
// dlopen + symbol check only, without asking for CUDA (fails on CPU machines at dlopen, with its message).
int ctorch_nccl_library_probe(const char *path);
int ctorch_nccl_version(char *buffer, int capacity);
int ctorch_process_group_new_nccl(ctorch_store s, int rank, int world_size, int device, int64_t timeout_ms,
                                  ctorch_process_group *out);

// The gradient all-reduce overlapped with the backward pass (reducer.cpp): `parameters` grouped in buckets
// of at most bucket_bytes (float32, reverse order), `slots` independent sets of buffers. Between arm and
// disarm, each parameter's gradient computed by autograd is copied, times `scale`, into the armed slot's
// bucket, and a bucket starts its asynchronous all-reduce (sum) once complete, in bucket order. finish
// zero-fills gradients that never came, starts the rest, waits, and writes each parameter's summed
// gradient to out[i]: views of the slot's buffers, valid until the slot's next pass.
typedef struct ctorch_reducer_opaque *ctorch_reducer;
int ctorch_reducer_new(ctorch_process_group g, const ctorch_tensor *parameters, int64_t n, int64_t bucket_bytes,
                       int slots, ctorch_reducer *out);
void ctorch_reducer_free(ctorch_reducer r);
int ctorch_reducer_bucket_count(ctorch_reducer r, int64_t *out);
// How many of the slot's buckets have started their all-reduce in the current pass.
int ctorch_reducer_started(ctorch_reducer r, int slot, int64_t *out);
int ctorch_reducer_arm(ctorch_reducer r, int slot, double scale);
int ctorch_reducer_disarm(ctorch_reducer r);
int ctorch_reducer_finish(ctorch_reducer r, int slot, ctorch_tensor *out);

// ---- CUDA graphs (libctorch_cuda_graphs.so, opened on first use; see Sources/CTorchCUDAGraphs) ----
typedef struct ctorch_graph_opaque *ctorch_graph;
// Opens the graphs library: `path`, else $AGR_CUDA_GRAPHS_LIBRARY, else libctorch_cuda_graphs.so beside
// the executable. Needs ctorch_cuda_load() first.
int ctorch_graph_library_load(const char *path);
int ctorch_graph_new(int device, ctorch_graph *out);
void ctorch_graph_free(ctorch_graph g);
// run work on the graph's own stream (warm-up before a capture); both synchronise the device
int ctorch_graph_side_stream_enter(ctorch_graph g);
int ctorch_graph_side_stream_exit(ctorch_graph g);
// capture everything queued on the device between begin and end (on the side stream) into the graph
int ctorch_graph_capture_begin(ctorch_graph g);
int ctorch_graph_capture_end(ctorch_graph g);
int ctorch_graph_replay(ctorch_graph g);
// autocast scope for a device type and dtype; exit restores the enclosing scope's state
// (any device type other than CT_DEVICE_TYPE_CUDA is taken as the CPU)
int ctorch_autocast_enter(ctorch_device_type device_type, ctorch_dtype dtype);
int ctorch_autocast_exit(ctorch_device_type device_type);

// ---- TorchScript modules (torch::jit; see jit.cpp) ------------------------------------------------
// A module saved with torch.jit.script(model).save(path), loaded on the CPU. Its parameters and buffers come
// out as handles that share the module's tensors (in-place updates reach it), in named_parameters() /
// named_buffers() order with their state_dict names and the class name of the submodule that owns each.
typedef struct ctorch_script_module_opaque *ctorch_script_module;
typedef enum ctorch_script_tensor_kind : int32_t { CT_SCRIPT_PARAMETER = 0, CT_SCRIPT_BUFFER = 1 } ctorch_script_tensor_kind;
int ctorch_script_module_load(const char *path, ctorch_script_module *out);
void ctorch_script_module_free(ctorch_script_module m);
int ctorch_script_module_tensor_count(ctorch_script_module m, ctorch_script_tensor_kind kind, int64_t *out);
int ctorch_script_module_tensor(ctorch_script_module m, ctorch_script_tensor_kind kind, int64_t i, char *name,
                                size_t name_cap, char *owner_type, size_t owner_cap, ctorch_tensor *out);
int ctorch_script_module_set_training(ctorch_script_module m, int on);   // module.train(on), recursively
// A batch_norm or dropout whose training flag is a constant in a graph (what tracing records), described
// in buf; empty when there is none.
int ctorch_script_module_frozen_mode(ctorch_script_module m, char *buf, size_t cap);
// A parameter listed under two names (tied weights), as "b.weight is a.weight" in buf; empty when there is none.
int ctorch_script_module_shared_parameter(ctorch_script_module m, char *buf, size_t cap);
// forward(images): state holds the parameters then the buffers (as listed), which the module uses from then
// on (a handle moved to another device or layout); the result must be logits [batch, classes].
int ctorch_script_module_forward(ctorch_script_module m, const ctorch_tensor *state, int64_t n, ctorch_tensor input,
                                 ctorch_tensor *out);

#ifdef __cplusplus
}
#endif
#endif
