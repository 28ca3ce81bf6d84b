"""``presetctl bench``: each engine stage measured per preset, against the design's claims and a peer."""
