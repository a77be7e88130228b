"""A small pure-Python reader/writer of the safetensors file format, standing in for the Rust-backed
`safetensors` package (not installable on Debian 12) so that transformers can load and save checkpoints
for making reference data. Only what transformers calls is provided: safe_open (keys, metadata,
get_tensor, get_slice) and safetensors.torch.{load_file, save_file, load, save}."""
import json
import mmap
import struct

import torch as _torch

_DTYPES = {
    "F64": _torch.float64, "F32": _torch.float32, "F16": _torch.float16, "BF16": _torch.bfloat16,
    "I64": _torch.int64, "I32": _torch.int32, "I16": _torch.int16, "I8": _torch.int8, "U8": _torch.uint8,
    "BOOL": _torch.bool,
}
_NAMES = {v: k for k, v in _DTYPES.items()}


def _read_header(f):
    n = struct.unpack("<Q", f.read(8))[0]
    header = json.loads(f.read(n))
    return 8 + n, header


def _tensor(buf, base, info):
    start, end = info["data_offsets"]
    dtype = _DTYPES[info["dtype"]]
    shape = info["shape"]
    if end == start:
        return _torch.empty(shape, dtype=dtype)
    t = _torch.frombuffer(bytearray(buf[base + start:base + end]), dtype=dtype)
    return t.reshape(shape)


class _Slice:
    def __init__(self, tensor):
        self._t = tensor

    def get_shape(self):
        return list(self._t.shape)

    def get_dtype(self):
        return _NAMES[self._t.dtype]

    def __getitem__(self, idx):
        return self._t[idx]


class safe_open:
    def __init__(self, filename, framework="pt", device="cpu"):
        self._file = open(filename, "rb")
        self._base, header = _read_header(self._file)
        self._meta = header.pop("__metadata__", None)
        self._header = header
        self._buf = mmap.mmap(self._file.fileno(), 0, access=mmap.ACCESS_READ)
        self._device = device

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self._buf.close()
        self._file.close()

    def keys(self):
        return list(self._header.keys())

    def metadata(self):
        return self._meta

    def get_tensor(self, name):
        return _tensor(self._buf, self._base, self._header[name]).to(self._device)

    def get_slice(self, name):
        return _Slice(self.get_tensor(name))


def serialize(tensors, metadata=None):
    header, blobs, off = {}, [], 0
    if metadata:
        header["__metadata__"] = metadata
    for name in sorted(tensors):
        t = tensors[name].detach().contiguous().cpu()
        b = t.view(_torch.uint8).numpy().tobytes() if t.numel() else b""
        header[name] = {"dtype": _NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [off, off + len(b)]}
        blobs.append(b)
        off += len(b)
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    return struct.pack("<Q", len(hb)) + hb + b"".join(blobs)
