"""Import-time placeholder for the Rust `tokenizers` package (not installable on Debian 12). It has no
package metadata, so transformers treats tokenizers as absent and uses the slow (pure Python)
tokenizers; it exists only because a few transformers modules import names from it unconditionally.
Any name resolves to a placeholder class that cannot be used."""


class _Placeholder:
    def __init__(self, *args, **kwargs):
        raise RuntimeError("the tokenizers placeholder cannot be used; transformers must use slow tokenizers")


def __getattr__(name):
    if name.startswith("__"):
        raise AttributeError(name)
    return type(name, (_Placeholder,), {})
