"""Shared building blocks of the transformer plugins (bert, openner, lear): subword
windows, the training loop, curve plots. No hooks: importing it registers nothing."""
