"""What the screens read: plain functions over a database session that return
small frozen dataclasses, one module per screen area. The web pages call these
(and the sync engine's use cases through the runner); no page runs SQL of its
own."""
