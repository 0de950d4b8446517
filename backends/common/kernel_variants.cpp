// kernel_variants.cpp — see kernel_variants.hpp.
#include "kernel_variants.hpp"

namespace chorus::backend_common {
namespace {

chorus_backend_tensor tensor(chorus_dtype dtype, std::vector<int64_t> shape,
                             std::vector<int64_t> strides) {
  static int dummy;
  chorus_backend_tensor t{};
  t.buffer = &dummy;  // the planner never dereferences buffers
  t.dtype = dtype;
  t.rank = static_cast<uint32_t>(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    t.shape[i] = shape[i];
    t.strides[i] = strides[i];
  }
  return t;
}

chorus_op_desc desc(chorus_op_kind kind, int32_t subop,
                    std::vector<chorus_backend_tensor> tensors) {
  chorus_op_desc d{};
  d.struct_size = sizeof d;
  d.kind = kind;
  d.subop = subop;
  d.tensor_count = static_cast<uint32_t>(tensors.size());
  for (size_t i = 0; i < tensors.size(); ++i) d.tensors[i] = tensors[i];
  return d;
}

}  // namespace

std::vector<chorus_op_desc> kernel_variant_ops() {
  const chorus_dtype all[] = {CHORUS_DTYPE_F32, CHORUS_DTYPE_F16, CHORUS_DTYPE_BF16,
                              CHORUS_DTYPE_F64, CHORUS_DTYPE_I32, CHORUS_DTYPE_I64,
                              CHORUS_DTYPE_U8};
  const chorus_dtype floats[] = {CHORUS_DTYPE_F32, CHORUS_DTYPE_F16, CHORUS_DTYPE_BF16,
                                 CHORUS_DTYPE_F64};
  std::vector<chorus_op_desc> ops;
  // Layouts: contiguous rows, strided (transposed) rows, long rows that the
  // row kernels split into chunks, many short rows.
  enum Layout { contiguous, transposed, long_rows, tall };
  const auto view = [](Layout layout, chorus_dtype d) {
    switch (layout) {
      case transposed:
        return tensor(d, {8, 16}, {1, 8});
      case long_rows:
        return tensor(d, {2, 1 << 20}, {1 << 20, 1});
      case tall:
        return tensor(d, {1 << 16, 3}, {3, 1});
      default:
        return tensor(d, {8, 16}, {16, 1});
    }
  };
  const Layout elementwise_layouts[] = {contiguous, transposed};
  const Layout row_layouts[] = {contiguous, transposed, long_rows, tall};
  for (chorus_dtype s : all)
    for (chorus_dtype d : all)
      for (Layout layout : elementwise_layouts)
        ops.push_back(desc(CHORUS_OP_COPY, 0, {view(layout, s), view(contiguous, d)}));
  for (chorus_dtype d : all) {
    for (Layout l : elementwise_layouts) {
      const auto layout = [&](chorus_dtype t) { return view(l, t); };
      chorus_op_desc f = desc(CHORUS_OP_FILL, 0, {layout(d)});
      f.value = 1;
      ops.push_back(f);
      for (int c = 0; c < 6; ++c)
        ops.push_back(desc(CHORUS_OP_COMPARE, c, {layout(d), layout(d), layout(CHORUS_DTYPE_U8)}));
      ops.push_back(
          desc(CHORUS_OP_WHERE, 0, {layout(CHORUS_DTYPE_U8), layout(d), layout(d), layout(d)}));
      if (d != CHORUS_DTYPE_U8) {
        // Integers have the ops without rounding (docs/ops.md).
        const bool integer = d == CHORUS_DTYPE_I32 || d == CHORUS_DTYPE_I64;
        for (int u = 0; u < CHORUS_UNARY_COUNT_; ++u)
          if (!integer || u == CHORUS_UNARY_NEG || u == CHORUS_UNARY_ABS || u == CHORUS_UNARY_RELU)
            ops.push_back(desc(CHORUS_OP_UNARY, u, {layout(d), layout(d)}));
        for (int b = 0; b < CHORUS_BINARY_COUNT_; ++b)
          if (!integer || (b != CHORUS_BINARY_DIV && b != CHORUS_BINARY_POW))
            ops.push_back(desc(CHORUS_OP_BINARY, b, {layout(d), layout(d), layout(d)}));
      }
    }
    for (Layout layout : row_layouts) {
      const chorus_backend_tensor x = view(layout, d);
      chorus_backend_tensor out = tensor(d, {x.shape[0], 1}, {1, 0});
      for (int r = 0; r < CHORUS_REDUCE_COUNT_; ++r) {
        chorus_op_desc red = desc(CHORUS_OP_REDUCE, r, {x, out});
        red.axes_mask = 2;
        ops.push_back(red);
      }
      out.dtype = CHORUS_DTYPE_I64;
      chorus_op_desc arg = desc(CHORUS_OP_ARGMAX, 0, {x, out});
      arg.axis = 1;
      ops.push_back(arg);
    }
    for (int r = 0; r < CHORUS_REDUCE_COUNT_; ++r) {
      chorus_op_desc red = desc(
          CHORUS_OP_REDUCE, r, {tensor(d, {4, 3, 5}, {1, 4, 12}), tensor(d, {4, 1, 1}, {1, 0, 0})});
      red.axes_mask = 6;
      ops.push_back(red);
    }
  }
  for (chorus_dtype d : floats) {
    for (Layout layout : row_layouts) {
      const chorus_backend_tensor x = view(layout, d);
      for (int log = 0; log < 2; ++log) {
        chorus_op_desc s = desc(CHORUS_OP_SOFTMAX, log, {x, x});
        s.axis = 1;
        ops.push_back(s);
      }
      const chorus_backend_tensor g = tensor(d, {x.shape[0], x.shape[1]}, {0, 1});
      for (int affine = 0; affine < 2; ++affine) {
        chorus_op_desc n = desc(CHORUS_OP_LAYER_NORM, 0, {x, x, g, g});
        n.has_gamma = n.has_beta = affine;
        n.eps = 1e-5;
        ops.push_back(n);
        chorus_op_desc r = desc(CHORUS_OP_RMS_NORM, 0, {x, x, g});
        r.has_gamma = affine;
        r.eps = 1e-5;
        ops.push_back(r);
      }
    }
    for (int transposes = 0; transposes < 4; ++transposes)
      for (int act = 0; act < CHORUS_ACTIVATION_COUNT_; ++act)
        for (int bias = 0; bias < 2; ++bias) {
          const auto a = transposes & 1 ? tensor(d, {1, 40, 24}, {0, 1, 40})
                                        : tensor(d, {1, 40, 24}, {0, 24, 1});
          const auto b = transposes & 2 ? tensor(d, {1, 24, 36}, {0, 1, 24})
                                        : tensor(d, {1, 24, 36}, {0, 36, 1});
          chorus_op_desc g =
              desc(CHORUS_OP_GEMM, 0,
                   {a, b, tensor(d, {1, 40, 36}, {0, 36, 1}),
                    bias ? tensor(d, {1, 40, 36}, {0, 0, 1}) : chorus_backend_tensor{}});
          g.alpha = 1;
          g.beta = bias ? 0.5 : 0;
          g.has_bias = bias;
          g.activation = static_cast<chorus_activation>(act);
          ops.push_back(g);
        }
  }
  return ops;
}

std::map<std::string, ProgramSpec> kernel_variant_programs(const DeviceTraits& traits,
                                                           std::vector<std::string>* errors) {
  std::map<std::string, ProgramSpec> programs;
  for (const chorus_op_desc& d : kernel_variant_ops()) {
    bool f64 = false;
    for (uint32_t t = 0; t < d.tensor_count; ++t) f64 |= d.tensors[t].dtype == CHORUS_DTYPE_F64;
    Plan plan;
    std::string why;
    if (plan_op(d, traits, &plan, &why) != CHORUS_OK) {
      if (!(f64 && !traits.has_fp64)) errors->push_back(why);
      continue;
    }
    for (const auto& launch : plan.launches) programs.emplace(launch.program.key(), launch.program);
  }
  return programs;
}

}  // namespace chorus::backend_common
