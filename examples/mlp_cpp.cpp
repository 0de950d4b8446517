// mlp_cpp.cpp — the same MLP as mlp_c.c through the C++ wrapper:
//   probabilities = softmax(gelu(x @ w1 + b1) @ w2 + b2)
// on a device chosen at run time (argv[1], else CHORUS_DEVICE, else "best"),
// compared with reference:0. Errors arrive as chorus::Error exceptions.
#include <chorus/chorus.hpp>
#include <cmath>
#include <cstdio>
#include <vector>

namespace {

constexpr int64_t kBatch = 8, kIn = 64, kHidden = 128, kOut = 10;

std::vector<float> random_values(size_t n, float scale, uint32_t seed) {
  std::vector<float> v(n);
  for (auto& x : v) {
    seed = seed * 1664525u + 1013904223u;
    x = scale * (static_cast<float>(seed >> 8) / 8388608.0f - 1.0f);
  }
  return v;
}

struct Weights {
  std::vector<float> x = random_values(kBatch * kIn, 1.0f, 1);
  std::vector<float> w1 = random_values(kIn * kHidden, 0.125f, 2);
  std::vector<float> b1 = random_values(kHidden, 0.1f, 3);
  std::vector<float> w2 = random_values(kHidden * kOut, 0.125f, 4);
  std::vector<float> b2 = random_values(kOut, 0.1f, 5);
};

std::vector<float> run_mlp(const chorus::Context& ctx, const std::string& name, const Weights& w) {
  chorus::Device device = ctx.open(name);
  chorus::Queue queue = device.queue();
  auto upload = [&](const std::vector<float>& v) {
    chorus::Buffer b = device.buffer(v.size() * sizeof(float));
    queue.write<float>(b, v);
    return b;
  };
  chorus::Buffer bx = upload(w.x), bw1 = upload(w.w1), bb1 = upload(w.b1), bw2 = upload(w.w2),
                 bb2 = upload(w.b2);
  chorus::Buffer bh = device.buffer(kBatch * kHidden * 4), blogits = device.buffer(kBatch * kOut * 4),
                 bprobs = device.buffer(kBatch * kOut * 4);
  chorus::Tensor x(bx, CHORUS_DTYPE_F32, {kBatch, kIn}), w1(bw1, CHORUS_DTYPE_F32, {kIn, kHidden});
  chorus::Tensor b1(bb1, CHORUS_DTYPE_F32, {kHidden}), w2(bw2, CHORUS_DTYPE_F32, {kHidden, kOut});
  chorus::Tensor b2(bb2, CHORUS_DTYPE_F32, {kOut}), h(bh, CHORUS_DTYPE_F32, {kBatch, kHidden});
  chorus::Tensor logits(blogits, CHORUS_DTYPE_F32, {kBatch, kOut});
  chorus::Tensor probs(bprobs, CHORUS_DTYPE_F32, {kBatch, kOut});

  chorus::ops::gemm(queue, x, w1, h, {.activation = CHORUS_ACTIVATION_GELU_ERF, .bias = &b1});
  chorus::ops::gemm(queue, h, w2, logits, {.bias = &b2});
  chorus::ops::softmax(queue, logits, probs);
  std::vector<float> out(kBatch * kOut);
  queue.read<float>(bprobs, out);
  std::printf("ran on %s (%s)\n", device.info().name, device.info().description);
  return out;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    chorus::Context ctx;
    const Weights w;
    const auto probs = run_mlp(ctx, argc > 1 ? argv[1] : "", w);
    const auto expected = run_mlp(ctx, "reference:0", w);
    double worst = 0;
    for (size_t i = 0; i < probs.size(); ++i) {
      const double d = std::fabs(static_cast<double>(probs[i]) - expected[i]);
      if (!(d <= worst)) worst = d;
    }
    std::printf("row 0 probabilities:");
    for (int j = 0; j < kOut; ++j) std::printf(" %.4f", probs[j]);
    std::printf("\nlargest difference from reference:0: %.3g\n", worst);
    if (!(worst <= 1e-5)) {
      std::fprintf(stderr, "MISMATCH against the reference\n");
      return 1;
    }
  } catch (const chorus::Error& e) {
    std::fprintf(stderr, "chorus error: %s\n", e.what());
    return 1;
  }
  return 0;
}
