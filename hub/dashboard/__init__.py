"""The dashboard: the ministry's figures as server-rendered pages at ``/dashboard``.

Every figure comes from ``hub.ministry.queries.MinistryQueries`` (the functions the
GraphQL ministry fields call) and every report from the index's own reads, seen
through ``hub.security.privacy.Viewer``; the pages hold no SQL of their own but the
overdue list (``dashboard.sql``). The pages use no script and load nothing but the
hub's own stylesheet; charts are SVG drawn here.
"""
