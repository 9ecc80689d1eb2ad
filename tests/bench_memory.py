"""Check `finetune_kit.adapters.estimate_memory` against CPU measurements and print the errors.

    python tests/bench_memory.py            # CPU: weights vs get_memory_footprint, activations vs saved tensors

On CPU the activation term is compared with the bytes autograd saves for backward (saved_tensors_hooks), in fp32.
The whole estimate against real CUDA peaks (QLoRA 1B/3B/7B and LoRA 1B, through `fit`, under a T4's 15 GB) is measured
by bench/cuda_check.py, the one prepared GPU run."""
import time, warnings
import torch
from finetune_kit.models import load_model
from finetune_kit.adapters import lora, estimate_memory, GB

warnings.simplefilter('ignore')


def saved_bytes(model, ids):
    params = {p.untyped_storage().data_ptr() for p in model.parameters()}
    seen = {}
    def pack(t):
        st = t.untyped_storage()
        if st.data_ptr() not in params: seen[st.data_ptr()] = st.nbytes()
        return t
    with torch.autograd.graph.saved_tensors_hooks(pack, lambda t: t): model(input_ids=ids, labels=ids)
    return sum(seen.values())


def cpu_checks():
    model, _ = load_model(quiet=True)
    for method in ('full', 'lora'):
        e = estimate_memory(model, method, dtype=torch.float32)
        w = e.weights if method == 'lora' else e.weights * 4 / 8  # 'full' adds autocast's half copy: compare the fp32 part
        print(f"weights {method:5}: estimate {w*GB/2**20:8.1f} MiB, get_memory_footprint {model.get_memory_footprint()/2**20:8.1f} MiB")
    V = model.config.vocab_size
    print("activations (fp32, CPU): seq_len, dropout, saved-tensor MiB, formula MiB, error")
    for dropout in (0.0, 0.05):
        m, _ = load_model(quiet=True)
        pm = lora(m, r=16, dropout=dropout); pm.train()
        for T in (64, 256):
            ids = torch.randint(3, 1000, (1, T))
            meas = saved_bytes(pm, ids)
            est = estimate_memory(pm, seq_len=T, dtype=torch.float32).activations * GB - T * V * 8  # minus live logits+grad
            print(f"  {T:5} {dropout:5} {meas/2**20:9.1f} {est/2**20:9.1f} {est/meas-1:+7.1%}")


if __name__ == '__main__':
    t = time.time()
    cpu_checks()
    print(f"done in {time.time()-t:.0f} s")
