"""Registers the built-in architecture families with the registry."""
from __future__ import annotations

from .biggan import BigGANConfig, BigGANGenerator
from .biggan_discriminator import BigGANDiscriminator
from .discriminators import ProgressiveDiscriminator, StyleGAN2Discriminator
from .pggan import PGGANConfig, PGGANGenerator
from .registry import Architecture, register
from .stylegan1 import StyleGANConfig, StyleGANGenerator
from .stylegan2 import StyleGAN2Config, StyleGAN2Generator

register(Architecture("pggan", PGGANConfig, PGGANGenerator, ProgressiveDiscriminator))
register(Architecture("stylegan", StyleGANConfig, StyleGANGenerator, ProgressiveDiscriminator))
register(Architecture("stylegan2", StyleGAN2Config, StyleGAN2Generator, StyleGAN2Discriminator))
register(Architecture("biggan", BigGANConfig, BigGANGenerator, BigGANDiscriminator))
