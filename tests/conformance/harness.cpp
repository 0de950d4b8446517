// harness.cpp — how one case runs. The device under test gets the real views
// (permuted, padded, broadcast, offset) inside buffers with guard regions and
// a poisoned output; reference:0 gets every input's logical values as fresh
// contiguous tensors, so even a run on reference:0 checks its strided paths
// against its contiguous ones. The case runs twice on the device with two
// different poisons (an element the device never writes keeps a poison and
// cannot match the oracle both times); the second run has every operand
// moved 1-3 elements into new buffers, served by the plan the first run made
// (libchorus binds buffers and offsets at execution). In both runs every
// byte outside the output view is checked untouched, and each element is
// judged against its bound. Right after the first run the harness asks the
// queue which path ran (native, composite, none).
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <limits>
#include <stdexcept>

#include "common/numeric.hpp"
#include "detail.hpp"

namespace chorus::conformance::detail {
namespace {

// At least 256 bytes of guard before and after every view: an off-by-a-row
// write of a small tensor lands in it rather than in someone else's memory.
constexpr int64_t kGuardBytes = 256;
constexpr unsigned char kOutputPoison[2] = {0xA5, 0x5A};

std::string last_error() {
  const char* m = chorus_last_error_message();
  return m && *m ? m : "(no message)";
}

std::string status_text(chorus_status s) {
  const char* name = chorus_status_name(s);
  return name ? name : std::to_string(static_cast<int>(s));
}

class Buffer {
 public:
  Buffer() = default;
  Buffer(const Buffer&) = delete;
  Buffer& operator=(const Buffer&) = delete;
  Buffer(Buffer&& other) noexcept : handle_(other.handle_) { other.handle_ = nullptr; }
  Buffer& operator=(Buffer&& other) noexcept {
    std::swap(handle_, other.handle_);
    return *this;
  }
  ~Buffer() {
    if (handle_) chorus_buffer_destroy(handle_);
  }
  chorus_status create(chorus_device device, uint64_t bytes) {
    return chorus_buffer_create(device, bytes, &handle_);
  }
  chorus_buffer get() const { return handle_; }

