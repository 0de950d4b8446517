// rtc.cpp — NVRTC and hiprtc behind one class, and what their output says
// about each kernel's resources.
#include "rtc.hpp"

#include <dlfcn.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iterator>
#include <map>
#include <mutex>
#include <sstream>
#include <string_view>

#include "dl_symbols.hpp"
#include "embedded_kernels.hpp"

namespace chorus::gpu {

// The entry points used; NVRTC's and hiprtc's have the same signatures.
struct Rtc::Fns {
  int (*create)(void**, const char*, const char*, int, const char* const*,
                const char* const*) = nullptr;
  int (*compile)(void*, int, const char* const*) = nullptr;
  int (*log_size)(void*, size_t*) = nullptr;
  int (*log)(void*, char*) = nullptr;
  int (*code_size)(void*, size_t*) = nullptr;
  int (*code)(void*, char*) = nullptr;
  int (*destroy)(void**) = nullptr;
  int (*version)(int*, int*) = nullptr;
  const char* (*error_string)(int) = nullptr;
  int (*ptx_size)(void*, size_t*) = nullptr;  // NVRTC only
  int (*ptx)(void*, char*) = nullptr;
  int (*architecture_count)(int*) = nullptr;  // NVRTC 11.2 and later
  int (*architectures)(int*) = nullptr;
};

namespace {

std::vector<std::string> candidates(RtcKind kind) {
  std::vector<std::string> names;
  const auto from_env = [&](const char* var, const char* sub, const char* file) {
    if (const char* home = std::getenv(var); home && *home)
      names.push_back(std::string(home) + sub + file);
  };
  if (kind == RtcKind::nvrtc) {
    from_env("CUDA_HOME", "/lib64/", "libnvrtc.so");
    from_env("CUDA_PATH", "/lib64/", "libnvrtc.so");
    for (const char* n : {"libnvrtc.so", "libnvrtc.so.13", "libnvrtc.so.12", "libnvrtc.so.11.2",
                          "/usr/local/cuda/lib64/libnvrtc.so"})
      names.push_back(n);
  } else {
    from_env("ROCM_PATH", "/lib/", "libhiprtc.so");
    from_env("HIP_PATH", "/lib/", "libhiprtc.so");
    // hiprtc has its own library since ROCm 5.3; before, libamdhip64 held it.
    for (const char* n :
         {"libhiprtc.so", "libhiprtc.so.6", "libhiprtc.so.5", "/opt/rocm/lib/libhiprtc.so",
          "libamdhip64.so", "libamdhip64.so.6", "libamdhip64.so.5", "/opt/rocm/lib/libamdhip64.so"})
      names.push_back(n);
  }
  return names;
}

// Runs a shell command; its standard error goes to `log`.
int run_command(const std::string& command, std::string* log) {
  char path[] = "/tmp/chorus-cmd-XXXXXX";
  const int fd = mkstemp(path);
  if (fd < 0) return -1;
  close(fd);
  const int status = std::system((command + " 2>" + path).c_str());
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  *log += text.str();
  std::remove(path);
  return status;
}

std::string quoted(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

std::string host_compiler() {
  const char* cxx = std::getenv("CHORUS_EMU_CXX");
  return cxx && *cxx ? cxx : "c++";
}

}  // namespace

std::unique_ptr<Rtc> Rtc::load(RtcKind kind, std::string* why) {
  if (kind == RtcKind::host) {
    std::string version;
    FILE* p = popen((host_compiler() + " --version 2>/dev/null").c_str(), "r");
    if (p) {
      char line[256] = {};
      if (std::fgets(line, sizeof line, p)) version = line;
      pclose(p);
    }
    while (!version.empty() && (version.back() == '\n' || version.back() == '\r'))
      version.pop_back();
    if (version.empty()) {
      *why = "no host C++ compiler (" + host_compiler() + "; set CHORUS_EMU_CXX)";
      return nullptr;
    }
    return std::unique_ptr<Rtc>(new Rtc(kind, nullptr, nullptr, "host C++: " + version));
  }
  const std::string prefix = kind == RtcKind::nvrtc ? "nvrtc" : "hiprtc";
  const std::string binary = kind == RtcKind::nvrtc ? "CUBIN" : "Code";
  std::string tried;
  for (const std::string& name : candidates(kind)) {
    void* library = dlopen(name.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!library) continue;
    auto fns = std::make_unique<Fns>();
    const bool ok = resolve_symbol(library, prefix + "CreateProgram", &fns->create) &&
                    resolve_symbol(library, prefix + "CompileProgram", &fns->compile) &&
                    resolve_symbol(library, prefix + "GetProgramLogSize", &fns->log_size) &&
                    resolve_symbol(library, prefix + "GetProgramLog", &fns->log) &&
                    resolve_symbol(library, prefix + "Get" + binary + "Size", &fns->code_size) &&
                    resolve_symbol(library, prefix + "Get" + binary, &fns->code) &&
                    resolve_symbol(library, prefix + "DestroyProgram", &fns->destroy) &&
                    resolve_symbol(library, prefix + "Version", &fns->version) &&
                    resolve_symbol(library, prefix + "GetErrorString", &fns->error_string);
    if (!ok) {
      tried += (tried.empty() ? "" : ", ") + name + " (no " + prefix + " entry points)";
      dlclose(library);
      continue;
    }
    std::vector<int> architectures;
    if (kind == RtcKind::nvrtc) {
      resolve_symbol(library, "nvrtcGetPTXSize", &fns->ptx_size);
      resolve_symbol(library, "nvrtcGetPTX", &fns->ptx);
      int count = 0;
      if (resolve_symbol(library, "nvrtcGetNumSupportedArchs", &fns->architecture_count) &&
          resolve_symbol(library, "nvrtcGetSupportedArchs", &fns->architectures) &&
          fns->architecture_count(&count) == 0 && count > 0) {
        architectures.resize(static_cast<size_t>(count));
        if (fns->architectures(architectures.data()) != 0) architectures.clear();
        std::sort(architectures.begin(), architectures.end());
      }
    }
    int major = 0, minor = 0;
    fns->version(&major, &minor);
    std::string version = (kind == RtcKind::nvrtc ? "NVRTC " : "hiprtc ") + std::to_string(major) +
                          "." + std::to_string(minor) + " (" + name + ")";
    auto rtc = std::unique_ptr<Rtc>(new Rtc(kind, library, std::move(fns), std::move(version)));
    rtc->architectures_ = std::move(architectures);
    return rtc;
  }
  *why = kind == RtcKind::nvrtc
             ? "libnvrtc.so not found (install the CUDA toolkit or set CUDA_HOME)"
             : "hiprtc not found (libhiprtc.so or libamdhip64.so; install ROCm or set ROCM_PATH)";
  if (!tried.empty()) *why += "; tried " + tried;
  return nullptr;
}

Rtc::Rtc(RtcKind kind, void* library, std::unique_ptr<Fns> fns, std::string version)
    : kind_(kind), library_(library), fns_(std::move(fns)), version_(std::move(version)) {}

// The library stays loaded: compilers keep thread-local state that must not
// lose its code while a thread still runs.
Rtc::~Rtc() = default;

std::string Rtc::target_for(const std::string& arch) const {
  if (kind_ != RtcKind::nvrtc || architectures_.empty() || arch.rfind("sm_", 0) != 0) return arch;
  const int wanted = std::atoi(arch.c_str() + 3);
  if (std::find(architectures_.begin(), architectures_.end(), wanted) != architectures_.end())
    return arch;
  int best = 0;
  for (int a : architectures_)
    if (a <= wanted) best = a;
  return best ? "compute_" + std::to_string(best) : arch;
}

bool Rtc::valid_target(const std::string& target) const {
  if (kind_ == RtcKind::host) return target == "host";
  const std::string prefix = kind_ != RtcKind::nvrtc            ? "gfx"
                             : target.rfind("compute_", 0) == 0 ? "compute_"
                                                                : "sm_";
  if (target.size() <= prefix.size() || target.compare(0, prefix.size(), prefix) != 0) return false;
  for (size_t i = prefix.size(); i < target.size(); ++i) {
    const char c = target[i];
    const bool ok = kind_ == RtcKind::nvrtc ? (c >= '0' && c <= '9') || c == 'a' || c == 'f'
                                            : std::isalnum(static_cast<unsigned char>(c)) ||
                                                  c == ':' || c == '+' || c == '-';
    if (!ok) return false;
  }
  return true;
}

std::string Rtc::program_source(const backend_common::ProgramSpec& spec,
                                std::string* missing) const {
  std::vector<std::string> files = {kind_ == RtcKind::nvrtc    ? "prelude_cuda.h"
                                    : kind_ == RtcKind::hiprtc ? "prelude_hip.h"
                                                               : "prelude_emu.h",
                                    "prelude_gpu.h"};
  files.insert(files.end(), spec.files.begin(), spec.files.end());
  return kernels::assemble_program(files, missing);
}

std::vector<std::string> Rtc::options(const backend_common::ProgramSpec& spec,
                                      const std::string& target, bool verbose_resources) const {
  std::vector<std::string> o;
  if (kind_ == RtcKind::nvrtc) {
    // sm_XX: NVRTC emits a CUBIN for exactly that GPU; compute_XX: PTX.
    // No --use_fast_math: precise division, square root and denormals.
    o = {"--gpu-architecture=" + target, "-std=c++17", "-diag-suppress=177"};
    if (verbose_resources) o.push_back("--ptxas-options=-v");
  } else if (kind_ == RtcKind::hiprtc) {
    o = {"--offload-arch=" + target, "-O3", "-std=c++17"};
  } else {
    o = {"-O1", "-std=c++20"};
  }
  for (const auto& [name, value] : spec.defines) {
    o.push_back("-D" + name + "=" + value);
    // EXACT_FP programs (random.cl) must compute every operation rounded on
    // its own, as the reference does: no contraction into fused multiply-adds.
    if (name == "EXACT_FP") o.push_back(kind_ == RtcKind::nvrtc ? "--fmad=false" : "-ffp-contract=off");
  }
  return o;
}

bool Rtc::compile(const std::string& source, const std::string& name,
                  const std::vector<std::string>& options, CompileResult* result) const {
  if (kind_ == RtcKind::host) return compile_host(source, options, result);
  // hiprtc (comgr 2.x, ROCm 5.x/6.x as Debian ships it) is not safe to
  // call from two threads at once: two compiles in parallel now and then
  // register LLVM's targets or command-line options twice ("Cannot choose
  // between targets "amdgcn" and "amdgcn"", "Option 'h' registered more
  // than once"), corrupt the heap or hang. Its compiles run one at a time,
  // process-wide; NVRTC's run in parallel.
  if (!thread_safe()) {
    static std::mutex serial;
    std::lock_guard<std::mutex> lock(serial);
    return compile_library(source, name, options, result);
  }
  return compile_library(source, name, options, result);
}

bool Rtc::compile_library(const std::string& source, const std::string& name,
                          const std::vector<std::string>& options, CompileResult* result) const {
  void* program = nullptr;
  int e = fns_->create(&program, source.c_str(), name.c_str(), 0, nullptr, nullptr);
  if (e != 0) {
    result->log = std::string("creating the program failed: ") + fns_->error_string(e);
    return false;
  }
  std::vector<const char*> argv;
  for (const auto& option : options) argv.push_back(option.c_str());
  e = fns_->compile(program, static_cast<int>(argv.size()), argv.data());
  size_t size = 0;
  result->log.clear();
  if (fns_->log_size(program, &size) == 0 && size > 1) {
    result->log.assign(size, '\0');
    fns_->log(program, result->log.data());
    result->log.resize(std::strlen(result->log.c_str()));
  }
  bool ok = e == 0;
  if (!ok) {
    result->log = std::string(fns_->error_string(e)) + "\n" + result->log;
  } else {
    // compute_XX asks NVRTC for PTX (NUL-terminated text the driver JITs).
    bool ptx = false;
    for (const auto& o : options) ptx |= o.rfind("--gpu-architecture=compute_", 0) == 0;
    auto* get_size = ptx ? fns_->ptx_size : fns_->code_size;
    auto* get = ptx ? fns_->ptx : fns_->code;
    size = 0;
    ok = get_size && get && get_size(program, &size) == 0 && size > 0;
    if (ok) {
      result->binary.resize(size);
      ok = get(program, reinterpret_cast<char*>(result->binary.data())) == 0;
    }
    if (!ok) result->log = "the compiler returned no binary\n" + result->log;
  }
  fns_->destroy(&program);
  return ok;
}

backend_common::DeviceTraits gpu_traits(backend_common::Tuning tuning) {
  tuning.elementwise_vw = 1;
  tuning.row_vw = 1;
  for (backend_common::GemmTiles* g : {&tuning.gemm_f32, &tuning.gemm_f64}) {
    g->vw = std::min(g->vw, 4);
    while (g->nr % g->vw) g->vw /= 2;
  }
  backend_common::DeviceTraits traits;
  traits.tuning = tuning;
  traits.has_fp64 = true;
  return traits;
}

std::vector<GridSlice> slice_grid(const uint64_t groups[3], const uint64_t max_grid[3]) {
  std::vector<GridSlice> slices;
  if (groups[0] > max_grid[0] || max_grid[1] == 0 || max_grid[2] == 0) return slices;
  for (uint64_t z = 0; z < groups[2]; z += max_grid[2])
    for (uint64_t y = 0; y < groups[1]; y += max_grid[1]) {
      GridSlice s;
      s.grid[0] = static_cast<uint32_t>(groups[0]);
      s.grid[1] = static_cast<uint32_t>(std::min(max_grid[1], groups[1] - y));
      s.grid[2] = static_cast<uint32_t>(std::min(max_grid[2], groups[2] - z));
      s.first_y = static_cast<int64_t>(y);
      s.first_z = static_cast<int64_t>(z);
      slices.push_back(s);
    }
  return slices;
}

// The emulator's programs: the source is preprocessed once to list its
// kernels (KERNEL expands to `extern "C" void name(`), an entry taking
// void** is appended for each, and the whole is built as a shared object.
bool Rtc::compile_host(const std::string& source, const std::vector<std::string>& options,
                       CompileResult* result) const {
  char folder[] = "/tmp/chorus-emu-XXXXXX";
  if (!mkdtemp(folder)) {
    result->log = std::string("mkdtemp failed: ") + std::strerror(errno);
    return false;
  }
  const std::string dir = folder, cpp = dir + "/program.cpp", ii = dir + "/program.ii",
                    so = dir + "/program.so";
  std::string flags;
  for (const auto& o : options) flags += " " + quoted(o);
  auto write = [](const std::string& path, const std::string& text) {
    std::ofstream(path, std::ios::binary) << text;
  };
  auto cleanup = [&] {
    for (const std::string& p : {cpp, ii, so}) std::remove(p.c_str());
    rmdir(folder);
  };
  write(cpp, source);
  result->log.clear();
  if (run_command(host_compiler() + " -E -P -x c++" + flags + " " + cpp + " -o " + ii,
                  &result->log) != 0) {
    cleanup();
    return false;
  }
  std::ifstream in(ii);
  std::stringstream text;
  text << in.rdbuf();
  const std::string pre = text.str();
  std::string entries = "\n";
  const std::string marker = "extern \"C\" void ";
  for (size_t at = pre.find(marker); at != std::string::npos; at = pre.find(marker, at + 1)) {
    size_t begin = at + marker.size(), end = begin;
    while (end < pre.size() &&
           (std::isalnum(static_cast<unsigned char>(pre[end])) || pre[end] == '_'))
      ++end;
    const std::string kernel = pre.substr(begin, end - begin);
    if (!kernel.empty() && kernel.rfind("chorus_emu", 0) != 0)
      entries += "CK_EMU_ENTRY(" + kernel + ")\n";
  }
  write(cpp, source + entries);
  if (run_command(host_compiler() + " -shared -fPIC -w -x c++" + flags + " " + cpp + " -o " + so,
                  &result->log) != 0) {
    cleanup();
    return false;
  }
  std::ifstream binary(so, std::ios::binary);
  result->binary.assign(std::istreambuf_iterator<char>(binary), std::istreambuf_iterator<char>());
  cleanup();
  if (result->binary.empty()) result->log += "the compiler wrote no shared object";
  return !result->binary.empty();
}

// ------------------------------------------------------------ resources

std::vector<KernelResources> resources_from_ptxas_log(const std::string& log) {
  std::vector<KernelResources> out;
  std::istringstream lines(log);
  std::string line;
  auto number_before = [](const std::string& s, const std::string& what) -> int64_t {
    const size_t at = s.find(what);
    if (at == std::string::npos) return -1;
    size_t begin = at;
    while (begin > 0 && s[begin - 1] == ' ') --begin;
    size_t end = begin;
    while (begin > 0 && std::isdigit(static_cast<unsigned char>(s[begin - 1]))) --begin;
    return begin < end ? std::stoll(s.substr(begin, end - begin)) : -1;
  };
  while (std::getline(lines, line)) {
    const std::string entry = "Compiling entry function '";
    if (const size_t at = line.find(entry); at != std::string::npos) {
      KernelResources r;
      const size_t begin = at + entry.size();
      r.kernel = line.substr(begin, line.find('\'', begin) - begin);
      r.shared_bytes = 0;
      out.push_back(r);
      continue;
    }
    if (out.empty()) continue;
    KernelResources& r = out.back();
    if (const int64_t v = number_before(line, "bytes stack frame"); v >= 0) r.stack_bytes = v;
    if (const int64_t v = number_before(line, "bytes spill stores"); v >= 0) r.spills = v;
    if (const int64_t v = number_before(line, "registers"); v >= 0) r.registers = v;
    if (const int64_t v = number_before(line, "bytes smem"); v >= 0) r.shared_bytes = v;
  }
  return out;
}

namespace {

// Just enough MessagePack to read the AMDGPU metadata note: values are
// decoded into a small tree of strings, integers, arrays and maps.
struct Msg {
  enum class Type { nil, integer, string, array, map, other } type = Type::nil;
  int64_t integer = 0;
  std::string string;
  std::vector<Msg> items;                    // array elements
  std::vector<std::pair<Msg, Msg>> entries;  // map entries
  const Msg* get(const std::string& key) const {
    for (const auto& [k, v] : entries)
      if (k.type == Type::string && k.string == key) return &v;
    return nullptr;
  }
};

class MsgReader {
 public:
  MsgReader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  bool read(Msg* out, int depth = 0) {
    if (depth > 32 || at_ >= n_) return false;
    const uint8_t b = p_[at_++];
    if (b <= 0x7f) return integer(out, b);
    if (b >= 0xe0) return integer(out, static_cast<int8_t>(b));
    if ((b & 0xf0) == 0x80) return map(out, b & 0x0f, depth);
    if ((b & 0xf0) == 0x90) return array(out, b & 0x0f, depth);
    if ((b & 0xe0) == 0xa0) return string(out, b & 0x1f);
    uint64_t v = 0;
    switch (b) {
      case 0xc0:
        out->type = Msg::Type::nil;
        return true;
      case 0xc2:
      case 0xc3:
        out->type = Msg::Type::other;
        return true;
      case 0xc4:
        return big(1, &v) && skip(v, out);
      case 0xc5:
        return big(2, &v) && skip(v, out);
      case 0xc6:
        return big(4, &v) && skip(v, out);
      case 0xca:
        return skip(4, out);
      case 0xcb:
        return skip(8, out);
      case 0xcc:
        return big(1, &v) && integer(out, static_cast<int64_t>(v));
      case 0xcd:
        return big(2, &v) && integer(out, static_cast<int64_t>(v));
      case 0xce:
        return big(4, &v) && integer(out, static_cast<int64_t>(v));
      case 0xcf:
        return big(8, &v) && integer(out, static_cast<int64_t>(v));
      case 0xd0:
        return big(1, &v) && integer(out, static_cast<int8_t>(v));
      case 0xd1:
        return big(2, &v) && integer(out, static_cast<int16_t>(v));
      case 0xd2:
        return big(4, &v) && integer(out, static_cast<int32_t>(v));
      case 0xd3:
        return big(8, &v) && integer(out, static_cast<int64_t>(v));
      case 0xd4:
        return skip(2, out);
      case 0xd5:
        return skip(3, out);
      case 0xd6:
        return skip(5, out);
      case 0xd7:
        return skip(9, out);
      case 0xd8:
        return skip(17, out);
      case 0xd9:
        return big(1, &v) && string(out, v);
      case 0xda:
        return big(2, &v) && string(out, v);
      case 0xdb:
        return big(4, &v) && string(out, v);
      case 0xdc:
        return big(2, &v) && array(out, v, depth);
      case 0xdd:
        return big(4, &v) && array(out, v, depth);
      case 0xde:
        return big(2, &v) && map(out, v, depth);
      case 0xdf:
        return big(4, &v) && map(out, v, depth);
      default:
        return false;
    }
  }

