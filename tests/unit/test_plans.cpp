// test_plans.cpp — ops prepared once and executed many times (chorus_plan),
// the plan cache of plain calls, composites (an op lowered to other ops when
// a backend has none of its own, or when CHORUS_COMPOSITES asks), what
// chorus_queue_last_op reports, and the op schemas as chorus_op_info_get
// shows them.
#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>

#include "test_support.hpp"

#include <cmath>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

namespace {

using chorus_test::expect_failure;
using chorus_test::raw_view;

struct Fixture {
  chorus::Context ctx;
  chorus::Device device;
  chorus::Queue queue;
  explicit Fixture(const char* name = "reference:0")
      : device(ctx.open(name)), queue(device.queue()) {}
  chorus::Buffer upload(const std::vector<float>& values) {
    chorus::Buffer b = device.buffer(values.size() * sizeof(float));
    queue.write<float>(b, values);
    return b;
  }
  std::vector<float> download(const chorus::Buffer& b) {
    std::vector<float> out(b.size() / sizeof(float));
    queue.read<float>(b, out);
    return out;
  }
};

chorus_plan_info last_op(const chorus::Queue& q) {
  chorus_plan_info info{};
  info.struct_size = sizeof info;
  REQUIRE(chorus_queue_last_op(q.get(), &info) == CHORUS_OK);
  return info;
}

bool have_device(const chorus::Context& ctx, const std::string& name) {
  for (const auto& d : ctx.devices())
    if (name == d.name && d.usable) return true;
  return false;
}

// Sets an environment variable for the scope (CHORUS_COMPOSITES is read when
// a device opens).
struct ScopedEnv {
  std::string name;
  ScopedEnv(const char* n, const char* value) : name(n) { setenv(n, value, 1); }
  ~ScopedEnv() { unsetenv(name.c_str()); }
};

}  // namespace

TEST_CASE("a plan runs on new buffers and offsets of the layouts it was made for") {
  Fixture f;
  chorus::Buffer a = f.upload({1, 2, 3, 4, 5, 6, 7, 8});
  chorus::Buffer b = f.upload({10, 20, 30, 40, 50, 60, 70, 80});
  chorus::Buffer out = f.upload(std::vector<float>(8, 0));
  chorus::Tensor ta(a, CHORUS_DTYPE_F32, {2, 2}), tb(b, CHORUS_DTYPE_F32, {2, 2}),
      to(out, CHORUS_DTYPE_F32, {2, 2});
  const chorus_binary_attrs add{sizeof add, CHORUS_BINARY_ADD};
  const chorus_tensor* args[] = {&ta, &tb, &to};
  chorus_plan plan = nullptr;
  REQUIRE(chorus_plan_create(f.queue.get(), CHORUS_OP_BINARY, &add, 3, args, &plan) == CHORUS_OK);
  chorus_plan_info info{};
  info.struct_size = sizeof info;
  REQUIRE(chorus_plan_info_get(plan, &info) == CHORUS_OK);
  CHECK(info.kind == CHORUS_OP_BINARY);
  CHECK(info.path == CHORUS_OP_PATH_NATIVE);
  CHECK(info.steps == 1);

  REQUIRE(chorus_plan_execute(plan, f.queue.get(), 3, args) == CHORUS_OK);
  CHECK(f.download(out) == std::vector<float>{11, 22, 33, 44, 0, 0, 0, 0});
  // Other offsets, the inputs swapped: the same plan.
  chorus::Tensor ta2 = ta, tb2 = tb, to2 = to;
  ta2.offset = 4;
  tb2.offset = 1;
  to2.offset = 4;
  const chorus_tensor* moved[] = {&tb2, &ta2, &to2};
  REQUIRE(chorus_plan_execute(plan, f.queue.get(), 3, moved) == CHORUS_OK);
  CHECK(f.download(out) == std::vector<float>{11, 22, 33, 44, 25, 36, 47, 58});
  CHECK(last_op(f.queue).path == CHORUS_OP_PATH_NATIVE);

  // A different layout, a view past its buffer, a missing tensor: refused.
  chorus::Tensor wrong(a, CHORUS_DTYPE_F32, {4});
  const chorus_tensor* bad_layout[] = {&wrong, &tb, &to};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"a is f32 [4]", "plan was made for f32 [2,2]"},
                 [&] { return chorus_plan_execute(plan, f.queue.get(), 3, bad_layout); });
  chorus::Tensor late = to;
  late.offset = 5;
  const chorus_tensor* too_far[] = {&ta, &tb, &late};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"out", "past the end"},
                 [&] { return chorus_plan_execute(plan, f.queue.get(), 3, too_far); });
  const chorus_tensor* missing[] = {&ta, nullptr, &to};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"b is NULL"},
                 [&] { return chorus_plan_execute(plan, f.queue.get(), 3, missing); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"takes 3 tensors, got 2"},
                 [&] { return chorus_plan_execute(plan, f.queue.get(), 2, args); });
  // Aliasing is checked with the real buffers of each execution.
  chorus::Tensor overlap = ta;
  overlap.offset = 1;
  const chorus_tensor* partial[] = {&ta, &tb, &overlap};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"out overlaps a"},
                 [&] { return chorus_plan_execute(plan, f.queue.get(), 3, partial); });
  const chorus_tensor* in_place[] = {&ta, &tb, &ta};
  CHECK(chorus_plan_execute(plan, f.queue.get(), 3, in_place) == CHORUS_OK);
  CHECK(f.download(a) == std::vector<float>{11, 22, 33, 44, 5, 6, 7, 8});
  chorus_plan_destroy(plan);
}

