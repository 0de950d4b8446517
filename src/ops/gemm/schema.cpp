// schema.cpp — GEMM in libchorus: c = act(alpha * op(a) @ op(b) + beta * c
// + bias). Normal form (NormalForm::custom, done here): transposes become
// swapped strides (the normalised attributes then say transpose 0), batch
// axes of a and b broadcast to c's, and c's batch axes fold into one where
// every operand allows; what cannot fold becomes a loop of backend calls
// (Call::loop_*), so a backend only ever sees rank 3: a [batch, M, K],
// b [batch, K, N], bias [batch, M, N] (stride 0 where it broadcasts), c
// [batch, M, N]. c never overlaps a, b or bias.
#include <algorithm>

#include "core/dispatch.hpp"
#include "core/error.hpp"
#include "core/op_schema.hpp"

namespace chorus::ops::gemm {
namespace {

using namespace chorus::core;

enum Slot : uint32_t { kA = 0, kB = 1, kBias = 2, kC = 3 };

const char* const kActivationNames[] = {"none", "relu", "gelu_erf", "gelu_tanh", "silu"};
static_assert(sizeof kActivationNames / sizeof kActivationNames[0] == CHORUS_ACTIVATION_COUNT_);

void swap_last(View& t) {
  std::swap(t.shape[t.rank - 1], t.shape[t.rank - 2]);
  std::swap(t.strides[t.rank - 1], t.strides[t.rank - 2]);
}

// Batch axes of a or b broadcast to c's; their matrix axes stay theirs.
chorus_status broadcast_batch(Call& call, uint32_t slot) {
  View& t = call.views[slot];
  const View& c = call.views[kC];
  const View matrix = t;
  t.rank -= 2;
  if (auto s = broadcast_to(call, slot, c.rank - 2, c.shape, "c's batch")) return s;
  t.rank = c.rank;
  for (int i = 0; i < 2; ++i) {
    t.shape[c.rank - 2 + i] = matrix.shape[matrix.rank - 2 + i];
    t.strides[c.rank - 2 + i] = matrix.strides[matrix.rank - 2 + i];
  }
  return CHORUS_OK;
}

chorus_status normalise(Call& call) {
  auto& d = call.attrs_as<chorus_gemm_desc>();
  View& a = call.views[kA];
  View& b = call.views[kB];
  View& c = call.views[kC];
  View& bias = call.views[kBias];
  if (a.rank < 2 || b.rank < 2 || c.rank < 2)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "a, b and c need rank >= 2 (got %u, %u and %u)",
                     a.rank, b.rank, c.rank);
  if (d.transpose_a) swap_last(a);
  if (d.transpose_b) swap_last(b);
  d.transpose_a = d.transpose_b = 0;  // folded into the strides
  const int64_t M = a.shape[a.rank - 2], K = a.shape[a.rank - 1];
  const int64_t K2 = b.shape[b.rank - 2], N = b.shape[b.rank - 1];
  if (K != K2)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "op(a) has %lld columns but op(b) has %lld rows",
                     static_cast<long long>(K), static_cast<long long>(K2));
  if (c.shape[c.rank - 2] != M || c.shape[c.rank - 1] != N)
    return call.fail(CHORUS_ERROR_INVALID_ARGUMENT, "c is %lldx%lld but op(a) @ op(b) is %lldx%lld",
                     static_cast<long long>(c.shape[c.rank - 2]),
                     static_cast<long long>(c.shape[c.rank - 1]), static_cast<long long>(M),
                     static_cast<long long>(N));
  if (auto s = broadcast_batch(call, kA)) return s;
  if (auto s = broadcast_batch(call, kB)) return s;
  if (bias.present)
    if (auto s = broadcast_to(call, kBias, c.rank, c.shape, "c")) return s;
  if (c.numel() == 0) return CHORUS_OK;  // nothing runs

