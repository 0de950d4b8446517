// kernel_cache.hpp — the on-disk cache of compiled kernels that the OpenCL,
// CUDA and HIP plugins share (ARCHITECTURE.md §5).
//
// A key is the SHA-256 of every input that decides the compiled bits
// (source, prelude, definitions, compiler and driver versions, device,
// chorus version), each input length-prefixed so that no two different lists
// of inputs hash alike. An entry is <dir>/kernels-v1/<key>.chorusbin: a fixed
// header (magic, format version, key, payload length, payload SHA-256) and
// the payload. Entries are written to a unique temporary file in the same
// folder and renamed into place, so a reader sees a whole entry or none, and
// two processes storing the same key both succeed. A truncated or corrupt
// entry fails its checks on load, is reported as rejected and removed, and
// the caller recompiles.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace chorus::backend_common {

// Builds a cache key from an ordered list of inputs.
class CacheKey {
 public:
  // Adds one named input; names keep keys readable in a debugger and make
  // the order of inputs part of the key.
  CacheKey& add(std::string_view name, std::string_view value);
  // The 64-character lowercase hex digest.
  std::string hex() const;

 private:
  std::string material_;
};

class KernelCache {
 public:
  enum class Lookup { hit, miss, rejected };

  // folder: the cache root (host->cache_dir); entries go to folder/kernels-v1.
  // An empty folder disables the cache: every load misses, stores do nothing.
  explicit KernelCache(std::string folder);

  bool enabled() const { return !folder_.empty(); }
  const std::string& folder() const { return folder_; }
  std::string entry_path(const std::string& key_hex) const;

  // hit: *payload holds the entry. rejected: the entry existed but failed a
  // check (*why says which); it has been removed.
  Lookup load(const std::string& key_hex, std::vector<uint8_t>* payload, std::string* why) const;
  // false (with *why) when the entry could not be written; the cache is an
  // optimisation, so callers log this and carry on.
  bool store(const std::string& key_hex, const std::vector<uint8_t>& payload,
             std::string* why) const;

  static constexpr uint32_t kFormatVersion = 1;

 private:
  std::string folder_;  // .../kernels-v1, or empty when disabled
};

}  // namespace chorus::backend_common
