// chorus.hpp — header-only C++ wrapper over chorus.h.
//
// One Handle<> template gives every object RAII; every failing C call becomes
// a chorus::Error carrying the status code and the message. Tensors are the
// C struct with a few constructors. Nothing here adds behaviour the C API
// does not have, so the C API stays the single source of truth.
#pragma once

#include <chorus/chorus.h>

#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace chorus {

class Error : public std::runtime_error {
 public:
  Error(chorus_status status, const std::string& message)
      : std::runtime_error(std::string(chorus_status_name(status)) + ": " + message),
        status_(status) {}
  chorus_status status() const noexcept { return status_; }

 private:
  chorus_status status_;
};

inline void check(chorus_status status) {
  if (status != CHORUS_OK) throw Error(status, chorus_last_error_message());
}

// Move-only owner of a C handle.
template <typename T, void (*Destroy)(T)>
class Handle {
 public:
  Handle() = default;
  explicit Handle(T handle) : handle_(handle) {}
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  Handle(Handle&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}
  Handle& operator=(Handle&& other) noexcept {
    if (this != &other) {
      reset();
      handle_ = std::exchange(other.handle_, nullptr);
    }
    return *this;
  }
  ~Handle() { reset(); }
  T get() const noexcept { return handle_; }
  explicit operator bool() const noexcept { return handle_ != nullptr; }
  void reset() noexcept {
    if (handle_) Destroy(handle_);
    handle_ = nullptr;
  }

 private:
  T handle_ = nullptr;
};

template <typename T>
constexpr chorus_dtype dtype_of();
template <> constexpr chorus_dtype dtype_of<float>() { return CHORUS_DTYPE_F32; }
template <> constexpr chorus_dtype dtype_of<double>() { return CHORUS_DTYPE_F64; }
template <> constexpr chorus_dtype dtype_of<int32_t>() { return CHORUS_DTYPE_I32; }
template <> constexpr chorus_dtype dtype_of<int64_t>() { return CHORUS_DTYPE_I64; }
template <> constexpr chorus_dtype dtype_of<uint8_t>() { return CHORUS_DTYPE_U8; }

class Buffer : public Handle<chorus_buffer, chorus_buffer_destroy> {
 public:
  using Handle::Handle;
  uint64_t size() const noexcept { return chorus_buffer_size(get()); }
};

class Event : public Handle<chorus_event, chorus_event_destroy> {
 public:
  using Handle::Handle;
  void wait() const { check(chorus_event_wait(get())); }
  static double elapsed_ms(const Event& start, const Event& end) {
    double ms = 0;
    check(chorus_event_elapsed_ms(start.get(), end.get(), &ms));
    return ms;
  }
};