  // Fold c's batch axes into one where every operand allows it; the axes
  // that cannot fold become the loop.
  View* all[] = {&a, &b, &bias, &c};
  const uint32_t batch_rank = c.rank - 2;
  int64_t bshape[CHORUS_MAX_RANK];
  int64_t bstrides[4][CHORUS_MAX_RANK];
  uint32_t n = 0;
  for (uint32_t i = 0; i < batch_rank; ++i) {
    bool merge = n > 0;
    for (uint32_t t = 0; t < 4 && merge; ++t)
      if (all[t]->present && bstrides[t][n - 1] != all[t]->strides[i] * c.shape[i]) merge = false;
    if (merge) {
      bshape[n - 1] *= c.shape[i];
      for (uint32_t t = 0; t < 4; ++t) bstrides[t][n - 1] = all[t]->strides[i];
    } else {
      bshape[n] = c.shape[i];
      for (uint32_t t = 0; t < 4; ++t) bstrides[t][n] = all[t]->strides[i];
      ++n;
    }
  }
  if (n == 0) {
    bshape[0] = 1;
    for (uint32_t t = 0; t < 4; ++t) bstrides[t][0] = 0;
    n = 1;
  }
  call.loop_rank = n - 1;
  for (uint32_t i = 0; i + 1 < n; ++i) {
    call.loop_shape[i] = bshape[i];
    for (uint32_t t = 0; t < 4; ++t) call.loop_strides[t][i] = all[t]->present ? bstrides[t][i] : 0;
  }
  for (uint32_t t = 0; t < 4; ++t) {
    View& v = *all[t];
    if (!v.present) continue;
    const View src = v;
    v.rank = 3;
    v.shape[0] = bshape[n - 1];
    v.strides[0] = bshape[n - 1] == 1 ? 0 : bstrides[t][n - 1];
    v.shape[1] = src.shape[src.rank - 2];
    v.strides[1] = src.strides[src.rank - 2];
    v.shape[2] = src.shape[src.rank - 1];
    v.strides[2] = src.strides[src.rank - 1];
  }
  return CHORUS_OK;
}

}  // namespace

void register_schema() {
  OpSchema s;
  s.kind = CHORUS_OP_GEMM;
  s.name = "gemm";
  s.family = "gemm";
  s.summary = "c = act(alpha * op(a) @ op(b) + beta * c + bias), batched";
  s.slots = {{"a", Role::input, false, kAnyFloat},
             {"b", Role::input, false, kAnyFloat, 0},
             {"bias", Role::input, true, kAnyFloat, 0},
             {"c", Role::inout, false, kAnyFloat, 0}};
  s.attrs_size = sizeof(chorus_gemm_desc);
  s.attrs = {{"transpose_a", CHORUS_ATTR_BOOL, offsetof(chorus_gemm_desc, transpose_a)},
             {"transpose_b", CHORUS_ATTR_BOOL, offsetof(chorus_gemm_desc, transpose_b)},
             {"alpha", CHORUS_ATTR_DOUBLE, offsetof(chorus_gemm_desc, alpha), 1.0},
             {"beta", CHORUS_ATTR_DOUBLE, offsetof(chorus_gemm_desc, beta), 0.0},
             {"activation", CHORUS_ATTR_ENUM, offsetof(chorus_gemm_desc, activation), 0,
              {std::begin(kActivationNames), std::end(kActivationNames)}, {},
              "chorus_activation"}};
  s.form = NormalForm::custom;
  s.normalise = normalise;
  register_op(std::move(s));
}

}  // namespace chorus::ops::gemm

extern "C" CHORUS_API chorus_status chorus_gemm(chorus_queue queue, const chorus_gemm_desc* desc,
                                                const chorus_tensor* a, const chorus_tensor* b,
                                                const chorus_tensor* bias,
                                                const chorus_tensor* c) {
  if (!desc) return chorus::core::fail(CHORUS_ERROR_INVALID_ARGUMENT, "gemm: desc is NULL");
  return chorus::core::run_op(queue, CHORUS_OP_GEMM, desc, {a, b, bias, c});
}