 private:
  bool big(int bytes, uint64_t* v) {
    if (at_ + static_cast<size_t>(bytes) > n_) return false;
    *v = 0;
    for (int i = 0; i < bytes; ++i) *v = (*v << 8) | p_[at_++];
    return true;
  }
  bool integer(Msg* out, int64_t v) {
    out->type = Msg::Type::integer;
    out->integer = v;
    return true;
  }
  bool skip(uint64_t bytes, Msg* out) {
    if (bytes > n_ - at_) return false;
    at_ += bytes;
    out->type = Msg::Type::other;
    return true;
  }
  bool string(Msg* out, uint64_t bytes) {
    if (bytes > n_ - at_) return false;
    out->type = Msg::Type::string;
    out->string.assign(reinterpret_cast<const char*>(p_ + at_), bytes);
    at_ += bytes;
    return true;
  }
  bool array(Msg* out, uint64_t count, int depth) {
    if (count > n_ - at_) return false;  // every element takes a byte at least
    out->type = Msg::Type::array;
    out->items.resize(count);
    for (auto& item : out->items)
      if (!read(&item, depth + 1)) return false;
    return true;
  }
  bool map(Msg* out, uint64_t count, int depth) {
    if (count > n_ - at_) return false;
    out->type = Msg::Type::map;
    out->entries.resize(count);
    for (auto& [k, v] : out->entries)
      if (!read(&k, depth + 1) || !read(&v, depth + 1)) return false;
    return true;
  }
  const uint8_t* p_;
  size_t n_;
  size_t at_ = 0;
};

template <typename T>
T read_le(const uint8_t* p) {
  T v;
  std::memcpy(&v, p, sizeof v);  // ELF of x86_64 hosts and AMD GPUs is little-endian
  return v;
}

// The NT_AMDGPU_METADATA note's payload of an ELF64 code object.
bool metadata_note(const uint8_t* elf, size_t size, const uint8_t** note, size_t* note_size) {
  if (size < 64 ||
      std::memcmp(elf,
                  "\x7f"
                  "ELF",
                  4) != 0 ||
      elf[4] != 2)
    return false;
  const uint64_t shoff = read_le<uint64_t>(elf + 0x28);
  const uint16_t shentsize = read_le<uint16_t>(elf + 0x3a);
  const uint16_t shnum = read_le<uint16_t>(elf + 0x3c);
  if (shentsize < 64 || shoff > size || uint64_t{shnum} * shentsize > size - shoff) return false;
  for (uint16_t s = 0; s < shnum; ++s) {
    const uint8_t* sh = elf + shoff + uint64_t{s} * shentsize;
    if (read_le<uint32_t>(sh + 4) != 7) continue;  // SHT_NOTE
    const uint64_t offset = read_le<uint64_t>(sh + 0x18);
    const uint64_t bytes = read_le<uint64_t>(sh + 0x20);
    if (offset > size || bytes > size - offset) continue;
    size_t at = 0;
    while (at + 12 <= bytes) {
      const uint8_t* n = elf + offset + at;
      const uint32_t namesz = read_le<uint32_t>(n), descsz = read_le<uint32_t>(n + 4),
                     type = read_le<uint32_t>(n + 8);
      const size_t name_padded = (namesz + 3u) & ~size_t{3},
                   desc_padded = (descsz + 3u) & ~size_t{3};
      if (12 + name_padded + desc_padded > bytes - at) break;
      if (type == 32 && namesz >= 6 && std::memcmp(n + 12, "AMDGPU", 6) == 0) {
        *note = n + 12 + name_padded;
        *note_size = descsz;
        return true;
      }
      at += 12 + name_padded + desc_padded;
    }
  }
  return false;
}

}  // namespace

std::vector<KernelResources> resources_from_amdgpu_code_object(const std::vector<uint8_t>& binary) {
  std::vector<KernelResources> out;
  // A clang offload bundle wraps the ELF; take the first ELF inside.
  size_t start = 0;
  if (binary.size() < 4 || std::memcmp(binary.data(),
                                       "\x7f"
                                       "ELF",
                                       4) != 0) {
    const std::string_view all(reinterpret_cast<const char*>(binary.data()), binary.size());
    start = all.find(
        "\x7f"
        "ELF");
    if (start == std::string_view::npos) return out;
  }
  const uint8_t* note = nullptr;
  size_t note_size = 0;
  if (!metadata_note(binary.data() + start, binary.size() - start, &note, &note_size)) return out;
  Msg root;
  if (!MsgReader(note, note_size).read(&root)) return out;
  const Msg* kernels = root.get("amdhsa.kernels");
  if (!kernels || kernels->type != Msg::Type::array) return out;
  auto value = [](const Msg& m, const char* key) -> int64_t {
    const Msg* v = m.get(key);
    return v && v->type == Msg::Type::integer ? v->integer : -1;
  };
  for (const Msg& k : kernels->items) {
    KernelResources r;
    if (const Msg* name = k.get(".name"); name && name->type == Msg::Type::string)
      r.kernel = name->string;
    const int64_t vgpr = value(k, ".vgpr_count"), agpr = value(k, ".agpr_count");
    r.registers = vgpr >= 0 ? vgpr + (agpr > 0 ? agpr : 0) : -1;
    r.scalar_registers = value(k, ".sgpr_count");
    const int64_t vs = value(k, ".vgpr_spill_count"), ss = value(k, ".sgpr_spill_count");
    r.spills = vs >= 0 || ss >= 0 ? (vs > 0 ? vs : 0) + (ss > 0 ? ss : 0) : -1;
    r.shared_bytes = value(k, ".group_segment_fixed_size");
    r.stack_bytes = value(k, ".private_segment_fixed_size");
    out.push_back(r);
  }
  return out;
}

}  // namespace chorus::gpu