// A view of a buffer (chorus_tensor), built from shapes and strides.
struct Tensor : chorus_tensor {
  Tensor() : chorus_tensor{} {}
  // Contiguous row-major view at element offset 0. A view does not own its
  // buffer, so a temporary Buffer (which would dangle) is refused at compile time.
  Tensor(Buffer&&, chorus_dtype, std::initializer_list<int64_t>) = delete;
  Tensor(Buffer&&, chorus_dtype, const std::vector<int64_t>&) = delete;
  Tensor(const Buffer& storage, chorus_dtype element_type, std::initializer_list<int64_t> extents)
      : Tensor(storage, element_type, std::vector<int64_t>(extents)) {}
  Tensor(const Buffer& storage, chorus_dtype element_type, const std::vector<int64_t>& extents)
      : chorus_tensor{} {
    check(chorus_tensor_contiguous(storage.get(), element_type, static_cast<uint32_t>(extents.size()),
                                   extents.data(), this));
  }
  int64_t numel() const noexcept { return chorus_tensor_numel(this); }
  // The same elements with axes i and j swapped (no data moves).
  Tensor transposed(uint32_t i, uint32_t j) const {
    Tensor t = *this;
    std::swap(t.shape[i], t.shape[j]);
    std::swap(t.strides[i], t.strides[j]);
    return t;
  }
  // Elements begin, begin + step, ... below end along axis (a view).
  Tensor slice(uint32_t axis, int64_t begin, int64_t end, int64_t step = 1) const {
    Tensor t;
    check(chorus_tensor_slice(this, axis, begin, end, step, &t));
    return t;
  }
  // Axis k of the result is axis order[k] of this one (a view).
  Tensor permuted(const std::vector<uint32_t>& order) const {
    if (order.size() != rank)
      throw Error(CHORUS_ERROR_INVALID_ARGUMENT, "permuted: order must name every axis once");
    Tensor t;
    check(chorus_tensor_permute(this, order.data(), &t));
    return t;
  }
  // Consecutive views along axis with the given extents, which must add up
  // to the axis's (torch.split with a list of sizes).
  std::vector<Tensor> split(uint32_t axis, const std::vector<int64_t>& sizes) const {
    std::vector<Tensor> parts;
    int64_t at = 0;
    for (const int64_t n : sizes) {
      parts.push_back(slice(axis, at, at + n));
      at += n;
    }
    if (axis < rank && at != shape[axis])
      throw Error(CHORUS_ERROR_INVALID_ARGUMENT, "split: the sizes do not add up to the axis");
    return parts;
  }
};

class Queue : public Handle<chorus_queue, chorus_queue_destroy> {
 public:
  using Handle::Handle;
  void sync() const { check(chorus_queue_sync(get())); }
  uint32_t numerics() const {
    uint32_t n = 0;
    check(chorus_queue_numerics(get(), &n));
    return n;
  }
  template <typename T>
  void write(const Buffer& dst, std::span<const T> src, uint64_t offset_bytes = 0) const {
    check(chorus_buffer_write(get(), dst.get(), offset_bytes, src.data(), src.size_bytes()));
  }
  template <typename T>
  void read(const Buffer& src, std::span<T> dst, uint64_t offset_bytes = 0) const {
    check(chorus_buffer_read(get(), src.get(), offset_bytes, dst.data(), dst.size_bytes()));
  }
  void copy(const Buffer& src, const Buffer& dst, uint64_t bytes, uint64_t src_offset = 0,
            uint64_t dst_offset = 0) const {
    check(chorus_buffer_copy(get(), src.get(), src_offset, dst.get(), dst_offset, bytes));
  }
  void record(const Event& event) const { check(chorus_event_record(event.get(), get())); }
  // What the last op on this queue ran: its path (native or composite) and steps.
  chorus_plan_info last_op() const {
    chorus_plan_info info{};
    info.struct_size = sizeof info;
    check(chorus_queue_last_op(get(), &info));
    return info;
  }
};

// An op prepared once for the layouts of its tensors, executed many times on
// buffers and offsets of those layouts (chorus_plan).
class Plan : public Handle<chorus_plan, chorus_plan_destroy> {
 public:
  using Handle::Handle;
  // kind, its attributes struct (or nullptr) and its tensors in slot order
  // (nullptr for an absent optional one).
  static Plan create(const Queue& q, chorus_op_kind kind, const void* attrs,
                     std::initializer_list<const chorus_tensor*> tensors) {
    chorus_plan p = nullptr;
    check(chorus_plan_create(q.get(), kind, attrs, static_cast<uint32_t>(tensors.size()),
                             tensors.begin(), &p));
    return Plan(p);
  }
  static Plan binary(const Queue& q, chorus_binary_op op, const chorus_tensor& a,
                     const chorus_tensor& b, const chorus_tensor& out) {
    const chorus_binary_attrs attrs{sizeof attrs, op};
    return create(q, CHORUS_OP_BINARY, &attrs, {&a, &b, &out});
  }
  void execute(const Queue& q, std::initializer_list<const chorus_tensor*> tensors) const {
    check(chorus_plan_execute(get(), q.get(), static_cast<uint32_t>(tensors.size()),
                              tensors.begin()));
  }
  chorus_plan_info info() const {
    chorus_plan_info i{};
    i.struct_size = sizeof i;
    check(chorus_plan_info_get(get(), &i));
    return i;
  }
};

