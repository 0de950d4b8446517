// test_index.cpp — gather, scatter_add, embedding and embedding_backward
// beyond the conformance suite: PyTorch's documented examples on every
// device; indices at the ends of i64 (never read, never overflow an
// address); scatter-add giving the same bits run after run and on every
// compiled backend; embedding_backward and scatter_add (gather's gradient)
// against central differences on the reference in f64; and the argument
// errors, each naming the argument.
#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>
#include <cstdint>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <string>
#include <vector>

#include "gradcheck.hpp"
#include "test_support.hpp"

namespace {

using chorus_test::expect_failure;
using chorus_test::on_every_device;

template <typename T>
chorus::Buffer upload(const chorus::Device& device, const chorus::Queue& q,
                      const std::vector<T>& v) {
  chorus::Buffer b = device.buffer(v.size() * sizeof(T) + 8);
  if (!v.empty()) q.write<T>(b, v);
  return b;
}

template <typename T>
std::vector<T> download(const chorus::Queue& q, const chorus::Buffer& b, size_t n) {
  std::vector<T> v(n);
  if (n) q.read<T>(b, v);
  return v;
}

}  // namespace

TEST_CASE("gather, scatter_add and embedding give PyTorch's documented answers, on every device",
          "[index]") {
  const int tested = on_every_device([](const chorus::Device& device, const chorus::Queue& q) {
    // torch.gather(t, 1, torch.tensor([[0, 0], [1, 0]])) of t = [[1, 2], [3, 4]]
    // is [[1, 1], [4, 3]].
    {
      const chorus::Buffer x = upload<float>(device, q, {1, 2, 3, 4});
      const chorus::Buffer ix = upload<int64_t>(device, q, {0, 0, 1, 0});
      const chorus::Buffer out = upload<float>(device, q, {9, 9, 9, 9});
      chorus::ops::gather(q, chorus::Tensor(x, CHORUS_DTYPE_F32, {2, 2}), 1,
                          chorus::Tensor(ix, CHORUS_DTYPE_I64, {2, 2}),
                          chorus::Tensor(out, CHORUS_DTYPE_F32, {2, 2}));
      CHECK(download<float>(q, out, 4) == std::vector<float>{1, 1, 4, 3});
    }
    // torch.zeros(3, 5).scatter_add_(0, torch.tensor([[0, 1, 2, 0, 0]]),
    // torch.ones(2, 5)) is [[1, 0, 0, 1, 1], [0, 1, 0, 0, 0], [0, 0, 1, 0, 0]]
    // (src larger than index: its first row is used).
    {
      const chorus::Buffer ix = upload<int64_t>(device, q, {0, 1, 2, 0, 0});
      const chorus::Buffer src = upload<float>(device, q, std::vector<float>(10, 1.0f));
      const chorus::Buffer out = upload<float>(device, q, std::vector<float>(15, 0.0f));
      chorus::ops::scatter_add(q, chorus::Tensor(ix, CHORUS_DTYPE_I64, {1, 5}), 0,
                               chorus::Tensor(src, CHORUS_DTYPE_F32, {2, 5}),
                               chorus::Tensor(out, CHORUS_DTYPE_F32, {3, 5}));
      CHECK(download<float>(q, out, 15) ==
            std::vector<float>{1, 0, 0, 1, 1, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0});
      // ... and with index [[0, 1, 2, 0, 0], [0, 1, 2, 2, 2]]:
      // [[2, 0, 0, 1, 1], [0, 2, 0, 0, 0], [0, 0, 2, 1, 1]].
      const chorus::Buffer ix2 = upload<int64_t>(device, q, {0, 1, 2, 0, 0, 0, 1, 2, 2, 2});
      const chorus::Buffer out2 = upload<float>(device, q, std::vector<float>(15, 0.0f));
      chorus::ops::scatter_add(q, chorus::Tensor(ix2, CHORUS_DTYPE_I64, {2, 5}), 0,
                               chorus::Tensor(src, CHORUS_DTYPE_F32, {2, 5}),
                               chorus::Tensor(out2, CHORUS_DTYPE_F32, {3, 5}));
      CHECK(download<float>(q, out2, 15) ==
            std::vector<float>{2, 0, 0, 1, 1, 0, 2, 0, 0, 0, 0, 0, 2, 1, 1});
    }
    // The same with every index aimed at one place twice: [[3, 0, 0, 0, 0], ...]
    // after adding into a non-zero out, on axis 1 with i32 indices.
    {
      const chorus::Buffer ix = upload<int32_t>(device, q, {0, 0, 0, 4, 4, 1});
      const chorus::Buffer src = upload<float>(device, q, {1, 2, 3, 10, 20, 30});
      const chorus::Buffer out = upload<float>(device, q, {100, 100, 100, 100, 100, 5, 5, 5, 5, 5});
      chorus::ops::scatter_add(q, chorus::Tensor(ix, CHORUS_DTYPE_I32, {2, 3}), 1,
                               chorus::Tensor(src, CHORUS_DTYPE_F32, {2, 3}),
                               chorus::Tensor(out, CHORUS_DTYPE_F32, {2, 5}));
      CHECK(download<float>(q, out, 10) ==
            std::vector<float>{106, 100, 100, 100, 100, 5, 35, 5, 5, 35});
    }
    // F.embedding(torch.tensor([[1, 2], [0, 1]]), table) with
    // table = [[0, 1], [10, 11], [20, 21]]; -1 and 3 give zero rows here.
    {
      const chorus::Buffer table = upload<float>(device, q, {0, 1, 10, 11, 20, 21});
      const chorus::Buffer ix = upload<int64_t>(device, q, {1, 2, 0, 1, -1, 3});
      const chorus::Buffer out = upload<float>(device, q, std::vector<float>(12, 7.0f));
      chorus::ops::embedding(q, chorus::Tensor(table, CHORUS_DTYPE_F32, {3, 2}),
                             chorus::Tensor(ix, CHORUS_DTYPE_I64, {3, 2}),
                             chorus::Tensor(out, CHORUS_DTYPE_F32, {3, 2, 2}));
      CHECK(download<float>(q, out, 12) ==
            std::vector<float>{10, 11, 20, 21, 0, 1, 10, 11, 0, 0, 0, 0});
      // Its gradient for dy = 1, 2, ..., 12: row 1 gets rows 0 and 3 of dy.
      std::vector<float> dy(12);
      for (int i = 0; i < 12; ++i) dy[static_cast<size_t>(i)] = static_cast<float>(i + 1);
      const chorus::Buffer bdy = upload<float>(device, q, dy);
      const chorus::Buffer dtable = upload<float>(device, q, std::vector<float>(6, 9.0f));
      chorus::ops::embedding_backward(q, chorus::Tensor(ix, CHORUS_DTYPE_I64, {3, 2}),
                                      chorus::Tensor(bdy, CHORUS_DTYPE_F32, {3, 2, 2}),
                                      chorus::Tensor(dtable, CHORUS_DTYPE_F32, {3, 2}));
      CHECK(download<float>(q, dtable, 6) == std::vector<float>{5, 6, 1 + 7, 2 + 8, 3, 4});
    }
  });
  CHECK(tested >= 1);
}

