// schema.cpp — group norm and its gradient in libchorus (PyTorch's
// F.group_norm; docs/ops.md). x is [N, C, ...]; the channels form G groups
// of C / G consecutive channels, and each (sample, group) is normalised by
// the statistics of its C / G x spatial values; gamma and beta are per
// channel.
//
// No backend has a kernel of its own: both ops are composites of
// batch_norm (training statistics, no affine), binary and reduce, on one
// view of x. Split the channel axis into (group, channel in group) and
// merge sample and group into one axis:
//   x' = [C / G, N * G, spatial...]
// Then the "channels" of x' (its axis 1) are exactly the (sample, group)
// pairs, and batch_norm over x' normalises each by the mean and biased
// variance of its C / G x spatial values: group norm without the affine
// part, which the per-channel gamma and beta add afterwards (broadcast as
// [1, C, 1...]). The merge needs x's sample stride to be C times its channel
// stride (any contiguous NCHW layout; always for N = 1 or G = 1); other
// layouts are copied to a contiguous temporary first, and so is 16-bit data
// (computed in f32). The gradient is batch_norm_backward on the same view
// with g = dy * gamma for dy (dx), and the sums over samples and positions
// of dy * x_hat (dgamma) and dy (dbeta), x_hat from batch_norm again.
// The reference computes both ops directly (reference.cpp), so the suite
// checks this construction against an independent answer.
#include "core/composite_kit.hpp"
#include "core/dispatch.hpp"
#include "core/op_schema.hpp"

namespace chorus::ops::group_norm {
namespace {

using namespace chorus::core;

// Forward slots: x, gamma, beta, y. Backward: x, gamma, dy, dx, dgamma, dbeta.
chorus_status normalise(Call& call) {
  const auto& a = call.attrs_as<chorus_group_norm_attrs>();
  const bool backward = call.slot_count == 6;
  const View& x = call.views[0];
  if (x.rank < 2)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "x has shape %s; it must be [N, C, ...] (rank >= 2)",
                     shape_text(x.rank, x.shape).c_str());
  if (!(a.eps >= 0.0))
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "eps is %g; it must be >= 0", a.eps);
  const int64_t channels = x.shape[1];
  if (a.num_groups < 1 || channels % a.num_groups != 0)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                     "num_groups is %d; it must be >= 1 and divide x's %lld channels (axis 1)",
                     a.num_groups, static_cast<long long>(channels));
  if (backward) {
    if (!call.views[3].present && !call.views[4].present && !call.views[5].present)
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "dx, dgamma and dbeta are all NULL; ask for at least one gradient");
    if (auto s = require_same_shape(call, 2, 0)) return s;
    if (call.views[3].present)
      if (auto s = require_same_shape(call, 3, 0)) return s;
  } else if (auto s = require_same_shape(call, 3, 0)) {
    return s;
  }
  const uint32_t per_channel[] = {1, backward ? 4u : 2u, backward ? 5u : 1u};
  for (const uint32_t p : per_channel) {
    const View& v = call.views[p];
    if (v.present && (v.rank != 1 || v.shape[0] != channels))
      return call.fail(CHORUS_ERROR_INVALID_ARGUMENT,
                       "%s has shape %s; it must be [%lld] (x's channels, axis 1)",
                       call.schema->slots[p].name, shape_text(v.rank, v.shape).c_str(),
                       static_cast<long long>(channels));
  }
  return CHORUS_OK;
}

// A per-channel [C] tensor as [1, C, 1, ...] of rank `rank`.
View channel_view(const View& v, uint32_t rank) {
  View b = v;
  b.rank = rank;
  for (uint32_t k = 0; k < rank; ++k) {
    b.shape[k] = k == 1 ? v.shape[0] : 1;
    b.strides[k] = k == 1 ? v.strides[0] : 0;
  }
  return b;
}

// The batch_norm view [C/G, N*G, spatial...] of v ([N, C, spatial...]), when
// its sample and group axes merge.
bool grouped(const View& v, int64_t groups, View* out) {
  const int64_t n = v.shape[0], c = v.shape[1], per = c / groups;
  int64_t merged_stride = per * v.strides[1];
  if (groups == 1)
    merged_stride = v.strides[0];
  else if (n > 1 && v.strides[0] != c * v.strides[1])
    return false;
  *out = v;
  out->shape[0] = per;
  out->strides[0] = v.strides[1];
  out->shape[1] = n * groups;
  out->strides[1] = merged_stride;
  return true;
}

