// test_api.cpp — the C API and C++ wrapper: bad input always comes back as a
// status with a message naming the argument (never a crash or a silent wrong
// answer), zero-size tensors are a no-op, and the core's normalisation
// (broadcast, transposes, batch folding, in-place) gives the right numbers.
#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>

#include "test_support.hpp"

#include <cmath>
#include <cstring>
#include <string>
#include <vector>

extern "C" chorus_status test_call_binary(chorus_queue queue, int op, const chorus_tensor* a,
                                          const chorus_tensor* b, const chorus_tensor* out);

namespace {

using chorus_test::expect_failure;
using chorus_test::raw_view;

struct Fixture {
  chorus::Context ctx;
  chorus::Device device = ctx.open("reference:0");
  chorus::Queue queue = device.queue();

  template <typename T>
  chorus::Buffer upload(const std::vector<T>& values) {
    auto buffer = device.buffer(values.size() * sizeof(T));
    queue.write<T>(buffer, values);
    return buffer;
  }
  template <typename T>
  std::vector<T> download(const chorus::Buffer& buffer) {
    std::vector<T> out(buffer.size() / sizeof(T));
    queue.read<T>(buffer, out);
    return out;
  }
};

}  // namespace

TEST_CASE("null handles are invalid arguments with the argument named") {
  Fixture f;
  auto storage = f.device.buffer(16);
  chorus::Tensor t(storage, CHORUS_DTYPE_F32, {4});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"queue is NULL"},
                 [&] { return chorus_unary(nullptr, CHORUS_UNARY_EXP, &t, &t); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"exp", "x is NULL"},
                 [&] { return chorus_unary(f.queue.get(), CHORUS_UNARY_EXP, nullptr, &t); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"device is NULL"}, [&] {
    chorus_buffer b = nullptr;
    return chorus_buffer_create(nullptr, 4, &b);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"context is NULL"}, [&] {
    chorus_device d = nullptr;
    return chorus_device_open(nullptr, "reference:0", &d);
  });
  chorus::Tensor no_buffer = t;
  no_buffer.buffer = nullptr;
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"y.buffer is NULL"},
                 [&] { return chorus_unary(f.queue.get(), CHORUS_UNARY_EXP, &t, &no_buffer); });
}

TEST_CASE("a shape mismatch in gemm names both extents") {
  Fixture f;
  auto buffer = f.device.buffer(1024);
  chorus::Tensor a(buffer, CHORUS_DTYPE_F32, {2, 3});
  chorus::Tensor b(buffer, CHORUS_DTYPE_F32, {4, 5});
  auto out = f.device.buffer(1024);
  chorus::Tensor c(out, CHORUS_DTYPE_F32, {2, 5});
  chorus_gemm_desc desc{sizeof(chorus_gemm_desc), 0, 0, 1.0, 0.0, CHORUS_ACTIVATION_NONE};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"op(a) has 3 columns but op(b) has 4 rows"},
                 [&] { return chorus_gemm(f.queue.get(), &desc, &a, &b, nullptr, &c); });
}

TEST_CASE("a wrong dtype is refused with the allowed list") {
  Fixture f;
  auto xb = f.device.buffer(16), yb = f.device.buffer(16), yfb = f.device.buffer(16);
  chorus::Tensor x(xb, CHORUS_DTYPE_I32, {4});
  chorus::Tensor y(yb, CHORUS_DTYPE_I32, {4});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"exp", "x is i32", "f32"},
                 [&] { return chorus_unary(f.queue.get(), CHORUS_UNARY_EXP, &x, &y); });
  chorus::Tensor yf(yfb, CHORUS_DTYPE_F32, {4});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"y is f32 but x is i32"},
                 [&] { return chorus_unary(f.queue.get(), CHORUS_UNARY_NEG, &x, &yf); });
}