TEST_CASE("indices at the ends of i64 are out of range, never read or written, on every device",
          "[index]") {
  const int tested = on_every_device([](const chorus::Device& device, const chorus::Queue& q) {
    constexpr int64_t lo = std::numeric_limits<int64_t>::min();
    constexpr int64_t hi = std::numeric_limits<int64_t>::max();
    const std::vector<int64_t> idx = {lo, hi, -1, 4, 3, lo / 4, hi / 4, 0};
    const chorus::Buffer ix = upload<int64_t>(device, q, idx);
    const chorus::Buffer x = upload<float>(device, q, {10, 11, 12, 13});
    const chorus::Buffer out = upload<float>(device, q, std::vector<float>(8, 5.0f));
    chorus::ops::gather(q, chorus::Tensor(x, CHORUS_DTYPE_F32, {4}), 0,
                        chorus::Tensor(ix, CHORUS_DTYPE_I64, {8}),
                        chorus::Tensor(out, CHORUS_DTYPE_F32, {8}));
    CHECK(download<float>(q, out, 8) == std::vector<float>{0, 0, 0, 0, 13, 0, 0, 10});
    const chorus::Buffer src = upload<float>(device, q, {1, 2, 3, 4, 5, 6, 7, 8});
    chorus::ops::scatter_add(q, chorus::Tensor(ix, CHORUS_DTYPE_I64, {8}), 0,
                             chorus::Tensor(src, CHORUS_DTYPE_F32, {8}),
                             chorus::Tensor(x, CHORUS_DTYPE_F32, {4}));
    CHECK(download<float>(q, x, 4) == std::vector<float>{18, 11, 12, 18});
  });
  CHECK(tested >= 1);
}

