// test_views.cpp — slice, permute and split views, concat and constant pad
// (chorus.h "Views"; docs/ops.md), on every device: the results are copies of
// distinct integer-valued elements, so the expected values are exact and any
// element taken from the wrong place shows.
#include <chorus/chorus.hpp>

#include <cstdint>
#include <numeric>
#include <vector>

#include "test_support.hpp"

namespace {

using chorus_test::expect_failure;
using chorus_test::on_every_device;

// A device buffer holding 0, 1, ..., n-1 (f32) and a contiguous view of it.
struct Iota {
  chorus::Buffer buffer;
  chorus::Tensor tensor;
  Iota(const chorus::Device& device, const chorus::Queue& q, const std::vector<int64_t>& shape)
      : buffer(device.buffer(static_cast<uint64_t>(chorus_test::count(shape)) * 4 + 4)),
        tensor(buffer, CHORUS_DTYPE_F32, shape) {
    std::vector<float> v(chorus_test::count(shape));
    std::iota(v.begin(), v.end(), 0.0f);
    q.write<float>(buffer, v);
  }
};

// view's elements in row-major order, through a copy to a contiguous tensor.
std::vector<float> read_view(const chorus::Device& device, const chorus::Queue& q,
                             const chorus::Tensor& view) {
  std::vector<int64_t> shape(view.shape, view.shape + view.rank);
  const size_t n = chorus_test::count(shape);
  const chorus::Buffer b = device.buffer(n * 4 + 4);
  const chorus::Tensor out(b, CHORUS_DTYPE_F32, shape);
  chorus::ops::copy(q, view, out);
  std::vector<float> v(n);
  q.read<float>(b, v);
  return v;
}

}  // namespace

TEST_CASE("slice, permute and split are views of the right elements, on every device", "[views]") {
  const int tested = on_every_device([](const chorus::Device& device, const chorus::Queue& q) {
    const Iota x(device, q, {3, 4, 5});  // element (i, j, k) = 20 i + 5 j + k
    // x[1:3, :, 1:5:2]
    const chorus::Tensor s = x.tensor.slice(0, 1, 3).slice(2, 1, 5, 2);
    CHECK(read_view(device, q, s) == std::vector<float>{21, 23, 26, 28, 31, 33, 36, 38,
                                                        41, 43, 46, 48, 51, 53, 56, 58});
    // x.permute(2, 0, 1)[k, i, j] = x[i, j, k]; first row k = 0.
    const chorus::Tensor p = x.tensor.permuted({2, 0, 1});
    CHECK(p.shape[0] == 5);
    CHECK(p.shape[1] == 3);
    CHECK(p.shape[2] == 4);
    const std::vector<float> pv = read_view(device, q, p);
    for (int64_t k = 0; k < 5; ++k)
      for (int64_t i = 0; i < 3; ++i)
        for (int64_t j = 0; j < 4; ++j)
          CHECK(pv[static_cast<size_t>(k * 12 + i * 4 + j)] == static_cast<float>(20 * i + 5 * j + k));
    // An empty slice, and split into [1, 0, 3] along axis 1.
    CHECK(read_view(device, q, x.tensor.slice(1, 4, 4)).empty());
    const std::vector<chorus::Tensor> parts = x.tensor.split(1, {1, 0, 3});
    REQUIRE(parts.size() == 3);
    CHECK(read_view(device, q, parts[0]) == std::vector<float>{0, 1, 2, 3, 4, 20, 21, 22, 23, 24,
                                                               40, 41, 42, 43, 44});
    CHECK(parts[1].shape[1] == 0);
    CHECK(read_view(device, q, parts[2]) == read_view(device, q, x.tensor.slice(1, 1, 4)));
  });
  CHECK(tested >= 1);
}

TEST_CASE("concat joins views along an axis, on every device", "[views]") {
  const int tested = on_every_device([](const chorus::Device& device, const chorus::Queue& q) {
    const Iota a(device, q, {2, 1, 3}), b(device, q, {3, 2, 2}), c(device, q, {2, 0, 3});
    // b's [3, 2, 2] permuted to [2, 2, 3]: a non-contiguous input.
    const chorus::Tensor bp = b.tensor.permuted({1, 2, 0});
    const chorus::Buffer ob = device.buffer(2 * 3 * 3 * 4);
    const chorus::Tensor out(ob, CHORUS_DTYPE_F32, {2, 3, 3});
    chorus::ops::concat(q, {a.tensor, c.tensor, bp}, 1, out);
    std::vector<float> got(18);
    q.read<float>(ob, got);
    // out[i, 0, k] = a[i, 0, k] = 3 i + k; out[i, 1 + j, k] = b[k, i, j] = 4 k + 2 i + j.
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t k = 0; k < 3; ++k) {
        CHECK(got[static_cast<size_t>(i * 9 + k)] == static_cast<float>(3 * i + k));
        for (int64_t j = 0; j < 2; ++j)
          CHECK(got[static_cast<size_t>(i * 9 + (1 + j) * 3 + k)] ==
                static_cast<float>(4 * k + 2 * i + j));
      }
  });
  CHECK(tested >= 1);
}

