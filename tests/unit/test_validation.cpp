// test_validation.cpp — validation without holes: every view is proven to fit
// its buffer with arithmetic that cannot overflow, element counts past
// INT64_MAX are refused rather than wrapped, enum arguments are checked as
// integers, outputs that overlap themselves are refused, and
// CHORUS_ERROR_UNSUPPORTED means the same on every backend. The exact
// constructions of the review that found the holes are here, run on every
// usable device the context finds (reference, and the plugins CTest puts on
// CHORUS_PLUGIN_PATH).
#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>

#include "test_support.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

extern "C" {  // c_callers.c: calls from C, where an enum may hold any int
chorus_status test_call_unary(chorus_queue queue, int op, const chorus_tensor* x,
                              const chorus_tensor* y);
chorus_status test_call_op_run(chorus_queue queue, int kind, const void* attrs, uint32_t count,
                               const chorus_tensor* const* tensors);
}

namespace {

using chorus_test::expect_failure;
using chorus_test::raw_view;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

// Every usable device except the test-only ones that cannot hold the dtypes
// used here (oldabi computes f32 only).
std::vector<std::string> devices(const chorus::Context& ctx) {
  std::vector<std::string> names;
  for (const auto& d : ctx.devices())
    if (d.usable && std::string(d.backend) != "oldabi" && std::string(d.backend) != "badabi")
      names.push_back(d.name);
  return names;
}

}  // namespace

TEST_CASE("a view whose reach overflows int64 is refused, not written 1 TiB past its buffer") {
  chorus::Context ctx;
  for (const std::string& name : devices(ctx)) {
    INFO("device " << name);
    chorus::Device device = ctx.open(name);
    chorus::Queue queue = device.queue();
    chorus::Buffer buffer = device.buffer(64);
    // The review's construction: u8, rank 5, shapes and strides near
    // INT64_MAX, the last stride 2^40. The sum of (shape-1)*stride wraps in
    // 128 bits to a negative number, which passed the old fit check.
    chorus_tensor dst = raw_view(buffer.get(), CHORUS_DTYPE_U8,
                                 {2, 2, 2, 2, 2}, {kMax / 2, kMax / 2, kMax / 2, kMax / 2, int64_t{1} << 40});
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"fill", "dst", "2^63-1"},
                   [&] { return chorus_fill(queue.get(), &dst, 1.0); });
    chorus_tensor wide = raw_view(buffer.get(), CHORUS_DTYPE_U8, {3, 3, 3, 3, 3},
                                  {kMax, kMax, kMax, kMax, kMax});
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dst"},
                   [&] { return chorus_fill(queue.get(), &wide, 1.0); });
    // An offset that overflows when the view's reach is added to it.
    chorus_tensor far = raw_view(buffer.get(), CHORUS_DTYPE_F32, {4}, {1}, kMax - 1);
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dst", "past the end"},
                   [&] { return chorus_fill(queue.get(), &far, 1.0); });
  }
}

TEST_CASE("an element count past INT64_MAX is refused, never wrapped to 0") {
  chorus::Context ctx;
  for (const std::string& name : devices(ctx)) {
    INFO("device " << name);
    chorus::Device device = ctx.open(name);
    chorus::Queue queue = device.queue();
    chorus::Buffer buffer = device.buffer(64);
    // A stride-0 f32 view of shape [2^32, 2^32]: 2^64 elements. The old core
    // wrapped the count to 0, so sum returned OK with 0.0 and max failed with
    // "cannot reduce an empty axis".
    chorus_tensor x = raw_view(buffer.get(), CHORUS_DTYPE_F32, {int64_t{1} << 32, int64_t{1} << 32},
                               {0, 0});
    chorus::Tensor out(buffer, CHORUS_DTYPE_F32, {1});
    for (const chorus_reduce_op op : {CHORUS_REDUCE_SUM, CHORUS_REDUCE_MAX}) {
      expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"x", "more than 2^63-1 elements"},
                     [&] { return chorus_reduce(queue.get(), op, &x, 0b11, &out); });
      CHECK(std::string(chorus_last_error_message()).find("empty") == std::string::npos);
    }
  }
}

