"""Make a CPU-only torch env importable for LLaMA-Factory (run once, after pip, by trajgen).

PyPI's torchvision and torchaudio wheels are linked against CUDA torch (libtorch_cuda.so,
libc10_cuda.so). Next to a CPU torch build their native libraries cannot load:
- transformers imports torchvision whenever it is installed, so a broken torchvision breaks
  every model load; LLaMA-Factory itself never imports it for text training. It is removed.
- LLaMA-Factory's data package imports torchaudio unconditionally. torchaudio supports running
  without its native extension (it then reports _IS_TORCHAUDIO_EXT_AVAILABLE = False), so the
  CUDA-linked libraries are removed and the pure-Python part stays importable.
Audio/vision multimodal training therefore needs a GPU env (CUDA torch); text SFT does not.
Nothing is changed when torch is a CUDA build or when the packages import fine.
"""

import glob
import importlib
import importlib.util
import os
import subprocess
import sys

import torch


def importable(name: str) -> bool:
    try:
        importlib.import_module(name)
        return True
    except Exception as exc:  # noqa: BLE001 - any import failure counts
        print(f"{name} does not import next to torch {torch.__version__}: {type(exc).__name__}: {str(exc)[:200]}")
        return False


def main() -> int:
    if torch.version.cuda is not None:
        print(f"torch {torch.__version__} is a CUDA build: nothing to do")
        return 0
    if importlib.util.find_spec("torchvision") and not importable("torchvision"):
        subprocess.check_call([sys.executable, "-m", "pip", "uninstall", "-y", "-q", "torchvision"])
        print("removed torchvision (CUDA-linked; transformers skips it when absent)")
    if importlib.util.find_spec("torchaudio") and not importable("torchaudio"):
        for name in list(sys.modules):
            if name.startswith("torchaudio"):
                del sys.modules[name]
        spec = importlib.util.find_spec("torchaudio")
        lib_dir = os.path.join(os.path.dirname(spec.origin), "lib")
        for path in glob.glob(os.path.join(lib_dir, "*.so")):
            os.remove(path)
        print(f"removed torchaudio's CUDA-linked native libraries from {lib_dir}")
        if not importable("torchaudio"):
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