TEST_CASE("a view reaching past its buffer is refused") {
  Fixture f;
  auto buffer = f.device.buffer(16);  // 4 floats
  chorus::Tensor t(buffer, CHORUS_DTYPE_F32, {4});
  t.offset = 1;
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"x", "past the end", "16-byte buffer"},
                 [&] { return chorus_unary(f.queue.get(), CHORUS_UNARY_NEG, &t, &t); });
  chorus::Tensor strided(buffer, CHORUS_DTYPE_F32, {2});
  strided.strides[0] = 4;
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"fill", "dst"},
                 [&] { return chorus_fill(f.queue.get(), &strided, 1.0); });
  chorus::Tensor negative(buffer, CHORUS_DTYPE_F32, {2});
  negative.strides[0] = -1;
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dst.strides[0]", ">= 0"},
                 [&] { return chorus_fill(f.queue.get(), &negative, 1.0); });
}

TEST_CASE("a tensor from another device is refused") {
  Fixture f;
  auto other = f.ctx.open("testdouble:0");
  auto foreign = other.buffer(16);
  auto local = f.device.buffer(16);
  chorus::Tensor x(foreign, CHORUS_DTYPE_F32, {4});
  chorus::Tensor y(local, CHORUS_DTYPE_F32, {4});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"x lives on testdouble:0", "reference:0"},
                 [&] { return chorus_unary(f.queue.get(), CHORUS_UNARY_NEG, &x, &y); });
}

TEST_CASE("an allocation beyond device memory is out of memory and leaks nothing") {
  Fixture f;
  chorus_buffer b = nullptr;
  expect_failure(CHORUS_ERROR_OUT_OF_MEMORY, {"bytes"},
                 [&] { return chorus_buffer_create(f.device.get(), uint64_t{1} << 62, &b); });
  CHECK(b == nullptr);
}

TEST_CASE("host copies outside the buffer are refused") {
  Fixture f;
  auto buffer = f.device.buffer(8);
  char data[16] = {};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"buffer_write", "outside its 8-byte buffer"},
                 [&] { return chorus_buffer_write(f.queue.get(), buffer.get(), 4, data, 8); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"pattern_size"}, [&] {
    return chorus_buffer_fill(f.queue.get(), buffer.get(), 0, 8, data, 3);
  });
}

TEST_CASE("unknown op enums are refused") {
  Fixture f;
  auto storage = f.device.buffer(16);
  chorus::Tensor t(storage, CHORUS_DTYPE_F32, {4});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"not a chorus_unary_op"}, [&] {
    return chorus_unary(f.queue.get(), static_cast<chorus_unary_op>(99), &t, &t);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"not a chorus_binary_op"}, [&] {
    return test_call_binary(f.queue.get(), -1, &t, &t, &t);  // from C: any int
  });
}

TEST_CASE("partial overlap between input and output is refused; exact aliasing is in place") {
  Fixture f;
  auto buffer = f.upload<float>({1, 2, 3, 4, 5});
  chorus::Tensor x(buffer, CHORUS_DTYPE_F32, {4});
  chorus::Tensor shifted = x;
  shifted.offset = 1;
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"y overlaps x"},
                 [&] { return chorus_unary(f.queue.get(), CHORUS_UNARY_NEG, &x, &shifted); });
  chorus::ops::unary(f.queue, CHORUS_UNARY_NEG, x, x);
  CHECK(f.download<float>(buffer) == std::vector<float>{-1, -2, -3, -4, 5});
}

TEST_CASE("zero-size tensors are a valid no-op that writes nothing") {
  Fixture f;
  auto buffer = f.upload<float>({7, 7});
  chorus::Tensor empty(buffer, CHORUS_DTYPE_F32, {0, 2});
  chorus::ops::unary(f.queue, CHORUS_UNARY_EXP, empty, empty);
  chorus::ops::fill(f.queue, empty, 1.0);
  chorus::Tensor a0(buffer, CHORUS_DTYPE_F32, {0, 3});
  chorus::Tensor b0(buffer, CHORUS_DTYPE_F32, {3, 0});
  chorus::Tensor c0(buffer, CHORUS_DTYPE_F32, {0, 0});
  chorus::ops::gemm(f.queue, a0, b0, c0);
  CHECK(f.download<float>(buffer) == std::vector<float>{7, 7});
}

