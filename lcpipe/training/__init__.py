"""Training half: datasets, the ResNet/Plain net builder, the training loop, checkpoints, and one
training run that writes a learning curve."""
