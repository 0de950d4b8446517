// plan.cpp — layer norm and RMS norm on the run-time-compiled backends: one
// launch of norm.cl over the rows form (backend.h): x, y and the optional
// gamma and beta ([outer..., row], gamma and beta stride 0 on the outer
// axes), the row the last axis. norm.cl numbers its operands 0 x, 1 y,
// 2 gamma, 3 beta; the slots are layer_norm's [x, gamma?, beta?, y] and
// rms_norm's [x, gamma?, y]. Their gradients: plan_norm_backward.
#include <algorithm>
#include <cstddef>
#include <string>

#include "plan_kit.hpp"

namespace chorus::ops::norm {
namespace {

using namespace chorus::backend_common;

chorus_status plan_norm(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                        std::string* why) {
  const bool layer = op.kind == CHORUS_OP_LAYER_NORM;
  if (const chorus_status s = check_record(op, layer ? 4 : 3, sizeof(chorus_norm_attrs), why))
    return s;
  const Tensor& x = op.tensors[0];
  if (x.rank == 0 || is_int(x.dtype)) {
    *why = "norms take floats with at least one axis";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const int y = layer ? 3 : 2;
  const int gamma = 1, beta = layer ? 2 : -1;
  const bool has_gamma = present(op.tensors[gamma]);
  const bool has_beta = beta >= 0 && present(op.tensors[beta]);
  const RowLayout r = row_layout(op, {0, y, gamma, beta}, 1);
  const double eps = attrs_of<chorus_norm_attrs>(op).eps;
  Launch l;
  l.program = row_program(traits, "norm", "norm.cl", x.dtype, r.layout,
                          row_vw(traits.tuning, x.dtype));
  row_grid(traits.tuning, r.args, &l);
  if (layer) {
    l.kernel = "layer_norm";
    l.args = {buffer_arg(0),
              buffer_arg(y),
              has_gamma ? buffer_arg(gamma) : null_arg(),
              has_beta ? buffer_arg(beta) : null_arg(),
              bytes_arg(r.args),
              accumulator_arg(x.dtype, eps),
              bytes_arg(int32_t{has_gamma}),
              bytes_arg(int32_t{has_beta})};
    patch_rows(l, 4, r);
  } else {
    l.kernel = "rms_norm";
    l.args = {buffer_arg(0),
              buffer_arg(y),
              has_gamma ? buffer_arg(gamma) : null_arg(),
              bytes_arg(r.args),
              accumulator_arg(x.dtype, eps),
              bytes_arg(int32_t{has_gamma})};
    patch_rows(l, 3, r);
  }
  plan->launches.push_back(std::move(l));
  return CHORUS_OK;
}

// The gradients: slots x, gamma?, dy, dx?, dgamma?, dbeta? (layer norm;
// RMS norm has no dbeta). Launches, in this order (dx may be dy's memory,
// so everything that reads dy for the parameter gradients comes first):
//   with dgamma or dbeta: the row kernel writes each row's (mean, r) to
//     scratch 0; norm_param_grad_partial sums column j over a fixed range of
//     rows per work-item into scratch 1; norm_param_grad_final adds those
//     ranges in order into dgamma and dbeta;
//   with dx: the row kernel again, writing dx.
// All launches are kernels of one program (norm.cl, the row layout of x,
// dy, gamma and dx).
chorus_status plan_norm_backward(const chorus_op_record& op, const DeviceTraits& traits,
                                 Plan* plan, std::string* why) {
  const bool layer = op.kind == CHORUS_OP_LAYER_NORM_BACKWARD;
  if (const chorus_status s = check_record(op, layer ? 6 : 5, sizeof(chorus_norm_attrs), why))
    return s;
  const Tensor& x = op.tensors[0];
  if (x.rank == 0 || is_int(x.dtype)) {
    *why = "norms take floats with at least one axis";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  constexpr int kGamma = 1, kDx = 3, kDgamma = 4, kDbeta = 5;
  const bool has_gamma = present(op.tensors[kGamma]);
  const bool has_dx = present(op.tensors[kDx]);
  const bool has_dgamma = present(op.tensors[kDgamma]);
  const bool has_dbeta = layer && present(op.tensors[kDbeta]);
  const RowLayout r = row_layout(op, {0, 2, kGamma, kDx}, 1);
  const double eps = attrs_of<chorus_norm_attrs>(op).eps;
  const ProgramSpec program = row_program(traits, "norm", "norm.cl", x.dtype, r.layout,
                                          row_vw(traits.tuning, x.dtype));
  const int acc = x.dtype == CHORUS_DTYPE_F64 ? 8 : 4;
  const int64_t rows = r.args.rows, n = r.args.n;
  const auto row_launch = [&](bool stats, bool write_dx) {
    Launch l;
    l.program = program;
    l.kernel = layer ? "layer_norm_backward" : "rms_norm_backward";
    row_grid(traits.tuning, r.args, &l);
    l.args = {buffer_arg(0),
              buffer_arg(2),
              has_gamma ? buffer_arg(kGamma) : null_arg(),
              write_dx ? buffer_arg(kDx) : null_arg(),
              stats ? scratch_arg(0) : null_arg(),
              bytes_arg(r.args),
              accumulator_arg(x.dtype, eps),
              bytes_arg(int32_t{has_gamma}),
              bytes_arg(int32_t{stats}),
              bytes_arg(int32_t{write_dx})};
    patch_rows(l, 5, r);
    plan->launches.push_back(std::move(l));
  };
  if ((has_dgamma || has_dbeta) && n > 0) {
    // Rows per part: at least 32, and at most 2^18 partial pairs in all.
    const int64_t max_parts = std::max<int64_t>(1, (int64_t{1} << 18) / n);
    const int64_t parts_wanted = std::min<int64_t>(max_parts, std::max<int64_t>(1, rows / 32));
    const int64_t per_part = rows == 0 ? 0 : (rows + parts_wanted - 1) / parts_wanted;
    const int64_t parts = rows == 0 ? 1 : (rows + per_part - 1) / per_part;
    plan->scratch_bytes[0] = static_cast<uint64_t>(std::max<int64_t>(rows, 1) * 2 * acc);
    plan->scratch_bytes[1] = static_cast<uint64_t>(parts * n * 2 * acc);
    if (rows > 0) row_launch(true, false);
    Launch p;
    p.program = program;
    p.kernel = "norm_param_grad_partial";
    const int64_t vw = row_vw(traits.tuning, x.dtype);
    linear_grid(traits.tuning, static_cast<uint64_t>(parts * ((n + vw - 1) / vw)), &p);
    p.args = {buffer_arg(0),       buffer_arg(2),        scratch_arg(0), scratch_arg(1),
              bytes_arg(r.args),   bytes_arg(per_part),  bytes_arg(parts)};
    patch_rows(p, 4, r);
    plan->launches.push_back(std::move(p));
    Launch f;
    f.program = program;
    f.kernel = "norm_param_grad_final";
    linear_grid(traits.tuning, static_cast<uint64_t>(n), &f);
    const Tensor& dg = op.tensors[kDgamma];
    const Tensor* db = layer ? &op.tensors[kDbeta] : nullptr;
    f.args = {scratch_arg(1),
              has_dgamma ? buffer_arg(kDgamma) : null_arg(),
              has_dbeta ? buffer_arg(kDbeta) : null_arg(),
              bytes_arg(n),
              bytes_arg(parts),
              bytes_arg(int32_t{has_dgamma}),
              bytes_arg(int32_t{has_dbeta}),
              bytes_arg(int64_t{0}),
              bytes_arg(has_dgamma ? dg.strides[dg.rank - 1] : int64_t{0}),
              bytes_arg(int64_t{0}),
              bytes_arg(has_dbeta ? db->strides[db->rank - 1] : int64_t{0})};
    if (has_dgamma) patch_offset(f, 7, 0, kDgamma);
    if (has_dbeta) patch_offset(f, 9, 0, kDbeta);
    plan->launches.push_back(std::move(f));
  }
  if (has_dx && rows > 0 && n > 0) row_launch(false, true);
  return CHORUS_OK;
}

// Batch norm (custom normal form: axis 0 the channel, the rest what it
// spans): one launch of a row kernel per channel; the per-channel tensors
// through ck_channels, their offsets patched per execution.
chorus_status plan_batch_norm(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                              std::string* why) {
  const bool backward = op.kind == CHORUS_OP_BATCH_NORM_BACKWARD;
  if (const chorus_status s =
          check_record(op, backward ? 8 : 6, sizeof(chorus_batch_norm_attrs), why))
    return s;
  const Tensor& x = op.tensors[0];
  if (x.rank < 2 || is_int(x.dtype)) {
    *why = "batch norm takes floats as [C, values...] (the normal form)";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const auto a = attrs_of<chorus_batch_norm_attrs>(op);
  // The normal form has already dropped the axes of extent 1 and merged
  // the ones every tensor steps over as one run (NCHW arrives as
  // [C, N, H*W]): the kernel's runs are as long as the layout allows.
  const RowLayout r =
      backward ? row_layout(op, {0, 4, 5}, x.rank - 1) : row_layout(op, {0, 5}, x.rank - 1);
  Launch l;
  l.program = row_program(traits, "norm", "norm.cl", x.dtype, r.layout,
                          row_vw(traits.tuning, x.dtype));
  row_grid(traits.tuning, r.args, &l);
  // The per-channel slots, in ck_channels order.
  const std::vector<int> channels =
      backward ? std::vector<int>{1, 2, 3, 6, 7} : std::vector<int>{1, 2, 3, 4};
  ck_channels ch{};
  for (size_t t = 0; t < channels.size(); ++t) {
    const Tensor& p = op.tensors[channels[t]];
    ch.stride[t] = present(p) ? p.strides[0] : 0;
  }
  const auto buffer_or_null = [&](int slot) {
    return present(op.tensors[slot]) ? buffer_arg(slot) : null_arg();
  };
  const auto flag = [&](int slot) { return bytes_arg(int32_t{present(op.tensors[slot])}); };
  size_t ch_arg = 0;
  if (!backward) {
    l.kernel = "batch_norm";
    l.args = {buffer_arg(0),      buffer_arg(5),       buffer_or_null(1),
              buffer_or_null(2),  buffer_or_null(3),   buffer_or_null(4),
              bytes_arg(r.args),  bytes_arg(ch),       accumulator_arg(x.dtype, a.eps),
              accumulator_arg(x.dtype, a.momentum),    bytes_arg(int32_t{a.training}),
              flag(1),            flag(2),             bytes_arg(int32_t{a.training && present(op.tensors[3])})};
    patch_rows(l, 6, r);
    ch_arg = 7;
  } else {
    l.kernel = "batch_norm_backward";
    l.args = {buffer_arg(0),      buffer_arg(4),      buffer_or_null(5),  buffer_or_null(1),
              buffer_or_null(2),  buffer_or_null(3),  buffer_or_null(6),  buffer_or_null(7),
              bytes_arg(r.args),  bytes_arg(ch),      accumulator_arg(x.dtype, a.eps),
              bytes_arg(int32_t{a.training}),         flag(1),            flag(5),
              flag(6),            flag(7)};
    patch_rows(l, 8, r);
    ch_arg = 9;
  }
  for (size_t t = 0; t < channels.size(); ++t)
    if (present(op.tensors[channels[t]]))
      patch_offset(l, ch_arg, offsetof(ck_channels, offset) + 8 * t, channels[t]);
  plan->launches.push_back(std::move(l));
  return CHORUS_OK;
}

// Each float dtype over contiguous, strided, long and many short rows,
// with and without gamma and beta.
void variants(std::vector<VariantOp>* out) {
  for (chorus_dtype d : float_dtypes()) {
    const Tensor xs[] = {tensor_of(d, {8, 16}, {16, 1}), tensor_of(d, {8, 16}, {1, 8}),
                         tensor_of(d, {2, 1 << 20}, {1 << 20, 1}), tensor_of(d, {1 << 16, 3}, {3, 1})};
    for (const Tensor& x : xs) {
      const Tensor g = tensor_of(d, {x.shape[0], x.shape[1]}, {0, 1});
      chorus_norm_attrs a{};
      a.eps = 1e-5;
      for (int affine = 0; affine < 2; ++affine) {
        const Tensor p = affine ? g : absent();
        out->push_back(variant(CHORUS_OP_LAYER_NORM, a, {x, p, p, x}));
        out->push_back(variant(CHORUS_OP_RMS_NORM, a, {x, p, x}));
        const Tensor dp = tensor_of(d, {1, x.shape[1]}, {0, 1});
        out->push_back(variant(CHORUS_OP_LAYER_NORM_BACKWARD, a, {x, p, x, x, dp, dp}));
        out->push_back(variant(CHORUS_OP_RMS_NORM_BACKWARD, a, {x, p, x, x, dp}));
      }
    }
    // Batch norm: [C, N] (contiguous or strided values) and [C, N, HW]
    // (generic), per-channel tensors [C] at stride 1.
    const Tensor bxs[] = {tensor_of(d, {8, 16}, {1, 8}), tensor_of(d, {8, 16}, {16, 1}),
                          tensor_of(d, {4, 2, 9}, {9, 36, 1})};
    for (const Tensor& x : bxs) {
      Tensor c = x;
      for (uint32_t k = 0; k < c.rank; ++k) {
        c.shape[k] = k == 0 ? x.shape[0] : 1;
        c.strides[k] = k == 0 ? 1 : 0;
      }
      for (int training = 0; training < 2; ++training) {
        chorus_batch_norm_attrs b{};
        b.training = training;
        b.eps = 1e-5;
        b.momentum = 0.1;
        out->push_back(variant(CHORUS_OP_BATCH_NORM, b, {x, c, c, c, c, x}));
        out->push_back(variant(CHORUS_OP_BATCH_NORM_BACKWARD, b, {x, c, c, c, x, x, c, c}));
      }
    }
  }
}

}  // namespace

void register_plan() {
  register_planner(CHORUS_OP_LAYER_NORM, plan_norm);
  register_planner(CHORUS_OP_RMS_NORM, plan_norm);
  register_planner(CHORUS_OP_LAYER_NORM_BACKWARD, plan_norm_backward);
  register_planner(CHORUS_OP_RMS_NORM_BACKWARD, plan_norm_backward);
  register_planner(CHORUS_OP_BATCH_NORM, plan_batch_norm);
  register_planner(CHORUS_OP_BATCH_NORM_BACKWARD, plan_batch_norm);
  register_variants(variants);
}

}  // namespace chorus::ops::norm
