"""safetensors.torch as transformers calls it (see the package docstring)."""
import os

from . import safe_open, serialize


def load_file(filename, device="cpu"):
    with safe_open(filename, "pt", device) as f:
        return {k: f.get_tensor(k) for k in f.keys()}


def save_file(tensors, filename, metadata=None):
    tmp = str(filename) + ".tmp"
    with open(tmp, "wb") as f:
        f.write(serialize(tensors, metadata))
    os.replace(tmp, filename)


def save(tensors, metadata=None):
    return serialize(tensors, metadata)


def load(data):
    import tempfile
    with tempfile.NamedTemporaryFile(suffix=".safetensors") as f:
        f.write(data)
        f.flush()
        return load_file(f.name)


def storage_ptr(tensor):
    try:
        return tensor.untyped_storage().data_ptr()
    except Exception:
        return tensor.storage().data_ptr()


def storage_size(tensor):
    try:
        return tensor.untyped_storage().nbytes()
    except Exception:
        return tensor.storage().size() * tensor.element_size()


def save_model(model, filename, metadata=None, force_contiguous=False):
    save_file({k: v for k, v in model.state_dict().items()}, filename, metadata)