TEST_CASE("scatter_add gives the same bits run after run and on every compiled backend",
          "[index]") {
  // 4096 terms of every sign and magnitude into 7 elements: any change of
  // order would change the low bits.
  const size_t n = 4096, targets = 7;
  const std::vector<double> values = chorus_test::random_values(n, 11);
  std::vector<float> src(n);
  std::vector<int64_t> idx(n);
  for (size_t i = 0; i < n; ++i) {
    src[i] = static_cast<float>(values[i] * std::ldexp(1.0, static_cast<int>(i % 23) - 11));
    idx[i] = static_cast<int64_t>((i * 2654435761u) % targets);
  }
  std::vector<std::vector<float>> results;
  std::vector<std::string> names;
  on_every_device([&](const chorus::Device& device, const chorus::Queue& q) {
    if (std::string(device.info().backend) == "reference") return;  // its sums are exact
    std::vector<float> first;
    for (int run = 0; run < 3; ++run) {
      const chorus::Buffer bi = upload<int64_t>(device, q, idx);
      const chorus::Buffer bs = upload<float>(device, q, src);
      const chorus::Buffer bo = upload<float>(device, q, std::vector<float>(targets, 0.5f));
      chorus::ops::scatter_add(
          q, chorus::Tensor(bi, CHORUS_DTYPE_I64, {static_cast<int64_t>(n)}), 0,
          chorus::Tensor(bs, CHORUS_DTYPE_F32, {static_cast<int64_t>(n)}),
          chorus::Tensor(bo, CHORUS_DTYPE_F32, {static_cast<int64_t>(targets)}));
      const std::vector<float> got = download<float>(q, bo, targets);
      if (run == 0) first = got;
      CHECK(std::memcmp(got.data(), first.data(), targets * sizeof(float)) == 0);
    }
    results.push_back(first);
    names.push_back(device.info().name);
  });
  for (size_t k = 1; k < results.size(); ++k) {
    INFO(names[k] << " against " << names[0]);
    CHECK(std::memcmp(results[k].data(), results[0].data(), targets * sizeof(float)) == 0);
  }
}

TEST_CASE("embedding_backward gives the same bits through its kernel and through the composite",
          "[index]") {
  // The compiled backends and Kokkos run embedding_backward's own kernel on
  // f32, and the composite (fill and scatter-add) when CHORUS_COMPOSITES
  // asks for it (or a layout needs copies, or the table is 16-bit). Every
  // path sums each element's terms in increasing position from 0: the same
  // bits on every device, through both paths.
  const int64_t v = 13, d = 40, n = 3000;
  const std::vector<double> values = chorus_test::random_values(static_cast<size_t>(n * d), 12);
  std::vector<float> dy(values.size());
  for (size_t i = 0; i < dy.size(); ++i)
    dy[i] = static_cast<float>(values[i] * std::ldexp(1.0, static_cast<int>(i % 17) - 8));
  std::vector<int32_t> idx(static_cast<size_t>(n));
  for (size_t i = 0; i < idx.size(); ++i) idx[i] = static_cast<int32_t>((i * 2654435761u) % 15) - 1;
  std::vector<std::vector<float>> results;
  std::vector<std::string> names;
  for (const bool composite : {false, true}) {
    if (composite) setenv("CHORUS_COMPOSITES", "embedding_backward", 1);
    on_every_device([&](const chorus::Device& device, const chorus::Queue& q) {
      if (std::string(device.info().backend) == "reference") return;
      const chorus::Buffer bi = upload<int32_t>(device, q, idx);
      const chorus::Buffer bd = upload<float>(device, q, dy);
      const chorus::Buffer bt = upload<float>(device, q, std::vector<float>(v * d, 9.0f));
      chorus::ops::embedding_backward(q, chorus::Tensor(bi, CHORUS_DTYPE_I32, {n}),
                                      chorus::Tensor(bd, CHORUS_DTYPE_F32, {n, d}),
                                      chorus::Tensor(bt, CHORUS_DTYPE_F32, {v, d}));
      const bool native = q.last_op().path == CHORUS_OP_PATH_NATIVE;
      CHECK(native == !composite);
      results.push_back(download<float>(q, bt, static_cast<size_t>(v * d)));
      names.push_back(std::string(device.info().name) + (native ? " (native)" : " (composite)"));
    });
    unsetenv("CHORUS_COMPOSITES");
  }
  for (size_t k = 1; k < results.size(); ++k) {
    INFO(names[k] << " against " << names[0]);
    CHECK(std::memcmp(results[k].data(), results[0].data(), results[0].size() * sizeof(float)) ==
          0);
  }
}

