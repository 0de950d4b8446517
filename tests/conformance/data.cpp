// data.cpp — host tensors, the seeded generator and the facts about each
// dtype that the harness and the bounds need.
#include <cmath>
#include <cstring>
#include <limits>

#include "common/numeric.hpp"
#include "detail.hpp"

namespace chorus::conformance::detail {

uint64_t fnv1a(std::string_view text) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (const char c : text) {
    h ^= static_cast<unsigned char>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

namespace {
uint64_t splitmix64(uint64_t& state) {
  uint64_t z = (state += 0x9e3779b97f4a7c15ull);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
  return z ^ (z >> 31);
}
uint64_t rotl(uint64_t x, int k) {
  return (x << k) | (x >> (64 - k));
}
}  // namespace

Rng::Rng(uint64_t seed) {
  for (uint64_t& s : s_) s = splitmix64(seed);
}

uint64_t Rng::next() {
  const uint64_t result = rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = rotl(s_[3], 45);
  return result;
}

double Rng::uniform() {
  return static_cast<double>(next() >> 11) * 0x1.0p-53;
}
double Rng::uniform(double lo, double hi) {
  return lo + (hi - lo) * uniform();
}

int64_t Rng::integer(int64_t lo, int64_t hi) {
  const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo) + 1;
  if (span == 0) return static_cast<int64_t>(next());  // the whole 64-bit range
  return static_cast<int64_t>(static_cast<uint64_t>(lo) + next() % span);
}

double Rng::normal() {
  // Box-Muller; 1 - uniform() is in (0, 1], so the log is finite.
  const double r = std::sqrt(-2.0 * std::log(1.0 - uniform()));
  return r * std::cos(2.0 * 3.14159265358979323846 * uniform());
}

bool Rng::chance(double p) {
  return uniform() < p;
}

// -------------------------------------------------------------- tensors

int64_t numel(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (const int64_t s : shape) n *= s;
  return n;
}

std::vector<int64_t> contiguous_strides(const std::vector<int64_t>& shape) {
  std::vector<int64_t> strides(shape.size());
  int64_t stride = 1;
  for (size_t i = shape.size(); i-- > 0;) {
    strides[i] = stride;
    stride *= shape[i] > 0 ? shape[i] : 1;
  }
  return strides;
}

std::string shape_text(const std::vector<int64_t>& shape) {
  std::string s = "[";
  for (size_t i = 0; i < shape.size(); ++i) s += (i ? "," : "") + std::to_string(shape[i]);
  return s + "]";
}

std::string dtype_text(chorus_dtype dtype) { return numeric::dtype_name(dtype); }

HostTensor::HostTensor(chorus_dtype d, std::vector<int64_t> s) : dtype(d), shape(std::move(s)) {
  bytes.assign(static_cast<size_t>(detail::numel(shape)) * chorus_dtype_size(dtype), 0);
}

HostTensor HostTensor::absent() {
  HostTensor t;
  t.present = false;
  return t;
}

int64_t HostTensor::numel() const {
  return detail::numel(shape);
}
size_t HostTensor::element_size() const {
  return chorus_dtype_size(dtype);
}
long double HostTensor::get(int64_t i) const {
  return numeric::load(bytes.data(), dtype, i);
}
void HostTensor::set(int64_t i, long double v) {
  numeric::store(bytes.data(), dtype, i, v);
}

uint64_t HostTensor::bits(int64_t i) const {
  uint64_t b = 0;
  const size_t size = element_size();
  std::memcpy(&b, bytes.data() + static_cast<size_t>(i) * size, size);  // little-endian host
  return b;
}

void HostTensor::set_bits(int64_t i, uint64_t b) {
  const size_t size = element_size();
  std::memcpy(bytes.data() + static_cast<size_t>(i) * size, &b, size);
}

HostTensor converted(const HostTensor& t, chorus_dtype dtype) {
  if (!t.present || t.dtype == dtype) return t;
  HostTensor out(dtype, t.shape);
  for (int64_t i = 0; i < t.numel(); ++i) out.set(i, t.get(i));
  return out;
}

// ----------------------------------------------------------- dtype facts

bool is_float(chorus_dtype d) {
  return numeric::is_float(d);
}
bool is_16bit_float(chorus_dtype d) {
  return d == CHORUS_DTYPE_F16 || d == CHORUS_DTYPE_BF16;
}

double max_finite(chorus_dtype d) {
  switch (d) {
    case CHORUS_DTYPE_F32:
      return std::numeric_limits<float>::max();
    case CHORUS_DTYPE_F16:
      return 65504.0;
    case CHORUS_DTYPE_BF16:
      return 0x1.fep127;
    case CHORUS_DTYPE_F64:
      return std::numeric_limits<double>::max();
    default:
      return 0;
  }
}

double min_normal(chorus_dtype d) {
  switch (d) {
    case CHORUS_DTYPE_F32:
      return 0x1p-126;
    case CHORUS_DTYPE_F16:
      return 0x1p-14;
    case CHORUS_DTYPE_BF16:
      return 0x1p-126;
    case CHORUS_DTYPE_F64:
      return 0x1p-1022;
    default:
      return 0;
  }
}

double min_subnormal(chorus_dtype d) {
  return numeric::ulp(d, 0.0);
}

double overflow_threshold(chorus_dtype d) {
  if (d == CHORUS_DTYPE_F64) return std::numeric_limits<double>::infinity();
  return max_finite(d) + 0.5 * numeric::ulp(d, max_finite(d));
}

int significand_digits(chorus_dtype d) {
  switch (d) {
    case CHORUS_DTYPE_F32:
      return 24;
    case CHORUS_DTYPE_F16:
      return 11;
    case CHORUS_DTYPE_BF16:
      return 8;
    case CHORUS_DTYPE_F64:
      return 53;
    default:
      return 0;
  }
}

int64_t int_min(chorus_dtype d) {
  switch (d) {
    case CHORUS_DTYPE_I32:
      return std::numeric_limits<int32_t>::min();
    case CHORUS_DTYPE_I64:
      return std::numeric_limits<int64_t>::min();
    default:
      return 0;
  }
}

int64_t int_max(chorus_dtype d) {
  switch (d) {
    case CHORUS_DTYPE_I32:
      return std::numeric_limits<int32_t>::max();
    case CHORUS_DTYPE_I64:
      return std::numeric_limits<int64_t>::max();
    case CHORUS_DTYPE_U8:
      return 255;
    default:
      return 0;
  }
}

}  // namespace chorus::conformance::detail
