"""Helpers shared by the scripts that write the unit tests' known-answer
headers from PyTorch (conv_known_answers.py, pool_known_answers.py,
softmax_backward_known_answers.py): the caller's layouts of a logical NCHW
tensor (NCHW or NHWC, the H axis dropped for 1-D) and C++ number lists.
"""
import math


def caller_shape(shape, layout, one_d):
    """The caller's shape of a logical NCHW shape."""
    n, c, h, w = shape
    s = [n, h, w, c] if layout == "nhwc" else [n, c, h, w]
    if one_d:
        del s[1 if layout == "nhwc" else 2]
    return s


def to_logical(t, layout, one_d):
    """A caller-layout tensor as logical NCHW (rank 4)."""
    if one_d:
        t = t.unsqueeze(1 if layout == "nhwc" else 2)
    if layout == "nhwc":
        t = t.permute(0, 3, 1, 2)
    return t


def to_caller(t, layout, one_d):
    """A logical NCHW tensor in the caller's layout, contiguous."""
    if layout == "nhwc":
        t = t.permute(0, 2, 3, 1)
    if one_d:
        t = t.squeeze(1 if layout == "nhwc" else 2)
    return t.contiguous()


def text(v):
    """A number as C++ source: NAN and INFINITY for the non-finite."""
    if isinstance(v, float):
        if math.isnan(v):
            return "NAN"
        if math.isinf(v):
            return "-INFINITY" if v < 0 else "INFINITY"
    return repr(v)


def numbers(t, indent="       "):
    """A braced list wrapped at 100 columns ({} for None)."""
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


def count(shape):
    """Elements of a shape."""
    n = 1
    for s in shape:
        n *= s
    return n


def norm_x(shape, big_channel, offset):
    """The norms' x ([N, C, ...], float64): ((i * 7 + 1) mod 23 - 11) / 4 at
    flat index i, plus offset on channel big_channel (a large mean)."""
    import torch
    c = shape[1]
    inner = count(shape[2:])
    return torch.tensor([((i * 7 + 1) % 23 - 11) / 4 +
                         (offset if (i // inner) % c == big_channel else 0.0)
                         for i in range(count(shape))], dtype=torch.float64).reshape(shape)


def norm_dy(shape):
    """The norms' dy: ((i * 13 + 16) mod 23 - 11) / 8 at flat index i."""
    import torch
    return torch.tensor([((i * 13 + 16) % 23 - 11) / 8 for i in range(count(shape))],
                        dtype=torch.float64).reshape(shape)


def per_channel(c, f):
    """[f(0), ..., f(c - 1)] in float64."""
    import torch
    return torch.tensor([f(j) for j in range(c)], dtype=torch.float64)


def norm_gamma(c):
    """The norms' gamma: ((j * 5 + 3) mod 11 - 5) / 4 for channel j."""
    return per_channel(c, lambda j: ((j * 5 + 3) % 11 - 5) / 4)


def norm_beta(c):
    """The norms' beta: ((j * 3 + 2) mod 7 - 3) / 8 for channel j."""
    return per_channel(c, lambda j: ((j * 3 + 2) % 7 - 3) / 8)
