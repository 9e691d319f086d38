"""The one error type of the image builder: bad input (lock, package, PEX), never a traceback."""


class ImageBuildError(Exception):
    """The inputs of an image cannot give a correct, reproducible image."""
