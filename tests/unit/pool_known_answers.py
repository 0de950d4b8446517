#!/usr/bin/python3
"""Known answers for tests/unit/test_pool.cpp from PyTorch itself.

For each configuration: y (and, for max pooling, the argmax indices) of
max_pool2d / avg_pool2d (the 1-D functions for 1-D configurations), and with
L = sum(dy * y) the gradient dx from autograd, in float64. Every tensor is
filled in its *caller's* layout (NCHW or NHWC, the H axis absent in 1-D)
with value(tag, i) = ((i * (2 tag + 5) + tag^2) mod 23 - 11) / 8 at flat
index i (tags x 1, dy 4; repeats make ties inside windows), where
configurations marked "specials" replace the residues 0 and 7 by NaN and
-inf, as the C++ test fills them. Results are printed in the caller's
layout; indices are h*W + w within each plane, as PyTorch gives them.
Writes the C++ header to stdout:
  /usr/bin/python3 tests/unit/pool_known_answers.py > tests/unit/pool_known_answers.hpp
"""
import math

import torch
import torch.nn.functional as F

# name, mode, layout, 1-D, specials, N, C, H, W, kernel (h, w), stride (h, w),
# padding (h, w), dilation (h, w), ceil_mode, count_include_pad, divisor_override
CONFIGS = [
    ("max-2x2", "max", "nchw", False, False, 2, 3, 6, 8, (2, 2), (2, 2), (0, 0), (1, 1), False,
     True, 0),
    ("max-3x3-stride2-pad1-ceil", "max", "nchw", False, False, 1, 2, 8, 9, (3, 3), (2, 2), (1, 1),
     (1, 1), True, True, 0),
    ("max-3x2-stride1x2-dilation2x1-pad1", "max", "nhwc", False, False, 2, 3, 9, 7, (3, 2),
     (1, 2), (1, 1), (2, 1), False, True, 0),
    ("max-specials-3x3-stride1-pad1", "max", "nchw", False, True, 1, 2, 6, 7, (3, 3), (1, 1),
     (1, 1), (1, 1), False, True, 0),
    ("max-1d-k3-stride2-pad1-ceil", "max", "nchw", True, False, 2, 3, 1, 12, (1, 3), (1, 2),
     (0, 1), (1, 1), True, True, 0),
    ("avg-3x3-stride2-pad1-include", "avg", "nchw", False, False, 2, 2, 7, 8, (3, 3), (2, 2),
     (1, 1), (1, 1), False, True, 0),
    ("avg-3x3-stride2-pad1-exclude-ceil", "avg", "nhwc", False, False, 1, 3, 8, 9, (3, 3), (2, 2),
     (1, 1), (1, 1), True, False, 0),
    ("avg-3x3-stride2-ceil-nopad-include", "avg", "nchw", False, False, 1, 2, 8, 10, (3, 3),
     (2, 2), (0, 0), (1, 1), True, True, 0),
    ("avg-2x3-stride1x2-pad1-divisor5", "avg", "nchw", False, False, 2, 2, 5, 9, (2, 3), (1, 2),
     (1, 1), (1, 1), False, True, 5),
    ("avg-1d-nhwc-k5-stride3-pad2-exclude", "avg", "nhwc", True, False, 2, 3, 1, 16, (1, 5),
     (1, 3), (0, 2), (1, 1), False, False, 0),
]


def values(tag, shape, specials=False):
    n = 1
    for s in shape:
        n *= s
    flat = []
    for i in range(n):
        r = (i * (2 * tag + 5) + tag * tag) % 23
        v = (r - 11) / 8.0
        if specials and r == 0:
            v = math.nan
        elif specials and r == 7:
            v = -math.inf
        flat.append(v)
    return torch.tensor(flat, dtype=torch.float64).reshape(shape)


def caller_shape(shape, layout, one_d):
    n, c, h, w = shape
    s = [n, h, w, c] if layout == "nhwc" else [n, c, h, w]
    if one_d:
        del s[1 if layout == "nhwc" else 2]
    return s


def to_logical(t, layout, one_d):
    if one_d:
        t = t.unsqueeze(1 if layout == "nhwc" else 2)
    if layout == "nhwc":
        t = t.permute(0, 3, 1, 2)
    return t


def to_caller(t, layout, one_d):
    if layout == "nhwc":
        t = t.permute(0, 2, 3, 1)
    if one_d:
        t = t.squeeze(1 if layout == "nhwc" else 2)
    return t.contiguous()


