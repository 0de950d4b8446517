// sha256.hpp — a small, dependency-free SHA-256 (FIPS 180-4) for the kernel
// cache: cache keys are digests of everything that decides a compiled
// kernel's bits, and every cache entry carries the digest of its payload so
// a truncated or corrupted file is detected instead of trusted.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace chorus::backend_common {

class Sha256 {
 public:
  using Digest = std::array<uint8_t, 32>;

  Sha256();
  void update(const void* data, size_t size);
  void update(std::string_view text) { update(text.data(), text.size()); }
  // Ends the message; the object must not be updated afterwards.
  Digest finish();

  static Digest of(const void* data, size_t size);
  static std::string hex(const Digest& digest);

 private:
  void block(const uint8_t* p);
  uint32_t state_[8];
  uint8_t buffer_[64];
  size_t buffered_ = 0;
  uint64_t total_bytes_ = 0;
};

}  // namespace chorus::backend_common