class GroupKit {
 public:
  GroupKit(Lowering& l, const View& x, int64_t groups)
      : l_(l), groups_(groups), ct_(compute_dtype(x.dtype)), rank_(x.rank) {
    for (uint32_t k = 0; k < x.rank; ++k) shape_[k] = x.shape[k];
  }
  View temp() { return l_.temporary(ct_, rank_, shape_); }
  // v in the compute dtype with a layout grouped() takes (a copy if needed).
  chorus_status usable(const View& v, View* out) {
    View probe;
    if (v.dtype == ct_ && grouped(v, groups_, &probe)) {
      *out = v;
      return CHORUS_OK;
    }
    *out = temp();
    return l_.run(CHORUS_OP_COPY, nullptr, {&v, out});
  }
  // Where a result for `target` is computed: target itself when it has the
  // compute dtype and a grouped layout, else a temporary (then copied).
  View place_for(const View& target) {
    View probe;
    if (target.dtype == ct_ && grouped(target, groups_, &probe)) return target;
    return temp();
  }
  chorus_status finish(const View& computed, const View& target) {
    if (computed.source == target.source && computed.offset == target.offset &&
        computed.dtype == target.dtype)
      return CHORUS_OK;
    return l_.run(CHORUS_OP_COPY, nullptr, {&computed, &target});
  }
  // batch_norm (training statistics, no affine) of x into y, both grouped.
  // A group of one value (C/G = 1, one position) is x - mean = x - x: 0, or
  // NaN for an infinite or NaN x, which batch_norm (whose training refuses
  // one value per channel, as PyTorch's does) cannot give.
  chorus_status normalise(const View& x, const View& y, double eps) {
    if (one_value()) return binary(CHORUS_BINARY_SUB, x, x, y);
    View xg, yg;
    grouped(x, groups_, &xg);
    grouped(y, groups_, &yg);
    const chorus_batch_norm_attrs a{sizeof a, 1, eps, 0.1};
    return l_.run(CHORUS_OP_BATCH_NORM, &a, {&xg, nullptr, nullptr, nullptr, nullptr, &yg});
  }
  chorus_status binary(chorus_binary_op op, const View& a, const View& b, const View& out) {
    const chorus_binary_attrs attrs{sizeof attrs, op};
    return l_.run(CHORUS_OP_BINARY, &attrs, {&a, &b, &out});
  }
  // sum over every axis but the channel axis of v into the [C] tensor out.
  chorus_status channel_sum(const View& v, const View& out) {
    const uint32_t mask = ((1u << rank_) - 1u) & ~2u;
    View sum = out;
    if (out.dtype != ct_) {
      const int64_t c = shape_[1];
      sum = l_.temporary(ct_, 1, &c);
    }
    const chorus_reduce_attrs attrs{sizeof attrs, CHORUS_REDUCE_SUM, mask};
    if (auto s = l_.run(CHORUS_OP_REDUCE, &attrs, {&v, &sum})) return s;
    return finish(sum, out);
  }
  // A per-channel [C] tensor as [1, C, 1, ...] in the compute dtype.
  chorus_status param(const View& p, View* out) {
    const View b = channel_view(p, rank_);
    if (p.dtype == ct_) {
      *out = b;
      return CHORUS_OK;
    }
    *out = l_.temporary(ct_, b.rank, b.shape);
    return l_.run(CHORUS_OP_COPY, nullptr, {&b, out});
  }
  chorus_dtype ct() const { return ct_; }
  bool one_value() const {
    int64_t m = shape_[1] / groups_;
    for (uint32_t k = 2; k < rank_; ++k) m *= shape_[k];
    return m == 1;
  }

 private:
  Lowering& l_;
  int64_t groups_;
  chorus_dtype ct_;
  uint32_t rank_;
  int64_t shape_[CHORUS_MAX_RANK] = {};
};

chorus_status compose_forward(Lowering& l) {
  const Call& op = l.op();
  const auto& a = *reinterpret_cast<const chorus_group_norm_attrs*>(op.attrs);
  const View& y = op.views[3];
  const bool gamma = op.views[1].present, beta = op.views[2].present;
  GroupKit k(l, op.views[0], a.num_groups);
  View x;
  if (auto s = k.usable(op.views[0], &x)) return s;
  // x_hat straight into y when nothing follows and y takes it.
  const View normalised = !gamma && !beta ? k.place_for(y) : k.temp();
  if (auto s = k.normalise(x, normalised, a.eps)) return s;
  if (!gamma && !beta) return k.finish(normalised, y);
  View g, b;
  if (gamma)
    if (auto s = k.param(op.views[1], &g)) return s;
  if (beta)
    if (auto s = k.param(op.views[2], &b)) return s;
  const View out = y.dtype == k.ct() ? y : k.temp();
  if (gamma && beta) {
    if (auto s = k.binary(CHORUS_BINARY_MUL, normalised, g, normalised)) return s;
    if (auto s = k.binary(CHORUS_BINARY_ADD, normalised, b, out)) return s;
  } else if (auto s = k.binary(gamma ? CHORUS_BINARY_MUL : CHORUS_BINARY_ADD, normalised,
                               gamma ? g : b, out)) {
    return s;
  }
  return k.finish(out, y);
}

