// cases.cpp — the optim folder's conformance layer (families "sgd" and
// "adamw"): one case per (variant, layout, output checked), the other
// in-out tensors written beside it. Exact cases for SGD use small integers
// and power-of-two constants, so every step is exact in every dtype;
// accuracy cases use normal data under the bounds derived below. Layouts:
// contiguous, odd sizes, 2-D, permuted, padded, offset, mixed (the states
// laid out differently from the parameter), zero size.
#include <algorithm>
#include <cmath>
#include <string>

#include "conformance/bounds.hpp"
#include "conformance/cases.hpp"
#include "optim/optim_host.hpp"

namespace chorus::ops::optim {

using namespace chorus::conformance;
using namespace chorus::conformance::detail;

namespace {

struct Layout {
  std::string label, kind;
  std::vector<int64_t> shape;
  std::vector<int64_t> param_strides, state_strides;
  int64_t offset = 0;
};

Layout make(std::string label, std::string kind, std::vector<int64_t> shape) {
  return Layout{std::move(label), std::move(kind), std::move(shape), {}, {}, 0};
}

std::vector<Layout> layouts() {
  std::vector<Layout> v;
  v.push_back(make("4096", "", {4096}));
  v.push_back(make("64x33", "", {64, 33}));
  for (const int64_t n : {1, 3, 17, 129}) v.push_back(make(std::to_string(n), "edge", {n}));
  v.push_back(make("0x5", "edge", {0, 5}));
  Layout l = make("40x50/permuted", "view", {40, 50});
  l.param_strides = l.state_strides = permuted_strides(l.shape, {1, 0});
  v.push_back(l);
  l = make("33x65/padded", "view", {33, 65});
  l.param_strides = l.state_strides = padded_strides(l.shape, 3);
  v.push_back(l);
  l = make("31x45/offset", "view", {31, 45});
  l.offset = 5;
  v.push_back(l);
  l = make("24x40/mixed", "view", {24, 40});
  l.state_strides = permuted_strides(l.shape, {1, 0});
  v.push_back(l);
  return v;
}

// ------------------------------------------------------------------ bounds
//
// Each output is a short fixed sequence of roundings in the compute type
// (u = accumulation_u: f32's for f32/f16/bf16, f64's for f64), each
// relative to a magnitude the reference's inputs give: counted to first
// order, doubled (kC), plus R, the final rounding to the dtype of each
// stored value the result depends on (a state is stored, then read back,
// as PyTorch keeps it in the parameter's dtype; device and oracle may round
// it to neighbouring 16-bit values, and the parameter's bound carries that
// difference times the factor the state enters with).
//
// SGD, A = |g| + wd|p|:
//   buffer b' = first ? g_d : mom b + (1 - damp) g_d, B = first ? A :
//     mom|b| + |1 - damp| A; err <= kC 5u B + R(b')  (g_d: 2 roundings,
//     then 2 products and a sum).
//   update G = nesterov ? A + mom B : (buffer ? B : A), err <= kC 7u G +
//     k R(b'), k = mom (Nesterov) or 1 (plain momentum).
//   param p' = p - lr G_d: P = |p| + lr G; err <= kC 9u P + lr k R(b') + R(p').
// AdamW, per element with p, g, m, v (and vmax):
//   m' = m + (1 - b1)(g - m), M = |m| + (1 - b1)(|g| + |m|): err <= kC 3u M + R(m')
//   v' = b2 v + (1 - b2) g g, V = b2 v + (1 - b2) g^2: err <= kC 4u V + R(v')
//   vmax' = max(vmax, v'): err <= err(v')
//   D = sqrt(V_used)/bc2 + eps: the square root halves the relative error of
//     V_used; 4 more roundings (the root, 1/bc2 in the compute type, the
//     product by it, the sum): err(D) <= (e_V / (2 V_used)) sqrt(V_used)/bc2
//     + kC 4u D
//   U = step_size M / D: err(U) <= U (e_M / M + e_D / D + kC 3u)
//   param p' = p decay - step_size m'/D: err <= kC 3u (|p| + U) + err(U) + R(p').
std::vector<double> sgd_bounds(const BoundInputs& in, const chorus_sgd_attrs& attrs, size_t out) {
  const SgdConstants c = sgd_constants(attrs);
  const double u = bounds::accumulation_u(in.out_dtype);
  const HostTensor& p = in.operands[0];
  const HostTensor& g = in.operands[1];
  const bool has_buf = c.momentum_on;
  const int64_t n = in.expected.numel();
  std::vector<double> b(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const double ap = std::fabs(static_cast<double>(p.get(i)));
    const double ag = std::fabs(static_cast<double>(g.get(i)));
    const double A = ag + c.weight_decay * ap;
    double B = 0, Rb = 0;
    if (has_buf) {
      const double ab = std::fabs(static_cast<double>(in.operands[2].get(i)));
      B = c.first ? A : c.momentum * ab + std::fabs(c.one_minus_dampening) * A;
      // R(b') at the stored buffer: its magnitude is at most B.
      Rb = bounds::final_rounding(in.out_dtype, B);
    }
    const double k = c.nesterov ? c.momentum : 1.0;
    const double G = has_buf ? (c.nesterov ? A + c.momentum * B : B) : A;
    const double y = static_cast<double>(in.expected.get(i));
    double e;
    if (out == 2)
      e = bounds::kC * 5 * u * B + bounds::final_rounding(in.out_dtype, y);
    else
      e = bounds::kC * 9 * u * (ap + c.lr * G) + c.lr * k * Rb +
          bounds::final_rounding(in.out_dtype, y);
    b[static_cast<size_t>(i)] = e;
  }
  return b;
}

std::vector<double> adamw_bounds(const BoundInputs& in, const chorus_adamw_attrs& attrs,
                                 size_t out) {
  const AdamwConstants c = adamw_constants(attrs);
  const double u = bounds::accumulation_u(in.out_dtype);
  const chorus_dtype d = in.out_dtype;
  const int64_t n = in.expected.numel();
  std::vector<double> b(static_cast<size_t>(n));
  for (int64_t i = 0; i < n; ++i) {
    const auto at = [&](size_t t) { return static_cast<double>(in.operands[t].get(i)); };
    const double p = at(0), g = at(1), m = at(2), v = at(3);
    const double M = std::fabs(m) + c.one_minus_beta1 * (std::fabs(g) + std::fabs(m));
    const double m_new = m + c.one_minus_beta1 * (g - m);
    const double eM = bounds::kC * 3 * u * M + bounds::final_rounding(d, m_new);
    const double V = c.beta2 * std::fabs(v) + c.one_minus_beta2 * g * g;
    const double eV = bounds::kC * 4 * u * V + bounds::final_rounding(d, V);
    const double Vu = c.amsgrad ? std::max(std::fabs(at(4)), V) : V;
    const double root = std::sqrt(Vu) / c.bias2_sqrt;
    const double D = root + c.eps;
    const double eD = (Vu > 0 ? eV / (2 * Vu) * root : std::sqrt(eV) / c.bias2_sqrt) +
                      bounds::kC * 4 * u * D;
    const double U = c.step_size * M / D;
    const double eU = U * (M > 0 ? eM / M : 0) + U * (eD / D + bounds::kC * 3 * u) +
                      c.step_size * eM / D * (M > 0 ? 0 : 1);
    const double y = static_cast<double>(in.expected.get(i));
    double e;
    switch (out) {
      case 2: e = eM; break;
      case 3:
      case 4: e = eV; break;
      default:
        e = bounds::kC * 3 * u * (std::fabs(p) + U) + eU + bounds::final_rounding(d, y);
        break;
    }
    b[static_cast<size_t>(i)] = e;
  }
  return b;
}

// ------------------------------------------------------------------- cases

enum class Data { normal, exact };

Operand operand(const char* role, HostTensor value, const std::vector<int64_t>& strides,
                int64_t offset) {
  return Operand{role, std::move(value), strides, offset, -1};
}

// Operands in slot order; `out` is checked (read too: every state is in-out),
// the other in-out tensors are written beside it.
CaseSpec optim_spec(chorus_op_kind kind, chorus_dtype d, const Layout& l, Data data, size_t out,
                    const chorus_sgd_attrs& sgd, const chorus_adamw_attrs& adamw, Rng& rng) {
  CaseSpec s;
  const auto tensor = [&](double sigma, bool positive) {
    HostTensor t(d, l.shape);
    if (data == Data::exact) {
      const int64_t mag = exact_magnitude(d);
      fill_integers(t, rng, -mag, mag);
    } else {
      fill_normal(t, rng, sigma);
      if (positive)
        for (int64_t i = 0; i < t.numel(); ++i) t.set(i, std::fabs(static_cast<double>(t.get(i))));
    }
    return t;
  };
  std::vector<size_t> inouts;
  if (kind == CHORUS_OP_SGD) {
    const bool has_buf = sgd.momentum != 0;
    s.operands = {operand("param", tensor(1, false), l.param_strides, l.offset),
                  operand("grad", tensor(1, false), l.param_strides, l.offset),
                  has_buf ? operand("momentum_buffer", tensor(1, false), l.state_strides, l.offset)
                          : Operand{"momentum_buffer", HostTensor::absent(), {}, 0, -1}};
    inouts = {0};
    if (has_buf) inouts.push_back(2);
    s.call = [sgd](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_sgd_step(q, &sgd, t[0], t[1], t[2]);
    };
    s.call_text = "step=" + std::to_string(sgd.step) + " lr=" + std::to_string(sgd.lr) +
                  " momentum=" + std::to_string(sgd.momentum) + " dampening=" +
                  std::to_string(sgd.dampening) + " weight_decay=" +
                  std::to_string(sgd.weight_decay) + " nesterov=" + std::to_string(sgd.nesterov);
    s.bound = [sgd, out](const BoundInputs& in) { return sgd_bounds(in, sgd, out); };
  } else {
    HostTensor v = tensor(0.01, true);
    HostTensor vmax = HostTensor::absent();
    if (adamw.amsgrad) {
      vmax = HostTensor(d, l.shape);
      for (int64_t i = 0; i < v.numel(); ++i)
        vmax.set(i, v.get(i) * (i % 3 == 0 ? 0.5L : 1.5L));  // some below, some above
    }
    s.operands = {operand("param", tensor(1, false), l.param_strides, l.offset),
                  operand("grad", tensor(1, false), l.param_strides, l.offset),
                  operand("exp_avg", tensor(0.1, false), l.state_strides, l.offset),
                  operand("exp_avg_sq", v, l.state_strides, l.offset),
                  adamw.amsgrad ? operand("max_exp_avg_sq", vmax, l.state_strides, l.offset)
                                : Operand{"max_exp_avg_sq", HostTensor::absent(), {}, 0, -1}};
    inouts = {0, 2, 3};
    if (adamw.amsgrad) inouts.push_back(4);
    s.call = [adamw](chorus_queue q, const std::vector<const chorus_tensor*>& t) {
      return chorus_adamw_step(q, &adamw, t[0], t[1], t[2], t[3], t[4]);
    };
    s.call_text = "step=" + std::to_string(adamw.step) + " lr=" + std::to_string(adamw.lr) +
                  " beta1=" + std::to_string(adamw.beta1) + " beta2=" + std::to_string(adamw.beta2) +
                  " eps=" + std::to_string(adamw.eps) + " weight_decay=" +
                  std::to_string(adamw.weight_decay) + " amsgrad=" + std::to_string(adamw.amsgrad);
    s.bound = [adamw, out](const BoundInputs& in) { return adamw_bounds(in, adamw, out); };
  }
  s.output = out;
  s.output_is_read = true;
  for (const size_t t : inouts)
    if (t != out) s.also_written.push_back(t);
  if (data == Data::exact) {
    s.check = Check::exact;
    s.bound = nullptr;
  } else {
    s.check = Check::bounded;
    s.oracle = OracleKind::wide;
  }
  return s;
}

chorus_sgd_attrs sgd_attrs(uint64_t step, double lr, double momentum, double dampening,
                           double weight_decay, bool nesterov) {
  chorus_sgd_attrs a{};
  a.struct_size = sizeof a;
  a.step = step;
  a.lr = lr;
  a.momentum = momentum;
  a.dampening = dampening;
  a.weight_decay = weight_decay;
  a.nesterov = nesterov ? 1 : 0;
  return a;
}

chorus_adamw_attrs adamw_attrs(uint64_t step, double weight_decay, bool amsgrad) {
  chorus_adamw_attrs a{};
  a.struct_size = sizeof a;
  a.step = step;
  a.lr = 1e-3;
  a.beta1 = 0.9;
  a.beta2 = 0.999;
  a.eps = 1e-8;
  a.weight_decay = weight_decay;
  a.amsgrad = amsgrad ? 1 : 0;
  return a;
}

const char* output_name(chorus_op_kind kind, size_t out) {
  if (out == 0) return "param";
  if (kind == CHORUS_OP_SGD) return "momentum_buffer";
  return out == 2 ? "exp_avg" : out == 3 ? "exp_avg_sq" : "max_exp_avg_sq";
}

void add_sgd_cases(std::vector<CaseEntry>& cases) {
  struct Variant {
    const char* label;
    chorus_sgd_attrs attrs;
    Data data;
  };
  const Variant variants[] = {
      {"plain", sgd_attrs(1, 0.1, 0, 0, 0, false), Data::normal},
      {"momentum-first", sgd_attrs(1, 0.1, 0.9, 0, 0, false), Data::normal},
      {"momentum", sgd_attrs(5, 0.05, 0.9, 0.1, 1e-2, false), Data::normal},
      {"nesterov", sgd_attrs(3, 0.05, 0.9, 0, 1e-2, true), Data::normal},
      {"momentum-integers", sgd_attrs(2, 0.25, 0.5, 0, 0, false), Data::exact}};
  for (const chorus_dtype d : kFloatDtypes) {
    const std::string dt = dtype_text(d);
    for (const Variant& v : variants) {
      const bool main_variant = std::string(v.label) == "momentum";
      for (const Layout& l : layouts()) {
        const bool first = l.label == "4096";
        if (!main_variant && !first) continue;
        const std::string kind = !l.kind.empty() ? l.kind : v.data == Data::exact ? "exact" : "accuracy";
        for (const size_t out : {size_t{0}, size_t{2}}) {
          if (out == 2 && (v.attrs.momentum == 0 || !first)) continue;
          const Tier tier = first && main_variant && d == CHORUS_DTYPE_F32 && out == 0 &&
                                    v.data == Data::normal
                                ? Tier::smoke
                                : Tier::ci;
          const chorus_sgd_attrs a = v.attrs;
          const Data data = v.data;
          add_case(cases,
                   "sgd/" + dt + "/" + kind + "/" + l.label + "/" + v.label + "/" +
                       output_name(CHORUS_OP_SGD, out),
                   "sgd", CHORUS_OP_SGD, dt, shape_text(l.shape), kind, tier,
                   [d, l, data, out, a](Rng& rng) {
                     return optim_spec(CHORUS_OP_SGD, d, l, data, out, a, chorus_adamw_attrs{}, rng);
                   });
        }
      }
    }
  }
}

void add_adamw_cases(std::vector<CaseEntry>& cases) {
  struct Variant {
    const char* label;
    chorus_adamw_attrs attrs;
  };
  const Variant variants[] = {{"step1", adamw_attrs(1, 1e-2, false)},
                              {"step10-wd0.1", adamw_attrs(10, 0.1, false)},
                              {"amsgrad-step4", adamw_attrs(4, 1e-2, true)}};
  for (const chorus_dtype d : kFloatDtypes) {
    const std::string dt = dtype_text(d);
    for (const Variant& v : variants) {
      const bool main_variant = std::string(v.label) == "step10-wd0.1";
      for (const Layout& l : layouts()) {
        const bool first = l.label == "4096";
        if (!main_variant && !first) continue;
        const std::string kind = l.kind.empty() ? "accuracy" : l.kind;
        for (const size_t out : {size_t{0}, size_t{2}, size_t{3}, size_t{4}}) {
          if (out != 0 && !first) continue;
          if (out == 4 && !v.attrs.amsgrad) continue;
          const Tier tier =
              first && main_variant && d == CHORUS_DTYPE_F32 && out == 0 ? Tier::smoke : Tier::ci;
          const chorus_adamw_attrs a = v.attrs;
          add_case(cases,
                   "adamw/" + dt + "/" + kind + "/" + l.label + "/" + v.label + "/" +
                       output_name(CHORUS_OP_ADAMW, out),
                   "adamw", CHORUS_OP_ADAMW, dt, shape_text(l.shape), kind, tier,
                   [d, l, out, a](Rng& rng) {
                     return optim_spec(CHORUS_OP_ADAMW, d, l, Data::normal, out, chorus_sgd_attrs{},
                                       a, rng);
                   });
        }
      }
    }
  }
}

}  // namespace

void register_cases() {
  register_family("sgd", add_sgd_cases);
  register_family("adamw", add_adamw_cases);
}

}  // namespace chorus::ops::optim
