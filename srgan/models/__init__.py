"""Networks and their files: the generators, the discriminators, the layers they share
(CPU-fast convolutions, upsampling), frozen ImageNet VGG feature extractors, and
exporting/loading generators."""
