"""Registers the built-in architecture families with the registry."""
from __future__ import annotations

from .biggan import BigGANConfig, BigGANGenerator
from .biggan_discriminator import BigGANDiscriminator
from .registry import Architecture, register
from .stylegan2 import StyleGAN2Config, StyleGAN2Generator

register(Architecture("stylegan2", StyleGAN2Config, StyleGAN2Generator))
register(Architecture("biggan", BigGANConfig, BigGANGenerator, BigGANDiscriminator))