TEST_CASE("embedding_backward and gather's gradient (scatter_add) match central differences",
          "[index][gradcheck]") {
  chorus_test::DeviceFixture f;
  const chorus_test::TypedIo<double> io{f.device, f.queue};
  // L = sum(w * embedding(table, index)): dL/dtable = embedding_backward(index, w).
  const int64_t v = 6, d = 4;
  const std::vector<int64_t> idx = {1, 5, 1, 0, 3, 1, -2, 6, 3};  // repeats, out of range
  const chorus::Buffer bi = upload<int64_t>(f.device, f.queue, idx);
  const chorus::Tensor ti(bi, CHORUS_DTYPE_I64, {3, 3});
  std::vector<double> table = chorus_test::random_values(static_cast<size_t>(v * d), 3);
  const std::vector<double> w = chorus_test::random_values(static_cast<size_t>(9 * d), 4);
  const auto loss = [&] {
    const chorus::Buffer bt = io.upload(table), bo = io.upload(std::vector<double>(w.size()));
    chorus::ops::embedding(f.queue, chorus::Tensor(bt, CHORUS_DTYPE_F64, {v, d}), ti,
                           chorus::Tensor(bo, CHORUS_DTYPE_F64, {3, 3, d}));
    return chorus_test::dot(io.download(bo, w.size()), w);
  };
  const chorus::Buffer bw = io.upload(w), bg = io.upload(std::vector<double>(table.size(), 7));
  chorus::ops::embedding_backward(f.queue, ti, chorus::Tensor(bw, CHORUS_DTYPE_F64, {3, 3, d}),
                                  chorus::Tensor(bg, CHORUS_DTYPE_F64, {v, d}));
  chorus_test::check_gradient("embedding_backward", table, io.download(bg, table.size()), loss,
                              1e-6, 1e-8);

  // L = sum(w * gather(x, axis 1, index)): dL/dx = scatter_add(zeros, index, w).
  std::vector<double> x = chorus_test::random_values(3 * 5, 5);
  const std::vector<int64_t> gidx = {4, 0, 4, 4, 1, 2, 2, 2, 7, -1, 3, 0};  // [3, 4]
  const chorus::Buffer bgi = upload<int64_t>(f.device, f.queue, gidx);
  const chorus::Tensor tgi(bgi, CHORUS_DTYPE_I64, {3, 4});
  const std::vector<double> gw = chorus_test::random_values(12, 6);
  const auto gather_loss = [&] {
    const chorus::Buffer bx = io.upload(x), bo = io.upload(std::vector<double>(12));
    chorus::ops::gather(f.queue, chorus::Tensor(bx, CHORUS_DTYPE_F64, {3, 5}), 1, tgi,
                        chorus::Tensor(bo, CHORUS_DTYPE_F64, {3, 4}));
    return chorus_test::dot(io.download(bo, 12), gw);
  };
  const chorus::Buffer bgw = io.upload(gw), bdx = io.upload(std::vector<double>(15, 0.0));
  chorus::ops::scatter_add(f.queue, tgi, 1, chorus::Tensor(bgw, CHORUS_DTYPE_F64, {3, 4}),
                           chorus::Tensor(bdx, CHORUS_DTYPE_F64, {3, 5}));
  chorus_test::check_gradient("gather (through scatter_add)", x, io.download(bdx, 15), gather_loss,
                              1e-6, 1e-8);
}

