"""Facebook Login (Instagram API with Facebook Login): the brand's door to Business Discovery."""

from sandbox.facebook.login import FacebookLogin

__all__ = ["FacebookLogin"]
