"QLoRA on the offline default model, on CPU (bitsandbytes 0.50 runs 4-bit NF4 there): load, train, save, reload, merge"
import tempfile, warnings
from pathlib import Path
import pytest, torch
from finetune_kit.models import load_model
from finetune_kit.adapters import qlora, qlora_config, save_adapter, load_adapter, merge, estimate_memory, GB, checkpointing_on


def exact_4bit(model):
    "Keep bitsandbytes on its exact fp32 CPU path (its eval-mode AVX512-bf16 kernel rounds to bf16)"
    for m in model.modules():
        if hasattr(m, 'support_avx512bf16_for_cpu'): m.support_avx512bf16_for_cpu = False
    return model


@pytest.fixture(scope='module')
def trained():
    "The default model quantised once (bitsandbytes' CPU quantiser is the slow part), saved pre-quantised, then QLoRA-trained"
    bnb, _ = qlora_config(r=16)
    base, tok = load_model(quiet=True, quantization_config=bnb)
    base4 = Path(tempfile.mkdtemp()) / 'base-4bit'
    base.save_pretrained(base4); tok.save_pretrained(base4)
    model, tok = qlora(base, r=16, alpha=16, dropout=0.0)
    batch = tok(["Lex: What was the first program you ever wrote?", "Guest: 10 print John Carmack, on a TRS-80."],
                return_tensors='pt', padding=True)
    batch['labels'] = batch['input_ids'].masked_fill(batch['attention_mask'] == 0, -100)
    opt = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=2e-3)
    model.train(); losses = []
    for _ in range(3):
        loss = model(**batch).loss; loss.backward(); opt.step(); opt.zero_grad(); losses.append(loss.item())
    return model, tok, batch, losses, base4


def test_loads_in_4bit_and_estimate_matches_footprint(trained):
    model, *_ = trained
    base = model.get_base_model()
    assert base.is_loaded_in_4bit
    qs = base.model.layers[0].mlp.down_proj.base_layer.weight.quant_state
    assert qs.quant_type == 'nf4' and qs.nested  # NF4 with double quantisation
    foot = base.get_memory_footprint() - sum(p.numel() * p.element_size() for n, p in base.named_parameters() if 'lora_' in n)
    est = estimate_memory(model, dtype=torch.float32)
    print(f"4-bit footprint {foot/2**20:.1f} MiB, estimate {est.weights*GB/2**20:.1f} MiB")
    assert est.method == 'qlora' and abs(est.weights * GB / foot - 1) < 0.03
    assert est.trainable == model.get_nb_trainable_parameters()[0] == 30 * 16 * 10176
    assert checkpointing_on(base)


def test_steps_lower_the_loss(trained):
    losses = trained[3]
    print('losses', [round(l, 3) for l in losses])
    assert losses[-1] < losses[0] - 0.1


def test_save_reload_identical_and_merge(trained):
    model, tok, batch, _, base4 = trained
    exact_4bit(model).eval()
    x = {k: batch[k] for k in ('input_ids', 'attention_mask')}
    with torch.no_grad(): ref = model(**x).logits
    d = save_adapter(model, Path(tempfile.mkdtemp()) / 'adapter', tok)
    assert (d / 'adapter_model.safetensors').exists() and (d / 'adapter_config.json').exists()
    back = exact_4bit(load_adapter(d, base=base4)).eval()  # a fresh 4-bit base (saved pre-quantised: fast to load)
    with torch.no_grad(): assert torch.equal(back(**x).logits, ref)
    merged = merge(model)
    assert not any('lora' in n for n, _ in merged.named_modules())
    assert not any(type(p).__name__ == 'Params4bit' for p in merged.parameters())
    with torch.no_grad(): err = (merged(**x).logits - ref).abs().max().item()
    print(f"merge into de-quantised base: max |logit diff| {err:.1e}")
    assert err < 1e-3