class Device : public Handle<chorus_device, chorus_device_close> {
 public:
  using Handle::Handle;
  chorus_device_info info() const {
    chorus_device_info i{};
    check(chorus_device_info_get(get(), &i));
    return i;
  }
  Queue queue(uint32_t numerics = CHORUS_NUMERICS_PRECISE) const {
    chorus_queue_desc desc{sizeof(chorus_queue_desc), numerics};
    chorus_queue q = nullptr;
    check(chorus_queue_create(get(), &desc, &q));
    return Queue(q);
  }
  Buffer buffer(uint64_t bytes) const {
    chorus_buffer b = nullptr;
    check(chorus_buffer_create(get(), bytes, &b));
    return Buffer(b);
  }
  Event event() const {
    chorus_event e = nullptr;
    check(chorus_event_create(get(), &e));
    return Event(e);
  }
};

class Context : public Handle<chorus_context, chorus_context_destroy> {
 public:
  // Finds every plugin; plugin_path adds ':'-separated folders to search.
  explicit Context(const std::string& plugin_path = {}) {
    chorus_context_desc desc{sizeof(chorus_context_desc), 0,
                             plugin_path.empty() ? nullptr : plugin_path.c_str()};
    chorus_context c = nullptr;
    check(chorus_context_create(&desc, &c));
    *static_cast<Handle*>(this) = Handle(c);
  }
  std::vector<chorus_plugin_info> plugins() const {
    uint32_t n = 0;
    check(chorus_context_plugin_count(get(), &n));
    std::vector<chorus_plugin_info> out(n);
    for (uint32_t i = 0; i < n; ++i) check(chorus_context_plugin_info(get(), i, &out[i]));
    return out;
  }
  std::vector<chorus_device_info> devices() const {
    uint32_t n = 0;
    check(chorus_context_device_count(get(), &n));
    std::vector<chorus_device_info> out(n);
    for (uint32_t i = 0; i < n; ++i) check(chorus_context_device_info(get(), i, &out[i]));
    return out;
  }
  // "backend:index", "best", or "" for CHORUS_DEVICE / best.
  Device open(const std::string& name = {}) const {
    chorus_device d = nullptr;
    check(chorus_device_open(get(), name.c_str(), &d));
    return Device(d);
  }
};