TEST_CASE("gemm with K == 0 gives beta * c + bias") {
  Fixture f;
  auto cb = f.upload<float>({1, 2, 3, 4});
  auto bias = f.upload<float>({10, 20});
  auto empty = f.device.buffer(4);
  chorus::Tensor a(empty, CHORUS_DTYPE_F32, {2, 0});
  chorus::Tensor b(empty, CHORUS_DTYPE_F32, {0, 2});
  chorus::Tensor c(cb, CHORUS_DTYPE_F32, {2, 2});
  chorus::Tensor bias_t(bias, CHORUS_DTYPE_F32, {2});
  chorus::ops::GemmOptions o;
  o.beta = 2.0;
  o.bias = &bias_t;
  chorus::ops::gemm(f.queue, a, b, c, o);
  CHECK(f.download<float>(cb) == std::vector<float>{12, 24, 16, 28});
}

TEST_CASE("sum over an empty axis is 0; max over it is an error") {
  Fixture f;
  auto xb = f.device.buffer(4);
  auto ob = f.upload<float>({5, 5});
  chorus::Tensor x(xb, CHORUS_DTYPE_F32, {2, 0});
  chorus::Tensor out(ob, CHORUS_DTYPE_F32, {2});
  chorus::ops::reduce(f.queue, CHORUS_REDUCE_SUM, x, 0b10, out);
  CHECK(f.download<float>(ob) == std::vector<float>{0, 0});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"empty axis"}, [&] {
    return chorus_reduce(f.queue.get(), CHORUS_REDUCE_MAX, &x, 0b10, &out);
  });
}

TEST_CASE("binary ops broadcast numpy-style and report shapes that do not") {
  Fixture f;
  auto ab = f.upload<float>({1, 2, 3, 4, 5, 6});  // [2,3]
  auto bb = f.upload<float>({10, 20, 30});        // [3]
  auto ob = f.device.buffer(24);
  chorus::Tensor a(ab, CHORUS_DTYPE_F32, {2, 3});
  chorus::Tensor b(bb, CHORUS_DTYPE_F32, {3});
  chorus::Tensor out(ob, CHORUS_DTYPE_F32, {2, 3});
  chorus::ops::add(f.queue, a, b, out);
  CHECK(f.download<float>(ob) == std::vector<float>{11, 22, 33, 14, 25, 36});
  chorus::Tensor b2(bb, CHORUS_DTYPE_F32, {2});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"b of shape [2] does not broadcast", "[2,3]"},
                 [&] { return chorus_binary(f.queue.get(), CHORUS_BINARY_ADD, &a, &b2, &out); });
}

TEST_CASE("gemm transposes, batch broadcast and bias fold into the right answer") {
  Fixture f;
  // a: batch of 2 matrices 2x3 stored transposed (3x2), b: one 3x2 matrix
  // shared by both batches, bias [2].
  auto ab = f.upload<float>({1, 4, 2, 5, 3, 6,  /**/ 0, 1, 1, 0, 2, 0});
  auto bb = f.upload<float>({1, 0, 0, 1, 1, 1});
  auto biasb = f.upload<float>({100, 200});
  auto cb = f.device.buffer(2 * 2 * 2 * 4);
  chorus::Tensor a(ab, CHORUS_DTYPE_F32, {2, 3, 2});
  chorus::Tensor b(bb, CHORUS_DTYPE_F32, {3, 2});
  chorus::Tensor bias(biasb, CHORUS_DTYPE_F32, {2});
  chorus::Tensor c(cb, CHORUS_DTYPE_F32, {2, 2, 2});
  chorus::ops::GemmOptions o;
  o.transpose_a = true;
  o.bias = &bias;
  chorus::ops::gemm(f.queue, a, b, c, o);
  // batch 0: A = [[1,2,3],[4,5,6]]; A@B = [[4,5],[10,11]]
  // batch 1: A = [[0,1,2],[1,0,0]]; A@B = [[2,3],[1,0]]
  CHECK(f.download<float>(cb) ==
        std::vector<float>{104, 205, 110, 211, 102, 203, 101, 200});
}