TEST_CASE("pad surrounds x with a constant, on every device", "[views]") {
  const int tested = on_every_device([](const chorus::Device& device, const chorus::Queue& q) {
    const Iota x(device, q, {2, 3});
    const chorus::Buffer yb = device.buffer(3 * 6 * 4);
    const chorus::Tensor y(yb, CHORUS_DTYPE_F32, {3, 6});
    chorus::ops::pad(q, x.tensor, {1, 2}, {0, 1}, -1.5, y);
    std::vector<float> got(18);
    q.read<float>(yb, got);
    const std::vector<float> want = {-1.5, -1.5, -1.5, -1.5, -1.5, -1.5,  //
                                     -1.5, -1.5, 0,    1,    2,    -1.5,  //
                                     -1.5, -1.5, 3,    4,    5,    -1.5};
    CHECK(got == want);
    // A padded transposed view, no padding on one axis.
    const chorus::Buffer zb = device.buffer(3 * 4 * 4);
    const chorus::Tensor z(zb, CHORUS_DTYPE_F32, {3, 4});
    chorus::ops::pad(q, x.tensor.transposed(0, 1), {0, 1}, {0, 1}, 7, z);
    std::vector<float> zv(12);
    q.read<float>(zb, zv);
    CHECK(zv == std::vector<float>{7, 0, 3, 7, 7, 1, 4, 7, 7, 2, 5, 7});
  });
  CHECK(tested >= 1);
}

TEST_CASE("views, concat and pad refuse bad arguments with a message naming them", "[views]") {
  chorus_test::DeviceFixture f;
  const chorus::Buffer b = f.device.buffer(4096);
  const chorus::Tensor x(b, CHORUS_DTYPE_F32, {2, 3}), y(b, CHORUS_DTYPE_F32, {2, 4}),
      r3(b, CHORUS_DTYPE_F32, {2, 3, 1});
  chorus_tensor out{};
  const auto q = f.queue.get();
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"axis 2", "rank 2"},
                 [&] { return chorus_tensor_slice(&x, 2, 0, 1, 1, &out); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"begin 2", "end 1"},
                 [&] { return chorus_tensor_slice(&x, 0, 2, 1, 1, &out); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"end 4", "3"},
                 [&] { return chorus_tensor_slice(&x, 1, 0, 4, 1, &out); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"step 0"},
                 [&] { return chorus_tensor_slice(&x, 1, 0, 2, 0, &out); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"out is NULL"},
                 [&] { return chorus_tensor_slice(&x, 1, 0, 2, 1, nullptr); });
  const uint32_t twice[] = {0, 0}, beyond[] = {0, 2};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"order", "permutation"},
                 [&] { return chorus_tensor_permute(&x, twice, &out); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"order[1] = 2"},
                 [&] { return chorus_tensor_permute(&x, beyond, &out); });

  const chorus::Buffer ob = f.device.buffer(4096);
  const chorus::Tensor o5(ob, CHORUS_DTYPE_F32, {2, 5}), o7(ob, CHORUS_DTYPE_F32, {2, 7}),
      o3(ob, CHORUS_DTYPE_F32, {3, 7});
  const chorus_tensor two[] = {x, y}, with_r3[] = {x, r3};
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"add up to 7", "out has 5"},
                 [&] { return chorus_concat(q, 2, two, 1, &o5); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"inputs[0]", "axis 0", "only axis 1"},
                 [&] { return chorus_concat(q, 2, two, 1, &o3); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"inputs[1]", "rank 3"},
                 [&] { return chorus_concat(q, 2, with_r3, 1, &o7); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"count is 0"},
                 [&] { return chorus_concat(q, 0, two, 1, &o7); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"axis 2"},
                 [&] { return chorus_concat(q, 2, two, 2, &o7); });

  const int64_t before[] = {0, 1}, after[] = {0, 1}, negative[] = {0, -1};
  const chorus::Tensor y_wrong(ob, CHORUS_DTYPE_F32, {2, 6}), y_right(ob, CHORUS_DTYPE_F32, {2, 5});
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"pad_before[1]", ">= 0"},
                 [&] { return chorus_pad(q, &x, negative, after, 0, &y_right); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"y has extent 6", "axis 1"},
                 [&] { return chorus_pad(q, &x, before, after, 0, &y_wrong); });
  const chorus::Tensor y_on_x(b, CHORUS_DTYPE_F32, {2, 5});  // x's own memory
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"y overlaps x"},
                 [&] { return chorus_pad(q, &x, before, after, 0, &y_on_x); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"rank 3", "rank 2"},
                 [&] { return chorus_pad(q, &r3, before, after, 0, &y_right); });
  CHECK_THROWS_AS(x.permuted({0}), chorus::Error);
  CHECK_THROWS_AS(x.split(1, {1, 1}), chorus::Error);
}
