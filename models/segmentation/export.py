"""Export a trained damage U-Net to ONNX with softmax probabilities as output.

Also writes the bare torch state dict (weights only, no optimiser state) beside the ONNX file,
so the equivalence test and later fine-tuning start from exactly the shipped weights.

    python -m models.segmentation.export --checkpoint runs/damage/best.pt --out weights/damage_unet.onnx
"""

import argparse
from pathlib import Path

import torch

from .network import build_unet


class ProbabilityHead(torch.nn.Module):
    """Wrap the U-Net so the exported graph returns class probabilities, not logits."""

    def __init__(self, network: torch.nn.Module):
        super().__init__()
        self.network = network

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.network(image).softmax(dim=1)


def export(checkpoint: Path, out: Path) -> None:
    out.parent.mkdir(parents=True, exist_ok=True)
    network = build_unet(pretrained=False)
    state_dict = torch.load(checkpoint, map_location="cpu")["model"]
    network.load_state_dict(state_dict)
    torch.save(state_dict, out.with_suffix(".pt"))
    model = ProbabilityHead(network).eval()

    example = torch.zeros(1, 3, 384, 512)
    torch.onnx.export(
        model,
        (example,),
        str(out),
        input_names=["image"],
        output_names=["probabilities"],
        dynamic_axes={"image": {0: "batch", 2: "height", 3: "width"}, "probabilities": {0: "batch", 2: "height", 3: "width"}},
        opset_version=17,
        dynamo=False,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--checkpoint", type=Path, required=True)
    parser.add_argument("--out", type=Path, default=Path("weights/damage_unet.onnx"))
    args = parser.parse_args()
    export(args.checkpoint, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.1f} MB)")


if __name__ == "__main__":
    main()
