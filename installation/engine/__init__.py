"""Model side of the frame path: keyframe source, generator worker, keyframe buffer, post chain."""
