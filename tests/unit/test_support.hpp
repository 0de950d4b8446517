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

}  // namespace chorus_test