 private:
  chorus_buffer handle_ = nullptr;
};

chorus_tensor make_view(chorus_buffer buffer, chorus_dtype dtype, const std::vector<int64_t>& shape,
                        const std::vector<int64_t>& strides, int64_t offset) {
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

// Element index in the buffer of each logical element, row-major.
std::vector<int64_t> element_positions(const std::vector<int64_t>& shape,
                                       const std::vector<int64_t>& strides, int64_t offset) {
  const int64_t n = numel(shape);
  std::vector<int64_t> positions;
  if (n <= 0) return positions;
  positions.resize(static_cast<size_t>(n));
  std::vector<int64_t> index(shape.size(), 0);
  int64_t at = offset;
  for (int64_t i = 0; i < n; ++i) {
    positions[static_cast<size_t>(i)] = at;
    for (size_t k = shape.size(); k-- > 0;) {
      if (++index[k] < shape[k]) {
        at += strides[k];
        break;
      }
      at -= (shape[k] - 1) * strides[k];
      index[k] = 0;
    }
  }
  return positions;
}

// Bits that fill an input buffer outside its view: a NaN for floats (a read
// of padding or guard then poisons the result), 0xA5 bytes for integers.
uint64_t input_poison_bits(chorus_dtype d) {
  switch (d) {
    case CHORUS_DTYPE_F32:
      return 0x7FC5A5A5u;
    case CHORUS_DTYPE_F64:
      return 0x7FF8A5A5A5A5A5A5ull;
    case CHORUS_DTYPE_F16:
      return 0x7E5Au;
    case CHORUS_DTYPE_BF16:
      return 0x7FC5u;
    default:
      return 0xA5A5A5A5A5A5A5A5ull;
  }
}

// One buffer of the device under test and what it must hold after the op.
struct Placement {
  std::vector<int64_t> strides;  // the view's
  int64_t offset = 0;            // the view's first element (front guard + extra)
  int64_t extent_bytes = 0;      // bytes between the guards
  int64_t bytes = 0;             // whole buffer
  std::vector<int64_t> positions;
  std::vector<unsigned char> initial;  // contents before the op (inputs materialised)
  Buffer buffer;
};

std::string mismatch_line(const std::vector<int64_t>& shape, int64_t flat, long double e,
                          long double g, double bound, chorus_dtype out) {
  std::string index = "[";
  int64_t rest = flat;
  std::vector<int64_t> idx(shape.size());
  for (size_t k = shape.size(); k-- > 0;) {
    idx[k] = shape[k] ? rest % shape[k] : 0;
    rest = shape[k] ? rest / shape[k] : 0;
  }
  for (size_t k = 0; k < idx.size(); ++k) index += (k ? "," : "") + std::to_string(idx[k]);
  index += "]";
  char line[512];
  const long double err = std::fabs(g - e);
  if (is_float(out)) {
    const long double rel = e != 0 ? err / std::fabs(e) : err;
    const double u = numeric::ulp(out, static_cast<double>(e));
    std::snprintf(line, sizeof line,
                  "  %s (element %" PRId64
                  "): expected %.17Lg got %.17Lg abs_err %.3Lg rel_err %.3Lg "
                  "ulp %.3Lg bound %.3g\n",
                  index.c_str(), flat, e, g, err, rel, err / u, bound);
  } else {
    std::snprintf(line, sizeof line, "  %s (element %" PRId64 "): expected %.0Lf got %.0Lf\n",
                  index.c_str(), flat, e, g);
  }
  return line;
}

}  // namespace

// --------------------------------------------------------------- judging

Judgement judge(const HostTensor& expected, const HostTensor& got,
                const std::vector<double>* bounds, bool signed_zero, bool flush_to_zero) {
  Judgement j;
  const chorus_dtype out = got.dtype;
  const bool floating = is_float(out);
  const long double inf = std::numeric_limits<long double>::infinity();
  const long double threshold =
      out == CHORUS_DTYPE_F64
          ? inf
          : static_cast<long double>(max_finite(out)) +
                0.5L * static_cast<long double>(numeric::ulp(out, max_finite(out)));
  for (int64_t i = 0; i < got.numel(); ++i) {
    const long double e = expected.get(i);
    const long double g = got.get(i);
    const double bound = bounds ? (*bounds)[static_cast<size_t>(i)] : 0.0;
    bool ok;
    double ratio = 0;
    if (!floating) {
      ok = e == g;
    } else if (std::isnan(e) || std::isnan(g)) {
      ok = std::isnan(e) && std::isnan(g);  // NaN matches any NaN, and nothing else
    } else if (std::isinf(e)) {
      ok = g == e;  // infinities match exactly, sign included
    } else if (std::isinf(g)) {
      // A finite oracle, an infinite result: right only when a value within
      // the bound could round to that infinity.
      ok = bound > 0 && std::signbit(g) == std::signbit(e) && std::fabs(e) + bound >= threshold;
      if (ok) ratio = static_cast<double>(std::max(0.0L, threshold - std::fabs(e)) / bound);
    } else {
      const long double err = std::fabs(g - e);
      if (bound > 0) {
        ok = err <= bound;  // false for a NaN bound: a broken bound must not pass
        ratio = static_cast<double>(err / bound);
      } else {
        ok = err == 0 && (!signed_zero || std::signbit(g) == std::signbit(e));
      }
      // Flush-to-zero, where the queue declares it: a result the oracle has
      // below the normal range may come back as zero.
      if (!ok && flush_to_zero && g == 0 && std::fabs(e) < min_normal(out)) {
        ok = true;
        ratio = 0;
      }
    }
    if (!ok) {
      if (!(ratio > 1)) ratio = std::numeric_limits<double>::infinity();
      if (j.mismatches < 10) j.details += mismatch_line(got.shape, i, e, g, bound, out);
      ++j.mismatches;
      j.ok = false;
    }
    if (ratio > j.worst_ratio || std::isnan(ratio)) j.worst_ratio = ratio;
  }
  if (j.mismatches > 10)
    j.details += "  ... and " + std::to_string(j.mismatches - 10) + " more mismatches\n";
  return j;
}

std::string zero_heuristic(const HostTensor& expected, const HostTensor& got, bool flush_to_zero) {
  const int64_t n = got.numel();
  if (!is_float(got.dtype) || n < 16) return "";
  // Under declared flush-to-zero, a subnormal in the reference is a zero the
  // device may rightly return.
  const long double tiny = flush_to_zero ? min_normal(got.dtype) : 0;
  int64_t zeros_got = 0, zeros_expected = 0;
  for (int64_t i = 0; i < n; ++i) {
    if (got.get(i) == 0) ++zeros_got;
    const long double e = expected.get(i);
    if (e == 0 || std::fabs(e) < tiny) ++zeros_expected;
  }
  if (zeros_got * 10 > n * 3 && zeros_expected * 20 < n) {
    char text[256];
    std::snprintf(
        text, sizeof text,
        "untrustworthy result: %.1f%% of the elements are exactly zero where the reference "
        "has %.1f%%\n",
        100.0 * static_cast<double>(zeros_got) / static_cast<double>(n),
        100.0 * static_cast<double>(zeros_expected) / static_cast<double>(n));
    return text;
  }
  return "";
}

// ------------------------------------------------------------- the oracle

void ReferenceRunner::run(const OpCall& call, std::vector<HostTensor>& operands, size_t output,
                          bool read_output) {
  std::vector<Buffer> buffers(operands.size());
  std::vector<chorus_tensor> views(operands.size());
  std::vector<const chorus_tensor*> pointers(operands.size(), nullptr);
  for (size_t i = 0; i < operands.size(); ++i) {
    const HostTensor& t = operands[i];
    if (!t.present) continue;
    const uint64_t bytes = std::max<uint64_t>(t.bytes.size(), 8);
    if (const chorus_status s = buffers[i].create(device_, bytes); s != CHORUS_OK)
      throw std::runtime_error("reference:0 could not allocate " + std::to_string(bytes) +
                               " bytes: " + last_error());
    if ((i != output || read_output) && !t.bytes.empty())
      if (chorus_buffer_write(queue_, buffers[i].get(), 0, t.bytes.data(), t.bytes.size()) !=
          CHORUS_OK)
        throw std::runtime_error("reference:0 buffer write failed: " + last_error());
    views[i] = make_view(buffers[i].get(), t.dtype, t.shape, contiguous_strides(t.shape), 0);
    pointers[i] = &views[i];
  }
  chorus_status s = call(queue_, pointers);
  if (s == CHORUS_OK) s = chorus_queue_sync(queue_);
  if (s != CHORUS_OK)
    throw std::runtime_error("the oracle (reference:0) failed with " + status_text(s) + ": " +
                             last_error());
  HostTensor& out = operands[output];
  if (!out.bytes.empty() && chorus_buffer_read(queue_, buffers[output].get(), 0, out.bytes.data(),
                                               out.bytes.size()) != CHORUS_OK)
    throw std::runtime_error("reference:0 buffer read failed: " + last_error());
}

// -------------------------------------------------------------- one case

namespace {

// Run 2 moves every operand: operand i sits kRun2Shift[i % 3] elements
// further into a new buffer than in run 1. Plans depend on layouts only and
// libchorus binds buffers and offsets at execution, so the plain call's plan
// cache serves run 2 with the plan run 1 made: every case also checks that a
// prepared op runs right on other buffers at other offsets.
constexpr int64_t kRun2Shift[3] = {1, 2, 3};

int64_t run_shift(int run, size_t operand) {
  return run == 0 ? 0 : kRun2Shift[operand % 3];
}

std::string reproducer(const CaseEntry& entry, const CaseSpec& spec,
                       const std::vector<Placement> (&places)[2], uint64_t seed,
                       const std::string& device) {
  std::string r = "op=" + entry.op;
  if (!spec.call_text.empty()) r += " " + spec.call_text;
  r += " dtype=" + entry.dtype + " kind=" + entry.kind;
  for (size_t i = 0; i < spec.operands.size(); ++i) {
    const Operand& o = spec.operands[i];
    r += " " + o.role + "=";
    if (!o.value.present) {
      r += "NULL";
      continue;
    }
    r += dtype_text(o.value.dtype) + shape_text(o.value.shape);
    if (o.alias_of >= 0) {
      r += "(in place of " + spec.operands[static_cast<size_t>(o.alias_of)].role + ")";
      continue;
    }
    if (i < places[0].size()) {
      r += "strides" + shape_text(places[0][i].strides) + "+" + std::to_string(places[0][i].offset);
      if (i < places[1].size() && places[1][i].buffer.get())
        r += "(run2:+" + std::to_string(places[1][i].offset) + ")";
    }
  }
  char s[64];
  std::snprintf(s, sizeof s, " seed=0x%016" PRIx64, seed);
  return r + s + " device=" + device + " case=" + entry.name;
}

// Lays out every operand of spec on the device under test for one run, each
// `run_shift(run, i)` elements past where the case puts it: buffers with
// guards, inputs' values at their view's positions and poison everywhere
// else. Empty when fine, else why not (and *outcome).
std::string place_operands(CaseSpec& spec, const Device& dut, int run,
                           std::vector<Placement>& places, Outcome* outcome) {
  const size_t count = spec.operands.size();
  places.resize(count);
  for (size_t i = 0; i < count; ++i) {
    Operand& o = spec.operands[i];
    Placement& p = places[i];
    if (!o.value.present || o.alias_of >= 0) continue;
    const int64_t size = static_cast<int64_t>(o.value.element_size());
    p.strides = o.strides.empty() ? contiguous_strides(o.value.shape) : o.strides;
    if (p.strides.size() != o.value.shape.size()) {
      *outcome = Outcome::fail;
      return "suite bug: operand " + o.role + " has strides of the wrong rank";
    }
    int64_t extent = 0;  // elements the view spans
    if (o.value.numel() > 0) {
      extent = 1;
      for (size_t k = 0; k < p.strides.size(); ++k) extent += (o.value.shape[k] - 1) * p.strides[k];
    }
    const int64_t extra = o.extra_offset + run_shift(run, i);
    p.offset = kGuardBytes / size + extra;
    p.extent_bytes = (extra + extent) * size;
    p.bytes = kGuardBytes + p.extent_bytes + kGuardBytes;
    p.positions = element_positions(o.value.shape, p.strides, p.offset);
    // Inputs: poison everywhere, then the logical values at their positions.
    const uint64_t poison = input_poison_bits(o.value.dtype);
    p.initial.resize(static_cast<size_t>(p.bytes));
    for (int64_t b = 0; b < p.bytes; ++b)
      p.initial[static_cast<size_t>(b)] = static_cast<unsigned char>(poison >> (8 * (b % size)));
    const bool holds_values = i != spec.output || spec.output_is_read;
    if (holds_values) {
      for (int64_t e = 0; e < o.value.numel(); ++e)
        std::memcpy(&p.initial[static_cast<size_t>(p.positions[static_cast<size_t>(e)] * size)],
                    &o.value.bytes[static_cast<size_t>(e * size)], static_cast<size_t>(size));
      // A broadcast (stride-0) view shows one stored value at many logical
      // places: read the logical values back so the oracle sees what the
      // device sees (the same in both runs: the views differ by an offset).
      for (int64_t e = 0; e < o.value.numel(); ++e)
        std::memcpy(&o.value.bytes[static_cast<size_t>(e * size)],
                    &p.initial[static_cast<size_t>(p.positions[static_cast<size_t>(e)] * size)],
                    static_cast<size_t>(size));
    }
    if (const chorus_status s = p.buffer.create(dut.device, static_cast<uint64_t>(p.bytes));
        s != CHORUS_OK) {
      *outcome = s == CHORUS_ERROR_UNSUPPORTED ? Outcome::unsupported : Outcome::fail;
      return "buffer_create(" + std::to_string(p.bytes) + " bytes) failed with " + status_text(s) +
             ": " + last_error();
    }
  }
  return "";
}

Path path_of(chorus_op_path p) {
  switch (p) {
    case CHORUS_OP_PATH_NATIVE:
      return Path::native;
    case CHORUS_OP_PATH_COMPOSITE:
      return Path::composite;
    case CHORUS_OP_PATH_NONE:
      return Path::none;
    default:
      return Path::unknown;
  }
}

}  // namespace

CaseResult run_case(const CaseEntry& entry, const Device& dut, ReferenceRunner& reference) {
  const auto start = std::chrono::steady_clock::now();
  CaseResult result;
  result.name = entry.name;
  result.op = entry.op;
  result.dtype = entry.dtype;
  result.shape = entry.shape;
  result.kind = entry.kind;
  result.seed = fnv1a(entry.name);
  result.outcome = Outcome::fail;

  CaseSpec spec;
  // Run 1's and run 2's (moved) layouts; run 1's buffers live on through run
  // 2, so run 2's are other buffers.
  std::vector<Placement> places[2];
  auto finish = [&](Outcome outcome, std::string details) {
    result.outcome = outcome;
    result.details = std::move(details);
    result.reproducer = reproducer(entry, spec, places, result.seed, dut.name);
    result.seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    return result;
  };

  try {
    Rng rng(result.seed);
    spec = entry.build(rng);
  } catch (const std::exception& e) {
    return finish(Outcome::fail, std::string("the case could not be built: ") + e.what());
  }
  if ((dut.numerics & CHORUS_NUMERICS_FLUSH_TO_ZERO) && spec.subnormal_inputs)
    return finish(
        Outcome::skipped,
        "the queue declares flush-to-zero; this case's subnormal inputs test the precise mode");

  const size_t count = spec.operands.size();
  const Operand& out_operand = spec.operands[spec.output];
  const chorus_dtype out_dtype = out_operand.value.dtype;
  // The buffer that holds the output view (an in-place output is its input's).
  const size_t out_buffer =
      out_operand.alias_of >= 0 ? static_cast<size_t>(out_operand.alias_of) : spec.output;
  const int64_t out_size = static_cast<int64_t>(chorus_dtype_size(out_dtype));

  // ---- run twice on the device under test: run 2 with every operand moved
  std::vector<HostTensor> got(2, HostTensor(out_dtype, out_operand.value.shape));
  std::string problems;
  for (int run = 0; run < 2; ++run) {
    std::vector<Placement>& here = places[run];
    Outcome outcome = Outcome::fail;
    if (std::string why = place_operands(spec, dut, run, here, &outcome); !why.empty())
      return finish(outcome, why);
    const std::vector<int64_t>& out_positions = here[out_buffer].positions;
    std::vector<chorus_tensor> views(count);
    std::vector<const chorus_tensor*> pointers(count, nullptr);
    for (size_t i = 0; i < count; ++i) {
      const Operand& o = spec.operands[i];
      if (!o.value.present) continue;
      const size_t b = o.alias_of >= 0 ? static_cast<size_t>(o.alias_of) : i;
      views[i] = make_view(here[b].buffer.get(), o.value.dtype, o.value.shape, here[b].strides,
                           here[b].offset);
      pointers[i] = &views[i];
    }
    // Bytes of each buffer the op may write: the output's view, and the
    // views of the other outputs it writes (not compared in this case).
    std::vector<std::vector<bool>> writable(count);
    const auto allow = [&](size_t buffer, const std::vector<int64_t>& positions, int64_t size) {
      writable[buffer].assign(static_cast<size_t>(here[buffer].bytes), false);
      for (const int64_t pos : positions)
        for (int64_t b = 0; b < size; ++b) writable[buffer][static_cast<size_t>(pos * size + b)] = true;
    };
    allow(out_buffer, out_positions, out_size);
    for (const size_t i : spec.also_written)
      allow(i, here[i].positions,
            static_cast<int64_t>(chorus_dtype_size(spec.operands[i].value.dtype)));

    std::vector<std::vector<unsigned char>> before(count);
    for (size_t i = 0; i < count; ++i) {
      Placement& p = here[i];
      if (!p.buffer.get()) continue;
      before[i] = p.initial;
      if (i == spec.output) {
        // A pure output starts as poison, different in each run.
        std::fill(before[i].begin(), before[i].end(), kOutputPoison[run]);
        if (spec.output_is_read) {
          for (int64_t e = 0; e < out_operand.value.numel(); ++e)
            std::memcpy(
                &before[i][static_cast<size_t>(p.positions[static_cast<size_t>(e)] * out_size)],
                &out_operand.value.bytes[static_cast<size_t>(e * out_size)],
                static_cast<size_t>(out_size));
        }
      }
      if (chorus_buffer_write(dut.queue, p.buffer.get(), 0, before[i].data(), before[i].size()) !=
          CHORUS_OK)
        return finish(Outcome::fail, "buffer_write failed: " + last_error());
    }
    chorus_status s = spec.call(dut.queue, pointers);
    std::string message = s != CHORUS_OK ? last_error() : "";
    if (s == CHORUS_OK && run == 0) {
      // Which path ran: asked right after the call, before anything else
      // runs on this queue.
      chorus_plan_info info{};
      info.struct_size = sizeof info;
      if (chorus_queue_last_op(dut.queue, &info) == CHORUS_OK) {
        result.path = path_of(info.path);
        result.path_description = info.description;
      }
    }
    if (s == CHORUS_OK) {
      s = chorus_queue_sync(dut.queue);
      if (s != CHORUS_OK) message = "queue_sync: " + last_error();
    }
    const std::string label = run == 0 ? "run 1" : "run 2 (operands moved)";
    if (s == CHORUS_ERROR_UNSUPPORTED && run == 0) return finish(Outcome::unsupported, message);
    if (s != CHORUS_OK)
      return finish(Outcome::fail, label + " failed with " + status_text(s) + ": " + message);
    for (size_t i = 0; i < count; ++i) {
      Placement& p = here[i];
      if (!p.buffer.get()) continue;
      std::vector<unsigned char> after(before[i].size());
      if (chorus_buffer_read(dut.queue, p.buffer.get(), 0, after.data(), after.size()) != CHORUS_OK)
        return finish(Outcome::fail, "buffer_read failed: " + last_error());
      // Every byte outside the output view must be as it was: guards,
      // padding between rows, and every input.
      int64_t first_bad = -1, bad = 0;
      for (size_t b = 0; b < after.size(); ++b) {
        if (!writable[i].empty() && writable[i][b]) continue;
        if (after[b] != before[i][b]) {
          if (first_bad < 0) first_bad = static_cast<int64_t>(b);
          ++bad;
        }
      }
      if (first_bad >= 0) {
        const char* where = first_bad < kGuardBytes                     ? "in the front guard"
                            : first_bad >= kGuardBytes + p.extent_bytes ? "in the back guard"
                            : i == out_buffer ? "between the output's elements (padding)"
                                              : "inside an input";
        problems += label + ": out-of-bounds write at byte " + std::to_string(first_bad) + " of " +
                    spec.operands[i].role + "'s " + std::to_string(after.size()) +
                    "-byte buffer (" + where + "; " + std::to_string(bad) + " bytes changed)\n";
      }
      if (i == out_buffer)
        for (int64_t e = 0; e < got[run].numel(); ++e)
          std::memcpy(&got[run].bytes[static_cast<size_t>(e * out_size)],
                      &after[static_cast<size_t>(out_positions[static_cast<size_t>(e)] * out_size)],
                      static_cast<size_t>(out_size));
    }
  }

  // ---- the oracle: contiguous logical values, widened to f64 for bounded cases
  const int64_t n = got[0].numel();
  double worst = 0;
  if (n > 0) {
    const bool wide = spec.oracle == OracleKind::wide;
    std::vector<HostTensor> inputs(count);
    for (size_t i = 0; i < count; ++i) {
      const HostTensor& v = spec.operands[i].value;
      inputs[i] = wide && is_float(v.dtype) ? converted(v, CHORUS_DTYPE_F64) : v;
      if (i == spec.output && !spec.output_is_read)
        inputs[i] = HostTensor(wide && is_float(v.dtype) ? CHORUS_DTYPE_F64 : v.dtype, v.shape);
    }
    std::vector<HostTensor> oracle = inputs;
    std::vector<double> bounds;
    try {
      reference.run(spec.call, oracle, spec.output, spec.output_is_read);
      if (spec.check == Check::bounded) {
        const BoundInputs in{inputs,    spec.output,  oracle[spec.output],
                             out_dtype, dut.numerics, reference};
        bounds = spec.bound(in);
        if (static_cast<int64_t>(bounds.size()) != n)
          return finish(Outcome::fail, "suite bug: the bound has " + std::to_string(bounds.size()) +
                                           " elements, the output " + std::to_string(n));
      }
    } catch (const std::exception& e) {
      return finish(Outcome::fail, e.what());
    }
    const HostTensor& expected = oracle[spec.output];
    const bool ftz = (dut.numerics & CHORUS_NUMERICS_FLUSH_TO_ZERO) != 0;
    for (int run = 0; run < 2; ++run) {
      const Judgement j =
          judge(expected, got[run], spec.check == Check::bounded ? &bounds : nullptr,
                spec.check == Check::exact_signed, ftz);
      worst = std::max(worst, j.worst_ratio);
      if (run == 0) problems += zero_heuristic(expected, got[run], ftz);
      if (!j.ok) {
        problems += std::string(run == 0 ? "run 1" : "run 2 (operands moved)") + ": " +
                    std::to_string(j.mismatches) + " of " + std::to_string(n) +
                    " elements outside their bound\n" + j.details;
        if (run == 0 && got[0].bytes == got[1].bytes) break;  // the same story twice says nothing
      }
    }
    if ((dut.numerics & CHORUS_NUMERICS_DETERMINISTIC) && got[0].bytes != got[1].bytes) {
      int64_t first = 0;
      while (first < n && got[0].bits(first) == got[1].bits(first)) ++first;
      problems +=
          "the queue declares deterministic numerics but two runs differ (first at element " +
          std::to_string(first) + ")\n";
    }
  }
  result.worst_ratio = worst;
  if (!problems.empty()) return finish(Outcome::fail, problems);
  return finish(Outcome::pass, "");
}

}  // namespace chorus::conformance::detail
