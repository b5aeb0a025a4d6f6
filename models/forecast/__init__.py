"""Training, export and evaluation of the auction-discount LSTM."""
