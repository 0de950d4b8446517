// plan.cpp — convolution on the run-time-compiled backends (OpenCL, CUDA,
// HIP): conv.cl's launches for the normal form of schema.cpp (rank 4,
// logical NCHW, any strides).
//
// The forward and the data gradient are one "virtual" convolution (ck_conv
// in args.h), an implicit GEMM per group:
//   forward:        src = x padded (offsets pad_top/left), weights as they are,
//                   the layer's stride and dilation, out = y;
//   data gradient:  src = dy spread out by the stride (holes of zeros) and
//                   padded by dilation*(k-1) - pad on the leading side (a
//                   negative value crops), weights flipped and transposed,
//                   stride 1, the layer's dilation, out = dx.
// Launches: conv_pack (unless the source can be read as it is: the
// accumulation dtype and nothing to pad), conv_pack_weights, conv_multiply.
// The weight gradient: conv_pack of x (unless as above) and of dy (unless it
// is already the accumulation dtype with unit stride along ow), then
// conv_weight_grad (+ conv_sum_chunks when split over rows) and
// conv_bias_grad. Scratch 0: packed weights, or dy and the partial sums;
// scratch 1: the padded source.
#include <algorithm>
#include <string>

#include "conv/conv_shape.hpp"
#include "plan_kit.hpp"