TEST_CASE("a plan belongs to its device and its numerics") {
  Fixture f;
  chorus::Buffer a = f.upload({1, 2});
  chorus::Tensor t(a, CHORUS_DTYPE_F32, {2});
  const chorus_unary_attrs neg{sizeof neg, CHORUS_UNARY_NEG, 0, 0};
  const chorus_tensor* args[] = {&t, &t};
  chorus_plan plan = nullptr;
  REQUIRE(chorus_plan_create(f.queue.get(), CHORUS_OP_UNARY, &neg, 2, args, &plan) == CHORUS_OK);
  chorus::Queue deterministic = f.device.queue(CHORUS_NUMERICS_DETERMINISTIC);
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"numerics"},
                 [&] { return chorus_plan_execute(plan, deterministic.get(), 2, args); });
  if (have_device(f.ctx, "testdouble:0")) {
    chorus::Device other = f.ctx.open("testdouble:0");
    chorus::Queue other_queue = other.queue();
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"belongs to reference:0"},
                   [&] { return chorus_plan_execute(plan, other_queue.get(), 2, args); });
  }
  CHECK(chorus_plan_execute(plan, f.queue.get(), 2, args) == CHORUS_OK);
  CHECK(f.download(a) == std::vector<float>{-1, -2});
  chorus_plan_destroy(plan);
  chorus_plan_destroy(nullptr);  // a no-op, like every destroy
}

TEST_CASE("a zero-size plan runs nothing; an invalid call makes no plan") {
  Fixture f;
  chorus::Buffer a = f.upload({7, 7});
  chorus::Tensor empty(a, CHORUS_DTYPE_F32, {0, 3});
  const chorus_fill_attrs one{sizeof one, 0, 1.0};
  const chorus_tensor* args[] = {&empty};
  chorus_plan plan = nullptr;
  REQUIRE(chorus_plan_create(f.queue.get(), CHORUS_OP_FILL, &one, 1, args, &plan) == CHORUS_OK);
  chorus_plan_info info{};
  info.struct_size = sizeof info;
  REQUIRE(chorus_plan_info_get(plan, &info) == CHORUS_OK);
  CHECK(info.path == CHORUS_OP_PATH_NONE);
  CHECK(info.steps == 0);
  CHECK(chorus_plan_execute(plan, f.queue.get(), 1, args) == CHORUS_OK);
  CHECK(f.download(a) == std::vector<float>{7, 7});
  chorus_plan_destroy(plan);
  chorus::Tensor t(a, CHORUS_DTYPE_F32, {2});
  const chorus_tensor* unary_args[] = {&t, &t};
  const chorus_unary_attrs exp_attrs{sizeof exp_attrs, CHORUS_UNARY_EXP, 0, 0};
  chorus::Buffer ints = f.device.buffer(8);
  chorus::Tensor i(ints, CHORUS_DTYPE_I32, {2});
  const chorus_tensor* int_args[] = {&i, &i};
  plan = nullptr;
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"exp", "x is i32"}, [&] {
    return chorus_plan_create(f.queue.get(), CHORUS_OP_UNARY, &exp_attrs, 2, int_args, &plan);
  });
  CHECK(plan == nullptr);
  CHECK(chorus_plan_create(f.queue.get(), CHORUS_OP_UNARY, &exp_attrs, 2, unary_args, nullptr) ==
        CHORUS_ERROR_INVALID_ARGUMENT);
}