namespace ops {

inline void copy(const Queue& q, const Tensor& src, const Tensor& dst) {
  check(chorus_copy(q.get(), &src, &dst));
}
inline void fill(const Queue& q, const Tensor& dst, double value) {
  check(chorus_fill(q.get(), &dst, value));
}
// out = the inputs joined along axis (torch.cat).
inline void concat(const Queue& q, const std::vector<Tensor>& inputs, uint32_t axis,
                   const Tensor& out) {
  const std::vector<chorus_tensor> in(inputs.begin(), inputs.end());
  check(chorus_concat(q.get(), static_cast<uint32_t>(in.size()), in.data(), axis, &out));
}
// y = x with constant padding: before[k] / after[k] elements of value on
// either side of axis k.
inline void pad(const Queue& q, const Tensor& x, const std::vector<int64_t>& before,
                const std::vector<int64_t>& after, double value, const Tensor& y) {
  if (before.size() != x.rank || after.size() != x.rank)
    throw Error(CHORUS_ERROR_INVALID_ARGUMENT, "pad: one pad before and after every axis of x");
  check(chorus_pad(q.get(), &x, before.data(), after.data(), value, &y));
}
inline void unary(const Queue& q, chorus_unary_op op, const Tensor& x, const Tensor& y) {
  check(chorus_unary(q.get(), op, &x, &y));
}
// leaky_relu and elu with their alpha; clamp with min and max.
inline void unary(const Queue& q, chorus_unary_op op, double alpha, double beta, const Tensor& x,
                  const Tensor& y) {
  const chorus_unary_attrs attrs{sizeof attrs, op, alpha, beta};
  check(chorus_unary_ex(q.get(), &attrs, &x, &y));
}
inline void leaky_relu(const Queue& q, const Tensor& x, const Tensor& y, double alpha = 0.01) {
  unary(q, CHORUS_UNARY_LEAKY_RELU, alpha, 0, x, y);
}
inline void elu(const Queue& q, const Tensor& x, const Tensor& y, double alpha = 1.0) {
  unary(q, CHORUS_UNARY_ELU, alpha, 0, x, y);
}
inline void clamp(const Queue& q, const Tensor& x, double min, double max, const Tensor& y) {
  check(chorus_clamp(q.get(), &x, min, max, &y));
}
inline void binary(const Queue& q, chorus_binary_op op, const Tensor& a, const Tensor& b,
                   const Tensor& out) {
  check(chorus_binary(q.get(), op, &a, &b, &out));
}
inline void add(const Queue& q, const Tensor& a, const Tensor& b, const Tensor& out) {
  binary(q, CHORUS_BINARY_ADD, a, b, out);
}
inline void mul(const Queue& q, const Tensor& a, const Tensor& b, const Tensor& out) {
  binary(q, CHORUS_BINARY_MUL, a, b, out);
}
inline void compare(const Queue& q, chorus_compare_op op, const Tensor& a, const Tensor& b,
                    const Tensor& out) {
  check(chorus_compare(q.get(), op, &a, &b, &out));
}
inline void where(const Queue& q, const Tensor& condition, const Tensor& a, const Tensor& b,
                  const Tensor& out) {
  check(chorus_where(q.get(), &condition, &a, &b, &out));
}
inline void reduce(const Queue& q, chorus_reduce_op op, const Tensor& x, uint32_t axes_mask,
                   const Tensor& out) {
  check(chorus_reduce(q.get(), op, &x, axes_mask, &out));
}
inline void argmax(const Queue& q, const Tensor& x, int32_t axis, const Tensor& out) {
  check(chorus_argmax(q.get(), &x, axis, &out));
}

struct GemmOptions {
  bool transpose_a = false;
  bool transpose_b = false;
  double alpha = 1.0;
  double beta = 0.0;
  chorus_activation activation = CHORUS_ACTIVATION_NONE;
  const Tensor* bias = nullptr;
};
// c = activation(alpha * op(a) @ op(b) + beta * c + bias)
inline void gemm(const Queue& q, const Tensor& a, const Tensor& b, const Tensor& c,
                 const GemmOptions& o = {}) {
  chorus_gemm_desc desc{sizeof(chorus_gemm_desc), o.transpose_a, o.transpose_b, o.alpha, o.beta,
                        o.activation};
  check(chorus_gemm(q.get(), &desc, &a, &b, o.bias, &c));
}
inline void softmax(const Queue& q, const Tensor& x, const Tensor& y, int32_t axis = -1) {
  check(chorus_softmax(q.get(), &x, axis, 0, &y));
}
inline void log_softmax(const Queue& q, const Tensor& x, const Tensor& y, int32_t axis = -1) {
  check(chorus_softmax(q.get(), &x, axis, 1, &y));
}
inline void layer_norm(const Queue& q, const Tensor& x, const Tensor* gamma, const Tensor* beta,
                       double eps, const Tensor& y) {
  check(chorus_layer_norm(q.get(), &x, gamma, beta, eps, &y));
}
inline void rms_norm(const Queue& q, const Tensor& x, const Tensor* gamma, double eps,
                     const Tensor& y) {
  check(chorus_rms_norm(q.get(), &x, gamma, eps, &y));
}
struct CumsumOptions {
  int32_t axis = -1;
  bool exclusive = false;
  bool reverse = false;
};
inline void cumsum(const Queue& q, const Tensor& x, const Tensor& y, const CumsumOptions& o = {}) {
  check(chorus_cumsum(q.get(), &x, o.axis, o.exclusive, o.reverse, &y));
}
#if CHORUS_ABI_LEVEL >= 2
// Random numbers (docs/ops.md): the same (seed, offset, shape) gives the same
// bits on every backend.
inline void uniform(const Queue& q, const Tensor& y, uint64_t seed, uint64_t offset = 0,
                    double low = 0, double high = 1) {
  const chorus_random_attrs a{sizeof a, CHORUS_RANDOM_UNIFORM, seed, offset, low, high};
  check(chorus_random(q.get(), &a, &y));
}
inline void normal(const Queue& q, const Tensor& y, uint64_t seed, uint64_t offset = 0,
                   double mean = 0, double stddev = 1) {
  const chorus_random_attrs a{sizeof a, CHORUS_RANDOM_NORMAL, seed, offset, mean, stddev};
  check(chorus_random(q.get(), &a, &y));
}
inline void bernoulli(const Queue& q, const Tensor& y, double p, uint64_t seed,
                      uint64_t offset = 0) {
  const chorus_random_attrs a{sizeof a, CHORUS_RANDOM_BERNOULLI, seed, offset, p, 0};
  check(chorus_random(q.get(), &a, &y));
}
// mask may be nullptr.
inline void dropout(const Queue& q, const Tensor& x, double p, uint64_t seed, uint64_t offset,
                    const Tensor& y, const Tensor* mask = nullptr) {
  check(chorus_dropout(q.get(), &x, p, seed, offset, &y, mask));
}
inline void dropout_backward(const Queue& q, const Tensor& dy, double p, uint64_t seed,
                             uint64_t offset, const Tensor& dx) {
  check(chorus_dropout_backward(q.get(), &dy, p, seed, offset, &dx));
}
// Optimizer steps (docs/ops.md): set the hyperparameters once, then call
// step() with the step count; momentum_buffer / max_exp_avg_sq may be nullptr
// where the options do not need them.
struct SgdOptions {
  double lr = 1e-3, momentum = 0, dampening = 0, weight_decay = 0;
  bool nesterov = false;
};
inline void sgd_step(const Queue& q, const SgdOptions& o, uint64_t step, const Tensor& param,
                     const Tensor& grad, const Tensor* momentum_buffer = nullptr) {
  const chorus_sgd_attrs a{sizeof a, o.nesterov ? 1 : 0, step, o.lr, o.momentum, o.dampening,
                           o.weight_decay};
  check(chorus_sgd_step(q.get(), &a, &param, &grad, momentum_buffer));
}
struct AdamwOptions {
  double lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, weight_decay = 1e-2;
  bool amsgrad = false;
};
inline void adamw_step(const Queue& q, const AdamwOptions& o, uint64_t step, const Tensor& param,
                       const Tensor& grad, const Tensor& exp_avg, const Tensor& exp_avg_sq,
                       const Tensor* max_exp_avg_sq = nullptr) {
  const chorus_adamw_attrs a{sizeof a, o.amsgrad ? 1 : 0, step, o.lr, o.beta1, o.beta2, o.eps,
                             o.weight_decay};
  check(chorus_adamw_step(q.get(), &a, &param, &grad, &exp_avg, &exp_avg_sq, max_exp_avg_sq));
}
#endif
#if CHORUS_ABI_LEVEL >= 3
// Convolution (docs/ops.md): the options of PyTorch's conv2d, padding per
// side (top, bottom, left, right).
struct Conv2dOptions {
  chorus_conv_layout layout = CHORUS_CONV_NCHW;
  int32_t stride_h = 1, stride_w = 1;
  int32_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int32_t dilation_h = 1, dilation_w = 1;
  int32_t groups = 1;
  // The same padding on every side.
  Conv2dOptions& pad(int32_t p) {
    pad_top = pad_bottom = pad_left = pad_right = p;
    return *this;
  }
  chorus_conv2d_attrs attrs() const {
    return chorus_conv2d_attrs{sizeof(chorus_conv2d_attrs), layout, stride_h, stride_w, pad_top,
                               pad_bottom, pad_left, pad_right, dilation_h, dilation_w, groups, 0};
  }
};
// bias may be nullptr.
inline void conv2d(const Queue& q, const Conv2dOptions& o, const Tensor& x, const Tensor& w,
                   const Tensor* bias, const Tensor& y) {
  const chorus_conv2d_attrs a = o.attrs();
  check(chorus_conv2d(q.get(), &a, &x, &w, bias, &y));
}
inline void conv2d_backward_data(const Queue& q, const Conv2dOptions& o, const Tensor& dy,
                                 const Tensor& w, const Tensor& dx) {
  const chorus_conv2d_attrs a = o.attrs();
  check(chorus_conv2d_backward_data(q.get(), &a, &dy, &w, &dx));
}
// dbias may be nullptr.
inline void conv2d_backward_weight(const Queue& q, const Conv2dOptions& o, const Tensor& x,
                                   const Tensor& dy, const Tensor& dw,
                                   const Tensor* dbias = nullptr) {
  const chorus_conv2d_attrs a = o.attrs();
  check(chorus_conv2d_backward_weight(q.get(), &a, &x, &dy, &dw, dbias));
}
#endif
#if CHORUS_ABI_LEVEL >= 4
// The gradients of softmax and log_softmax from their output y and dy.
inline void softmax_backward(const Queue& q, const Tensor& y, const Tensor& dy, const Tensor& dx,
                             int32_t axis = -1) {
  check(chorus_softmax_backward(q.get(), &y, &dy, axis, 0, &dx));
}
inline void log_softmax_backward(const Queue& q, const Tensor& y, const Tensor& dy,
                                 const Tensor& dx, int32_t axis = -1) {
  check(chorus_softmax_backward(q.get(), &y, &dy, axis, 1, &dx));
}
// Pooling (docs/ops.md): PyTorch's max_pool2d and avg_pool2d options,
// padding per side; stride 0 means the kernel's extent (PyTorch's default).
struct Pool2dOptions {
  chorus_pool_mode mode = CHORUS_POOL_MAX;
  chorus_conv_layout layout = CHORUS_CONV_NCHW;
  int32_t kernel_h = 1, kernel_w = 1;
  int32_t stride_h = 0, stride_w = 0;
  int32_t pad_top = 0, pad_bottom = 0, pad_left = 0, pad_right = 0;
  int32_t dilation_h = 1, dilation_w = 1;
  bool ceil_mode = false;
  bool count_include_pad = true;  // average pooling; PyTorch's default
  int32_t divisor_override = 0;
  static Pool2dOptions max(int32_t k, int32_t stride = 0, int32_t pad = 0) {
    return Pool2dOptions{}.kernel(k).stride(stride).pad(pad);
  }
  static Pool2dOptions avg(int32_t k, int32_t stride = 0, int32_t pad = 0) {
    Pool2dOptions o = max(k, stride, pad);
    o.mode = CHORUS_POOL_AVG;
    return o;
  }
  Pool2dOptions& kernel(int32_t k) {
    kernel_h = kernel_w = k;
    return *this;
  }
  Pool2dOptions& stride(int32_t s) {
    stride_h = stride_w = s;
    return *this;
  }
  // The same padding on every side.
  Pool2dOptions& pad(int32_t p) {
    pad_top = pad_bottom = pad_left = pad_right = p;
    return *this;
  }
  chorus_pool2d_attrs attrs() const {
    return chorus_pool2d_attrs{sizeof(chorus_pool2d_attrs), mode, layout, kernel_h, kernel_w,
                               stride_h, stride_w, pad_top, pad_bottom, pad_left, pad_right,
                               dilation_h, dilation_w, ceil_mode ? 1 : 0,
                               mode == CHORUS_POOL_AVG && count_include_pad ? 1 : 0,
                               divisor_override, 0};
  }
};
// indices (max pooling only) may be nullptr.
inline void pool2d(const Queue& q, const Pool2dOptions& o, const Tensor& x, const Tensor& y,
                   const Tensor* indices = nullptr) {
  const chorus_pool2d_attrs a = o.attrs();
  check(chorus_pool2d(q.get(), &a, &x, &y, indices));
}
// Max pooling needs indices or x (indices win when both are given);
// average pooling neither.
inline void pool2d_backward(const Queue& q, const Pool2dOptions& o, const Tensor& dy,
                            const Tensor* x, const Tensor* indices, const Tensor& dx) {
  const chorus_pool2d_attrs a = o.attrs();
  check(chorus_pool2d_backward(q.get(), &a, &dy, x, indices, &dx));
}
#endif
#if CHORUS_ABI_LEVEL >= 5
// The activation gradients: dx = dy * f'(v) for the unary op f, from the
// forward's input x, or from its output y (from_output: relu, sigmoid, tanh,
// leaky_relu with alpha > 0, elu with alpha >= 0). alpha and beta are the
// forward's: leaky_relu's and elu's alpha, clamp's min and max.
inline void unary_backward(const Queue& q, chorus_unary_op op, double alpha, double beta,
                           const Tensor& v, const Tensor& dy, const Tensor& dx,
                           bool from_output = false) {
  const chorus_unary_backward_attrs a{sizeof a, op, from_output ? 1 : 0, 0, alpha, beta};
  check(chorus_unary_backward(q.get(), &a, &v, &dy, &dx));
}
// The same with the forward's defaults (chorus_unary's: leaky_relu 0.01, elu
// 1; clamp has no defaults and takes the overload above).
inline void unary_backward(const Queue& q, chorus_unary_op op, const Tensor& v, const Tensor& dy,
                           const Tensor& dx, bool from_output = false) {
  const double alpha = op == CHORUS_UNARY_LEAKY_RELU ? 0.01 : op == CHORUS_UNARY_ELU ? 1.0 : 0.0;
  unary_backward(q, op, alpha, 0, v, dy, dx, from_output);
}
#endif
#if CHORUS_ABI_LEVEL >= 6
// The gradients of layer_norm and rms_norm from the forward's x, gamma (may
// be nullptr) and eps, and dy: dx, dgamma and dbeta, each nullptr when not
// wanted (not all). dx may be dy itself.
inline void layer_norm_backward(const Queue& q, const Tensor& x, const Tensor* gamma,
                                const Tensor& dy, double eps, const Tensor* dx,
                                const Tensor* dgamma = nullptr, const Tensor* dbeta = nullptr) {
  check(chorus_layer_norm_backward(q.get(), &x, gamma, &dy, eps, dx, dgamma, dbeta));
}
inline void rms_norm_backward(const Queue& q, const Tensor& x, const Tensor* gamma,
                              const Tensor& dy, double eps, const Tensor* dx,
                              const Tensor* dgamma = nullptr) {
  check(chorus_rms_norm_backward(q.get(), &x, gamma, &dy, eps, dx, dgamma));
}
// Batch normalisation per channel (axis 1), PyTorch's BatchNorm options.
struct BatchNormOptions {
  bool training = true;
  double eps = 1e-5;
  double momentum = 0.1;
  chorus_batch_norm_attrs attrs() const {
    return chorus_batch_norm_attrs{sizeof(chorus_batch_norm_attrs), training ? 1 : 0, eps,
                                   momentum};
  }
};
inline void batch_norm(const Queue& q, const BatchNormOptions& o, const Tensor& x,
                       const Tensor* gamma, const Tensor* beta, const Tensor* running_mean,
                       const Tensor* running_var, const Tensor& y) {
  const chorus_batch_norm_attrs a = o.attrs();
  check(chorus_batch_norm(q.get(), &a, &x, gamma, beta, running_mean, running_var, &y));
}
inline void batch_norm_backward(const Queue& q, const BatchNormOptions& o, const Tensor& x,
                                const Tensor* gamma, const Tensor* running_mean,
                                const Tensor* running_var, const Tensor& dy, const Tensor* dx,
                                const Tensor* dgamma = nullptr, const Tensor* dbeta = nullptr) {
  const chorus_batch_norm_attrs a = o.attrs();
  check(chorus_batch_norm_backward(q.get(), &a, &x, gamma, running_mean, running_var, &dy, dx,
                                   dgamma, dbeta));
}
// Group norm over x = [N, C, ...] (F.group_norm) and its gradients; gamma,
// beta, dx, dgamma and dbeta may be nullptr (not all three gradients).
inline void group_norm(const Queue& q, const Tensor& x, int32_t num_groups, const Tensor* gamma,
                       const Tensor* beta, double eps, const Tensor& y) {
  check(chorus_group_norm(q.get(), &x, num_groups, gamma, beta, eps, &y));
}
inline void group_norm_backward(const Queue& q, const Tensor& x, int32_t num_groups,
                                const Tensor* gamma, const Tensor& dy, double eps,
                                const Tensor* dx, const Tensor* dgamma = nullptr,
                                const Tensor* dbeta = nullptr) {
  check(chorus_group_norm_backward(q.get(), &x, num_groups, gamma, &dy, eps, dx, dgamma, dbeta));
}
// Gather and scatter-add along an axis (torch.gather, Tensor.scatter_add_;
// an index out of range gives 0 / is skipped), embedding lookup and its
// gradient (F.embedding); see chorus.h.
inline void gather(const Queue& q, const Tensor& x, int32_t axis, const Tensor& index,
                   const Tensor& out) {
  check(chorus_gather(q.get(), &x, axis, &index, &out));
}
inline void scatter_add(const Queue& q, const Tensor& index, int32_t axis, const Tensor& src,
                        const Tensor& out) {
  check(chorus_scatter_add(q.get(), &index, axis, &src, &out));
}
inline void embedding(const Queue& q, const Tensor& table, const Tensor& index, const Tensor& out) {
  check(chorus_embedding(q.get(), &table, &index, &out));
}
inline void embedding_backward(const Queue& q, const Tensor& index, const Tensor& dy,
                               const Tensor& dtable) {
  check(chorus_embedding_backward(q.get(), &index, &dy, &dtable));
}
// Cross-entropy from logits with integer targets (PyTorch's F.cross_entropy).
struct CrossEntropyOptions {
  chorus_loss_reduction reduction = CHORUS_REDUCTION_MEAN;
  int32_t ignore_index = -100;
  double label_smoothing = 0;
  chorus_cross_entropy_attrs attrs() const {
    return chorus_cross_entropy_attrs{sizeof(chorus_cross_entropy_attrs), reduction, ignore_index,
                                      0, label_smoothing};
  }
};
inline void cross_entropy(const Queue& q, const CrossEntropyOptions& o, const Tensor& logits,
                          const Tensor& target, const Tensor& loss) {
  const chorus_cross_entropy_attrs a = o.attrs();
  check(chorus_cross_entropy(q.get(), &a, &logits, &target, &loss));
}
inline void cross_entropy_backward(const Queue& q, const CrossEntropyOptions& o,
                                   const Tensor& logits, const Tensor& target, const Tensor& dloss,
                                   const Tensor& dlogits) {
  const chorus_cross_entropy_attrs a = o.attrs();
  check(chorus_cross_entropy_backward(q.get(), &a, &logits, &target, &dloss, &dlogits));
}
#endif
// Any op: kind, attributes struct (or nullptr), tensors in slot order.
inline void run(const Queue& q, chorus_op_kind kind, const void* attrs,
                std::initializer_list<const chorus_tensor*> tensors) {
  check(chorus_op_run(q.get(), kind, attrs, static_cast<uint32_t>(tensors.size()), tensors.begin()));
}

}  // namespace ops
}  // namespace chorus
