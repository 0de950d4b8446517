// plan.cpp — GEMM on the run-time-compiled backends: c = act(alpha * a @ b
// + beta * c + bias) as gemm.cl's pack and multiply launches. The normal
// form (backend.h) is rank 3 throughout: a [batch, M, K], b [batch, K, N],
// bias (optional) and c [batch, M, N], transposes and broadcasts in the
// strides. Packing buffers and the grid are sized from the tuning table's
// tiles. K may be 0: then nothing is packed and c = act(beta * c + bias).
#include <algorithm>
#include <string>

#include "plan_kit.hpp"

namespace chorus::ops::gemm {
namespace {

using namespace chorus::backend_common;

enum Slot : int { kA = 0, kB = 1, kBias = 2, kC = 3 };

chorus_status plan_gemm(const chorus_op_record& op, const DeviceTraits& traits, Plan* plan,
                        std::string* why) {
  if (const chorus_status s = check_record(op, 4, sizeof(chorus_gemm_desc), why)) return s;
  const auto desc = attrs_of<chorus_gemm_desc>(op);
  const Tensor& a = op.tensors[kA];
  const Tensor& b = op.tensors[kB];
  const Tensor& bias = op.tensors[kBias];
  const Tensor& c = op.tensors[kC];
  const bool has_bias = present(bias);
  if (a.rank != 3 || b.rank != 3 || c.rank != 3 || (has_bias && bias.rank != 3) ||
      desc.transpose_a || desc.transpose_b) {
    *why = "gemm operands must arrive normalised to rank 3 with transposes folded";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  if (is_int(c.dtype)) {
    *why = std::string("gemm has no kernel for ") + dtype_name(c.dtype);
    return CHORUS_ERROR_UNSUPPORTED;
  }
  if (desc.activation < CHORUS_ACTIVATION_NONE || desc.activation >= CHORUS_ACTIVATION_COUNT_) {
    *why = "activation " + std::to_string(static_cast<int>(desc.activation)) +
           " is not one this backend knows";
    return CHORUS_ERROR_UNSUPPORTED;
  }
  const bool f64 = c.dtype == CHORUS_DTYPE_F64;
  const GemmTiles& tiles = f64 ? traits.tuning.gemm_f64 : traits.tuning.gemm_f32;
  const int acc = f64 ? 8 : 4;
  ck_gemm g{};
  g.batch = c.shape[0];
  g.m = c.shape[1];
  g.n = c.shape[2];
  g.k = a.shape[2];
  g.m_padded = static_cast<int64_t>(round_up(static_cast<uint64_t>(g.m), tiles.mr * tiles.lm));
  g.n_padded = static_cast<int64_t>(round_up(static_cast<uint64_t>(g.n), tiles.nr * tiles.ln));
  for (int i = 0; i < 3; ++i) {
    g.a_strides[i] = a.strides[i];
    g.b_strides[i] = b.strides[i];
    g.c_strides[i] = c.strides[i];
    g.bias_strides[i] = has_bias ? bias.strides[i] : 0;
  }
  // A batch that every c batch shares (stride 0) is packed once.
  const int64_t a_batches = a.strides[0] == 0 ? 1 : g.batch;
  const int64_t b_batches = b.strides[0] == 0 ? 1 : g.batch;
  g.a_packed_batch_stride = a_batches == 1 ? 0 : g.m_padded * g.k;
  g.b_packed_batch_stride = b_batches == 1 ? 0 : g.n_padded * g.k;
  g.a_batches = a_batches;
  g.b_batches = b_batches;
  g.has_bias = has_bias ? 1 : 0;
  g.activation = desc.activation;
  g.read_c = desc.beta != 0.0 ? 1 : 0;
  plan->scratch_bytes[0] = static_cast<uint64_t>(a_batches * g.m_padded * g.k) * acc;
  plan->scratch_bytes[1] = static_cast<uint64_t>(b_batches * g.n_padded * g.k) * acc;
  // Where each execution's offsets go in the argument block.
  const auto patch = [&](Launch& l, size_t arg) {
    patch_offset(l, arg, offsetof(ck_gemm, a_offset), kA);
    patch_offset(l, arg, offsetof(ck_gemm, b_offset), kB);
    patch_offset(l, arg, offsetof(ck_gemm, c_offset), kC);
    if (has_bias) patch_offset(l, arg, offsetof(ck_gemm, bias_offset), kBias);
  };

  ProgramSpec p = program(traits, std::string("gemm ") + dtype_name(c.dtype), "gemm.cl", tiles.vw);
  define_dtype(p, c.dtype);
  p.defines.push_back({"MR", std::to_string(tiles.mr)});
  p.defines.push_back({"NR", std::to_string(tiles.nr)});
  p.defines.push_back({"LM", std::to_string(tiles.lm)});
  p.defines.push_back({"LN", std::to_string(tiles.ln)});
  p.defines.push_back({"GEMM_LOCAL", std::to_string(tiles.use_local)});
  p.defines.push_back({"KC", std::to_string(std::max(tiles.kc, 1))});

  const uint64_t pack_group = static_cast<uint64_t>(traits.tuning.pack_local);
  if (g.k > 0) {
    Launch pack;
    pack.program = p;
    pack.kernel = "gemm_pack";
    pack.dims = 3;
    pack.local[0] = pack_group;
    pack.global[0] = round_up(static_cast<uint64_t>(g.k), pack_group);
    pack.global[1] = static_cast<uint64_t>(g.m_padded / tiles.mr + g.n_padded / tiles.nr);
    pack.global[2] = static_cast<uint64_t>(std::max(a_batches, b_batches));
    pack.args = {buffer_arg(kA), buffer_arg(kB), scratch_arg(0), scratch_arg(1), bytes_arg(g)};
    patch(pack, 4);
    plan->launches.push_back(std::move(pack));
  }
  Launch mul;
  mul.program = std::move(p);
  mul.kernel = "gemm_multiply";
  mul.dims = 3;
  mul.local[0] = static_cast<uint64_t>(tiles.lm);
  mul.local[1] = static_cast<uint64_t>(tiles.ln);
  mul.global[0] = static_cast<uint64_t>(g.m_padded / tiles.mr);
  mul.global[1] = static_cast<uint64_t>(g.n_padded / tiles.nr);
  mul.global[2] = static_cast<uint64_t>(g.batch);
  mul.args = {scratch_arg(0),
              scratch_arg(1),
              buffer_arg(kC),
              has_bias ? buffer_arg(kBias) : null_arg(),
              bytes_arg(g),
              accumulator_arg(c.dtype, desc.alpha),
              accumulator_arg(c.dtype, desc.beta)};
  patch(mul, 4);
  plan->launches.push_back(std::move(mul));
  return CHORUS_OK;
}

// Each float dtype with a and b plain or transposed, every activation,
// with and without bias.
void variants(std::vector<VariantOp>* out) {
  for (chorus_dtype d : float_dtypes())
    for (int transposes = 0; transposes < 4; ++transposes)
      for (int act = 0; act < CHORUS_ACTIVATION_COUNT_; ++act)
        for (int bias = 0; bias < 2; ++bias) {
          const Tensor a = transposes & 1 ? tensor_of(d, {1, 40, 24}, {0, 1, 40})
                                          : tensor_of(d, {1, 40, 24}, {0, 24, 1});
          const Tensor b = transposes & 2 ? tensor_of(d, {1, 24, 36}, {0, 1, 24})
                                          : tensor_of(d, {1, 24, 36}, {0, 36, 1});
          chorus_gemm_desc g{};
          g.alpha = 1;
          g.beta = bias ? 0.5 : 0;
          g.activation = static_cast<chorus_activation>(act);
          out->push_back(variant(CHORUS_OP_GEMM, g,
                                 {a, b, bias ? tensor_of(d, {1, 40, 36}, {0, 0, 1}) : absent(),
                                  tensor_of(d, {1, 40, 36}, {0, 36, 1})}));
        }
}

}  // namespace

void register_plan() {
  register_planner(CHORUS_OP_GEMM, plan_gemm);
  register_variants(variants);
}

}  // namespace chorus::ops::gemm
