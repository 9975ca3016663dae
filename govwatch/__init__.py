"""govwatch: watch Chinese government notice pages."""

__version__ = "0.1.0"
USER_AGENT = f"govwatch/{__version__} (+notice monitor; contact the operator of this crawler)"
