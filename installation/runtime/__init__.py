"""The app's parts, one job each, driven by :class:`installation.app.App`'s update step.

* :mod:`.scenes`  — scene lifecycle: a worker per scene shortly before it shows, stopped when no
  longer needed, the fallback scene, keyframe planning and texture release;
* :mod:`.routing` — control routing: drained control events become show actions (GO, goto) and
  the values the frame reads (brightness, walk and post-chain control);
* :mod:`.status`  — what the show reports: fps, the ``/status/...`` state, publishing it;
* :mod:`.snapshot` — what ``view`` reads: the frame's layers, as planned by update.

Nothing here draws; nothing here is called from a network or device thread.
"""
