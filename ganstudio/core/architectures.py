"""Registers the built-in architecture families with the registry."""
from __future__ import annotations

from .discriminators import StyleGAN2Discriminator
from .registry import Architecture, register
from .stylegan2 import StyleGAN2Config, StyleGAN2Generator

register(Architecture("stylegan2", StyleGAN2Config, StyleGAN2Generator, StyleGAN2Discriminator))
