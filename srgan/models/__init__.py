"""Networks and their files: the SRResNet generator, the discriminator, CPU-fast conv
layers, frozen ImageNet VGG feature extractors, and exporting/loading generators."""
