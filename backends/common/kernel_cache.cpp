// kernel_cache.cpp — see kernel_cache.hpp. Plain POSIX file calls: open with
// O_EXCL for the temporary file, write, close, rename(2). No locks are
// needed: rename is atomic, and every writer of one key writes the same
// bytes (or, after a driver update, a different key).
#include "kernel_cache.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <random>

#include "sha256.hpp"

namespace chorus::backend_common {
namespace {

constexpr char kMagic[8] = {'C', 'H', 'O', 'R', 'U', 'S', 'K', 'C'};
constexpr size_t kKeySize = 64;
// magic, version, reserved, key (hex), payload length, payload digest
constexpr size_t kHeaderSize = 8 + 4 + 4 + kKeySize + 8 + 32;

void put_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put_u64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
uint32_t get_u32(const uint8_t* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= uint32_t(p[i]) << (8 * i);
  return v;
}
uint64_t get_u64(const uint8_t* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= uint64_t(p[i]) << (8 * i);
  return v;
}

bool make_folder(const std::string& path, std::string* why) {
  // Creates each missing component; an existing folder is fine (another
  // process may be creating it right now).
  for (size_t pos = 1; pos <= path.size(); ++pos) {
    if (pos != path.size() && path[pos] != '/') continue;
    const std::string part = path.substr(0, pos);
    if (mkdir(part.c_str(), 0755) != 0 && errno != EEXIST) {
      *why = "cannot create " + part + ": " + std::strerror(errno);
      return false;
    }
  }
  return true;
}

bool write_all(int fd, const uint8_t* p, size_t size) {
  while (size > 0) {
    const ssize_t n = ::write(fd, p, size);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    p += n;
    size -= static_cast<size_t>(n);
  }
  return true;
}

// A name no other process or thread picks: pid, a per-process counter and
// random bits (pids repeat across containers sharing a cache folder).
std::string temporary_name(const std::string& folder, const std::string& key_hex) {
  static std::atomic<uint64_t> counter{0};
  thread_local std::mt19937_64 random{
      std::random_device{}() ^
      static_cast<uint64_t>(std::chrono::steady_clock::now().time_since_epoch().count())};
  return folder + "/." + key_hex.substr(0, 16) + "." + std::to_string(getpid()) + "." +
         std::to_string(counter.fetch_add(1)) + "." + std::to_string(random() % 1000000007) +
         ".tmp";
}

}  // namespace

CacheKey& CacheKey::add(std::string_view name, std::string_view value) {
  uint8_t length[8];
  put_u64(length, name.size());
  material_.append(reinterpret_cast<const char*>(length), 8);
  material_.append(name);
  put_u64(length, value.size());
  material_.append(reinterpret_cast<const char*>(length), 8);
  material_.append(value);
  return *this;
}

std::string CacheKey::hex() const {
  return Sha256::hex(Sha256::of(material_.data(), material_.size()));
}

KernelCache::KernelCache(std::string folder)
    : folder_(folder.empty() ? std::string() : folder + "/kernels-v1") {}

std::string KernelCache::entry_path(const std::string& key_hex) const {
  return folder_ + "/" + key_hex + ".chorusbin";
}

KernelCache::Lookup KernelCache::load(const std::string& key_hex, std::vector<uint8_t>* payload,
                                      std::string* why) const {
  if (!enabled() || key_hex.size() != kKeySize) return Lookup::miss;
  const std::string path = entry_path(key_hex);
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Lookup::miss;
  std::vector<uint8_t> bytes;
  uint8_t chunk[65536];
  for (;;) {
    const ssize_t n = ::read(fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) break;
    bytes.insert(bytes.end(), chunk, chunk + n);
  }
  ::close(fd);

  const auto reject = [&](const std::string& reason) {
    *why = path + ": " + reason;
    // Remove it so the next process does not trip over it too; a concurrent
    // writer may already have replaced it with a good entry, and unlinking
    // that costs one recompile, never a wrong kernel.
    ::unlink(path.c_str());
    return Lookup::rejected;
  };
  if (bytes.size() < kHeaderSize) return reject("truncated header");
  if (std::memcmp(bytes.data(), kMagic, sizeof kMagic) != 0) return reject("bad magic");
  const uint8_t* h = bytes.data();
  if (get_u32(h + 8) != kFormatVersion) return reject("unknown format version");
  if (std::memcmp(h + 16, key_hex.data(), kKeySize) != 0) return reject("entry holds another key");
  const uint64_t length = get_u64(h + 16 + kKeySize);
  if (length != bytes.size() - kHeaderSize)
    return reject("payload is " + std::to_string(bytes.size() - kHeaderSize) +
                  " bytes, header says " + std::to_string(length));
  const Sha256::Digest digest = Sha256::of(bytes.data() + kHeaderSize, length);
  if (std::memcmp(digest.data(), h + 16 + kKeySize + 8, digest.size()) != 0)
    return reject("payload checksum mismatch");
  payload->assign(bytes.begin() + kHeaderSize, bytes.end());
  return Lookup::hit;
}

bool KernelCache::store(const std::string& key_hex, const std::vector<uint8_t>& payload,
                        std::string* why) const {
  if (!enabled()) return true;
  if (key_hex.size() != kKeySize) {
    *why = "cache key is not a SHA-256 hex digest";
    return false;
  }
  if (!make_folder(folder_, why)) return false;
  uint8_t header[kHeaderSize] = {};
  std::memcpy(header, kMagic, sizeof kMagic);
  put_u32(header + 8, kFormatVersion);
  std::memcpy(header + 16, key_hex.data(), kKeySize);
  put_u64(header + 16 + kKeySize, payload.size());
  const Sha256::Digest digest = Sha256::of(payload.data(), payload.size());
  std::memcpy(header + 16 + kKeySize + 8, digest.data(), digest.size());

  const std::string temporary = temporary_name(folder_, key_hex);
  const int fd = ::open(temporary.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
  if (fd < 0) {
    *why = "cannot create " + temporary + ": " + std::strerror(errno);
    return false;
  }
  const bool written =
      write_all(fd, header, sizeof header) && write_all(fd, payload.data(), payload.size());
  const int saved_errno = errno;
  if (::close(fd) != 0 || !written) {
    *why = "cannot write " + temporary + ": " + std::strerror(written ? errno : saved_errno);
    ::unlink(temporary.c_str());
    return false;
  }
  if (::rename(temporary.c_str(), entry_path(key_hex).c_str()) != 0) {
    *why = "cannot rename " + temporary + " into place: " + std::strerror(errno);
    ::unlink(temporary.c_str());
    return false;
  }
  return true;
}

}  // namespace chorus::backend_common