def run(cfg):
    (name, mode, layout, one_d, specials, n, c, h, w, k, stride, pad, dilation, ceil, include,
     divisor) = cfg
    x = to_logical(values(1, caller_shape([n, c, h, w], layout, one_d), specials), layout, one_d)
    x = x.clone().requires_grad_(True)
    indices = None
    if one_d:
        x1 = x.squeeze(2)
        if mode == "max":
            y, indices = F.max_pool1d(x1, k[1], stride[1], pad[1], dilation[1], ceil_mode=ceil,
                                      return_indices=True)
            indices = indices.unsqueeze(2)
        else:
            y = F.avg_pool1d(x1, k[1], stride[1], pad[1], ceil_mode=ceil,
                             count_include_pad=include)
        y = y.unsqueeze(2)
    elif mode == "max":
        y, indices = F.max_pool2d(x, k, stride, pad, dilation, ceil_mode=ceil, return_indices=True)
    else:
        y = F.avg_pool2d(x, k, stride, pad, ceil_mode=ceil, count_include_pad=include,
                         divisor_override=divisor if divisor else None)
    oh, ow = y.shape[2], y.shape[3]
    dy = to_logical(values(4, caller_shape([n, c, oh, ow], layout, one_d)), layout, one_d)
    (y * dy).sum().backward()
    return {
        "oh": oh,
        "ow": ow,
        "y": to_caller(y.detach(), layout, one_d),
        "indices": to_caller(indices, layout, one_d) if indices is not None else None,
        "dx": to_caller(x.grad, layout, one_d),
    }


def text(v):
    if isinstance(v, float):
        if math.isnan(v):
            return "NAN"
        if math.isinf(v):
            return "-INFINITY" if v < 0 else "INFINITY"
    return repr(v)


def numbers(t, indent="       "):
    """A braced list wrapped at 100 columns."""
    if t is None:
        return indent + "{}"
    lines, line = [], indent + "{"
    for v in t.flatten().tolist():
        item = text(v) + ", "
        if len(line) + len(item) > 99:
            lines.append(line.rstrip())
            line = indent + " "
        line += item
    lines.append(line.rstrip().rstrip(",") + "}")
    return "\n".join(lines)


print("// Generated by tests/unit/pool_known_answers.py with torch " + torch.__version__ + ".")
print("// Do not edit: rerun the script.")
print("#pragma once")
print()
print("#include <cmath>")
print("#include <cstdint>")
print("#include <vector>")
print()
print("namespace pool_known {")
print()
print("struct Config {")
print("  const char* name;")
print("  bool max, nhwc, one_d, specials;")
print("  int64_t n, c, h, w;")
print("  int32_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;")
print("  bool ceil_mode, count_include_pad;")
print("  int32_t divisor_override;")
print("  int64_t oh, ow;")
print("  std::vector<double> y;         // in the caller's layout")
print("  std::vector<int64_t> indices;  // max pooling")
print("  std::vector<double> dx;")
print("};")
print()
print("// value(tag, i) of the inputs, as the script fills them.")
print("inline double value(int tag, int64_t i, bool specials) {")
print("  const int64_t r = (i * (2 * tag + 5) + tag * tag) % 23;")
print("  if (specials && r == 0) return NAN;")
print("  if (specials && r == 7) return -INFINITY;")
print("  return static_cast<double>(r - 11) / 8.0;")
print("}")
print()
print("inline const std::vector<Config>& configs() {")
print("  static const std::vector<Config> all = {")
for cfg in CONFIGS:
    (name, mode, layout, one_d, specials, n, c, h, w, k, stride, pad, dilation, ceil, include,
     divisor) = cfg
    r = run(cfg)
    b = lambda v: "true" if v else "false"
    print("      {\"%s\", %s, %s, %s, %s, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %s, %s, "
          "%d, %d, %d," % (name, b(mode == "max"), b(layout == "nhwc"), b(one_d), b(specials),
                          n, c, h, w, k[0], k[1], stride[0], stride[1], pad[0], pad[1],
                          dilation[0], dilation[1], b(ceil), b(include), divisor, r["oh"],
                          r["ow"]))
    print(numbers(r["y"]) + ",")
    print(numbers(r["indices"]) + ",")
    print(numbers(r["dx"]) + "},")
print("  };")
print("  return all;")
print("}")
print()
print("}  // namespace pool_known")
