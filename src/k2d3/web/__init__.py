"""The web page and its JSON API (``k2d3 serve``)."""
