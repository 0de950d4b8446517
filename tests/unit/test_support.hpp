// test_support.hpp — helpers the unit tests share.
#pragma once

#include <catch2/catch.hpp>
#include <chorus/chorus.hpp>

#include <cstdint>
#include <initializer_list>
#include <string>
#include <vector>

namespace chorus_test {

// Calls f, expects `status`, and that the message contains every fragment.
template <typename F>
void expect_failure(chorus_status status, std::initializer_list<const char*> fragments, F&& f) {
  const chorus_status got = f();
  CHECK(got == status);
  const std::string message = chorus_last_error_message();
  INFO("message: " << message);
  for (const char* fragment : fragments) CHECK(message.find(fragment) != std::string::npos);
}

// Whether a test that runs "on every device" takes this one: usable, with
// `dtype`, and not one of the test-only plugins (the ABI fixtures oldabi and
// badabi, the fault-planting testdouble).
inline bool every_device_takes(const chorus_device_info& info, chorus_dtype dtype) {
  const std::string backend = info.backend;
  return info.usable && backend != "oldabi" && backend != "badabi" && backend != "testdouble" &&
         (info.dtype_mask & (1u << dtype)) != 0;
}

// Calls body(device, queue) on each usable device that takes f32 (the test
// plugins left out, as every_device_takes says); how many it ran on. A
// Catch INFO names the device for any failure inside.
template <typename Body>
int on_every_device(Body&& body) {
  chorus::Context ctx;
  int tested = 0;
  for (const auto& info : ctx.devices()) {
    if (!every_device_takes(info, CHORUS_DTYPE_F32)) continue;
    INFO("device " << info.name);
    chorus::Device device = ctx.open(info.name);
    chorus::Queue q = device.queue();
    body(device, q);
    ++tested;
  }
  return tested;
}

// A context, one device (reference:0 unless named) and a queue on it.
struct DeviceFixture {
  chorus::Context ctx;
  chorus::Device device;
  chorus::Queue queue;
  explicit DeviceFixture(const std::string& name = "reference:0")
      : device(ctx.open(name)), queue(device.queue()) {}
};

// A view as a C caller writes it, with no checks of its own.
inline chorus_tensor raw_view(chorus_buffer buffer, chorus_dtype dtype, std::vector<int64_t> shape,
                              std::vector<int64_t> strides, int64_t offset = 0) {
  chorus_tensor t{};
  t.buffer = buffer;
  t.dtype = dtype;
  t.rank = static_cast<uint32_t>(shape.size());
  for (size_t i = 0; i < shape.size(); ++i) {
    t.shape[i] = shape[i];
    t.strides[i] = strides[i];
  }
  t.offset = offset;
  return t;
}

// The caller's shape of a logical [a, b, c, d] (NCHW order) image tensor of
// conv2d or pool2d: NHWC puts the channel axis last, 1-D drops the H axis.
inline std::vector<int64_t> image_shape(bool nhwc, bool one_d, int64_t a, int64_t b, int64_t c,
                                        int64_t d) {
  std::vector<int64_t> s =
      nhwc ? std::vector<int64_t>{a, c, d, b} : std::vector<int64_t>{a, b, c, d};
  if (one_d) s.erase(s.begin() + (nhwc ? 1 : 2));
  return s;
}

// Elements of a shape.
inline size_t count(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (const int64_t s : shape) n *= s;
  return static_cast<size_t>(n);
}

// Host vectors of doubles to and from device buffers holding T (float or
// double): what the op tests' runners upload and read back.
template <typename T>
struct TypedIo {
  const chorus::Device& device;
  const chorus::Queue& queue;

  static chorus_dtype dtype() {
    return sizeof(T) == sizeof(double) ? CHORUS_DTYPE_F64 : CHORUS_DTYPE_F32;
  }
  chorus::Buffer upload(const std::vector<double>& v) const {
    chorus::Buffer b = device.buffer(v.size() * sizeof(T) > 8 ? v.size() * sizeof(T) : 8);
    if (!v.empty()) {
      const std::vector<T> t(v.begin(), v.end());
      queue.write<T>(b, t);
    }
    return b;
  }
  std::vector<double> download(const chorus::Buffer& b, size_t n) const {
    std::vector<T> t(n);
    if (n) queue.read<T>(b, t);
    return std::vector<double>(t.begin(), t.end());
  }
};

}  // namespace chorus_test