TEST_CASE("plain calls reuse their plan across buffers and offsets") {
  Fixture f;
  chorus::Buffer x = f.upload({1, 2, 3, 4, 5, 6});
  chorus::Buffer y = f.upload(std::vector<float>(6, 0));
  for (int64_t offset = 0; offset < 4; ++offset) {
    chorus::Tensor tx(x, CHORUS_DTYPE_F32, {3}), ty(y, CHORUS_DTYPE_F32, {3});
    tx.offset = offset;
    ty.offset = 3 - offset;
    chorus::ops::unary(f.queue, CHORUS_UNARY_SQUARE, tx, ty);
    const auto got = f.download(y);
    for (int64_t i = 0; i < 3; ++i) {
      const float v = static_cast<float>(offset + i + 1);
      CHECK(got[static_cast<size_t>(3 - offset + i)] == v * v);
    }
  }
}

TEST_CASE("composites compute the op from other ops, and say so") {
  std::vector<float> logits = {1, 2, 3, 4, -1, 0, 90, 89};
  std::vector<float> native_softmax, native_log, native_layer, native_rms;
  const auto run_all = [&](Fixture& f, std::vector<float>* softmax, std::vector<float>* log,
                           std::vector<float>* layer, std::vector<float>* rms,
                           chorus_op_path expected) {
    chorus::Buffer x = f.upload(logits);
    chorus::Buffer gamma = f.upload({0.5f, 1, 2, -1});
    chorus::Buffer beta = f.upload({0, 1, -1, 2});
    chorus::Buffer y = f.upload(std::vector<float>(8, 0));
    chorus::Tensor tx(x, CHORUS_DTYPE_F32, {2, 4}), ty(y, CHORUS_DTYPE_F32, {2, 4});
    chorus::Tensor tg(gamma, CHORUS_DTYPE_F32, {4}), tb(beta, CHORUS_DTYPE_F32, {4});
    chorus::ops::softmax(f.queue, tx, ty);
    CHECK(last_op(f.queue).path == expected);
    *softmax = f.download(y);
    chorus::ops::log_softmax(f.queue, tx, ty);
    const chorus_plan_info info = last_op(f.queue);
    CHECK(info.path == expected);
    if (expected == CHORUS_OP_PATH_COMPOSITE) {
      CHECK(std::string(info.description).find("log_softmax = ") == 0);
      CHECK(info.steps > 1);
      CHECK(info.scratch_bytes > 0);
    }
    *log = f.download(y);
    chorus::ops::layer_norm(f.queue, tx, &tg, &tb, 1e-5, ty);
    CHECK(last_op(f.queue).path == expected);
    *layer = f.download(y);
    chorus::ops::rms_norm(f.queue, tx, &tg, 1e-5, ty);
    CHECK(last_op(f.queue).path == expected);
    *rms = f.download(y);
  };
  {
    Fixture f;
    run_all(f, &native_softmax, &native_log, &native_layer, &native_rms, CHORUS_OP_PATH_NATIVE);
  }
  // Each composite element is within a few f32 roundings of the native one.
  const auto close = [](const std::vector<float>& got, const std::vector<float>& want) {
    REQUIRE(got.size() == want.size());
    for (size_t i = 0; i < got.size(); ++i) {
      INFO("element " << i << ": " << got[i] << " vs " << want[i]);
      CHECK(std::fabs(got[i] - want[i]) <= 1e-5f * (1 + std::fabs(want[i])));
    }
  };
  SECTION("on the reference, asked for by CHORUS_COMPOSITES") {
    ScopedEnv env("CHORUS_COMPOSITES", "softmax,layer_norm,rms_norm");
    Fixture f;
    std::vector<float> s, l, n, r;
    run_all(f, &s, &l, &n, &r, CHORUS_OP_PATH_COMPOSITE);
    close(s, native_softmax);
    close(l, native_log);
    close(n, native_layer);
    close(r, native_rms);
  }
  SECTION("on a backend without the ops (the ABI 2.0 fixture)") {
    chorus::Context probe;
    if (!have_device(probe, "oldabi:0")) {
      WARN("oldabi test plugin not on CHORUS_PLUGIN_PATH; section not run");
      return;
    }
    Fixture f("oldabi:0");
    std::vector<float> s, l, n, r;
    run_all(f, &s, &l, &n, &r, CHORUS_OP_PATH_COMPOSITE);
    close(s, native_softmax);
    close(l, native_log);
    close(n, native_layer);
    close(r, native_rms);
  }
}