TEST_CASE("tensor helpers refuse counts past INT64_MAX instead of overflowing") {
  chorus_tensor t{};
  t.rank = 3;
  t.shape[0] = t.shape[1] = t.shape[2] = int64_t{1} << 22;  // 2^66 elements
  CHECK(chorus_tensor_numel(&t) == -1);
  t.shape[0] = -1;
  CHECK(chorus_tensor_numel(&t) == -1);
  t.rank = CHORUS_MAX_RANK + 1;
  CHECK(chorus_tensor_numel(&t) == -1);
  CHECK(chorus_tensor_numel(nullptr) == -1);
  const int64_t huge[3] = {int64_t{1} << 22, int64_t{1} << 22, int64_t{1} << 22};
  chorus_tensor out{};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"tensor_contiguous", "2^63-1"}, [&] {
    return chorus_tensor_contiguous(nullptr, CHORUS_DTYPE_F32, 3, huge, &out);
  });
  const int64_t fine[2] = {3, 4};
  REQUIRE(chorus_tensor_contiguous(nullptr, CHORUS_DTYPE_F32, 2, fine, &out) == CHORUS_OK);
  CHECK(chorus_tensor_numel(&out) == 12);
}

TEST_CASE("enum arguments are checked as integers before any use") {
  chorus::Context ctx;
  chorus::Device device = ctx.open("reference:0");
  chorus::Queue queue = device.queue();
  chorus::Buffer buffer = device.buffer(16);
  chorus::Tensor t(buffer, CHORUS_DTYPE_F32, {4});
  for (const int32_t bad : {int32_t{-1}, int32_t{CHORUS_UNARY_COUNT_}, std::numeric_limits<int32_t>::max(),
                            std::numeric_limits<int32_t>::min()}) {
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"not a chorus_unary_op"},
                   [&] { return test_call_unary(queue.get(), bad, &t, &t); });
  }
  chorus_reduce_attrs reduce{sizeof reduce, CHORUS_REDUCE_SUM, 1};
  const int32_t bad_reduce = 7;
  std::memcpy(&reduce.op, &bad_reduce, sizeof bad_reduce);
  const chorus_tensor* args[] = {&t, &t};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"reduce", "not a chorus_reduce_op"},
                 [&] { return chorus_op_run(queue.get(), CHORUS_OP_REDUCE, &reduce, 2, args); });
  chorus_softmax_attrs softmax{sizeof softmax, -1, 2};  // log is a bool
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"log", "0 or 1"},
                 [&] { return chorus_op_run(queue.get(), CHORUS_OP_SOFTMAX, &softmax, 2, args); });
  for (const int32_t kind : {int32_t{0}, int32_t{-5}, int32_t{CHORUS_OP_COUNT_}, int32_t{1000}}) {
    expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"op kind", "not one this libchorus"},
                   [&] { return test_call_op_run(queue.get(), kind, nullptr, 2, args); });
  }
  chorus_gemm_desc gemm{sizeof gemm, 0, 0, 1, 0, CHORUS_ACTIVATION_NONE};
  const int32_t bad_activation = 5;
  std::memcpy(&gemm.activation, &bad_activation, sizeof bad_activation);
  chorus::Tensor m(buffer, CHORUS_DTYPE_F32, {2, 2});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"activation", "chorus_activation"},
                 [&] { return chorus_gemm(queue.get(), &gemm, &m, &m, nullptr, &m); });
}

