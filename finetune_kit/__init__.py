__version__ = "0.1.0"

import logging as _logging

class _NoKernelsHint(_logging.Filter):
    "Drop bitsandbytes' 'Failed to load CPU gemm_4bit_forward from kernels-community' warning, and nothing else"
    def filter(self, record):
        return not str(record.msg).startswith('Failed to load CPU gemm_4bit_forward from kernels-community')

# bitsandbytes (imported by transformers and peft, so on every `import finetune_kit.<module>`) logs this on CPUs with
# AVX512-BF16 when the optional `kernels` package is missing; its CPU fallback works and a user can do nothing about it.
# The filter sits here, at package import (stdlib only, no torch), because transformers is imported before
# `finetune_kit.models` in several modules. Other bitsandbytes messages, and this logger's other ones, pass.
_logging.getLogger('bitsandbytes.backends.cpu.ops').addFilter(_NoKernelsHint())
