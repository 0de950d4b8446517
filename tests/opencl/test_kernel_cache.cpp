// test_kernel_cache.cpp — unit tests of backends/common's kernel cache and
// its SHA-256: known digests, key construction, the entry round trip, and
// the two properties ARCHITECTURE.md §5 asks for: a truncated or corrupted
// entry is detected (and removed) rather than trusted, and several
// processes storing the same key at once into an empty cache all succeed,
// leaving a valid entry.
#define CATCH_CONFIG_MAIN
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "kernel_cache.hpp"
#include "sha256.hpp"

namespace fs = std::filesystem;
using chorus::backend_common::CacheKey;
using chorus::backend_common::KernelCache;
using chorus::backend_common::Sha256;

namespace {

// A fresh, empty folder per test.
std::string empty_folder(const char* name) {
  const fs::path p =
      fs::temp_directory_path() / ("chorus-cache-test-" + std::to_string(getpid()) + "-" + name);
  fs::remove_all(p);
  fs::create_directories(p);
  return p.string();
}

std::vector<uint8_t> payload_of(size_t size, uint8_t seed) {
  std::vector<uint8_t> p(size);
  for (size_t i = 0; i < size; ++i) p[i] = static_cast<uint8_t>(seed + i * 31);
  return p;
}

std::string key_of(const char* source) {
  return CacheKey().add("source", source).hex();
}

}  // namespace