namespace chorus::ops::conv {
namespace {

using namespace chorus::backend_common;

constexpr int kMrw = 4, kNrw = 4;  // conv_weight_grad's register tile

int64_t ceil_div(int64_t a, int64_t b) { return (a + b - 1) / b; }

bool acc_dtype(chorus_dtype d) { return d == CHORUS_DTYPE_F32 || d == CHORUS_DTYPE_F64; }

const GemmTiles& tiles_for(const DeviceTraits& traits, chorus_dtype d) {
  return d == CHORUS_DTYPE_F64 ? traits.tuning.gemm_f64 : traits.tuning.gemm_f32;
}

// The program of conv.cl for a dtype, MR and CONV_LINEAR.
ProgramSpec conv_program(const DeviceTraits& traits, chorus_dtype d, int mr, bool linear) {
  const GemmTiles& t = tiles_for(traits, d);
  ProgramSpec p = program(traits, std::string("conv ") + dtype_name(d), "conv.cl", t.vw);
  define_dtype(p, d);
  p.defines.push_back({"MR", std::to_string(mr)});
  p.defines.push_back({"NR", std::to_string(t.nr)});
  p.defines.push_back({"CONV_LINEAR", linear ? "1" : "0"});
  p.defines.push_back({"MRW", std::to_string(kMrw)});
  p.defines.push_back({"NRW", std::to_string(kNrw)});
  return p;
}

// A conv_pack launch of tensor `slot` (its axes in `axes` order, as the
// dense [d0][d1][d2][d3] of pack) into scratch `scratch`.
Launch pack_launch(const ProgramSpec& p, const Tuning& tuning, const Tensor& t, int slot,
                   const int (&axes)[4], const int64_t (&d)[4], int64_t off_h, int64_t off_w,
                   int64_t up_h, int64_t up_w, int scratch) {
  ck_conv_pack k{};
  for (int i = 0; i < 4; ++i) {
    k.d[i] = d[i];
    k.src_strides[i] = t.strides[axes[i]];
  }
  k.src_h = t.shape[axes[2]];
  k.src_w = t.shape[axes[3]];
  k.off_h = off_h;
  k.off_w = off_w;
  k.up_h = up_h;
  k.up_w = up_w;
  Launch l;
  l.program = p;
  l.kernel = "conv_pack";
  l.dims = 3;
  const auto group = static_cast<uint64_t>(std::min<int64_t>(tuning.pack_local, d[3]));
  l.local[0] = group;
  l.global[0] = round_up(static_cast<uint64_t>(d[3]), group);
  l.global[1] = static_cast<uint64_t>(d[2]);
  l.global[2] = static_cast<uint64_t>(d[0] * d[1]);
  l.args = {buffer_arg(slot), scratch_arg(scratch), bytes_arg(k)};
  patch_offset(l, 2, offsetof(ck_conv_pack, src_offset), slot);
  return l;
}

struct Layer : ConvShape {
  chorus_conv2d_attrs a;
};

Layer layer_of(const chorus_op_record& op, int x_slot, int w_slot, int y_slot) {
  Layer l;
  l.a = attrs_of<chorus_conv2d_attrs>(op);
  static_cast<ConvShape&>(l) =
      conv_shape(l.a, op.tensors[x_slot], op.tensors[w_slot], op.tensors[y_slot]);
  return l;
}

// The virtual convolution of the forward and the data gradient.
struct Virtual {
  int src_slot, w_slot, out_slot, bias_slot;  // bias_slot -1: none
  bool flip;
  int64_t off_h, off_w, up_h, up_w, hp, wp;   // the padded source grid
  int64_t groups, m, cin, kh, kw, sh, sw, dh, dw, oh, ow;
};

// ck_conv's sizes of a virtual convolution over n images.
ck_conv conv_args(const Virtual& v, int64_t n) {
  ck_conv c{};
  c.n = n;
  c.groups = v.groups;
  c.m = v.m;
  c.cin = v.cin;
  c.kh = v.kh;
  c.kw = v.kw;
  c.k = v.cin * v.kh * v.kw;
  c.sh = v.sh;
  c.sw = v.sw;
  c.dh = v.dh;
  c.dw = v.dw;
  c.oh = v.oh;
  c.ow = v.ow;
  return c;
}

chorus_status plan_virtual(const chorus_op_record& op, const DeviceTraits& traits,
                           const Virtual& v, Plan* plan) {
  const Tensor& src = op.tensors[v.src_slot];
  const Tensor& out = op.tensors[v.out_slot];
  const chorus_dtype d = out.dtype;
  const GemmTiles& tiles = tiles_for(traits, d);
  const int acc = d == CHORUS_DTYPE_F64 ? 8 : 4;
  const int mr = v.m >= tiles.mr ? tiles.mr : static_cast<int>(pow2_ceil(static_cast<uint64_t>(v.m)));
  const bool linear = v.sh == 1 && v.sw == 1;
  const bool unpadded = v.off_h == 0 && v.off_w == 0 && v.up_h == 1 && v.up_w == 1 &&
                        v.hp == src.shape[2] && v.wp == src.shape[3];
  // Read the source as it is where nothing needs padding and, for the
  // linear walk, its rows are contiguous and no tap reads past a row (kw 1).
  const bool direct = unpadded && acc_dtype(d) && src.shape[0] * src.shape[1] > 0 &&
                      (!linear || (src.strides[3] == 1 && src.strides[2] == src.shape[3] &&
                                   v.kw == 1));

  ck_conv c = conv_args(v, src.shape[0]);
  const int64_t lm = std::min<int64_t>(tiles.lm, ceil_div(v.m, mr));
  c.m_panels = round_up(static_cast<uint64_t>(ceil_div(v.m, mr)), static_cast<uint64_t>(lm));
  int64_t channels = src.shape[1];
  if (direct) {
    for (int i = 0; i < 4; ++i) c.src_strides[i] = src.strides[i];
  } else {
    c.src_strides[3] = 1;
    c.src_strides[2] = v.wp;
    c.src_strides[1] = v.hp * v.wp;
    c.src_strides[0] = channels * v.hp * v.wp;
  }
  c.pitch = linear ? c.src_strides[2] : 0;
  c.q_count = linear ? v.oh * c.pitch : v.oh * v.ow;
  c.tiles = ceil_div(c.q_count, tiles.nr);
  for (int i = 0; i < 4; ++i) {
    c.out_strides[i] = out.strides[i];
    c.w_strides[i] = op.tensors[v.w_slot].strides[i];
  }
  c.flip = v.flip ? 1 : 0;
  const bool has_bias = v.bias_slot >= 0 && present(op.tensors[v.bias_slot]);
  c.has_bias = has_bias ? 1 : 0;
  if (has_bias) c.bias_stride = op.tensors[v.bias_slot].strides[0];

  const ProgramSpec p = conv_program(traits, d, mr, linear);
  // Scratch 1: the padded source, with room for the linear walk's reads
  // past the last row of the last plane ((kw-1)*dw, on pixels it drops).
  if (!direct) {
    const int64_t elements = c.n * channels * v.hp * v.wp;
    plan->scratch_bytes[1] = static_cast<uint64_t>(elements + v.kw * v.dw + tiles.nr) * acc;
    if (elements > 0) {
      const int axes[4] = {0, 1, 2, 3};
      const int64_t dims[4] = {c.n, channels, v.hp, v.wp};
      plan->launches.push_back(pack_launch(p, traits.tuning, src, v.src_slot, axes, dims,
                                           v.off_h, v.off_w, v.up_h, v.up_w, 1));
    }
  }
  // Scratch 0: the weight panels.
  plan->scratch_bytes[0] =
      static_cast<uint64_t>(std::max<int64_t>(v.groups * c.m_panels * c.k * mr, 1)) * acc;
  if (c.k > 0) {
    Launch wp;
    wp.program = p;
    wp.kernel = "conv_pack_weights";
    wp.dims = 3;
    const auto group = static_cast<uint64_t>(std::min<int64_t>(traits.tuning.pack_local, c.k));
    wp.local[0] = group;
    wp.global[0] = round_up(static_cast<uint64_t>(c.k), group);
    wp.global[1] = static_cast<uint64_t>(c.m_panels);
    wp.global[2] = static_cast<uint64_t>(v.groups);
    wp.args = {buffer_arg(v.w_slot), scratch_arg(0), bytes_arg(c)};
    patch_offset(wp, 2, offsetof(ck_conv, w_offset), v.w_slot);
    plan->launches.push_back(std::move(wp));
  }
  Launch mul;
  mul.program = p;
  mul.kernel = "conv_multiply";
  mul.dims = 3;
  // At least 16 work-items a group: with few output channels a group (MR 1
  // for depthwise) would otherwise be one work-item of a few taps, and a
  // CPU runtime pays per group.
  const auto ln = static_cast<uint64_t>(std::max<int64_t>(tiles.ln, ceil_div(16, lm)));
  mul.local[0] = ln;
  mul.local[1] = static_cast<uint64_t>(lm);
  mul.global[0] = round_up(static_cast<uint64_t>(c.n * c.tiles), ln);
  mul.global[1] = static_cast<uint64_t>(c.m_panels);
  mul.global[2] = static_cast<uint64_t>(v.groups);
  mul.args = {scratch_arg(0), direct ? buffer_arg(v.src_slot) : scratch_arg(1),
              buffer_arg(v.out_slot), has_bias ? buffer_arg(v.bias_slot) : null_arg(),
              bytes_arg(c)};
  if (direct) patch_offset(mul, 4, offsetof(ck_conv, src_offset), v.src_slot);
  patch_offset(mul, 4, offsetof(ck_conv, out_offset), v.out_slot);
  if (has_bias) patch_offset(mul, 4, offsetof(ck_conv, bias_offset), v.bias_slot);
  plan->launches.push_back(std::move(mul));
  return CHORUS_OK;
}

chorus_status check(const chorus_op_record& op, uint32_t count, std::string* why) {
  if (const chorus_status s = check_record(op, count, sizeof(chorus_conv2d_attrs), why)) return s;
  const int bias_slot = op.kind == CHORUS_OP_CONV2D ? 2
                        : op.kind == CHORUS_OP_CONV2D_BACKWARD_WEIGHT ? 3
                                                                       : -1;
  const chorus_dtype d = op.tensors[0].dtype;
  for (uint32_t t = 0; t < count; ++t) {
    const Tensor& x = op.tensors[t];
    if (!present(x)) continue;
    if (x.dtype != d || is_int(d)) {
      *why = "conv takes float tensors of one dtype";
      return CHORUS_ERROR_UNSUPPORTED;
    }
    if (x.rank != (static_cast<int>(t) == bias_slot ? 1u : 4u)) {
      *why = "conv operands must arrive normalised to rank 4 (the bias rank 1)";
      return CHORUS_ERROR_UNSUPPORTED;
    }
  }
  const auto a = attrs_of<chorus_conv2d_attrs>(op);
  if (a.layout != CHORUS_CONV_NCHW || a.stride_h < 1 || a.stride_w < 1 || a.dilation_h < 1 ||
      a.dilation_w < 1 || a.groups < 1) {
    *why = "conv attributes must arrive normalised (NCHW, stride, dilation, groups >= 1)";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  return CHORUS_OK;
}

// The layer's own convolution (the forward's, which the weight gradient
// walks too): x's padded grid, the layer's stride and dilation.
Virtual forward_of(const Layer& l) {
  Virtual v{};
  v.off_h = l.pt;
  v.off_w = l.pl;
  v.up_h = v.up_w = 1;
  v.hp = l.h + l.pt + l.a.pad_bottom;
  v.wp = l.w + l.pl + l.a.pad_right;
  v.groups = l.groups;
  v.m = l.cog;
  v.cin = l.cg;
  v.kh = l.kh;
  v.kw = l.kw;
  v.sh = l.sh;
  v.sw = l.sw;
  v.dh = l.dh;
  v.dw = l.dw;
  v.oh = l.oh;
  v.ow = l.ow;
  return v;
}

chorus_status plan_forward(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                           std::string* why) {
  if (const chorus_status s = check(op, 4, why)) return s;
  const Layer l = layer_of(op, 0, 1, 3);
  Virtual v = forward_of(l);
  v.src_slot = 0;
  v.w_slot = 1;
  v.out_slot = 3;
  v.bias_slot = 2;
  v.flip = false;
  return plan_virtual(op, traits, v, plan);
}

chorus_status plan_backward_data(const chorus_op_record& op, const DeviceTraits& traits,
                                 Plan* plan, std::string* why) {
  if (const chorus_status s = check(op, 3, why)) return s;
  const Layer l = layer_of(op, 2, 1, 0);  // dx plays x, dy plays y
  Virtual v{};
  v.src_slot = 0;
  v.w_slot = 1;
  v.out_slot = 2;
  v.bias_slot = -1;
  v.flip = true;
  v.off_h = l.dh * (l.kh - 1) - l.pt;
  v.off_w = l.dw * (l.kw - 1) - l.pl;
  v.up_h = l.sh;
  v.up_w = l.sw;
  v.hp = l.h + l.dh * (l.kh - 1);
  v.wp = l.w + l.dw * (l.kw - 1);
  v.groups = l.groups;
  v.m = l.cg;    // dx's channels per group
  v.cin = l.cog; // dy's channels per group
  v.kh = l.kh;
  v.kw = l.kw;
  v.sh = v.sw = 1;
  v.dh = l.dh;
  v.dw = l.dw;
  v.oh = l.h;
  v.ow = l.w;
  return plan_virtual(op, traits, v, plan);
}

chorus_status plan_backward_weight(const chorus_op_record& op, const DeviceTraits& traits,
                                   Plan* plan, std::string* why) {
  enum { kX = 0, kDy = 1, kDw = 2, kDbias = 3 };
  if (const chorus_status s = check(op, 4, why)) return s;
  const Layer l = layer_of(op, kX, kDw, kDy);
  const Tensor& x = op.tensors[kX];
  const Tensor& dy = op.tensors[kDy];
  const chorus_dtype d = x.dtype;
  const GemmTiles& tiles = tiles_for(traits, d);
  const int acc = d == CHORUS_DTYPE_F64 ? 8 : 4;
  const bool has_dbias = present(op.tensors[kDbias]);

  ck_conv c = conv_args(forward_of(l), l.n);
  c.rows = l.n * l.oh;
  for (int i = 0; i < 4; ++i) c.out_strides[i] = op.tensors[kDw].strides[i];
  c.has_bias = has_dbias ? 1 : 0;
  if (has_dbias) c.bias_stride = op.tensors[kDbias].strides[0];

  const ProgramSpec p = conv_program(traits, d, tiles.mr, false);
  const bool pads = l.a.pad_top || l.a.pad_bottom || l.a.pad_left || l.a.pad_right;
  // conv_weight_grad runs vectors along ow where the source has stride 1
  // there (the packed copy, or x itself); a row whose length is not a
  // multiple of VW ends in a whole-vector tail, which needs dy packed with
  // rows padded by zeros and the source packed with VW elements of slack.
  const int64_t vw = tiles.vw;
  const bool ragged = l.ow % vw != 0 && l.sw == 1;
  // Zero-size tensors are never bound as they are (their buffers may be empty).
  const bool x_direct = !pads && acc_dtype(d) && l.n * l.c > 0 && !ragged;
  const bool dy_direct = acc_dtype(d) && dy.strides[3] == 1 && l.n > 0 && !ragged;
  c.vector_tail = ragged ? 1 : 0;
  const int64_t hp = l.h + l.pt + l.a.pad_bottom, wp = l.w + l.pl + l.a.pad_right;
  if (x_direct) {
    for (int i = 0; i < 4; ++i) c.src_strides[i] = x.strides[i];
  } else {
    c.src_strides[3] = 1;
    c.src_strides[2] = wp;
    c.src_strides[1] = hp * wp;
    c.src_strides[0] = l.c * hp * wp;
  }
  // dy as [c_out, n, oh, ow].
  const int64_t ow_padded = ragged ? static_cast<int64_t>(round_up(static_cast<uint64_t>(l.ow), static_cast<uint64_t>(vw))) : l.ow;
  int64_t dy_elements = 0;
  if (dy_direct) {
    c.a_strides[0] = dy.strides[1];
    c.a_strides[1] = dy.strides[0];
    c.a_strides[2] = dy.strides[2];
    c.a_strides[3] = 1;
  } else {
    dy_elements = l.c_out * l.n * l.oh * ow_padded;
    c.a_strides[3] = 1;
    c.a_strides[2] = ow_padded;
    c.a_strides[1] = l.oh * ow_padded;
    c.a_strides[0] = l.n * l.oh * ow_padded;
  }
  // Split the rows so that the grid has work for the device (on a CPU a
  // few dozen work-items; a GPU wants thousands), each chunk >= 1 row.
  const int64_t items = c.groups * ceil_div(c.m, kMrw) * ceil_div(std::max<int64_t>(c.k, 1), kNrw);
  const int64_t target = tiles.use_local ? 16384 : 64;
  int64_t chunks = std::clamp<int64_t>(ceil_div(target, std::max<int64_t>(items, 1)), 1,
                                       std::max<int64_t>(c.rows, 1));
  c.rows_per_chunk = std::max<int64_t>(ceil_div(c.rows, chunks), 1);
  chunks = std::max<int64_t>(ceil_div(c.rows, c.rows_per_chunk), 1);
  c.chunks = chunks;
  c.partial_offset = dy_elements;
  const int64_t partials = chunks > 1 ? chunks * c.groups * c.m * c.k : 0;
  plan->scratch_bytes[0] = static_cast<uint64_t>(std::max<int64_t>(dy_elements + partials, 1)) * acc;

  if (!x_direct) {
    const int64_t elements = l.n * l.c * hp * wp;
    plan->scratch_bytes[1] = static_cast<uint64_t>(elements + vw) * acc;
    if (elements > 0) {
      const int axes[4] = {0, 1, 2, 3};
      const int64_t dims[4] = {l.n, l.c, hp, wp};
      plan->launches.push_back(pack_launch(p, traits.tuning, x, kX, axes, dims, l.a.pad_top,
                                           l.a.pad_left, 1, 1, 1));
    }
  }
  if (!dy_direct && dy_elements > 0) {
    const int axes[4] = {1, 0, 2, 3};
    const int64_t dims[4] = {l.c_out, l.n, l.oh, ow_padded};
    plan->launches.push_back(pack_launch(p, traits.tuning, dy, kDy, axes, dims, 0, 0, 1, 1, 0));
  }
  const auto dy_arg = [&] { return dy_direct ? buffer_arg(kDy) : scratch_arg(0); };
  const auto patch_dy = [&](Launch& launch, size_t arg) {
    if (dy_direct) patch_offset(launch, arg, offsetof(ck_conv, a_offset), kDy);
  };
  if (c.k > 0 && c.m > 0) {
    Launch g;
    g.program = p;
    g.kernel = "conv_weight_grad";
    g.dims = 3;
    const int64_t panels = ceil_div(c.m, kMrw);
    const auto group = static_cast<uint64_t>(std::min<int64_t>(8, panels));
    g.local[0] = group;
    g.global[0] = round_up(static_cast<uint64_t>(panels), group);
    g.global[1] = static_cast<uint64_t>(ceil_div(c.k, kNrw));
    g.global[2] = static_cast<uint64_t>(c.groups * chunks);
    g.args = {dy_arg(), x_direct ? buffer_arg(kX) : scratch_arg(1), buffer_arg(kDw),
              scratch_arg(0), bytes_arg(c)};
    patch_dy(g, 4);
    if (x_direct) patch_offset(g, 4, offsetof(ck_conv, src_offset), kX);
    patch_offset(g, 4, offsetof(ck_conv, out_offset), kDw);
    plan->launches.push_back(std::move(g));
    if (chunks > 1) {
      Launch s;
      s.program = p;
      s.kernel = "conv_sum_chunks";
      s.dims = 2;
      const auto sg = static_cast<uint64_t>(std::min<int64_t>(traits.tuning.pack_local, c.k));
      s.local[0] = sg;
      s.global[0] = round_up(static_cast<uint64_t>(c.k), sg);
      s.global[1] = static_cast<uint64_t>(c.groups * c.m);
      s.args = {scratch_arg(0), buffer_arg(kDw), bytes_arg(c)};
      patch_offset(s, 2, offsetof(ck_conv, out_offset), kDw);
      plan->launches.push_back(std::move(s));
    }
  }
  if (has_dbias) {
    Launch b;
    b.program = p;
    b.kernel = "conv_bias_grad";
    b.dims = 1;
    const int64_t channels = c.groups * c.m;
    const auto group = static_cast<uint64_t>(std::min<int64_t>(64, channels));
    b.local[0] = group;
    b.global[0] = round_up(static_cast<uint64_t>(channels), group);
    b.args = {dy_arg(), buffer_arg(kDbias), bytes_arg(c)};
    patch_dy(b, 2);
    patch_offset(b, 2, offsetof(ck_conv, bias_offset), kDbias);
    plan->launches.push_back(std::move(b));
  }
  return CHORUS_OK;
}

// Each float dtype: a padded 3x3 (linear walk through the scratch copy), a
// strided one (gather), depthwise (MR 1), 1x1 read in place, and the two
// gradients, with and without bias.
void variants(std::vector<VariantOp>* out) {
  for (chorus_dtype d : float_dtypes()) {
    const Tensor x = tensor_of(d, {2, 8, 9, 9}, {648, 81, 9, 1});
    const Tensor w = tensor_of(d, {16, 8, 3, 3}, {72, 9, 3, 1});
    const Tensor b = tensor_of(d, {16}, {1});
    chorus_conv2d_attrs a{};
    a.stride_h = a.stride_w = a.dilation_h = a.dilation_w = a.groups = 1;
    a.pad_top = a.pad_bottom = a.pad_left = a.pad_right = 1;
    const Tensor y = tensor_of(d, {2, 16, 9, 9}, {1296, 81, 9, 1});
    out->push_back(variant(CHORUS_OP_CONV2D, a, {x, w, b, y}));
    out->push_back(variant(CHORUS_OP_CONV2D_BACKWARD_DATA, a, {y, w, x}));
    out->push_back(variant(CHORUS_OP_CONV2D_BACKWARD_WEIGHT, a, {x, y, w, b}));
    chorus_conv2d_attrs s = a;
    s.stride_h = s.stride_w = 2;
    const Tensor ys = tensor_of(d, {2, 16, 5, 5}, {400, 25, 5, 1});
    out->push_back(variant(CHORUS_OP_CONV2D, s, {x, w, absent(), ys}));
    chorus_conv2d_attrs dw = a;
    dw.groups = 8;
    const Tensor wd = tensor_of(d, {8, 1, 3, 3}, {9, 9, 3, 1});
    const Tensor yd = tensor_of(d, {2, 8, 9, 9}, {648, 81, 9, 1});
    out->push_back(variant(CHORUS_OP_CONV2D, dw, {x, wd, absent(), yd}));
    chorus_conv2d_attrs one{};
    one.stride_h = one.stride_w = one.dilation_h = one.dilation_w = one.groups = 1;
    const Tensor w1 = tensor_of(d, {16, 8, 1, 1}, {8, 1, 1, 1});
    out->push_back(variant(CHORUS_OP_CONV2D, one, {x, w1, absent(), y}));
  }
}

}  // namespace

void register_plan() {
  register_planner(CHORUS_OP_CONV2D, plan_forward);
  register_planner(CHORUS_OP_CONV2D_BACKWARD_DATA, plan_backward_data);
  register_planner(CHORUS_OP_CONV2D_BACKWARD_WEIGHT, plan_backward_weight);
  register_variants(variants);
}

}  // namespace chorus::ops::conv
