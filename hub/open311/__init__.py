"""Open311 GeoReport v2 served by the hub at ``/open311/v2/`` (``routes.py``)."""