TEST_CASE("an attributes struct from a newer chorus.h is honoured only when its new fields are zero") {
  chorus::Context ctx;
  chorus::Device device = ctx.open("reference:0");
  chorus::Queue queue = device.queue();
  chorus::Buffer buffer = device.buffer(64);
  chorus::Tensor x(buffer, CHORUS_DTYPE_F32, {4});
  chorus::Tensor y(buffer, CHORUS_DTYPE_F32, {4});
  y.offset = 8;
  struct Newer {
    chorus_unary_attrs known;
    double future;
  } newer{{sizeof(Newer), CHORUS_UNARY_NEG, 0, 0}, 0};
  const chorus_tensor* args[] = {&x, &y};
  CHECK(chorus_op_run(queue.get(), CHORUS_OP_UNARY, &newer, 2, args) == CHORUS_OK);
  newer.future = 1;
  expect_failure(CHORUS_ERROR_UNSUPPORTED, {"fields past byte", "does not know"},
                 [&] { return chorus_op_run(queue.get(), CHORUS_OP_UNARY, &newer, 2, args); });
  // An older, shorter struct: the fields past it take their defaults.
  const uint32_t old_size = offsetof(chorus_unary_attrs, alpha);
  chorus_unary_attrs older{old_size, CHORUS_UNARY_ABS, 123, 456};  // alpha, beta past old_size
  CHECK(chorus_op_run(queue.get(), CHORUS_OP_UNARY, &older, 2, args) == CHORUS_OK);
  chorus_unary_attrs broken{2, CHORUS_UNARY_ABS, 0, 0};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"struct_size is 2"},
                 [&] { return chorus_op_run(queue.get(), CHORUS_OP_UNARY, &broken, 2, args); });
}

TEST_CASE("an output that overlaps itself is refused") {
  chorus::Context ctx;
  chorus::Device device = ctx.open("reference:0");
  chorus::Queue queue = device.queue();
  chorus::Buffer buffer = device.buffer(256);
  chorus::Tensor x(buffer, CHORUS_DTYPE_F32, {4, 3});
  chorus::Buffer out_buffer = device.buffer(256);
  // Stride 0 on an output axis of extent 4: four results, one element.
  chorus_tensor stride0 = raw_view(out_buffer.get(), CHORUS_DTYPE_F32, {4, 3}, {0, 1});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"y", "overlaps itself"},
                 [&] { return chorus_unary(queue.get(), CHORUS_UNARY_NEG, &x, &stride0); });
  // Axes that interleave onto each other: (i, j) and (i + 1, j - 1) meet.
  chorus_tensor diagonal = raw_view(out_buffer.get(), CHORUS_DTYPE_F32, {4, 3}, {1, 1});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"overlaps itself"},
                 [&] { return chorus_unary(queue.get(), CHORUS_UNARY_NEG, &x, &diagonal); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dst", "overlaps itself"},
                 [&] { return chorus_fill(queue.get(), &stride0, 1.0); });
  // A broadcast *input* is fine, and so is a padded output.
  chorus_tensor broadcast = raw_view(buffer.get(), CHORUS_DTYPE_F32, {4, 3}, {0, 1});
  chorus_tensor padded = raw_view(out_buffer.get(), CHORUS_DTYPE_F32, {4, 3}, {5, 1});
  CHECK(chorus_unary(queue.get(), CHORUS_UNARY_NEG, &broadcast, &padded) == CHORUS_OK);
}

TEST_CASE("unsupported means the same everywhere: a dtype a device lacks, an op it lacks") {
  chorus::Context ctx;
  const auto all = ctx.devices();
  const bool have_oldabi = std::any_of(all.begin(), all.end(), [](const chorus_device_info& d) {
    return std::string(d.backend) == "oldabi" && d.usable;
  });
  if (!have_oldabi) {
    WARN("oldabi test plugin not on CHORUS_PLUGIN_PATH; part of this test did not run");
    return;
  }
  chorus::Device device = ctx.open("oldabi:0");  // f32 only, no cumsum, no 2.1 unary ops
  chorus::Queue queue = device.queue();
  chorus::Buffer buffer = device.buffer(64);
  chorus::Tensor d(buffer, CHORUS_DTYPE_F64, {4});
  expect_failure(CHORUS_ERROR_UNSUPPORTED, {"x is f64", "oldabi:0 does not support"},
                 [&] { return chorus_unary(queue.get(), CHORUS_UNARY_NEG, &d, &d); });
  chorus::Tensor f(buffer, CHORUS_DTYPE_F32, {4});
  expect_failure(CHORUS_ERROR_UNSUPPORTED, {"leaky_relu", "newer than this ABI 2.0 backend"},
                 [&] { return chorus_unary(queue.get(), CHORUS_UNARY_LEAKY_RELU, &f, &f); });
  expect_failure(CHORUS_ERROR_UNSUPPORTED, {"cumsum", "oldabi"},
                 [&] { return chorus_cumsum(queue.get(), &f, 0, 0, 0, &f); });
}