chorus_status compose_backward(Lowering& l) {
  const Call& op = l.op();
  const auto& a = *reinterpret_cast<const chorus_group_norm_attrs*>(op.attrs);
  const View &dx = op.views[3], &dgamma = op.views[4], &dbeta = op.views[5];
  GroupKit k(l, op.views[0], a.num_groups);
  View x, dy;
  if (auto s = k.usable(op.views[0], &x)) return s;
  if (auto s = k.usable(op.views[2], &dy)) return s;
  // The sums first: dx may be dy itself.
  if (dbeta.present)
    if (auto s = k.channel_sum(dy, dbeta)) return s;
  if (dgamma.present) {
    const View x_hat = k.temp();
    if (auto s = k.normalise(x, x_hat, a.eps)) return s;
    if (auto s = k.binary(CHORUS_BINARY_MUL, dy, x_hat, x_hat)) return s;
    if (auto s = k.channel_sum(x_hat, dgamma)) return s;
  }
  if (!dx.present) return CHORUS_OK;
  View g = dy;
  if (op.views[1].present) {
    View gamma;
    if (auto s = k.param(op.views[1], &gamma)) return s;
    g = k.temp();
    if (auto s = k.binary(CHORUS_BINARY_MUL, dy, gamma, g)) return s;
  }
  const View out = k.place_for(dx);
  if (k.one_value()) {
    // dx = r (h - mean h - z mean(h z)) = 0 over one value, NaN where h or
    // x is not finite: (h - h) + (x - x).
    const View centred = k.temp();
    if (auto s = k.binary(CHORUS_BINARY_SUB, x, x, centred)) return s;
    if (auto s = k.binary(CHORUS_BINARY_SUB, g, g, out)) return s;
    if (auto s = k.binary(CHORUS_BINARY_ADD, out, centred, out)) return s;
    return k.finish(out, dx);
  }
  View xg, gg, og;
  grouped(x, a.num_groups, &xg);
  grouped(g, a.num_groups, &gg);
  grouped(out, a.num_groups, &og);
  const chorus_batch_norm_attrs bn{sizeof bn, 1, a.eps, 0.1};
  if (auto s = l.run(CHORUS_OP_BATCH_NORM_BACKWARD, &bn,
                     {&xg, nullptr, nullptr, nullptr, &gg, &og, nullptr, nullptr}))
    return s;
  return k.finish(out, dx);
}

OpSchema group_schema(chorus_op_kind kind, const char* name, const char* summary) {
  OpSchema s;
  s.kind = kind;
  s.name = name;
  s.family = "group_norm";
  s.summary = summary;
  s.attrs_size = sizeof(chorus_group_norm_attrs);
  s.attrs = {{"num_groups", CHORUS_ATTR_INT32, offsetof(chorus_group_norm_attrs, num_groups), 1},
             {"eps", CHORUS_ATTR_DOUBLE, offsetof(chorus_group_norm_attrs, eps), 1e-5}};
  s.form = NormalForm::custom;
  s.normalise = normalise;
  return s;
}

}  // namespace

void register_schema() {
  OpSchema f = group_schema(CHORUS_OP_GROUP_NORM, "group_norm",
                            "y = (x - mean) / sqrt(var + eps) * gamma + beta per sample and group "
                            "of channels (axis 1)");
  f.slots = {{"x", Role::input, false, kAnyFloat},
             {"gamma", Role::input, true, kAnyFloat, 0},
             {"beta", Role::input, true, kAnyFloat, 0},
             {"y", Role::output, false, kAnyFloat, 0, 1u << 0}};
  f.composites = {{"batch_norm on a grouped view, mul gamma, add beta", compose_forward}};
  register_op(std::move(f));
  OpSchema b = group_schema(CHORUS_OP_GROUP_NORM_BACKWARD, "group_norm_backward",
                            "dx, dgamma, dbeta of group_norm from x, gamma and dy");
  b.slots = {{"x", Role::input, false, kAnyFloat},
             {"gamma", Role::input, true, kAnyFloat, 0},
             {"dy", Role::input, false, kAnyFloat, 0},
             {"dx", Role::output, true, kAnyFloat, 0, 1u << 2},
             {"dgamma", Role::output, true, kAnyFloat, 0},
             {"dbeta", Role::output, true, kAnyFloat, 0}};
  b.composites = {
      {"sum, batch_norm, mul, sum, batch_norm_backward on a grouped view", compose_backward}};
  register_op(std::move(b));
}

}  // namespace chorus::ops::group_norm

extern "C" CHORUS_API chorus_status chorus_group_norm(chorus_queue queue, const chorus_tensor* x,
                                                      int32_t num_groups,
                                                      const chorus_tensor* gamma,
                                                      const chorus_tensor* beta, double eps,
                                                      const chorus_tensor* y) {
  const chorus_group_norm_attrs attrs{sizeof attrs, num_groups, eps};
  return chorus::core::run_op(queue, CHORUS_OP_GROUP_NORM, &attrs, {x, gamma, beta, y});
}

extern "C" CHORUS_API chorus_status chorus_group_norm_backward(
    chorus_queue queue, const chorus_tensor* x, int32_t num_groups, const chorus_tensor* gamma,
    const chorus_tensor* dy, double eps, const chorus_tensor* dx, const chorus_tensor* dgamma,
    const chorus_tensor* dbeta) {
  const chorus_group_norm_attrs attrs{sizeof attrs, num_groups, eps};
  return chorus::core::run_op(queue, CHORUS_OP_GROUP_NORM_BACKWARD, &attrs,
                              {x, gamma, dy, dx, dgamma, dbeta});
}