TEST_CASE("sha256 gives the FIPS 180-4 digests", "[sha256]") {
  CHECK(Sha256::hex(Sha256::of("", 0)) ==
        "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  CHECK(Sha256::hex(Sha256::of("abc", 3)) ==
        "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  const std::string two_blocks = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
  CHECK(Sha256::hex(Sha256::of(two_blocks.data(), two_blocks.size())) ==
        "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
  // Fed in pieces, the digest is the same.
  const std::string million(1000000, 'a');
  Sha256 h;
  for (size_t at = 0; at < million.size(); at += 777)
    h.update(million.data() + at, std::min<size_t>(777, million.size() - at));
  CHECK(Sha256::hex(h.finish()) ==
        "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0");
}

TEST_CASE("a cache key changes with every input and with how inputs are split", "[key]") {
  const std::string base = CacheKey().add("source", "k").add("options", "-DX=1").hex();
  CHECK(base.size() == 64);
  CHECK(base == CacheKey().add("source", "k").add("options", "-DX=1").hex());
  CHECK(base != CacheKey().add("source", "k").add("options", "-DX=2").hex());
  CHECK(base != CacheKey().add("source", "k ").add("options", "-DX=1").hex());
  CHECK(base != CacheKey().add("options", "-DX=1").add("source", "k").hex());
  // Length prefixes: moving a character between inputs is a different key.
  CHECK(CacheKey().add("a", "xy").add("b", "z").hex() !=
        CacheKey().add("a", "x").add("b", "yz").hex());
}

TEST_CASE("a stored entry loads back byte for byte", "[cache]") {
  KernelCache cache(empty_folder("roundtrip"));
  const std::string key = key_of("roundtrip");
  std::vector<uint8_t> got;
  std::string why;
  CHECK(cache.load(key, &got, &why) == KernelCache::Lookup::miss);
  const std::vector<uint8_t> payload = payload_of(100000, 7);
  REQUIRE(cache.store(key, payload, &why));
  REQUIRE(cache.load(key, &got, &why) == KernelCache::Lookup::hit);
  CHECK(got == payload);
  CHECK(fs::path(cache.entry_path(key)).filename() == key + ".chorusbin");
  CHECK(fs::path(cache.entry_path(key)).parent_path().filename() == "kernels-v1");
  // No temporary file is left behind.
  size_t files = 0;
  for (const auto& e : fs::directory_iterator(fs::path(cache.entry_path(key)).parent_path())) {
    ++files;
    CHECK(e.path().extension() == ".chorusbin");
  }
  CHECK(files == 1);
}

TEST_CASE("a truncated entry is rejected, removed and can be rebuilt", "[cache]") {
  KernelCache cache(empty_folder("truncated"));
  const std::string key = key_of("truncated");
  std::string why;
  const std::vector<uint8_t> payload = payload_of(5000, 3);
  REQUIRE(cache.store(key, payload, &why));
  const std::string path = cache.entry_path(key);
  for (uintmax_t keep : {uintmax_t{0}, uintmax_t{10}, fs::file_size(path) - 1}) {
    REQUIRE(cache.store(key, payload, &why));
    fs::resize_file(path, keep);
    std::vector<uint8_t> got;
    CHECK(cache.load(key, &got, &why) == KernelCache::Lookup::rejected);
    CHECK_FALSE(why.empty());
    CHECK_FALSE(fs::exists(path));
  }
  // The caller recompiles and stores again: the next load is a hit.
  REQUIRE(cache.store(key, payload, &why));
  std::vector<uint8_t> got;
  CHECK(cache.load(key, &got, &why) == KernelCache::Lookup::hit);
  CHECK(got == payload);
}

TEST_CASE("a corrupted byte anywhere in an entry is detected", "[cache]") {
  KernelCache cache(empty_folder("corrupt"));
  const std::string key = key_of("corrupt");
  std::string why;
  const std::vector<uint8_t> payload = payload_of(4096, 9);
  REQUIRE(cache.store(key, payload, &why));
  const std::string path = cache.entry_path(key);
  const auto size = static_cast<long>(fs::file_size(path));
  // Magic, version, key, length, digest and three places in the payload.
  for (long at : {0L, 9L, 20L, 90L, 100L, 130L, size / 2, size - 1}) {
    REQUIRE(cache.store(key, payload, &why));
    {
      std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
      f.seekg(at);
      const char c = static_cast<char>(f.get());
      f.seekp(at);
      f.put(static_cast<char>(c ^ 0x5a));
    }
    std::vector<uint8_t> got;
    INFO("byte " << at << " of " << size);
    CHECK(cache.load(key, &got, &why) == KernelCache::Lookup::rejected);
  }
  // An intact entry under another key's name is rejected too.
  REQUIRE(cache.store(key, payload, &why));
  const std::string other = key_of("other");
  fs::rename(path, cache.entry_path(other));
  std::vector<uint8_t> got;
  CHECK(cache.load(other, &got, &why) == KernelCache::Lookup::rejected);
}

TEST_CASE("processes storing one key at once into an empty cache all succeed",
          "[cache][processes]") {
  // Rounds of 4 processes that wait on one pipe, then store the same key into
  // a folder that does not exist yet (so they also race on creating it).
  for (int round = 0; round < 20; ++round) {
    const std::string root =
        empty_folder(("race" + std::to_string(round)).c_str()) + "/nested/cache";
    const std::string key = key_of("race");
    const std::vector<uint8_t> payload = payload_of(200000, static_cast<uint8_t>(round));
    int go[2];
    REQUIRE(pipe(go) == 0);
    std::vector<pid_t> children;
    for (int c = 0; c < 4; ++c) {
      const pid_t pid = fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        close(go[1]);
        char byte;
        if (read(go[0], &byte, 1) < 0) _exit(3);  // returns 0 at EOF: everyone starts together
        KernelCache cache(root);
        std::string why;
        if (!cache.store(key, payload, &why)) {
          std::fprintf(stderr, "child store failed: %s\n", why.c_str());
          _exit(1);
        }
        std::vector<uint8_t> got;
        _exit(cache.load(key, &got, &why) == KernelCache::Lookup::hit && got == payload ? 0 : 2);
      }
      children.push_back(pid);
    }
    close(go[0]);
    close(go[1]);
    for (pid_t pid : children) {
      int status = 0;
      REQUIRE(waitpid(pid, &status, 0) == pid);
      CHECK(WIFEXITED(status));
      CHECK(WEXITSTATUS(status) == 0);
    }
    KernelCache cache(root);
    std::vector<uint8_t> got;
    std::string why;
    REQUIRE(cache.load(key, &got, &why) == KernelCache::Lookup::hit);
    CHECK(got == payload);
  }
}

TEST_CASE("a cache without a folder misses and stores nothing", "[cache]") {
  KernelCache cache("");
  CHECK_FALSE(cache.enabled());
  std::vector<uint8_t> got;
  std::string why;
  CHECK(cache.store(key_of("x"), payload_of(10, 1), &why));
  CHECK(cache.load(key_of("x"), &got, &why) == KernelCache::Lookup::miss);
}
