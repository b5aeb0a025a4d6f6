"""The discount LSTM: an LSTM over weekly market statistics, joined with static lot features, predicting quantiles."""

import torch
import torch.nn.functional as F
from torch import nn


class DiscountLSTM(nn.Module):
    """Predict the 0.1, 0.5 and 0.9 quantiles of a lot's discount.

    The head outputs the median and two gaps that pass through softplus, so lower <= median <= upper
    is true by construction, in torch and in the exported ONNX graph alike. The buffer `interval_widening`
    (lower, upper) is added to the gaps after training to calibrate the interval on the val split; the
    gaps stay >= 0 even if a widening is negative.
    """

    def __init__(self, sequence_features: int, static_features: int, hidden_size: int, head_size: int):
        super().__init__()
        self.lstm = nn.LSTM(sequence_features, hidden_size, batch_first=True)
        self.head = nn.Sequential(
            nn.Linear(hidden_size + static_features, head_size),
            nn.ReLU(),
            nn.Linear(head_size, head_size),
            nn.ReLU(),
            nn.Linear(head_size, 3),
        )
        self.register_buffer("interval_widening", torch.zeros(2))

    def forward(self, sequence: torch.Tensor, static: torch.Tensor) -> torch.Tensor:
        _, (hidden, _) = self.lstm(sequence)
        raw = self.head(torch.cat([hidden[-1], static], dim=1))

        median = raw[:, 1:2]
        lower = median - F.relu(F.softplus(raw[:, 0:1]) + self.interval_widening[0])
        upper = median + F.relu(F.softplus(raw[:, 2:3]) + self.interval_widening[1])
        return torch.cat([lower, median, upper], dim=1)


def pinball_loss(predicted: torch.Tensor, target: torch.Tensor, quantiles: torch.Tensor) -> torch.Tensor:
    """Return the mean pinball (quantile) loss over the batch and the quantile columns."""
    error = target[:, None] - predicted
    return torch.maximum(quantiles * error, (quantiles - 1) * error).mean()