TEST_CASE("a composite keeps the in-place rule: y may be x") {
  ScopedEnv env("CHORUS_COMPOSITES", "all");
  Fixture f;
  chorus::Buffer x = f.upload({0, std::log(2.0f), 1, 1});
  chorus::Tensor t(x, CHORUS_DTYPE_F32, {2, 2});
  chorus::ops::softmax(f.queue, t, t);
  CHECK(last_op(f.queue).path == CHORUS_OP_PATH_COMPOSITE);
  const auto got = f.download(x);
  CHECK(std::fabs(got[0] - 1.0f / 3) < 1e-6f);
  CHECK(std::fabs(got[1] - 2.0f / 3) < 1e-6f);
  CHECK(got[2] == 0.5f);
  CHECK(got[3] == 0.5f);
}

TEST_CASE("a sum over an empty axis is libchorus's fill, reported as such") {
  Fixture f;
  chorus::Buffer x = f.upload({5});
  chorus::Buffer out = f.upload({-1, -1});
  chorus::Tensor empty(x, CHORUS_DTYPE_F32, {2, 0}), o(out, CHORUS_DTYPE_F32, {2});
  chorus::ops::reduce(f.queue, CHORUS_REDUCE_SUM, empty, 0b10, o);
  CHECK(f.download(out) == std::vector<float>{0, 0});
  CHECK(last_op(f.queue).path == CHORUS_OP_PATH_COMPOSITE);
}

TEST_CASE("every op kind describes its slots and attributes") {
  for (int kind = CHORUS_OP_COPY; kind < CHORUS_OP_COUNT_; ++kind) {
    chorus_op_info info{};
    info.struct_size = sizeof info;
    REQUIRE(chorus_op_info_get(static_cast<chorus_op_kind>(kind), &info) == CHORUS_OK);
    INFO("kind " << kind << " " << info.name);
    CHECK(info.kind == kind);
    CHECK(std::strlen(info.name) > 0);
    CHECK(std::strlen(info.summary) > 0);
    CHECK(info.slot_count >= 1);
    bool has_output = false;
    for (uint32_t s = 0; s < info.slot_count; ++s) {
      CHECK(info.slots[s].dtype_mask != 0);
      has_output |= info.slots[s].role != CHORUS_SLOT_INPUT;
    }
    CHECK(has_output);
  }
  chorus_op_info unary{};
  unary.struct_size = sizeof unary;
  REQUIRE(chorus_op_info_get(CHORUS_OP_UNARY, &unary) == CHORUS_OK);
  REQUIRE(unary.attr_count == 3);
  const chorus_op_attr_info& op = unary.attrs[0];
  CHECK(op.type == CHORUS_ATTR_ENUM);
  REQUIRE(op.enum_count == CHORUS_UNARY_COUNT_);
  CHECK(std::string(op.enum_names[CHORUS_UNARY_LEAKY_RELU]) == "leaky_relu");
  CHECK(std::string(op.enum_names[CHORUS_UNARY_CLAMP]) == "clamp");
  // The dtype rule, stated once: exp takes floats only, sign integers too.
  CHECK((op.enum_dtypes[CHORUS_UNARY_EXP] & (1u << CHORUS_DTYPE_I32)) == 0);
  CHECK((op.enum_dtypes[CHORUS_UNARY_SIGN] & (1u << CHORUS_DTYPE_I64)) != 0);
  chorus_op_info softmax{};
  softmax.struct_size = sizeof softmax;
  REQUIRE(chorus_op_info_get(CHORUS_OP_SOFTMAX, &softmax) == CHORUS_OK);
  CHECK(softmax.composite_count >= 1);
  chorus_op_info bad{};
  bad.struct_size = sizeof bad;
  CHECK(chorus_op_info_get(static_cast<chorus_op_kind>(999), &bad) == CHORUS_ERROR_INVALID_ARGUMENT);
}