TEST_CASE("reduce accepts keep-dims and dropped-dims outputs and checks their shape") {
  Fixture f;
  auto xb = f.upload<float>({1, 2, 3, 4, 5, 6});
  auto ob = f.device.buffer(12);
  chorus::Tensor x(xb, CHORUS_DTYPE_F32, {2, 3});
  chorus::Tensor kept(ob, CHORUS_DTYPE_F32, {1, 3});
  chorus::ops::reduce(f.queue, CHORUS_REDUCE_SUM, x, 0b01, kept);
  CHECK(f.download<float>(ob) == std::vector<float>{5, 7, 9});
  chorus::Tensor dropped(ob, CHORUS_DTYPE_F32, {2});
  chorus::ops::reduce(f.queue, CHORUS_REDUCE_MAX, x, 0b10, dropped);
  CHECK(f.download<float>(ob)[1] == 6.0f);
  chorus::Tensor wrong(ob, CHORUS_DTYPE_F32, {3});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"out has shape [3]", "[2,1]"},
                 [&] { return chorus_reduce(f.queue.get(), CHORUS_REDUCE_SUM, &x, 0b10, &wrong); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"axes_mask"},
                 [&] { return chorus_reduce(f.queue.get(), CHORUS_REDUCE_SUM, &x, 0b100, &wrong); });
}

TEST_CASE("softmax along a non-last axis of a permuted view") {
  Fixture f;
  const double l2 = std::log(2.0);
  auto xb = f.upload<float>({0, 0, static_cast<float>(l2), 0});  // [[0,0],[ln2,0]]
  auto yb = f.device.buffer(16);
  chorus::Tensor x(xb, CHORUS_DTYPE_F32, {2, 2});
  chorus::Tensor y(yb, CHORUS_DTYPE_F32, {2, 2});
  chorus::ops::softmax(f.queue, x, y, 0);  // columns
  const auto out = f.download<float>(yb);
  CHECK(out[0] == Approx(1.0 / 3).epsilon(1e-6));
  CHECK(out[2] == Approx(2.0 / 3).epsilon(1e-6));
  CHECK(out[1] == 0.5f);
  CHECK(out[3] == 0.5f);
}

TEST_CASE("the C++ wrapper throws Error carrying status and message") {
  Fixture f;
  try {
    f.ctx.open("nosuch:3");
    FAIL("open of an unknown backend did not throw");
  } catch (const chorus::Error& e) {
    CHECK(e.status() == CHORUS_ERROR_NOT_FOUND);
    CHECK(std::string(e.what()).find("nosuch") != std::string::npos);
  }
}

TEST_CASE("events measure elapsed time between records on one queue") {
  Fixture f;
  auto start = f.device.event();
  auto end = f.device.event();
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"recorded"},
                 [&] { double ms; return chorus_event_elapsed_ms(start.get(), end.get(), &ms); });
  f.queue.record(start);
  auto big = f.device.buffer(1 << 20);
  chorus::Tensor t(big, CHORUS_DTYPE_F32, {1 << 18});
  chorus::ops::fill(f.queue, t, 2.0);
  f.queue.record(end);
  end.wait();
  CHECK(chorus::Event::elapsed_ms(start, end) >= 0.0);
}

TEST_CASE("a deterministic queue is granted by the reference and reported") {
  Fixture f;
  auto q = f.device.queue(CHORUS_NUMERICS_DETERMINISTIC);
  CHECK((q.numerics() & CHORUS_NUMERICS_DETERMINISTIC) != 0);
  chorus_queue_desc bad{sizeof(chorus_queue_desc), 1u << 20};
  chorus_queue out = nullptr;
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"unknown bits"},
                 [&] { return chorus_queue_create(f.device.get(), &bad, &out); });
}

TEST_CASE("copy converts dtypes with saturation and round-to-nearest-even") {
  Fixture f;
  auto src = f.upload<float>({1.5f, -2.7f, 3e10f, std::nanf("")});
  auto dst = f.device.buffer(16);
  chorus::Tensor s(src, CHORUS_DTYPE_F32, {4});
  chorus::Tensor d(dst, CHORUS_DTYPE_I32, {4});
  chorus::ops::copy(f.queue, s, d);
  CHECK(f.download<int32_t>(dst) == std::vector<int32_t>{1, -2, 2147483647, 0});
}