TEST_CASE("index ops refuse bad arguments with a message naming them", "[index][validation]") {
  chorus_test::DeviceFixture f;
  const chorus::Buffer b = f.device.buffer(4096);
  const auto t = [&](chorus_dtype dt, std::vector<int64_t> shape) {
    return chorus::Tensor(b, dt, shape);
  };
  const chorus::Tensor x = t(CHORUS_DTYPE_F32, {4, 5});
  const chorus::Tensor ix = t(CHORUS_DTYPE_I64, {4, 3});
  const chorus::Buffer o = f.device.buffer(4096);
  const chorus::Tensor out2(o, CHORUS_DTYPE_F32, {4, 3});
  const auto q = f.queue.get();
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"gather", "rank"}, [&] {
    const chorus::Tensor ix1 = t(CHORUS_DTYPE_I64, {12});
    return chorus_gather(q, &x, 1, &ix1, &out2);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"axis"},
                 [&] { return chorus_gather(q, &x, 2, &ix, &out2); });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"index", "x"}, [&] {
    const chorus::Tensor big = t(CHORUS_DTYPE_I64, {5, 3});
    const chorus::Tensor big_out(o, CHORUS_DTYPE_F32, {5, 3});
    return chorus_gather(q, &x, 1, &big, &big_out);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"out"}, [&] {
    const chorus::Tensor wrong(o, CHORUS_DTYPE_F32, {4, 2});
    return chorus_gather(q, &x, 1, &ix, &wrong);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"index"}, [&] {
    const chorus::Tensor fidx = t(CHORUS_DTYPE_F32, {4, 3});
    return chorus_gather(q, &x, 1, &fidx, &out2);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"out"}, [&] {
    const chorus::Tensor wrong(o, CHORUS_DTYPE_F64, {4, 3});
    return chorus_gather(q, &x, 1, &ix, &wrong);
  });
  // scatter_add: src shorter than index, out overlapping src.
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"index", "src"}, [&] {
    const chorus::Tensor small(o, CHORUS_DTYPE_F32, {4, 2});
    return chorus_scatter_add(q, &ix, 1, &small, &x);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"out"}, [&] {
    const chorus::Tensor src = t(CHORUS_DTYPE_F32, {4, 3});
    return chorus_scatter_add(q, &ix, 1, &src, &x);  // one buffer: out overlaps src
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"src", "u8"}, [&] {
    const chorus::Tensor u8(o, CHORUS_DTYPE_U8, {4, 5});
    const chorus::Tensor src = t(CHORUS_DTYPE_U8, {4, 3});
    return chorus_scatter_add(q, &ix, 1, &src, &u8);
  });
  // embedding: table not [V, D], out of the wrong shape, index rank 8.
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"table", "[V, D]"}, [&] {
    const chorus::Tensor t3 = t(CHORUS_DTYPE_F32, {2, 2, 5});
    const chorus::Tensor e_out(o, CHORUS_DTYPE_F32, {4, 3, 5});
    return chorus_embedding(q, &t3, &ix, &e_out);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"out", "[4,3,5]"}, [&] {
    const chorus::Tensor e_out(o, CHORUS_DTYPE_F32, {4, 3, 4});
    return chorus_embedding(q, &x, &ix, &e_out);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"index", "rank"}, [&] {
    const chorus::Tensor i8 = t(CHORUS_DTYPE_I64, {1, 1, 1, 1, 1, 1, 1, 1});
    const chorus::Tensor e_out(o, CHORUS_DTYPE_F32, {1, 1, 1, 1, 1, 1, 1, 1});
    return chorus_embedding(q, &x, &i8, &e_out);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dy"}, [&] {
    const chorus::Tensor dy(o, CHORUS_DTYPE_F32, {4, 3, 6});
    const chorus::Buffer g = f.device.buffer(4096);
    const chorus::Tensor dtable(g, CHORUS_DTYPE_F32, {4, 5});
    return chorus_embedding_backward(q, &ix, &dy, &dtable);
  });
  expect_failure(CHORUS_ERROR_INVALID_ARGUMENT, {"dtable"}, [&] {
    const chorus::Tensor dy(o, CHORUS_DTYPE_F32, {4, 3, 5});
    const chorus::Buffer g = f.device.buffer(4096);
    const chorus::Tensor dtable(g, CHORUS_DTYPE_I32, {4, 5});
    return chorus_embedding_backward(q, &ix, &dy, &dtable);
  });
}
