"""The plugin machinery: hook specifications, typed registries and the host that
loads plugins from the ``nerkit`` entry-point group."""

from __future__ import annotations

from nerkit.plugin.host import PluginHost, PluginInfo, get_host
from nerkit.plugin.registry import Registry
from nerkit.plugin.spec import hookimpl, hookspec

__all__ = ["PluginHost", "PluginInfo", "Registry", "get_host", "hookimpl", "hookspec"]
